// Property tests for the compose renderer: whatever bytes sit in compose files, overrides and
// `.env`, rendering returns a project or problems (never a throw, never a hang), and every range
// it reports points at a real line of a file inside the folder.

import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import fc from 'fast-check';
import {
    interpolate,
    loadComposeProject,
    parseDotenv,
    parseShortPort,
    parseShortVolume,
    shellSplit,
} from '../../src/core/compose/index.js';
import type { ComposeProblem, ComposeProject, SourceRange } from '../../src/core/model.js';
import { REPO } from '../support/paths.js';
import {
    checkProperty,
    lineCount,
    mutatedBytesArb,
    mutatedTextArb,
    NASTY_SNIPPETS,
    scratchFolder,
} from './fuzzSupport.js';

const read = (rel: string) => readFileSync(path.join(REPO, rel), 'utf8');
const COMPOSE_SEEDS = [
    read('examples/healthy-stack/compose.yaml'),
    read('examples/seed-stack/compose.yaml'),
    read('test/fixtures/compose/anchors/docker-compose.yml'),
    read('test/fixtures/compose/multi-file/compose.yaml'),
];
const OVERRIDE_SEED = read('test/fixtures/compose/multi-file/compose.override.yaml');
const DOTENV_SEED = read('test/fixtures/compose/multi-file/.env');

const nastyText = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 200 }),
    fc
        .array(fc.oneof(fc.constantFrom(...NASTY_SNIPPETS), fc.string({ maxLength: 8 })), {
            maxLength: 12,
        })
        .map((parts) => parts.join('')),
);

function isArrayOfStrings(value: unknown): boolean {
    return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

describe('fuzz: compose pure parsers', () => {
    test('interpolate never throws and leaves text without "$" untouched', async () => {
        await checkProperty(
            fc.property(
                nastyText,
                fc.dictionary(fc.string({ maxLength: 6 }), fc.string({ maxLength: 20 })),
                (text, vars) => {
                    const result = interpolate(text, vars);
                    assert.equal(typeof result.value, 'string');
                    assert.ok(isArrayOfStrings(result.missing));
                    assert.ok(isArrayOfStrings(result.errors));
                    if (!text.includes('$')) {
                        assert.equal(result.value, text);
                        assert.deepEqual(result.errors, []);
                    }
                },
            ),
            { numRuns: 3000, timeLimitMs: 4000 },
        );
    });

    test('interpolate substitutes a set variable wherever it is written', async () => {
        await checkProperty(
            fc.property(
                fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,8}$/),
                fc.string({ maxLength: 20 }).filter((s) => !s.includes('$')),
                fc.string({ maxLength: 20 }).filter((s) => !s.includes('$')),
                (name, value, around) => {
                    const result = interpolate(`${around}\${${name}}${around}`, { [name]: value });
                    assert.equal(result.value, `${around}${value}${around}`);
                    assert.deepEqual(result.missing, []);
                },
            ),
            { numRuns: 1000, timeLimitMs: 2000 },
        );
    });

    test('shellSplit never throws and splits plain words on spaces', async () => {
        await checkProperty(
            fc.property(nastyText, (text) => {
                assert.ok(isArrayOfStrings(shellSplit(text)));
            }),
            { numRuns: 3000, timeLimitMs: 3000 },
        );
        await checkProperty(
            fc.property(
                fc.array(fc.stringMatching(/^[a-z0-9_./=-]{1,10}$/), { maxLength: 8 }),
                (words) => {
                    assert.deepEqual(shellSplit(words.join('  ')), words);
                },
            ),
            { numRuns: 1000, timeLimitMs: 2000 },
        );
    });

    test('parseDotenv never throws and its line numbers stay inside the text', async () => {
        await checkProperty(
            fc.property(fc.oneof(nastyText, mutatedTextArb(DOTENV_SEED)), (text) => {
                const result = parseDotenv(text, {});
                const lines = lineCount(text);
                for (const [key, line] of Object.entries(result.lines)) {
                    assert.ok(key in result.values || result.bare.includes(key), key);
                    assert.ok(line >= 1 && line <= lines, `line ${line} of ${lines}`);
                }
                for (const problem of result.problems) {
                    assert.ok(problem.line >= 1 && problem.line <= lines);
                    assert.ok(problem.message.length > 0);
                }
            }),
            { numRuns: 2000, timeLimitMs: 4000 },
        );
    });

    test('parseShortPort gives valid ports or undefined, never a throw', async () => {
        const portish = fc.oneof(
            nastyText,
            fc
                .tuple(
                    fc.constantFrom('', '127.0.0.1:', '[::1]:', '0.0.0.0:', ':', '::'),
                    fc.constantFrom('', '5000:', '5000-5002:', '65536:', '-1:', 'x:', '0:'),
                    fc.constantFrom('5000', '5000-5002', '0', '65535', '65536', '', 'abc', '9-1'),
                    fc.constantFrom('', '/tcp', '/udp', '/sctp', '/bogus', '/'),
                )
                .map((parts) => parts.join('')),
        );
        await checkProperty(
            fc.property(portish, (spec) => {
                const ports = parseShortPort(spec, 'services.s.ports.0');
                if (ports === undefined) return;
                for (const port of ports) {
                    assert.ok(Number.isInteger(port.target), `target ${port.target}`);
                    assert.ok(port.target >= 0 && port.target <= 65535, `target ${port.target}`);
                    assert.ok(['tcp', 'udp', 'sctp'].includes(port.protocol));
                }
            }),
            { numRuns: 3000, timeLimitMs: 3000 },
        );
    });

    test('parseShortVolume gives a target or an error, never a throw', async () => {
        await checkProperty(
            fc.property(nastyText, (spec) => {
                const volume = parseShortVolume(spec);
                assert.ok(volume.type === 'bind' || volume.type === 'volume');
                assert.ok(volume.error !== undefined || typeof volume.target === 'string');
            }),
            { numRuns: 3000, timeLimitMs: 3000 },
        );
    });
});

/** Checks a rendered project's ranges against the files actually written. */
function assertRangesInside(
    folder: string,
    texts: Map<string, string>,
    ranges: (SourceRange | undefined)[],
): void {
    for (const range of ranges) {
        if (!range) continue;
        assert.ok(!path.isAbsolute(range.file), `absolute path ${range.file}`);
        assert.ok(
            !range.file.split(/[\\/]/).includes('..'),
            `path leaves the folder: ${range.file}`,
        );
        const text = texts.get(range.file);
        assert.ok(text !== undefined, `range in a file that was not written: ${range.file}`);
        const lines = lineCount(text);
        assert.ok(
            range.line >= 1 && range.line <= lines,
            `${range.file}:${range.line} of ${lines}`,
        );
        assert.ok(
            range.endLine >= range.line && range.endLine <= lines,
            `end line ${range.endLine}`,
        );
        assert.ok(range.column >= 1 && range.endColumn >= 1, `columns ${range.column}`);
    }
    void folder;
}

function allRanges(project: ComposeProject | undefined, problems: ComposeProblem[]) {
    return [
        ...problems.map((p) => p.range),
        ...(project?.problems ?? []).map((p) => p.range),
        ...Object.values(project?.ranges ?? {}),
    ];
}

describe('fuzz: loadComposeProject on damaged folders', () => {
    const scratch = scratchFolder('fuzz-compose');
    after(() => scratch.done());

    const folderArb = fc.record({
        compose: fc.oneof(...COMPOSE_SEEDS.map((seed) => mutatedBytesArb(seed))),
        fileName: fc.constantFrom('compose.yaml', 'docker-compose.yml', 'compose.yml'),
        override: fc.option(mutatedBytesArb(OVERRIDE_SEED), { nil: undefined }),
        dotenv: fc.option(
            fc.oneof(
                mutatedBytesArb(DOTENV_SEED),
                nastyText.map((t) => Buffer.from(t)),
                fc.constantFrom(
                    Buffer.from('COMPOSE_FILE=compose.yaml:missing.yaml\n'),
                    Buffer.from('COMPOSE_FILE=sub/../compose.yaml\n'),
                    Buffer.from('COMPOSE_FILE=compose.yaml:compose.yaml\n'),
                    Buffer.from('COMPOSE_PROJECT_NAME=\u202Eevil\nMLFLOW_PORT=${MLFLOW_PORT}\n'),
                ),
            ),
            { nil: undefined },
        ),
        env: fc.dictionary(
            fc.constantFrom('MLFLOW_PORT', 'MLFLOW_VERSION', 'COMPOSE_PROJECT_NAME', 'HOME'),
            fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('${X}', '$$', '')),
        ),
    });

    test('renders or reports problems, with every range on a real line of a written file', async () => {
        await checkProperty(
            fc.asyncProperty(folderArb, async (input) => {
                const folder = scratch.next();
                mkdirSync(folder, { recursive: true });
                const texts = new Map<string, string>();
                const write = (name: string, bytes: Buffer) => {
                    writeFileSync(path.join(folder, name), bytes);
                    texts.set(name, bytes.toString('utf8'));
                };
                write(input.fileName, input.compose);
                if (input.override) {
                    write(input.fileName.replace(/\.(ya?ml)$/, '.override.$1'), input.override);
                }
                if (input.dotenv) write('.env', input.dotenv);

                const loaded = await loadComposeProject(folder, { env: input.env });
                assert.ok(Array.isArray(loaded.problems));
                for (const problem of [...loaded.problems, ...(loaded.project?.problems ?? [])]) {
                    assert.ok(['parse', 'interpolation', 'schema'].includes(problem.type));
                    assert.equal(typeof problem.message, 'string');
                    assert.ok(problem.message.length > 0);
                }
                if (loaded.project) {
                    for (const service of loaded.project.services) {
                        assert.equal(typeof service.name, 'string');
                        for (const port of service.ports) assert.ok(Number.isInteger(port.target));
                    }
                    for (const file of loaded.project.files) {
                        assert.ok(!path.isAbsolute(file) || !file.startsWith(folder), file);
                    }
                }
                assertRangesInside(folder, texts, allRanges(loaded.project, loaded.problems));
            }),
            { numRuns: 400, timeLimitMs: 12_000, runTimeoutMs: 8000 },
        );
    });
});
