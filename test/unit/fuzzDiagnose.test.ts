// Property test for the whole offline pipeline: `diagnose` on damaged copies of the field cases
// (compose files, `.env`, Dockerfiles, scripts, meta.yaml files mutated, removed or replaced)
// always returns a Report whose findings are well formed and point inside the folder.

import assert from 'node:assert/strict';
import {
    cpSync,
    existsSync,
    readdirSync,
    readFileSync,
    rmSync,
    statSync,
    writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import fc from 'fast-check';
import { diagnose } from '../../src/core/diagnose.js';
import { FINDING_KINDS, type Finding } from '../../src/core/model.js';
import type { Report } from '../../src/core/report.js';
import { fixture } from '../support/paths.js';
import { checkProperty, lineCount, mutationsArb, mutate, scratchFolder } from './fuzzSupport.js';

const CASES = fixture('cases');
const CASE_NAMES = readdirSync(CASES).filter((name) =>
    statSync(path.join(CASES, name)).isDirectory(),
);
/** Files the tool must not see (the expected answer) or that are recorded live facts. */
const HIDDEN = new Set(['expect.json', 'README.md', 'context.json']);

function filesOf(dir: string, base = dir): string[] {
    return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
        const abs = path.join(dir, entry.name);
        if (entry.isDirectory()) return filesOf(abs, base);
        return HIDDEN.has(entry.name) && dir === base ? [] : [path.relative(base, abs)];
    });
}

/** Asserts what every consumer of a Report relies on. */
function assertWellFormedReport(report: Report, folder: string): void {
    assert.ok(Array.isArray(report.findings));
    const ids = new Set<string>();
    const kinds: readonly string[] = FINDING_KINDS;
    for (const finding of report.findings) {
        const where = `${finding.id} (${finding.kind})`;
        assert.ok(kinds.includes(finding.kind), `unknown kind in ${where}`);
        assert.ok(['error', 'warning', 'info'].includes(finding.severity), where);
        assert.ok(!ids.has(finding.id), `duplicate id ${finding.id}`);
        ids.add(finding.id);
        assert.ok(finding.title.length > 0 && finding.fix.length > 0, where);
        assert.ok(Array.isArray(finding.evidence), where);
        // A failing check is reported as a finding; on these inputs that is a bug in the check.
        assert.ok(
            !finding.id.startsWith('probe-failed:check:'),
            `${where}: ${finding.evidence.join('\n')}`,
        );
        for (const location of finding.locations) assertLocationInside(location, folder, where);
        for (const edit of finding.edits ?? [])
            assertLocationInside(edit.range, folder, `${where} edit`);
        for (const id of [...(finding.causes ?? []), ...(finding.causedBy ?? [])]) {
            assert.ok(
                report.findings.some((f: Finding) => f.id === id),
                `${where} links to missing ${id}`,
            );
        }
    }
}

function assertLocationInside(
    location: { file: string; line: number; column: number; endLine: number },
    folder: string,
    where: string,
): void {
    const file = location.file.replace(/\\/g, '/');
    assert.ok(!path.isAbsolute(file) && !file.split('/').includes('..'), `${where}: path ${file}`);
    assert.ok(
        Number.isInteger(location.line) && location.line >= 1,
        `${where}: line ${location.line}`,
    );
    assert.ok(location.column >= 1 && location.endLine >= location.line, `${where}: range`);
    const abs = path.join(folder, file);
    if (existsSync(abs) && statSync(abs).isFile()) {
        const lines = lineCount(readFileSync(abs, 'utf8'));
        assert.ok(location.line <= lines, `${where}: ${file}:${location.line} of ${lines}`);
    }
}

describe('fuzz: diagnose offline on damaged copies of the field cases', () => {
    const scratch = scratchFolder('fuzz-diagnose');
    after(() => scratch.done());

    const inputArb = fc.record({
        caseIndex: fc.nat({ max: CASE_NAMES.length - 1 }),
        damage: fc.array(
            fc.record({
                file: fc.nat(),
                how: fc.constantFrom('mutate', 'mutate', 'mutate', 'remove', 'empty'),
                mutations: mutationsArb,
            }),
            { minLength: 1, maxLength: 3 },
        ),
    });

    test('returns a well-formed report for every damaged case folder', async () => {
        await checkProperty(
            fc.asyncProperty(inputArb, async (input) => {
                const name = CASE_NAMES[input.caseIndex]!;
                const folder = scratch.next();
                cpSync(path.join(CASES, name), folder, { recursive: true });
                for (const hidden of HIDDEN) rmSync(path.join(folder, hidden), { force: true });
                const files = filesOf(folder);
                for (const damage of input.damage) {
                    if (files.length === 0) break;
                    const abs = path.join(folder, files[damage.file % files.length]!);
                    if (!existsSync(abs)) continue;
                    if (damage.how === 'remove') rmSync(abs, { force: true });
                    else if (damage.how === 'empty') writeFileSync(abs, '');
                    else writeFileSync(abs, mutate(readFileSync(abs), damage.mutations));
                }

                const report = await diagnose({
                    folder,
                    offline: true,
                    env: {},
                    timeoutMs: 3000,
                    pythonPath: '/nonexistent/python3',
                });
                assertWellFormedReport(report, folder);
                rmSync(folder, { recursive: true, force: true });
            }),
            { numRuns: 200, timeLimitMs: 20_000, runTimeoutMs: 10_000 },
        );
    });

    test('the undamaged cases give well-formed reports too', async () => {
        for (const name of CASE_NAMES) {
            const folder = scratch.next();
            cpSync(path.join(CASES, name), folder, { recursive: true });
            for (const hidden of HIDDEN) rmSync(path.join(folder, hidden), { force: true });
            const report = await diagnose({
                folder,
                offline: true,
                env: {},
                pythonPath: '/nonexistent/python3',
            });
            assertWellFormedReport(report, folder);
        }
    });
});
