// The field cases (test/fixtures/cases, copied from the shared cases): each folder is a user's
// workspace, `context.json` the live facts a probe would have found, `expect.json` the minimum a
// correct diagnosis reports and the false alarms it must not raise. The tool gets a copy of the
// folder without expect.json and README.md, as the cases' README prescribes.

import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { diagnose } from '../../src/core/diagnose.js';
import { type Finding, SEVERITY_RANK, type Severity } from '../../src/core/model.js';
import { parseContext } from '../../src/core/recordedFacts.js';
import { fixture } from '../support/paths.js';

interface Expected {
    kind: Finding['kind'];
    severity: Severity;
    file: string | null;
    key: string | null;
    mustMention: string[];
}

interface CaseExpectation {
    id: string;
    findings: Expected[];
    mustNotFlag: string[];
}

const CASES = fixture('cases');
const scratch = mkdtempSync(path.join(os.tmpdir(), 'stack-doctor-cases-'));

function fileMatches(expected: string | null, finding: Finding): boolean {
    if (expected === null) return true;
    const norm = (p: string) => p.replace(/\\/g, '/').replace(/\/+$/, '');
    const want = norm(expected);
    return finding.locations.some((l) => {
        const got = norm(l.file);
        return got === want || got.startsWith(`${want}/`) || want.startsWith(`${got}/`);
    });
}

function keyMatches(expected: Expected, finding: Finding, folder: string): boolean {
    if (expected.key === null) return true;
    const key = expected.key;
    const onFile = finding.locations.filter(
        (l) => expected.file === null || fileMatches(expected.file, { ...finding, locations: [l] }),
    );
    return onFile.some((l) => {
        if (
            l.key !== undefined &&
            (l.key === key || l.key.startsWith(`${key}.`) || key.startsWith(`${l.key}.`))
        ) {
            return true;
        }
        // Text files: the key is text on the reported line.
        const file = path.join(folder, l.file);
        if (existsSync(file)) {
            const line = readFileSync(file, 'utf8').split('\n')[l.line - 1] ?? '';
            if (line.includes(key)) return true;
        }
        // A key that names something absent from the file is matched by the message naming it.
        return `${finding.title} ${finding.fix} ${finding.evidence.join(' ')}`.includes(key);
    });
}

function mentions(expected: Expected, finding: Finding): boolean {
    const text = `${finding.title}\n${finding.fix}\n${finding.evidence.join('\n')}`.toLowerCase();
    return expected.mustMention.every((token) =>
        token
            .toLowerCase()
            .split('|')
            .some((alt) => text.includes(alt)),
    );
}

function matches(expected: Expected, finding: Finding, folder: string): boolean {
    return (
        finding.kind === expected.kind &&
        SEVERITY_RANK[finding.severity] >= SEVERITY_RANK[expected.severity] &&
        fileMatches(expected.file, finding) &&
        keyMatches(expected, finding, folder) &&
        mentions(expected, finding)
    );
}

function describeFindings(findings: Finding[]): string {
    return findings
        .map(
            (f) =>
                `  ${f.severity} ${f.kind} ${f.locations.map((l) => `${l.file}:${l.line}${l.key ? `(${l.key})` : ''}`).join(', ')}\n    ${f.title}`,
        )
        .join('\n');
}

void describe('field cases', () => {
    after(() => rmSync(scratch, { recursive: true, force: true }));

    const folders = readdirSync(CASES).filter((name) => /^[CH]\d+/.test(name));
    void test('the case set is complete', () => {
        assert.ok(folders.length >= 23, `only ${folders.length} case folders`);
    });

    for (const name of folders) {
        void test(`${name} gives its expected findings and none of its false alarms`, async () => {
            const source = path.join(CASES, name);
            const expectation = JSON.parse(
                readFileSync(path.join(source, 'expect.json'), 'utf8'),
            ) as CaseExpectation;
            const folder = path.join(scratch, name);
            cpSync(source, folder, {
                recursive: true,
                filter: (src) => !['expect.json', 'README.md'].includes(path.relative(source, src)),
            });
            const contextFile = path.join(folder, 'context.json');
            const context = existsSync(contextFile)
                ? parseContext(JSON.parse(readFileSync(contextFile, 'utf8')))
                : {};
            const report = await diagnose({ folder, context });

            for (const expected of expectation.findings) {
                assert.ok(
                    report.findings.some((f) => matches(expected, f, folder)),
                    `${name}: missing ${JSON.stringify(expected)}\nreported:\n${describeFindings(report.findings)}`,
                );
            }
            const alarms = report.findings.filter((f) => expectation.mustNotFlag.includes(f.kind));
            assert.deepEqual(
                alarms.map((f) => `${f.kind}: ${f.title}`),
                [],
                `${name}: false alarms`,
            );
        });
    }
});
