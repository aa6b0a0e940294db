// Property tests for the workspace scan: `readNotebook` on damaged `.ipynb` JSON (every raw
// position it maps to must be a real place in the file) and `scanWorkspace` over folders holding
// damaged notebooks, scripts and requirement files.

import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import fc from 'fast-check';
import { readNotebook, scanWorkspace } from '../../src/core/workspace/index.js';
import { REPO } from '../support/paths.js';
import {
    checkProperty,
    lineCount,
    mutatedBytesArb,
    mutatedTextArb,
    scratchFolder,
} from './fuzzSupport.js';

const NOTEBOOK_SEED = readFileSync(
    path.join(REPO, 'examples/seed-stack/notebooks/train.ipynb'),
    'utf8',
);
const SCRIPT_SEED = readFileSync(path.join(REPO, 'examples/seed-stack/notebooks/train.py'), 'utf8');
const REQUIREMENTS_SEED = 'mlflow==2.22.0\nboto3>=1.28\n-r other.txt\n';

/** A notebook built from random cells, serialised the way Jupyter does (or minified). */
const generatedNotebook = fc
    .record({
        cells: fc.array(
            fc.record({
                cell_type: fc.constantFrom('code', 'markdown', 'raw', 7),
                source: fc.oneof(
                    fc.string({ unit: 'binary', maxLength: 80 }),
                    fc.array(fc.string({ unit: 'binary', maxLength: 40 }), { maxLength: 5 }),
                    fc.constantFrom(
                        "import mlflow\nmlflow.set_tracking_uri('http://127.0.0.1:5000')\n",
                        ['%pip install mlflow==3.1\n', 'mlflow.log_metric("a", 1)'],
                    ),
                ),
            }),
            { maxLength: 6 },
        ),
        nbformat: fc.constant(4),
    })
    .chain((nb) =>
        fc.constantFrom(
            JSON.stringify(nb, null, 1),
            JSON.stringify(nb),
            JSON.stringify(nb, null, '\t'),
        ),
    );

describe('fuzz: readNotebook', () => {
    test('reads or rejects any notebook text, and maps cell offsets to real places in the file', async () => {
        await checkProperty(
            fc.property(
                fc.oneof(
                    mutatedTextArb(NOTEBOOK_SEED),
                    generatedNotebook,
                    fc.string({ unit: 'binary' }),
                ),
                (raw) => {
                    const read = readNotebook(raw);
                    if (!read.ok) {
                        assert.ok(read.error.length > 0);
                        return;
                    }
                    const lines = lineCount(raw);
                    for (const cell of read.cells) {
                        assert.equal(typeof cell.source, 'string');
                        for (const offset of [
                            0,
                            Math.floor(cell.source.length / 2),
                            cell.source.length,
                        ]) {
                            const at = cell.rawPosition(offset);
                            assert.ok(
                                at.line >= 1 && at.line <= lines,
                                `line ${at.line} of ${lines}`,
                            );
                            assert.ok(at.column >= 1, `column ${at.column}`);
                        }
                    }
                },
            ),
            { numRuns: 2000, timeLimitMs: 5000 },
        );
    });

    test('gives back the code cells of a generated notebook, in order', async () => {
        await checkProperty(
            fc.property(generatedNotebook, (raw) => {
                const parsed = JSON.parse(raw) as {
                    cells: { cell_type: unknown; source: string | string[] }[];
                };
                const read = readNotebook(raw);
                assert.ok(read.ok);
                const code = parsed.cells
                    .map((cell, index) => ({ cell, index }))
                    .filter(({ cell }) => cell.cell_type === 'code');
                assert.deepEqual(
                    read.cells.map((c) => c.index),
                    code.map((c) => c.index),
                );
                read.cells.forEach((cell, i) => {
                    const source = code[i]!.cell.source;
                    assert.equal(cell.source, Array.isArray(source) ? source.join('') : source);
                });
            }),
            { numRuns: 500, timeLimitMs: 3000 },
        );
    });
});

describe('fuzz: scanWorkspace on damaged folders', () => {
    const scratch = scratchFolder('fuzz-workspace');
    after(() => scratch.done());

    test('returns facts whose places are real lines of files inside the folder', async () => {
        const folderArb = fc.record({
            notebook: mutatedBytesArb(NOTEBOOK_SEED),
            script: mutatedBytesArb(SCRIPT_SEED),
            requirements: mutatedBytesArb(REQUIREMENTS_SEED),
            dotenv: fc.option(mutatedBytesArb('MLFLOW_TRACKING_URI=http://localhost:5000\n'), {
                nil: undefined,
            }),
        });
        await checkProperty(
            fc.asyncProperty(folderArb, async (input) => {
                const folder = scratch.next();
                mkdirSync(path.join(folder, 'notebooks'), { recursive: true });
                const texts = new Map<string, string>();
                const write = (rel: string, bytes: Buffer) => {
                    writeFileSync(path.join(folder, rel), bytes);
                    texts.set(rel, bytes.toString('utf8'));
                };
                write('notebooks/train.ipynb', input.notebook);
                write('notebooks/train.py', input.script);
                write('requirements.txt', input.requirements);
                if (input.dotenv) write('.env', input.dotenv);

                const facts = await scanWorkspace(folder, {
                    timeoutMs: 3000,
                    pythonPath: '/nonexistent/python3',
                });
                const places = [
                    ...facts.trackingUris.map((u) => ({ ...u, what: `uri ${u.uri}` })),
                    ...facts.calls.map((c) => ({ ...c, what: `call ${c.api}` })),
                    ...facts.clientVersions.flatMap((v) =>
                        v.file && v.line
                            ? [
                                  {
                                      file: v.file,
                                      line: v.line,
                                      rawLine: v.rawLine,
                                      cell: v.cell,
                                      what: 'pin',
                                  },
                              ]
                            : [],
                    ),
                ];
                for (const place of places) {
                    assert.ok(
                        !path.isAbsolute(place.file) && !place.file.split('/').includes('..'),
                        place.file,
                    );
                    const text = texts.get(place.file);
                    assert.ok(
                        text !== undefined,
                        `${place.what} in an unwritten file ${place.file}`,
                    );
                    const lines = lineCount(text);
                    const rawLine = place.cell === undefined ? place.line : place.rawLine;
                    if (rawLine !== undefined) {
                        assert.ok(
                            rawLine >= 1 && rawLine <= lines,
                            `${place.what} at ${place.file}:${rawLine} of ${lines}`,
                        );
                    }
                    assert.ok(place.line >= 1, `${place.what} at line ${place.line}`);
                }
                for (const entry of facts.unreadable) assert.ok(entry.error.length > 0);
            }),
            { numRuns: 150, timeLimitMs: 8000, runTimeoutMs: 6000 },
        );
    });
});
