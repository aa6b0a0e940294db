// Family C (versions): client and server versions placed where they run, code against the
// client that runs it, and server command lines against the MLflow that runs them. Each stack is
// a small folder written here and gathered offline, so ranges and locations are the real ones.

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { serverFlagsCheck } from '../../src/core/checks/serverFlags.js';
import { versionParityCheck } from '../../src/core/checks/versionParity.js';
import { gatherSnapshot } from '../../src/core/diagnose.js';
import {
    apiVerdict,
    fileStoreSupport,
    newestMlflowForPython,
} from '../../src/core/mlflow/versions.js';
import type { Finding, StackSnapshot } from '../../src/core/model.js';
import type { RecordedContext } from '../../src/core/recordedFacts.js';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'stack-doctor-versions-'));
let counter = 0;

async function stack(
    files: Record<string, string>,
    context: RecordedContext = {},
): Promise<StackSnapshot> {
    const folder = path.join(scratch, `s${counter++}`);
    for (const [name, text] of Object.entries(files)) {
        mkdirSync(path.dirname(path.join(folder, name)), { recursive: true });
        writeFileSync(path.join(folder, name), text);
    }
    // No interpreter: the versions come from the files and the recorded facts only.
    return gatherSnapshot({ folder, context, pythonPath: path.join(folder, 'no-python') });
}

const server = (image: string, command: string, extra = '') => `services:
  mlflow:
    image: ${image}
    command: ${command}
    ports:
      - "5000:5000"
${extra}`;

function only(findings: Finding[], pattern: RegExp): Finding {
    const matching = findings.filter((f) => pattern.test(f.title));
    assert.equal(matching.length, 1, findings.map((f) => f.title).join('\n'));
    return matching[0] as Finding;
}

after(() => rmSync(scratch, { recursive: true, force: true }));

void describe('the version tables', () => {
    void test('list_experiments is gone from 2.0 and search_experiments arrives in 1.28', () => {
        assert.equal(apiVerdict('2.0.1', 'MlflowClient.list_experiments')?.status, 'removed');
        assert.equal(apiVerdict('1.30.1', 'MlflowClient.list_experiments'), undefined);
        assert.equal(apiVerdict('1.27.0', 'mlflow.search_experiments')?.status, 'missing');
        assert.equal(apiVerdict('1.28.0', 'mlflow.search_experiments'), undefined);
    });

    void test('log_model takes name= from 3.0 and deprecates artifact_path= there', () => {
        assert.equal(apiVerdict('2.21.0', 'mlflow.sklearn.log_model', ['name'])?.status, 'missing');
        assert.equal(apiVerdict('3.1.0', 'mlflow.sklearn.log_model', ['name']), undefined);
        assert.equal(
            apiVerdict('3.1.0', 'mlflow.sklearn.log_model', ['artifact_path'])?.status,
            'deprecated',
        );
        assert.equal(
            apiVerdict('2.21.0', 'mlflow.sklearn.log_model', ['artifact_path']),
            undefined,
        );
    });

    void test('an option whose first release is not recorded is never judged missing', () => {
        assert.equal(apiVerdict('1.20.0', 'mlflow.search_runs', ['output_format']), undefined);
    });

    void test('Python 3.7 can only install MLflow 1.x', () => {
        assert.equal(newestMlflowForPython('3.7.16')?.major, 1);
        assert.equal(newestMlflowForPython('3.10.4'), undefined);
    });

    void test('the file backend is deprecated from 3.6 and refused from 3.13.0rc0', () => {
        assert.equal(fileStoreSupport('3.5.2'), 'supported');
        assert.equal(fileStoreSupport('3.6.0'), 'deprecated');
        assert.equal(fileStoreSupport('3.12.0'), 'deprecated');
        assert.equal(fileStoreSupport('3.13.0rc0'), 'refused');
    });
});

void describe('clients placed where they run', () => {
    const compose = `${server('ghcr.io/mlflow/mlflow:v2.9.2', 'mlflow server --host 0.0.0.0')}
  worker:
    build: ./worker
    environment:
      MLFLOW_TRACKING_URI: http://mlflow:5000
`;

    void test('compares the version a container printed with the server, at that service pin', async () => {
        const s = await stack(
            {
                'compose.yaml': compose,
                'worker/Dockerfile': 'FROM python:3.7-slim\nRUN pip install mlflow boto3\n',
            },
            {
                exec: [
                    {
                        where: 'container:worker',
                        command: 'mlflow --version',
                        stdout: 'mlflow, version 1.30.1',
                    },
                    {
                        where: 'container:worker',
                        command: 'python --version',
                        stdout: 'Python 3.7.17',
                    },
                ],
            },
        );
        const f = only(versionParityCheck.run(s), /1\.30\.1 client in "worker"/);
        assert.equal(f.severity, 'error');
        assert.deepEqual(
            f.locations.map((l) => `${l.file}:${l.line}`),
            ['compose.yaml:3', 'worker/Dockerfile:2'],
        );
        assert.match(f.fix, /Python 3\.8/);
        assert.match(f.fix, /mlflow==2\.9\.2/);
        const edit = f.edits?.find((e) => e.newText === 'mlflow==2.9.2');
        assert.equal(edit?.file, 'worker/Dockerfile');
        assert.equal(edit?.range.line, 2);
    });

    void test('a container at the server version is quiet even when the host pins another', async () => {
        const s = await stack(
            { 'compose.yaml': compose, 'requirements.txt': 'mlflow==1.30.1\n' },
            {
                exec: [
                    {
                        where: 'container:worker',
                        command: 'python -c "import mlflow; print(mlflow.__version__)"',
                        stdout: '2.9.2',
                    },
                ],
            },
        );
        const findings = versionParityCheck.run(s);
        assert.ok(!findings.some((f) => f.title.includes('"worker"')));
        // The host's own pin is still its own client, and still compared.
        assert.ok(findings.some((f) => f.title.startsWith('MLflow 1.30.1 client against')));
    });

    void test('offers to move the server image to a newer client version', async () => {
        const s = await stack({
            'compose.yaml': server('ghcr.io/mlflow/mlflow:v2.21.0', 'mlflow server --host 0.0.0.0'),
            'requirements.txt': 'mlflow==3.1.0\n',
        });
        const f = only(versionParityCheck.run(s), /3\.1\.0 client/);
        assert.deepEqual(f.edits?.map((e) => `${e.file}:${e.range.line} ${e.newText}`).sort(), [
            'compose.yaml:3 ghcr.io/mlflow/mlflow:v3.1.0',
            'requirements.txt:1 mlflow==2.21.0',
        ]);
    });
});

void describe('code against the client that runs it', () => {
    const compose = server('ghcr.io/mlflow/mlflow:v2.21.0', 'mlflow server --host 0.0.0.0');

    void test('reports list_experiments on an unnamed client with a 2.x client', async () => {
        const s = await stack({
            'compose.yaml': compose,
            'requirements.txt': 'mlflow==2.21.0\n',
            'report.py':
                'import mlflow\n\nfor e in mlflow.tracking.MlflowClient().list_experiments():\n    print(e.name)\n',
        });
        const f = only(versionParityCheck.run(s), /list_experiments/);
        assert.equal(f.severity, 'error');
        assert.equal(f.locations[0]?.line, 3);
        assert.match(f.fix, /search_experiments/);
    });

    void test('says nothing about list_experiments on the 1.x client that still has it', async () => {
        const s = await stack({
            'compose.yaml': server('ghcr.io/mlflow/mlflow:v1.30.0', 'mlflow server --host 0.0.0.0'),
            'requirements.txt': 'mlflow==1.30.0\n',
            'report.py': 'from mlflow import MlflowClient\nMlflowClient().list_experiments()\n',
        });
        assert.deepEqual(versionParityCheck.run(s), []);
    });

    void test('reports log_model(name=...) written for MLflow 3 on a 2.x client', async () => {
        const s = await stack({
            'compose.yaml': compose,
            'requirements.txt': 'mlflow==2.21.0\n',
            'train.py':
                'import mlflow\n\nwith mlflow.start_run():\n    mlflow.sklearn.log_model(\n        model,\n        name="model",\n    )\n',
        });
        const f = only(versionParityCheck.run(s), /log_model\(name=/);
        assert.equal(f.severity, 'error');
        assert.match(f.fix, /artifact_path=/);
    });

    void test('passing log_model model_uri to get_underlying_uri on MLflow 3 is an error', async () => {
        const s = await stack({
            'compose.yaml': server('ghcr.io/mlflow/mlflow:v3.1.0', 'mlflow server --host 0.0.0.0'),
            'requirements.txt': 'mlflow==3.1.0\n',
            'train.py': [
                'import mlflow',
                'from mlflow.store.artifact.runs_artifact_repo import RunsArtifactRepository',
                'with mlflow.start_run():',
                '    info = mlflow.sklearn.log_model(model, name="model")',
                '    print(RunsArtifactRepository.get_underlying_uri(info.model_uri))',
                '',
            ].join('\n'),
        });
        const f = only(versionParityCheck.run(s), /get_underlying_uri/);
        assert.equal(f.severity, 'error');
        assert.equal(f.locations[0]?.line, 5);
        assert.match(f.evidence.join('\n'), /models:\/m-/);
    });

    void test('the same get_underlying_uri call is fine on a 2.x client', async () => {
        const s = await stack({
            'compose.yaml': compose,
            'requirements.txt': 'mlflow==2.21.0\n',
            'train.py': [
                'import mlflow',
                'from mlflow.store.artifact.runs_artifact_repo import RunsArtifactRepository',
                'info = mlflow.sklearn.log_model(model, "model")',
                'print(RunsArtifactRepository.get_underlying_uri(info.model_uri))',
                '',
            ].join('\n'),
        });
        assert.deepEqual(versionParityCheck.run(s), []);
    });
});

void describe('server command lines against their version', () => {
    void test('reports --allowed-hosts on a 3.4 image at the exec-form item', async () => {
        const s = await stack({
            'compose.yaml': server(
                'ghcr.io/mlflow/mlflow:v3.4.0',
                '["mlflow", "server", "--host", "0.0.0.0", "--allowed-hosts", "mlflow:5000"]',
            ),
        });
        const f = only(serverFlagsCheck.run(s), /--allowed-hosts/);
        assert.equal(f.severity, 'error');
        assert.equal(f.locations[0]?.key, 'services.mlflow.command.4');
        assert.match(f.evidence.join('\n'), /3\.5\.0/);
    });

    void test('points at the flag inside a folded shell-form command', async () => {
        const s = await stack({
            'compose.yaml': server(
                'ghcr.io/mlflow/mlflow:v2.4.0',
                '>-\n      mlflow server --host 0.0.0.0\n      --app-name basic-auth',
            ),
        });
        const f = only(serverFlagsCheck.run(s), /--app-name/);
        assert.equal(f.locations[0]?.line, 6);
        assert.equal(f.locations[0]?.column, 7);
    });

    void test('does not flag an option whose first release is unknown', async () => {
        const s = await stack({
            'compose.yaml': server(
                'ghcr.io/mlflow/mlflow:v1.20.0',
                'mlflow server --host 0.0.0.0 --expose-prometheus /metrics',
            ),
        });
        assert.deepEqual(serverFlagsCheck.run(s), []);
    });

    void test('reads a server started by a Dockerfile alone', async () => {
        const s = await stack({
            Dockerfile:
                'FROM python:3.10-slim\nRUN pip install mlflow==1.20.2\nCMD ["mlflow", "server", "--host", "0.0.0.0", "--serve-artifacts"]\n',
        });
        const f = only(serverFlagsCheck.run(s), /--serve-artifacts/);
        assert.equal(f.locations[0]?.file, 'Dockerfile');
        assert.equal(f.locations[0]?.key, 'CMD');
        assert.equal(f.locations[0]?.line, 3);
    });

    void test('reports security options with --gunicorn-opts on 3.5', async () => {
        const s = await stack({
            'compose.yaml': server(
                'ghcr.io/mlflow/mlflow:v3.5.0',
                'mlflow server --host 0.0.0.0 --gunicorn-opts "--timeout 120" --allowed-hosts mlflow:5000',
            ),
        });
        const f = only(serverFlagsCheck.run(s), /cannot be combined/);
        assert.equal(f.severity, 'error');
    });

    void test('a 3.13 server on ./mlruns fails unless MLFLOW_ALLOW_FILE_STORE is set', async () => {
        const command = 'mlflow server --host 0.0.0.0 --backend-store-uri /mlruns';
        const volumes = '    volumes:\n      - ./mlruns:/mlruns\n';
        const refused = await stack({
            'compose.yaml': server('ghcr.io/mlflow/mlflow:v3.13.0', command, volumes),
        });
        const f = only(serverFlagsCheck.run(refused), /refuses the file tracking backend/);
        assert.equal(f.kind, 'version-mismatch');
        assert.equal(f.severity, 'error');
        assert.match(f.fix, /mlflow migrate-filestore/);
        assert.match(f.fix, /MLFLOW_ALLOW_FILE_STORE=true/);

        const allowed = await stack({
            'compose.yaml': server(
                'ghcr.io/mlflow/mlflow:v3.13.0',
                command,
                `${volumes}    environment:\n      MLFLOW_ALLOW_FILE_STORE: "true"\n`,
            ),
        });
        assert.deepEqual(serverFlagsCheck.run(allowed), []);
    });

    void test('a 3.8 server on a file backend gets a deprecation warning', async () => {
        const s = await stack({
            'compose.yaml': server(
                'ghcr.io/mlflow/mlflow:v3.8.0',
                'mlflow server --host 0.0.0.0 --backend-store-uri file:///mlruns',
                '    volumes:\n      - ./mlruns:/mlruns\n',
            ),
        });
        assert.equal(only(serverFlagsCheck.run(s), /deprecates/).severity, 'warning');
    });

    void test('warns when a 3.7+ server keeps its default mlflow.db off any volume', async () => {
        const s = await stack({
            'compose.yaml': server('ghcr.io/mlflow/mlflow:v3.7.0', 'mlflow server --host 0.0.0.0'),
        });
        const f = only(serverFlagsCheck.run(s), /mlflow\.db/);
        assert.equal(f.severity, 'warning');
        assert.match(f.fix, /--backend-store-uri/);
    });

    void test('is quiet about the default database when a volume holds the working dir', async () => {
        const s = await stack({
            'compose.yaml': server(
                'ghcr.io/mlflow/mlflow:v3.7.0',
                'mlflow server --host 0.0.0.0',
                '    working_dir: /mlflow\n    volumes:\n      - data:/mlflow\nvolumes:\n  data:\n',
            ),
        });
        assert.deepEqual(serverFlagsCheck.run(s), []);
    });
});

void describe('clients on a file store', () => {
    void test('a 3.13 client that logs to ./mlruns itself is refused', async () => {
        const s = await stack({
            'requirements.txt': 'mlflow==3.13.0\n',
            'train.py':
                'import mlflow\nmlflow.set_tracking_uri("file:./mlruns")\nmlflow.log_metric("a", 1)\n',
        });
        const f = only(versionParityCheck.run(s), /refuses the file store/);
        assert.equal(f.severity, 'error');
        assert.equal(f.locations[0]?.line, 2);
        assert.match(f.fix, /migrate-filestore/);
    });

    void test('a 3.5 client on ./mlruns is fine', async () => {
        const s = await stack({
            'requirements.txt': 'mlflow==3.5.0\n',
            'train.py': 'import mlflow\nmlflow.set_tracking_uri("./mlruns")\n',
        });
        assert.deepEqual(versionParityCheck.run(s), []);
    });
});
