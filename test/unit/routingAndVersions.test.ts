import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { artifactRoutingCheck } from '../../src/core/checks/artifactRouting.js';
import { versionParityCheck } from '../../src/core/checks/versionParity.js';
import {
    emptySnapshot,
    probe,
    range,
    serverConfig,
    service,
    trackingUri,
    withCompose,
} from '../support/snapshots.js';

const COMPOSE = `services:
  mlflow:
    image: ghcr.io/mlflow/mlflow:v2.22.0
    command: >-
      mlflow server --host 0.0.0.0 --port 5000
      --backend-store-uri /mlruns
      --default-artifact-root /mlruns
    volumes:
      - ./mlruns:/mlruns
`;

function seedLike() {
    const s = withCompose(
        emptySnapshot('/work/proj'),
        [
            service('mlflow', {
                image: 'ghcr.io/mlflow/mlflow:v2.22.0',
                command: [
                    'mlflow',
                    'server',
                    '--host',
                    '0.0.0.0',
                    '--port',
                    '5000',
                    '--backend-store-uri',
                    '/mlruns',
                    '--default-artifact-root',
                    '/mlruns',
                ],
                commandForm: 'shell',
                volumes: [
                    {
                        type: 'bind',
                        source: './mlruns',
                        hostPath: '/work/proj/mlruns',
                        target: '/mlruns',
                        readOnly: false,
                        key: 'services.mlflow.volumes.0',
                    },
                ],
            }),
        ],
        {
            'services.mlflow': range(2, 3, 9),
            'services.mlflow.image': range(3, 5, 42),
            'services.mlflow.command': {
                file: 'compose.yaml',
                line: 4,
                column: 14,
                endLine: 7,
                endColumn: 38,
            },
            'services.mlflow.volumes.0': range(9, 9, 25),
        },
        COMPOSE,
    );
    s.serverConfigs = [
        serverConfig({
            backendStoreUri: '/mlruns',
            defaultArtifactRoot: '/mlruns',
            keys: {
                defaultArtifactRoot: 'services.mlflow.command',
                backendStoreUri: 'services.mlflow.command',
            },
            declaredVersion: {
                version: '2.22.0',
                file: 'compose.yaml',
                key: 'services.mlflow.image',
            },
        }),
    ];
    return s;
}

describe('version parity check', () => {
    test('reports an MLflow 3 client against a 2.x server at the image tag and the pin', () => {
        const s = seedLike();
        s.workspace.clientVersions = [
            {
                version: '3.17.2',
                spec: 'mlflow==3.17.2',
                source: 'requirements',
                file: 'requirements.txt',
                line: 1,
            },
        ];
        const [f] = versionParityCheck.run(s);
        assert.equal(f?.kind, 'version-mismatch');
        assert.equal(f?.severity, 'error');
        assert.deepEqual(
            f?.locations.map((l) => `${l.file}:${l.line}`),
            ['compose.yaml:3', 'requirements.txt:1'],
        );
        assert.ok(f?.evidence.some((e) => e.includes('run_uuid')));
        assert.ok(f?.evidence.some((e) => e.includes('logged-models')));
    });

    test('believes the live /version over the image tag', () => {
        const s = seedLike();
        s.servers = [probe({ serverVersion: '3.17.2' })];
        s.workspace.clientVersions = [{ version: '3.17.2', source: 'interpreter' }];
        assert.deepEqual(versionParityCheck.run(s), []);
    });

    test('lets the installed interpreter outrank a stale pin', () => {
        const s = seedLike();
        s.workspace.clientVersions = [
            { version: '2.22.0', source: 'interpreter', interpreter: '.venv/bin/python' },
            {
                version: '3.17.2',
                spec: 'mlflow==3.17.2',
                source: 'requirements',
                file: 'requirements.txt',
                line: 1,
            },
        ];
        assert.deepEqual(versionParityCheck.run(s), []);
    });

    test('reports run.info.run_uuid in code run by an MLflow 3 client', () => {
        const s = seedLike();
        s.workspace.clientVersions = [{ version: '3.1.0', source: 'recorded' }];
        s.servers = [probe({ serverVersion: '3.1.0' })];
        s.workspace.calls = [
            {
                api: 'run_uuid',
                file: 'train.py',
                line: 7,
                column: 11,
                text: 'print(run.info.run_uuid)',
            },
        ];
        const [f] = versionParityCheck.run(s);
        assert.equal(f?.locations[0]?.key, 'run.info.run_uuid');
        assert.match(f?.fix ?? '', /run_id/);
    });
});

describe('artifact routing check', () => {
    test('reports a local --default-artifact-root and offers --artifacts-destination', () => {
        const s = seedLike();
        const f = artifactRoutingCheck.run(s).find((x) => x.id.endsWith('local-artifact-root'));
        assert.ok(f);
        assert.equal(f.severity, 'error');
        assert.match(f.fix, /--artifacts-destination/);
        assert.match(f.fix, /Read-only file system/);
        assert.equal(f.edits?.[0]?.newText, '--artifacts-destination');
        assert.equal(f.edits?.[0]?.range.line, 7);
    });

    test('accepts a proxied setup with a destination on a volume', () => {
        const s = seedLike();
        const [config] = s.serverConfigs;
        if (!config) throw new Error('fixture');
        config.defaultArtifactRoot = undefined;
        config.serveArtifacts = true;
        config.artifactsDestination = '/mlruns/artifacts';
        assert.deepEqual(artifactRoutingCheck.run(s), []);
    });

    test('reports a host client that opens the bind-mounted store by path', () => {
        const s = seedLike();
        s.files = { ...s.files, 'notebooks/train.ipynb': '{}' };
        s.workspace.trackingUris = [
            trackingUri('file:../mlruns', 7, 25, { file: 'notebooks/train.ipynb', cell: 1 }),
        ];
        const f = artifactRoutingCheck.run(s).find((x) => x.id.endsWith(':bypass'));
        assert.ok(f);
        assert.match(f.fix, /http:\/\/localhost:5000/);
        assert.equal(f.locations[0]?.file, 'notebooks/train.ipynb');
    });

    test('warns when artifacts are proxied to an unmounted ./mlartifacts beside an object store', () => {
        const s = seedLike();
        const [config] = s.serverConfigs;
        if (!config) throw new Error('fixture');
        config.defaultArtifactRoot = undefined;
        config.serveArtifacts = true;
        config.backendStoreUri = 'mysql+pymysql://mlflow:pw@db:3306/mlflow';
        s.compose?.services.push(service('minio', { image: 'minio/minio' }));
        const f = artifactRoutingCheck.run(s)[0];
        assert.equal(f?.severity, 'warning');
        assert.match(f?.fix ?? '', /s3:\/\//);
    });
});
