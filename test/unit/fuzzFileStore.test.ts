// Property tests for the FileStore reader: `parseMetaYaml` on damaged meta files, its fast path
// against js-yaml, and `readFileStore` on generated `mlruns` trees with damaged, missing and
// oddly typed files (a FIFO, a folder named meta.yaml, a symlink loop).

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import fc from 'fast-check';
import yaml from 'js-yaml';
import { parseMetaYaml, readFileStore } from '../../src/core/filestore/index.js';
import type { MetaProblem } from '../../src/core/model.js';
import {
    checkProperty,
    lineCount,
    mutatedBytesArb,
    mutatedTextArb,
    scratchFolder,
} from './fuzzSupport.js';

const META_PROBLEMS: MetaProblem[] = [
    'empty',
    'not-yaml',
    'not-a-mapping',
    'missing-key',
    'bad-value',
    'missing-meta',
    'foreign-dir',
    'id-mismatch',
    'unreadable',
];

const runId = (n: number) => n.toString(16).padStart(32, 'a');

/** A run's meta.yaml as MLflow 2.x writes it (sorted keys, safe_dump). */
function runMeta(experimentId: string, id: string): string {
    return [
        `artifact_uri: file:///mlruns/${experimentId}/${id}/artifacts`,
        'end_time: 1718000001000',
        "entry_point_name: ''",
        `experiment_id: '${experimentId}'`,
        'lifecycle_stage: active',
        `run_id: ${id}`,
        'run_name: gentle-fox-12',
        `run_uuid: ${id}`,
        "source_name: ''",
        'source_type: 4',
        "source_version: ''",
        'start_time: 1718000000000',
        'status: 3',
        'tags: []',
        'user_id: root',
        '',
    ].join('\n');
}

function experimentMeta(id: string): string {
    return [
        `artifact_location: file:///mlruns/${id}`,
        'creation_time: 1718000000000',
        `experiment_id: '${id}'`,
        'last_update_time: 1718000000000',
        'lifecycle_stage: active',
        `name: experiment-${id}`,
        '',
    ].join('\n');
}

describe('fuzz: parseMetaYaml', () => {
    test('classifies any damaged meta.yaml and keeps its line numbers inside the file', async () => {
        const seeds = [runMeta('1', runId(1)), experimentMeta('1')];
        await checkProperty(
            fc.property(
                fc.oneof(...seeds.map(mutatedTextArb), fc.string({ unit: 'binary' })),
                (text) => {
                    const parsed = parseMetaYaml(text);
                    const lines = lineCount(text);
                    assert.ok(
                        ['mapping', 'empty', 'not-yaml', 'not-a-mapping'].includes(parsed.kind),
                    );
                    if (parsed.kind === 'mapping') {
                        for (const line of Object.values(parsed.lines)) {
                            assert.ok(line >= 1 && line <= lines, `line ${line} of ${lines}`);
                        }
                    }
                    if (parsed.kind === 'not-yaml') {
                        assert.ok(
                            parsed.line >= 1 && parsed.line <= lines,
                            `line ${parsed.line} of ${lines}`,
                        );
                        assert.ok(parsed.message.length > 0);
                    }
                },
            ),
            { numRuns: 3000, timeLimitMs: 5000 },
        );
    });

    test('never accepts as a mapping what the YAML parser rejects', async () => {
        // The fast path must only take files it fully understands; when js-yaml (the slow path,
        // and close to PyYAML here) refuses a file, so must parseMetaYaml.
        const value = fc.oneof(
            fc.string({ maxLength: 12 }),
            fc.string({ unit: 'binary', maxLength: 12 }),
            fc.constantFrom(
                'abc:',
                'a\0b',
                'x\u0007y',
                "'it''s'",
                "'open",
                '1.5',
                '-7',
                '[]',
                '{}',
                '',
            ),
        );
        const flat = fc
            .uniqueArray(fc.stringMatching(/^[a-z_][a-z0-9_]{0,8}$/), {
                minLength: 1,
                maxLength: 6,
            })
            .chain((keys) =>
                fc.tuple(
                    fc.constant(keys),
                    fc.array(value, { minLength: keys.length, maxLength: keys.length }),
                ),
            )
            .map(([keys, values]) => keys.map((k, i) => `${k}: ${values[i]}`).join('\n') + '\n');
        await checkProperty(
            fc.property(flat, (text) => {
                let rejected = false;
                try {
                    yaml.load(text);
                } catch {
                    rejected = true;
                }
                if (rejected)
                    assert.notEqual(parseMetaYaml(text).kind, 'mapping', JSON.stringify(text));
            }),
            { numRuns: 3000, timeLimitMs: 5000 },
        );
    });
});

interface TreeSpec {
    experiments: number;
    runsPerExperiment: number;
    damage: {
        target: number;
        bytes?: Buffer;
        kind: 'mutate' | 'delete' | 'folder' | 'fifo' | 'loop' | 'foreign';
    }[];
}

describe('fuzz: readFileStore on damaged trees', () => {
    const scratch = scratchFolder('fuzz-filestore');
    after(() => scratch.done());

    const damageArb = fc.record({
        target: fc.nat({ max: 1000 }),
        kind: fc.constantFrom(
            'mutate',
            'mutate',
            'mutate',
            'delete',
            'folder',
            'fifo',
            'loop',
            'foreign',
        ),
        bytes: fc.oneof(
            mutatedBytesArb(runMeta('1', runId(1))),
            mutatedBytesArb(experimentMeta('1')),
        ),
    });
    const treeArb: fc.Arbitrary<TreeSpec> = fc.record({
        experiments: fc.integer({ min: 1, max: 3 }),
        runsPerExperiment: fc.integer({ min: 0, max: 4 }),
        damage: fc.array(damageArb, { maxLength: 4 }),
    });

    test('a well-formed generated tree reads clean, with every run counted', async () => {
        await checkProperty(
            fc.asyncProperty(treeArb, async (spec) => {
                const folder = scratch.next();
                const root = path.join(folder, 'mlruns');
                writeTree(root, { ...spec, damage: [] });
                const summary = await readFileStore(root, folder, { timeoutMs: 5000 });
                assert.deepEqual(summary.anomalies, []);
                assert.equal(summary.experiments, spec.experiments);
                assert.equal(summary.runs, spec.experiments * spec.runsPerExperiment);
                rmSync(folder, { recursive: true, force: true });
            }),
            { numRuns: 30, timeLimitMs: 4000, runTimeoutMs: 6000 },
        );
    });

    test('reports damage as anomalies on real lines of files inside the store, and returns', async () => {
        await checkProperty(
            fc.asyncProperty(treeArb, async (spec) => {
                const folder = scratch.next();
                const root = path.join(folder, 'mlruns');
                const texts = writeTree(root, spec);
                const summary = await readFileStore(root, folder, { timeoutMs: 4000 });
                assert.equal(summary.root, 'mlruns');
                // A folder put where an experiment's meta.yaml was lists as one more run, as in MLflow.
                assert.ok(summary.runs <= spec.experiments * (spec.runsPerExperiment + 1));
                for (const anomaly of summary.anomalies) {
                    assert.ok(META_PROBLEMS.includes(anomaly.problem), anomaly.problem);
                    assert.ok(
                        anomaly.file === 'mlruns' || anomaly.file.startsWith('mlruns/'),
                        anomaly.file,
                    );
                    assert.ok(!anomaly.file.split('/').includes('..'), anomaly.file);
                    assert.ok(anomaly.detail.length > 0);
                    const text = texts.get(anomaly.file);
                    if (anomaly.line !== undefined && text !== undefined) {
                        const lines = lineCount(text);
                        assert.ok(
                            anomaly.line >= 1 && anomaly.line <= lines,
                            `${anomaly.file}:${anomaly.line} of ${lines}`,
                        );
                    }
                }
                const damaged = spec.damage.some((d) => d.kind !== 'mutate');
                if (damaged && spec.runsPerExperiment > 0) assert.ok(summary.anomalies.length > 0);
                rmSync(folder, { recursive: true, force: true });
            }),
            { numRuns: 150, timeLimitMs: 10_000, runTimeoutMs: 8000 },
        );
    });
});

/** Writes the tree and applies the damage; returns the text of every meta file it wrote. */
function writeTree(root: string, spec: TreeSpec): Map<string, string> {
    const texts = new Map<string, string>();
    const metas: string[] = [];
    const write = (abs: string, bytes: Buffer | string) => {
        writeFileSync(abs, bytes);
        texts.set(
            path.relative(path.dirname(root), abs).split(path.sep).join('/'),
            bytes.toString(),
        );
    };
    for (let e = 0; e < spec.experiments; e++) {
        const id = String(e);
        mkdirSync(path.join(root, id), { recursive: true });
        write(path.join(root, id, 'meta.yaml'), experimentMeta(id));
        metas.push(path.join(root, id, 'meta.yaml'));
        for (let r = 0; r < spec.runsPerExperiment; r++) {
            const run = runId(e * 100 + r);
            mkdirSync(path.join(root, id, run, 'metrics'), { recursive: true });
            write(path.join(root, id, run, 'meta.yaml'), runMeta(id, run));
            writeFileSync(path.join(root, id, run, 'metrics', 'loss'), '1718000000000 0.5 0\n');
            metas.push(path.join(root, id, run, 'meta.yaml'));
        }
    }
    for (const damage of spec.damage) {
        const file = metas[damage.target % metas.length]!;
        rmSync(file, { recursive: true, force: true });
        texts.delete(path.relative(path.dirname(root), file).split(path.sep).join('/'));
        switch (damage.kind) {
            case 'mutate':
                write(file, damage.bytes ?? '');
                break;
            case 'delete':
                break;
            case 'folder':
                mkdirSync(file, { recursive: true });
                break;
            case 'fifo':
                execFileSync('mkfifo', [file]);
                break;
            case 'loop':
                symlinkSync(file, file);
                break;
            case 'foreign':
                rmSync(path.join(root, 'not-an-experiment'), { recursive: true, force: true });
                mkdirSync(path.join(root, 'not-an-experiment', 'model'), { recursive: true });
                writeFileSync(path.join(root, 'not-an-experiment', 'MLmodel'), 'flavors: {}\n');
                symlinkSync(root, path.join(root, 'not-an-experiment', 'loop'));
                break;
        }
    }
    return texts;
}
