import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import {
    findFileStores,
    parseMetaYaml,
    readFileStore,
    requiredExperimentKeys,
    requiredRunKeys,
} from '../../src/core/filestore/index.js';
import type { ComposeProject, ComposeService } from '../../src/core/model.js';
import { service as composeService } from '../support/snapshots.js';

const CASES = '/work/shared/cases';

function experimentMeta(id: string): string {
    return [
        `artifact_location: file:///mlruns/${id}`,
        'creation_time: 1738000000000',
        `experiment_id: '${id}'`,
        'last_update_time: 1738000000000',
        'lifecycle_stage: active',
        `name: exp-${id}`,
        '',
    ].join('\n');
}

/** A run meta.yaml as MLflow 2.x writes it, or as 3.x does (no run_uuid). */
function runMeta(experiment: string, run: string, writer: 2 | 3 = 2): string {
    return [
        `artifact_uri: file:///mlruns/${experiment}/${run}/artifacts`,
        'end_time: 1751000005500',
        "entry_point_name: ''",
        `experiment_id: '${experiment}'`,
        'lifecycle_stage: active',
        `run_id: ${run}`,
        'run_name: weekly-refresh',
        ...(writer === 2 ? [`run_uuid: ${run}`] : []),
        "source_name: ''",
        'source_type: 4',
        "source_version: ''",
        'start_time: 1751000000000',
        'status: 3',
        'tags: []',
        'user_id: root',
        '',
    ].join('\n');
}

function runId(n: number): string {
    return `a${n.toString(16).padStart(31, '0')}`;
}

function tempDir(): string {
    return mkdtempSync(path.join(os.tmpdir(), 'sd-filestore-'));
}

function write(file: string, text: string): void {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, text);
}

void describe('parseMetaYaml', () => {
    void test('reads a flat meta.yaml with quoted ids, ints, empty strings and an empty list', () => {
        const parsed = parseMetaYaml(runMeta('1', runId(1)));
        assert.equal(parsed.kind, 'mapping');
        if (parsed.kind !== 'mapping') return;
        assert.equal(parsed.values.experiment_id, '1');
        assert.equal(parsed.values.status, 3);
        assert.equal(parsed.values.entry_point_name, '');
        assert.deepEqual(parsed.values.tags, []);
        assert.equal(parsed.values.run_id, runId(1));
        assert.equal(parsed.lines.run_id, 6);
    });

    void test('keeps a hex run id that starts with digits a string', () => {
        const parsed = parseMetaYaml('run_id: 7b9d1f3a5c7e49b0d2f4a6c8e0b2d4f6\nstatus: 3\n');
        assert.equal(
            parsed.kind === 'mapping' && parsed.values.run_id,
            '7b9d1f3a5c7e49b0d2f4a6c8e0b2d4f6',
        );
    });

    void test('falls back to a full YAML parser for nested or unusual values', () => {
        const parsed = parseMetaYaml('name: "quoted: value"\ntags:\n  - a\nexperiment_id: 0x1f\n');
        assert.equal(parsed.kind, 'mapping');
        if (parsed.kind !== 'mapping') return;
        assert.equal(parsed.values.name, 'quoted: value');
        assert.deepEqual(parsed.values.tags, ['a']);
        assert.equal(parsed.lines.experiment_id, 4);
    });

    void test('reports an empty file, a comment-only file, YAML errors and non-mappings', () => {
        assert.equal(parseMetaYaml('').kind, 'empty');
        assert.equal(parseMetaYaml('  \n\n').kind, 'empty');
        assert.equal(parseMetaYaml('# nothing\n').kind, 'empty');
        const broken = parseMetaYaml('run_id: abc\nname: [unclosed\n');
        assert.equal(broken.kind, 'not-yaml');
        assert.equal(parseMetaYaml('- a\n- b\n').kind, 'not-a-mapping');
        assert.equal(parseMetaYaml('just text\n').kind, 'not-a-mapping');
    });
});

void describe('required keys by reader version', () => {
    void test('2.x before 2.22.1 requires run_uuid; 2.22.1 and 3.x do not; 3.x requires run_id', () => {
        assert.ok(requiredRunKeys('2.20.0').includes('run_uuid'));
        assert.ok(requiredRunKeys('1.30.0').includes('run_uuid'));
        assert.ok(requiredRunKeys('2.22.0').includes('run_uuid'));
        assert.ok(!requiredRunKeys('2.22.1').includes('run_uuid'));
        assert.ok(!requiredRunKeys('3.1.0').includes('run_uuid'));
        assert.ok(requiredRunKeys('3.1.0').includes('run_id'));
        assert.ok(!requiredRunKeys('2.20.0').includes('run_id'));
        assert.deepEqual(requiredRunKeys(), ['experiment_id', 'user_id', 'start_time', 'end_time']);
    });

    void test('experiments need id, name, artifact location and lifecycle stage', () => {
        assert.deepEqual(requiredExperimentKeys('2.20.0').sort(), [
            'artifact_location',
            'experiment_id',
            'lifecycle_stage',
            'name',
        ]);
    });
});

void describe('readFileStore', () => {
    void test('counts runs without run_uuid and points at the run_id line', async () => {
        const dir = tempDir();
        try {
            const root = path.join(dir, 'mlruns');
            write(path.join(root, '0', 'meta.yaml'), experimentMeta('0'));
            write(path.join(root, '1', 'meta.yaml'), experimentMeta('1'));
            write(path.join(root, '1', runId(1), 'meta.yaml'), runMeta('1', runId(1), 2));
            write(path.join(root, '1', runId(2), 'meta.yaml'), runMeta('1', runId(2), 3));
            write(path.join(root, '1', 'models', 'm-abc', 'meta.yaml'), 'model_id: m-abc\n');
            write(path.join(root, '1', 'tags', 'note'), 'x');
            const summary = await readFileStore(root, dir);
            assert.equal(summary.root, 'mlruns');
            assert.equal(summary.experiments, 2);
            assert.equal(summary.runs, 2);
            assert.equal(summary.runsWithoutRunUuid, 1);
            assert.equal(summary.loggedModelDirs, 1);
            assert.deepEqual(
                summary.anomalies.map((a) => [a.file, a.problem, a.key, a.line]),
                [[`mlruns/1/${runId(2)}/meta.yaml`, 'missing-key', 'run_uuid', 6]],
            );
            assert.match(summary.anomalies[0]?.detail ?? '', /MLflow 3/);
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });

    void test('records empty, unparsable, bad-valued and misfiled metas with their lines', async () => {
        const dir = tempDir();
        try {
            const root = path.join(dir, 'mlruns');
            write(path.join(root, '0', 'meta.yaml'), experimentMeta('0'));
            write(path.join(root, '0', runId(1), 'meta.yaml'), '');
            write(path.join(root, '0', runId(2), 'meta.yaml'), 'run_id: [oops\n');
            write(
                path.join(root, '0', runId(3), 'meta.yaml'),
                runMeta('0', runId(3)).replace(
                    'lifecycle_stage: active',
                    'lifecycle_stage: archived',
                ),
            );
            write(
                path.join(root, '0', runId(4), 'meta.yaml'),
                runMeta('0', runId(4)).replace("experiment_id: '0'", "experiment_id: '7'"),
            );
            write(
                path.join(root, '0', runId(5), 'meta.yaml'),
                runMeta('0', runId(5)).replace('user_id: root\n', ''),
            );
            mkdirSync(path.join(root, '0', runId(6)), { recursive: true });
            const summary = await readFileStore(root, dir);
            const got = summary.anomalies.map((a) => [
                a.file.split('/').slice(2).join('/'),
                a.problem,
                a.key,
                a.line,
            ]);
            assert.deepEqual(
                got.sort(),
                [
                    [`${runId(1)}/meta.yaml`, 'empty', undefined, 1],
                    [`${runId(2)}/meta.yaml`, 'not-yaml', undefined, 2],
                    [`${runId(3)}/meta.yaml`, 'bad-value', 'lifecycle_stage', 5],
                    [`${runId(4)}/meta.yaml`, 'id-mismatch', 'experiment_id', 4],
                    [`${runId(5)}/meta.yaml`, 'missing-key', 'user_id', 1],
                    [runId(6), 'missing-meta', undefined, undefined],
                ].sort(),
            );
            assert.equal(summary.runs, 6);
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });

    void test('tells a foreign folder from an experiment that lost its meta.yaml', async () => {
        const dir = tempDir();
        try {
            const root = path.join(dir, 'mlruns');
            write(path.join(root, '0', 'meta.yaml'), experimentMeta('0'));
            write(path.join(root, 'saved-model', 'MLmodel'), 'flavors: {}\n');
            write(path.join(root, '5', runId(9), 'meta.yaml'), runMeta('5', runId(9)));
            write(path.join(root, '.trash', '3', 'meta.yaml'), experimentMeta('3'));
            write(path.join(root, 'models', 'registered', 'meta.yaml'), 'name: registered\n');
            write(path.join(root, '6', 'meta.yaml'), experimentMeta('7'));
            const summary = await readFileStore(root, dir);
            const byFile = Object.fromEntries(summary.anomalies.map((a) => [a.file, a]));
            assert.equal(byFile['mlruns/saved-model']?.problem, 'foreign-dir');
            assert.match(byFile['mlruns/saved-model']?.detail ?? '', /MLmodel/);
            assert.equal(byFile['mlruns/5']?.problem, 'missing-meta');
            assert.match(byFile['mlruns/5']?.detail ?? '', /experiment_id/);
            assert.equal(byFile['mlruns/6/meta.yaml']?.problem, 'id-mismatch');
            assert.equal(summary.anomalies.length, 3);
            // The run inside the experiment without meta.yaml is still read.
            assert.equal(summary.runs, 1);
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });

    void test('lists the first anomalies of a kind and counts the rest in one entry', async () => {
        const dir = tempDir();
        try {
            const root = path.join(dir, 'mlruns');
            write(path.join(root, '0', 'meta.yaml'), experimentMeta('0'));
            for (let i = 0; i < 7; i++) {
                write(path.join(root, '0', runId(i), 'meta.yaml'), runMeta('0', runId(i), 3));
            }
            const summary = await readFileStore(root, dir, { listedPerProblem: 3 });
            assert.equal(summary.runsWithoutRunUuid, 7);
            const listed = summary.anomalies.filter((a) => a.count === undefined);
            const counted = summary.anomalies.filter((a) => a.count !== undefined);
            assert.equal(listed.length, 3);
            assert.deepEqual(
                counted.map((a) => [a.file, a.key, a.count]),
                [['mlruns', 'run_uuid', 4]],
            );
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });

    void test('reports a missing root as an unreadable folder instead of throwing', async () => {
        const dir = tempDir();
        try {
            const summary = await readFileStore(path.join(dir, 'nope'), dir);
            assert.equal(summary.anomalies[0]?.problem, 'unreadable');
            assert.match(summary.anomalies[0]?.detail ?? '', /ENOENT/);
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });

    void test('reads 10k runs quickly (time printed)', async () => {
        const dir = tempDir();
        try {
            const root = path.join(dir, 'mlruns');
            for (let e = 0; e < 10; e++) {
                write(path.join(root, String(e), 'meta.yaml'), experimentMeta(String(e)));
                for (let r = 0; r < 1000; r++) {
                    const id = runId(e * 1000 + r);
                    write(
                        path.join(root, String(e), id, 'meta.yaml'),
                        runMeta(String(e), id, r % 2 ? 3 : 2),
                    );
                }
            }
            const times: number[] = [];
            let runs = 0;
            let without = 0;
            for (let i = 0; i < 3; i++) {
                const start = performance.now();
                const summary = await readFileStore(root, dir);
                times.push(performance.now() - start);
                runs = summary.runs;
                without = summary.runsWithoutRunUuid;
                assert.ok(summary.anomalies.length <= 51, 'repeated anomalies are summarised');
            }
            console.log(
                `readFileStore 10k runs: ${times.map((t) => t.toFixed(0)).join(' / ')} ms (cold / warm / warm)`,
            );
            assert.equal(runs, 10_000);
            assert.equal(without, 5_000);
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });
});

void describe('readFileStore on the shared cases', () => {
    void test('C21: the 3.x-written run lacks run_uuid, the 2.x one does not', async () => {
        const folder = path.join(CASES, 'C21-3x-runs-2x-reader');
        const summary = await readFileStore(path.join(folder, 'mlruns'), folder);
        assert.equal(summary.runs, 2);
        assert.equal(summary.runsWithoutRunUuid, 1);
        assert.deepEqual(
            summary.anomalies.map((a) => [a.file, a.key]),
            [['mlruns/1/d2f4a6c8e0b24d6f8a1c3e5f7b9d1e3a/meta.yaml', 'run_uuid']],
        );
    });

    void test('C27: the empty run meta.yaml is the only anomaly', async () => {
        const folder = path.join(CASES, 'C27-empty-run-meta');
        const summary = await readFileStore(path.join(folder, 'mlruns'), folder);
        assert.deepEqual(
            summary.anomalies.map((a) => [a.file, a.problem]),
            [['mlruns/0/2d4f6b8c0e1a43b5d7f9a1c3e5f7b9d1/meta.yaml', 'empty']],
        );
    });

    void test('C28: the saved model folder is foreign and experiment 2 has lost its meta.yaml', async () => {
        const folder = path.join(CASES, 'C28-foreign-dir-in-tracking-root');
        const summary = await readFileStore(path.join(folder, 'mlruns'), folder);
        assert.deepEqual(summary.anomalies.map((a) => [a.file, a.problem]).sort(), [
            ['mlruns/2', 'missing-meta'],
            ['mlruns/mymodel-run1', 'foreign-dir'],
        ]);
    });
});

void describe('findFileStores', () => {
    function service(
        name: string,
        volumes: ComposeService['volumes'],
        command?: string[],
    ): ComposeService {
        return composeService(name, { command, volumes });
    }

    void test('finds mlruns folders and the services that bind-mount them or another tracking root', async () => {
        const dir = tempDir();
        try {
            write(path.join(dir, 'mlruns', '0', 'meta.yaml'), experimentMeta('0'));
            write(path.join(dir, 'sub', 'mlruns', '0', 'meta.yaml'), experimentMeta('0'));
            mkdirSync(path.join(dir, 'data', 'store'), { recursive: true });
            mkdirSync(path.join(dir, 'data', 'other'), { recursive: true });
            const compose: ComposeProject = {
                name: 'p',
                workingDir: dir,
                files: ['compose.yaml'],
                services: [
                    service('ui', [
                        {
                            type: 'bind',
                            source: './mlruns',
                            hostPath: path.join(dir, 'mlruns'),
                            target: '/mlruns',
                            readOnly: true,
                            key: 'services.ui.volumes.0',
                        },
                    ]),
                    service(
                        'server',
                        [
                            {
                                type: 'bind',
                                source: './data/store',
                                hostPath: path.join(dir, 'data', 'store'),
                                target: '/store',
                                readOnly: false,
                                key: 'services.server.volumes.0',
                            },
                            {
                                type: 'bind',
                                source: './data/other',
                                hostPath: path.join(dir, 'data', 'other'),
                                target: '/other',
                                readOnly: false,
                                key: 'services.server.volumes.1',
                            },
                        ],
                        ['mlflow', 'server', '--backend-store-uri', 'file:///store'],
                    ),
                ],
                variables: {},
                ranges: {},
                problems: [],
            };
            const stores = await findFileStores(dir, compose);
            const byRoot = Object.fromEntries(stores.map((s) => [s.root, s]));
            assert.deepEqual(Object.keys(byRoot).sort(), ['data/store', 'mlruns', 'sub/mlruns']);
            assert.deepEqual(byRoot.mlruns?.mountedBy, [
                { service: 'ui', target: '/mlruns', readOnly: true },
            ]);
            assert.equal(byRoot['data/store']?.reason, 'compose-bind-mount');
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });
});
