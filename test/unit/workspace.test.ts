import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { composeProject, range, service } from '../support/snapshots.js';
import {
    probeInterpreterMlflow,
    readNotebook,
    scanWorkspace,
    workspaceInterpreter,
} from '../../src/core/workspace/index.js';
import {
    isServerDockerfile,
    pinsInCondaEnvironment,
    pinsInDockerfile,
    pinsInPipfileLock,
    pinsInRequirements,
    pinsInTomlLock,
    pinsInTomlSpecs,
} from '../../src/core/workspace/mlflowPins.js';
import { mlflowUsage } from '../../src/core/workspace/mlflowUsage.js';

function tempDir(): string {
    return mkdtempSync(path.join(os.tmpdir(), 'sd-workspace-'));
}

function write(file: string, text: string, mode?: number): void {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, text);
    if (mode) chmodSync(file, mode);
}

function notebook(cells: { type?: string; source: string[] }[]): string {
    return JSON.stringify(
        {
            cells: cells.map((c) => ({
                cell_type: c.type ?? 'code',
                metadata: {},
                outputs: [],
                source: c.source,
            })),
            metadata: {},
            nbformat: 4,
            nbformat_minor: 5,
        },
        null,
        1,
    );
}

void describe('tracking URIs and MLflow calls in Python', () => {
    void test('resolves literals, keyword arguments, f-strings and names assigned a literal', () => {
        const usage = mlflowUsage(
            [
                'import mlflow',
                'HOST = "mlflow"',
                'PORT = "5000"',
                'mlflow.set_tracking_uri("http://a:5000")',
                'mlflow.set_tracking_uri(uri="http://b:5000")',
                'mlflow.set_tracking_uri(f"http://{HOST}:{PORT}")',
                'URI = f"http://{HOST}:{PORT}/x"',
                'mlflow.set_tracking_uri(URI)',
                "# mlflow.set_tracking_uri('http://commented')",
                'print("mlflow.set_tracking_uri(\'http://in-a-string\')")',
            ].join('\n'),
        );
        assert.deepEqual(
            usage.uris.map((u) => [u.uri, u.line, u.column, u.via]),
            [
                ['http://a:5000', 4, 1, 'set_tracking_uri'],
                ['http://b:5000', 5, 1, 'set_tracking_uri'],
                ['http://mlflow:5000', 6, 1, 'set_tracking_uri'],
                ['http://mlflow:5000/x', 8, 1, 'set_tracking_uri'],
            ],
        );
    });

    void test('reads os.environ assignments and setdefault, and reports unresolved expressions', () => {
        const usage = mlflowUsage(
            [
                'import os',
                "os.environ['MLFLOW_TRACKING_URI'] = 'http://env:5000'",
                'os.environ.setdefault("MLFLOW_TRACKING_URI", "http://default:5000")',
                'import mlflow',
                'mlflow.set_tracking_uri(os.environ.get("OTHER"))',
            ].join('\n'),
        );
        assert.deepEqual(
            usage.uris.map((u) => [u.uri, u.line, u.via]),
            [
                ['http://env:5000', 2, 'env-assignment'],
                ['http://default:5000', 3, 'env-assignment'],
            ],
        );
        assert.deepEqual(
            usage.unresolved.map((u) => [u.line, u.expression]),
            [[5, 'os.environ.get("OTHER")']],
        );
    });

    void test('names calls through aliases, flavors, imported names and MlflowClient objects', () => {
        const usage = mlflowUsage(
            [
                'import mlflow as mf',
                'import mlflow.sklearn',
                'from mlflow import log_metric as lm',
                'from mlflow.tracking import MlflowClient',
                'client = MlflowClient(tracking_uri="http://c:5000")',
                'with mf.start_run() as run:',
                '    lm("a", 1)',
                '    mlflow.sklearn.log_model(m, "model")',
                '    client.log_artifact(run.info.run_id, "f.txt")',
                '    print(f"{run.info.run_uuid}")',
                'mf.create_experiment("e", artifact_location="s3://b")',
            ].join('\n'),
        );
        assert.deepEqual(
            usage.calls.map((c) => [c.api, c.line]),
            [
                ['MlflowClient', 5],
                ['mlflow.start_run', 6],
                ['mlflow.log_metric', 7],
                ['mlflow.sklearn.log_model', 8],
                ['MlflowClient.log_artifact', 9],
                ['mlflow.create_experiment', 11],
                ['RunInfo.run_uuid', 10],
            ],
        );
        assert.deepEqual(
            usage.uris.map((u) => [u.uri, u.via]),
            [['http://c:5000', 'client-argument']],
        );
        assert.equal(
            usage.calls.find((c) => c.api === 'RunInfo.run_uuid')?.text,
            '    print(f"{run.info.run_uuid}")',
        );
    });
});

void describe('notebooks', () => {
    void test('maps cell lines to raw file lines and reads %env and %pip magics', async () => {
        const dir = tempDir();
        try {
            write(
                path.join(dir, 'nb', 'train.ipynb'),
                notebook([
                    { type: 'markdown', source: ['mlflow.set_tracking_uri("http://markdown")'] },
                    {
                        source: [
                            '%pip install mlflow==2.9.2 boto3\n',
                            '%env MLFLOW_TRACKING_URI=http://magic:5000\n',
                            'import mlflow',
                        ],
                    },
                    {
                        source: [
                            'x = 1\n',
                            'with mlflow.start_run():\n',
                            '    mlflow.log_param("a", "\\"q\\"")',
                        ],
                    },
                ]),
            );
            const facts = await scanWorkspace(dir, {
                timeoutMs: 5000,
                pythonPath: path.join(dir, 'none'),
            });
            const rawLines = readFileSync(path.join(dir, 'nb', 'train.ipynb'), 'utf8').split('\n');
            const rawAt = (text: string): [number, number] => {
                const index = rawLines.findIndex((line) => line.includes(text));
                return [index + 1, (rawLines[index] ?? '').indexOf(text) + 1];
            };
            assert.deepEqual(
                facts.trackingUris.map((u) => [
                    u.uri,
                    u.cell,
                    u.line,
                    u.column,
                    u.rawLine,
                    u.rawColumn,
                    u.via,
                ]),
                [['http://magic:5000', 1, 2, 1, ...rawAt('%env'), 'env-assignment']],
            );
            const logParam = facts.calls.find((c) => c.api === 'mlflow.log_param');
            assert.deepEqual(
                [
                    logParam?.cell,
                    logParam?.line,
                    logParam?.column,
                    logParam?.rawLine,
                    logParam?.rawColumn,
                ],
                [2, 3, 5, ...rawAt('mlflow.log_param')],
            );
            assert.deepEqual(
                facts.clientVersions.map((v) => [v.version, v.spec, v.cell, v.line, v.rawLine]),
                [['2.9.2', 'mlflow==2.9.2', 1, 1, rawAt('%pip')[0]]],
            );
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });

    void test('reports malformed notebook JSON as unreadable instead of throwing', async () => {
        assert.equal(readNotebook('{"cells": [').ok, false);
        assert.equal(readNotebook('{"nbformat": 4}').ok, false);
        const dir = tempDir();
        try {
            write(
                path.join(dir, 'broken.ipynb'),
                '{"cells": [{"cell_type": "code", "source": ["import mlflow\n"]}',
            );
            write(path.join(dir, 'ok.py'), 'import mlflow\nmlflow.log_metric("a", 1)\n');
            const facts = await scanWorkspace(dir, {
                timeoutMs: 5000,
                pythonPath: path.join(dir, 'none'),
            });
            assert.equal(facts.unreadable.length, 1);
            assert.equal(facts.unreadable[0]?.file, 'broken.ipynb');
            assert.match(facts.unreadable[0]?.error ?? '', /line 1/);
            assert.equal(facts.calls.length, 1);
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });
});

void describe('client MLflow pins', () => {
    void test('requirements files: exact pins, ranges, extras, skinny, and not lookalikes', () => {
        const pins = pinsInRequirements(
            [
                '# mlflow==0.1',
                'mlflow[extras]==2.9.2  # pinned',
                'mlflow-skinny>=2,<3',
                'mlflow-export-import==1.0',
                'MLflow',
                'boto3',
            ].join('\n'),
            'requirements.txt',
        );
        assert.deepEqual(
            pins.map((p) => [p.version, p.spec, p.line]),
            [
                ['2.9.2', 'mlflow[extras]==2.9.2', 2],
                [undefined, 'mlflow-skinny>=2,<3', 3],
                [undefined, 'mlflow', 5],
            ],
        );
    });

    void test('pyproject arrays, poetry tables, Pipfile and conda environments', () => {
        const pyproject = pinsInTomlSpecs(
            [
                '[project]',
                'dependencies = ["mlflow>=3.1", "numpy"]',
                '[tool.poetry.dependencies]',
                'mlflow = "2.9.2"',
                'mlflow-skinny = { version = "^2.10" }',
            ].join('\n'),
            'pyproject.toml',
        );
        assert.deepEqual(
            pyproject.map((p) => [p.version, p.spec, p.line]),
            [
                [undefined, 'mlflow>=3.1', 2],
                ['2.9.2', 'mlflow==2.9.2', 4],
                [undefined, 'mlflow-skinny^2.10', 5],
            ],
        );
        assert.deepEqual(
            pinsInTomlSpecs('[packages]\nmlflow = "*"\n', 'Pipfile').map((p) => p.spec),
            ['mlflow'],
        );
        assert.deepEqual(
            pinsInCondaEnvironment(
                'dependencies:\n  - python=3.11\n  - mlflow=2.12.1\n  - pip:\n    - mlflow-skinny==2.12.1\n',
                'environment.yml',
            ).map((p) => [p.version, p.line]),
            [
                ['2.12.1', 3],
                ['2.12.1', 5],
            ],
        );
    });

    void test('lock files give the resolved version and its line', () => {
        const poetry = pinsInTomlLock(
            '[[package]]\nname = "numpy"\nversion = "1.0"\n\n[[package]]\nname = "mlflow"\nversion = "2.22.0"\n',
            'poetry.lock',
        );
        assert.deepEqual(
            poetry.map((p) => [p.version, p.source, p.line]),
            [['2.22.0', 'lock', 7]],
        );
        const pipfile = pinsInPipfileLock(
            '{\n "default": {\n  "mlflow": {\n   "version": "==3.1.0"\n  }\n }\n}\n',
            'Pipfile.lock',
        );
        assert.deepEqual(
            pipfile.map((p) => [p.version, p.line]),
            [['3.1.0', 3]],
        );
        assert.deepEqual(pinsInPipfileLock('{not json', 'Pipfile.lock'), []);
    });

    void test('Dockerfile RUN pip install lines, with ARG defaults and continuations', () => {
        const text = [
            'FROM python:3.11',
            'ARG MLFLOW_VERSION=2.20.0',
            'RUN pip install --no-cache-dir \\',
            '    # a comment',
            '    "mlflow==${MLFLOW_VERSION}" boto3',
            'RUN echo mlflow==9.9.9',
        ].join('\n');
        assert.deepEqual(
            pinsInDockerfile(text, 'Dockerfile').map((p) => [p.version, p.line, p.source]),
            [['2.20.0', 3, 'dockerfile']],
        );
        assert.equal(
            pinsInDockerfile(text, 'Dockerfile', { MLFLOW_VERSION: '3.1.0' })[0]?.version,
            '3.1.0',
        );
        assert.ok(isServerDockerfile('FROM ghcr.io/mlflow/mlflow:v2.9.2\n'));
        assert.ok(
            isServerDockerfile('FROM python\nCMD ["mlflow", "server", "--host", "0.0.0.0"]\n'),
        );
        assert.ok(!isServerDockerfile(text));
    });
});

void describe('the workspace interpreter', () => {
    void test('prefers the workspace venv and reads the version a fake interpreter prints', async () => {
        const dir = tempDir();
        try {
            const fake = path.join(dir, '.venv', 'bin', 'python');
            write(fake, '#!/bin/sh\necho "mlflow 2.22.5"\n', 0o755);
            assert.equal(workspaceInterpreter(dir, '/usr/bin/python9'), fake);
            assert.deepEqual(await probeInterpreterMlflow(fake, 5000), {
                kind: 'version',
                interpreter: fake,
                package: 'mlflow',
                version: '2.22.5',
            });
            const facts = await scanWorkspace(dir, { timeoutMs: 5000 });
            assert.deepEqual(facts.clientVersions, [
                { version: '2.22.5', source: 'interpreter', interpreter: fake, spec: undefined },
            ]);
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });

    void test('reports an interpreter without MLflow, a missing one and one that hangs', async () => {
        const dir = tempDir();
        try {
            const none = path.join(dir, 'none.sh');
            write(none, '#!/bin/sh\necho none\n', 0o755);
            assert.equal((await probeInterpreterMlflow(none, 5000)).kind, 'not-installed');
            const missing = await probeInterpreterMlflow(path.join(dir, 'nope'), 5000);
            assert.deepEqual(missing, {
                kind: 'failed',
                interpreter: path.join(dir, 'nope'),
                error: 'not found',
            });
            const hang = path.join(dir, 'hang.sh');
            write(hang, '#!/bin/sh\nexec sleep 30\n', 0o755);
            const started = Date.now();
            const answer = await probeInterpreterMlflow(hang, 300);
            assert.equal(answer.kind, 'failed');
            assert.match(answer.kind === 'failed' ? answer.error : '', /no answer within 300 ms/);
            assert.ok(Date.now() - started < 3000);

            const facts = await scanWorkspace(dir, { timeoutMs: 5000, pythonPath: none });
            assert.deepEqual(facts.notes, [`${none} has no mlflow or mlflow-skinny installed`]);
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });
});

void describe('scanWorkspace', () => {
    void test('reads compose environments, every .env file, skips mlruns and venvs, and adds defaults', async () => {
        const dir = tempDir();
        try {
            write(path.join(dir, 'train.py'), 'import mlflow\n\nmlflow.log_metric("a", 1)\n');
            write(
                path.join(dir, 'mlruns', '0', 'artifacts', 'requirements.txt'),
                'mlflow==1.0.0\n',
            );
            write(
                path.join(dir, '.venv', 'lib', 'x.py'),
                'import mlflow\nmlflow.set_tracking_uri("http://venv")\n',
            );
            write(path.join(dir, 'requirements.txt'), 'mlflow==3.8.0\n');
            const alone = await scanWorkspace(dir, {
                timeoutMs: 5000,
                pythonPath: path.join(dir, 'none'),
            });
            assert.deepEqual(
                alone.trackingUris.map((u) => [u.uri, u.file, u.line, u.via]),
                [['sqlite:///mlflow.db', 'train.py', 3, 'default']],
            );
            assert.deepEqual(
                alone.clientVersions.map((v) => [v.version, v.file]),
                [['3.8.0', 'requirements.txt']],
            );

            write(
                path.join(dir, 'env', 'dev.env'),
                'export MLFLOW_TRACKING_URI="http://dotenv:5000"\n',
            );
            const compose = composeProject(
                dir,
                [
                    service('trainer', {
                        environment: { MLFLOW_TRACKING_URI: 'http://mlflow:5000' },
                    }),
                ],
                {
                    name: 'p',
                    ranges: { 'services.trainer.environment.MLFLOW_TRACKING_URI': range(5, 7, 40) },
                },
            );
            const facts = await scanWorkspace(dir, {
                compose,
                timeoutMs: 5000,
                pythonPath: path.join(dir, 'none'),
            });
            assert.deepEqual(
                facts.trackingUris.map((u) => [u.uri, u.file, u.line, u.column, u.via, u.service]),
                [
                    ['http://dotenv:5000', 'env/dev.env', 1, 8, 'dotenv', undefined],
                    ['http://mlflow:5000', 'compose.yaml', 5, 7, 'compose-environment', 'trainer'],
                ],
            );
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });
});
