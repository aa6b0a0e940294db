// Artifact routing, S3 client settings and bind-mount paths and permissions (field-case families
// B and D), on small workspaces written to a scratch folder and diagnosed from their files and a
// recorded context, the way a user's folder is.

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { canWrite, permissionBits } from '../../src/core/checks/mountPermissions.js';
import { dockerRunVolumes, hostPathStyle, wslPathOf } from '../../src/core/checks/mountPaths.js';
import { diagnose } from '../../src/core/diagnose.js';
import { readFileStore } from '../../src/core/filestore/index.js';
import type { Finding } from '../../src/core/model.js';
import type { RecordedContext } from '../../src/core/recordedFacts.js';
import { readMlproject } from '../../src/core/workspace/mlproject.js';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'stack-doctor-artifacts-'));
let counter = 0;

async function diagnoseFiles(
    files: Record<string, string>,
    context: RecordedContext = {},
): Promise<Finding[]> {
    const folder = path.join(scratch, `w${++counter}`);
    for (const [rel, text] of Object.entries(files)) {
        mkdirSync(path.dirname(path.join(folder, rel)), { recursive: true });
        writeFileSync(path.join(folder, rel), text);
    }
    const report = await diagnose({ folder, context });
    return report.findings;
}

const text = (f: Finding) => `${f.title}\n${f.evidence.join('\n')}\n${f.fix}`;
const ofKind = (findings: Finding[], kind: Finding['kind']) =>
    findings.filter((f) => f.kind === kind);

const EXPERIMENT = (id: string, location: string) =>
    `artifact_location: ${location}\ncreation_time: 1\nexperiment_id: '${id}'\nlast_update_time: 1\nlifecycle_stage: active\nname: exp-${id}\n`;

const S3_SERVER = `  minio:
    image: minio/minio
    command: server /data
    ports:
      - "9000:9000"
  mlflow:
    image: ghcr.io/mlflow/mlflow:v2.14.0
    environment:
      MLFLOW_S3_ENDPOINT_URL: http://minio:9000
      AWS_ACCESS_KEY_ID: minioadmin
      AWS_SECRET_ACCESS_KEY: very-secret-change-me
    command: mlflow server --host 0.0.0.0 --port 5000 --backend-store-uri sqlite:////db/m.db --default-artifact-root s3://bucket/
    ports:
      - "5000:5000"
`;

const TRAIN_WITH_ARTIFACT = `import mlflow
mlflow.set_tracking_uri("http://localhost:5000")
with mlflow.start_run():
    mlflow.log_artifact("notes.txt")
`;

after(() => rmSync(scratch, { recursive: true, force: true }));

/** An artifacts-only server and a tracking server that sends clients to it over HTTP. */
const TWO_SERVERS = `  artifacts:
    image: ghcr.io/mlflow/mlflow:v2.14.0
    command: mlflow server --host 0.0.0.0 --port 5500 --artifacts-only --artifacts-destination /data
    volumes:
      - ./data:/data
  mlflow:
    image: ghcr.io/mlflow/mlflow:v2.14.0
    command: mlflow server --host 0.0.0.0 --port 5000 --no-serve-artifacts --default-artifact-root http://artifacts:5500/api/2.0/mlflow-artifacts/artifacts/experiments
`;

void describe('FileStore experiment locations', () => {
    void test('records each experiment artifact_location with the line of the key', async () => {
        const folder = path.join(scratch, 'store');
        mkdirSync(path.join(folder, 'mlruns', '3'), { recursive: true });
        writeFileSync(
            path.join(folder, 'mlruns', '3', 'meta.yaml'),
            `creation_time: 1\nartifact_location: /opt/store/3\nexperiment_id: '3'\nlifecycle_stage: active\nname: three\n`,
        );
        const summary = await readFileStore(path.join(folder, 'mlruns'), folder);
        assert.deepEqual(summary.experimentLocations, [
            {
                id: '3',
                name: 'three',
                file: 'mlruns/3/meta.yaml',
                artifactLocation: '/opt/store/3',
                line: 2,
            },
        ]);
    });
});

void describe('artifact routing against the current server flags', () => {
    void test('reports an experiment that keeps its local location after the server switched to proxying', async () => {
        const findings = await diagnoseFiles({
            'compose.yaml': `services:
  mlflow:
    image: ghcr.io/mlflow/mlflow:v2.14.0
    command: mlflow server --host 0.0.0.0 --backend-store-uri /mlruns --artifacts-destination /mlruns/artifacts
    ports:
      - "5000:5000"
    volumes:
      - ./mlruns:/mlruns
`,
            'mlruns/0/meta.yaml': EXPERIMENT('0', 'mlflow-artifacts:/0'),
            'mlruns/4/meta.yaml': EXPERIMENT('4', '/mlruns/4'),
            'train.py': TRAIN_WITH_ARTIFACT,
        });
        const routing = ofKind(findings, 'artifact-routing');
        assert.equal(routing.length, 1, routing.map((f) => f.title).join('\n'));
        const [old] = routing;
        assert.equal(old?.severity, 'warning');
        assert.match(old?.title ?? '', /still stores artifacts at \/mlruns\/4/);
        assert.equal(old?.locations[0]?.file, 'mlruns/4/meta.yaml');
        assert.equal(old?.locations[0]?.key, 'artifact_location');
    });

    void test('reports mlflow-artifacts roots on a server started with --no-serve-artifacts', async () => {
        const findings = await diagnoseFiles({
            'compose.yaml': `services:
  mlflow:
    image: ghcr.io/mlflow/mlflow:v2.14.0
    command: mlflow server --host 0.0.0.0 --no-serve-artifacts --default-artifact-root mlflow-artifacts:/exp
`,
        });
        const f = findings.find((x) => x.id.endsWith('proxy-root-without-serving'));
        assert.ok(f, findings.map((x) => x.id).join('\n'));
        assert.equal(f.severity, 'error');
        assert.match(text(f), /503/);
        assert.equal(f.edits?.[0]?.newText, '--serve-artifacts');
    });

    void test('reports a host client given an artifacts server by its compose service name', async () => {
        const findings = await diagnoseFiles(
            {
                'compose.yaml': `services:
${TWO_SERVERS}    ports:
      - "5000:5000"
`,
                'train.py': TRAIN_WITH_ARTIFACT,
            },
            { clientRuns: 'host' },
        );
        const f = findings.find((x) => x.id.endsWith('http-artifact-root'));
        assert.ok(f, findings.map((x) => x.id).join('\n'));
        assert.equal(f.severity, 'error');
        assert.match(text(f), /artifacts is a compose service name/);
        assert.ok(!findings.some((x) => x.id.endsWith('destination-ignored')));
    });

    void test('accepts a two-server layout whose clients all run in containers', async () => {
        const findings = await diagnoseFiles({
            'compose.yaml': `services:
${TWO_SERVERS}  trainer:
    image: python:3.11
    environment:
      MLFLOW_TRACKING_URI: http://mlflow:5000
`,
        });
        assert.deepEqual(
            ofKind(findings, 'artifact-routing').map((f) => f.title),
            [],
        );
    });

    void test('translates a host-path root to the container path in the --artifacts-destination edit', async () => {
        const findings = await diagnoseFiles(
            {
                'compose.yaml': `services:
  mlflow:
    image: ghcr.io/mlflow/mlflow:v2.21.3
    volumes:
      - /srv/proj/mlruns:/mlruns
    command: mlflow server --host 0.0.0.0 --backend-store-uri /mlruns --default-artifact-root /srv/proj/mlruns/art
`,
                'train.py': TRAIN_WITH_ARTIFACT,
            },
            { clientRuns: 'host' },
        );
        const root = findings.find((f) => f.id.endsWith('local-artifact-root'));
        assert.equal(
            root?.edits?.[0]?.newText,
            '--artifacts-destination /mlruns/art',
            JSON.stringify(root?.edits),
        );
        const mount = ofKind(findings, 'mount-path')[0];
        assert.equal(mount?.severity, 'warning');
        assert.equal(mount?.locations[0]?.key, 'services.mlflow.volumes.0');
        assert.match(mount?.title ?? '', /inside "mlflow" that folder is \/mlruns\/art/);
    });
});

void describe('S3 settings of clients that write to the bucket themselves', () => {
    void test('reports localhost as the S3 endpoint inside a client container and names the service instead', async () => {
        const findings = await diagnoseFiles({
            'compose.yaml': `services:
${S3_SERVER}  trainer:
    image: python:3.11
    environment:
      MLFLOW_TRACKING_URI: http://mlflow:5000
      MLFLOW_S3_ENDPOINT_URL: http://localhost:9000
      AWS_ACCESS_KEY_ID: minioadmin
      AWS_SECRET_ACCESS_KEY: very-secret-change-me
`,
        });
        const [f, ...rest] = ofKind(findings, 's3-client-config');
        assert.equal(rest.length, 0);
        assert.equal(f?.severity, 'error');
        assert.equal(f?.locations[0]?.key, 'services.trainer.environment');
        assert.match(text(f), /localhost is that container itself/);
        assert.match(f.fix, /MLFLOW_S3_ENDPOINT_URL=http:\/\/minio:9000/);
        assert.match(f.fix, /--artifacts-destination s3:\/\/bucket\//);
    });

    void test('reports a compose service name as the S3 endpoint of a host script and offers the published port', async () => {
        const findings = await diagnoseFiles(
            {
                'compose.yaml': `services:\n${S3_SERVER}`,
                'train.py': `import os\nimport mlflow\nos.environ["MLFLOW_S3_ENDPOINT_URL"] = "http://minio:9000"\nos.environ["AWS_ACCESS_KEY_ID"] = "minioadmin"\nos.environ["AWS_SECRET_ACCESS_KEY"] = "very-secret-change-me"\n${TRAIN_WITH_ARTIFACT.replace('import mlflow\n', '')}`,
            },
            { clientRuns: 'host' },
        );
        const [f] = ofKind(findings, 's3-client-config');
        assert.ok(f);
        assert.equal(f.locations[0]?.file, 'train.py');
        assert.equal(f.locations[0]?.line, 3);
        assert.match(text(f), /resolves only inside the compose network/);
        assert.match(f.fix, /http:\/\/localhost:9000/);
    });

    void test('never prints secret values in its findings', async () => {
        const findings = await diagnoseFiles(
            {
                'compose.yaml': `services:\n${S3_SERVER}`,
                'train.py': `import os\nos.environ["AWS_ACCESS_KEY_ID"] = "minioadmin"\nos.environ["AWS_SECRET_ACCESS_KEY"] = "very-secret-change-me"\n${TRAIN_WITH_ARTIFACT}`,
            },
            { clientRuns: 'host' },
        );
        assert.ok(ofKind(findings, 's3-client-config').length > 0);
        for (const f of findings) assert.doesNotMatch(JSON.stringify(f), /very-secret-change-me/);
    });

    void test('accepts a client with the endpoint and a mounted ~/.aws', async () => {
        const findings = await diagnoseFiles({
            'compose.yaml': `services:
${S3_SERVER}  trainer:
    image: python:3.11
    environment:
      MLFLOW_TRACKING_URI: http://mlflow:5000
      MLFLOW_S3_ENDPOINT_URL: http://minio:9000
    volumes:
      - ~/.aws:/root/.aws:ro
`,
        });
        assert.deepEqual(ofKind(findings, 's3-client-config'), []);
    });

    void test('stays quiet when the server proxies the bucket', async () => {
        const findings = await diagnoseFiles({
            'compose.yaml': `services:
${S3_SERVER.replace('--default-artifact-root', '--artifacts-destination')}  trainer:
    image: python:3.11
    environment:
      MLFLOW_TRACKING_URI: http://mlflow:5000
`,
        });
        assert.deepEqual(ofKind(findings, 's3-client-config'), []);
    });
});

void describe('bind-mount paths', () => {
    void test('classifies Windows, WSL, Docker Desktop and Git Bash spellings of a drive', () => {
        assert.equal(hostPathStyle('C:\\Users\\u\\proj'), 'windows-drive');
        assert.equal(hostPathStyle('C:/Users/u'), 'windows-drive');
        assert.equal(hostPathStyle('/mnt/c/Users/u'), 'wsl-drive');
        assert.equal(hostPathStyle('/run/desktop/mnt/host/c/Users'), 'docker-desktop-host');
        assert.equal(hostPathStyle('//c/Users/u'), 'git-bash-drive');
        assert.equal(hostPathStyle('/home/u'), 'posix');
        assert.equal(wslPathOf('C:\\Users\\u\\proj\\'), '/mnt/c/Users/u/proj');
    });

    void test('reads -v, --volume= and --mount bind volumes of docker run lines, backslashes kept', () => {
        const volumes = dockerRunVolumes(
            'docker run --rm -v C:\\data:C:\\data --volume=./m:/m --mount type=bind,source=/a,target=/b img\ndocker build .',
        );
        assert.deepEqual(
            volumes.map((v) => [v.source, v.target]),
            [
                ['C:\\data', 'C:\\data'],
                ['./m', '/m'],
                ['/a', '/b'],
            ],
        );
    });

    void test('reports a Windows container path in a compose volume', async () => {
        const findings = await diagnoseFiles({
            'compose.yaml': `services:\n  app:\n    image: python:3.11\n    volumes:\n      - ./mlruns:C:\\mlruns\n`,
        });
        const [f] = ofKind(findings, 'mount-path');
        assert.equal(f?.severity, 'error');
        assert.equal(f?.locations[0]?.key, 'services.app.volumes.0');
        assert.match(text(f), /invalid mode/);
    });

    void test('reports a drive-letter source on a Linux host with its WSL spelling', async () => {
        const findings = await diagnoseFiles(
            {
                'compose.yaml': `services:\n  app:\n    image: python:3.11\n    volumes:\n      - C:\\Users\\u\\proj\\mlruns:/mlruns\n`,
            },
            { hostOS: 'linux' },
        );
        const [f] = ofKind(findings, 'mount-path');
        assert.equal(f?.severity, 'error');
        assert.match(f?.fix ?? '', /\/mnt\/c\/Users\/u\/proj\/mlruns/);
    });

    void test('warns about a /mnt/c source in a compose file used on Windows', async () => {
        const findings = await diagnoseFiles(
            {
                'compose.yaml': `services:\n  app:\n    image: python:3.11\n    volumes:\n      - /mnt/c/Users/u/mlruns:/mlruns\n`,
            },
            { hostOS: 'windows' },
        );
        const [f] = ofKind(findings, 'mount-path');
        assert.equal(f?.severity, 'warning');
        assert.match(text(f), /WSL/);
    });

    void test('reports a Windows container path in MLproject docker_env volumes at its key', async () => {
        const findings = await diagnoseFiles(
            {
                MLproject: `name: p\ndocker_env:\n  image: img\n  volumes: ["C:\\\\data:C:\\\\data"]\nentry_points:\n  main:\n    command: python t.py\n`,
            },
            { hostOS: 'linux' },
        );
        const f = ofKind(findings, 'mount-path').find((x) =>
            x.locations.some((l) => l.key === 'docker_env.volumes.0'),
        );
        assert.ok(f, findings.map((x) => x.title).join('\n'));
        assert.equal(f.severity, 'error');
    });

    void test('warns that docker_env on Windows with a local store mounts artifacts at a Windows path', async () => {
        const findings = await diagnoseFiles(
            {
                MLproject: `name: p\ndocker_env:\n  image: img\nentry_points:\n  main:\n    command: python t.py\n`,
            },
            { hostOS: 'windows' },
        );
        const [f] = ofKind(findings, 'mount-path');
        assert.equal(f?.severity, 'warning');
        assert.equal(f?.locations[0]?.key, 'docker_env');
        assert.match(f?.fix ?? '', /MLFLOW_TRACKING_URI=http:\/\/host\.docker\.internal:5000/);
    });

    void test('leaves docker_env alone on a Linux host', async () => {
        const findings = await diagnoseFiles(
            { MLproject: `name: p\ndocker_env:\n  image: img\n` },
            { hostOS: 'linux' },
        );
        assert.deepEqual(ofKind(findings, 'mount-path'), []);
    });

    void test('reports one store mounted at different container paths while records hold absolute paths', async () => {
        const findings = await diagnoseFiles({
            'compose.yaml': `services:
  mlflow:
    image: ghcr.io/mlflow/mlflow:v2.14.0
    command: mlflow server --host 0.0.0.0 --backend-store-uri /mlruns
    volumes:
      - ./mlruns:/mlruns
  trainer:
    image: python:3.11
    environment:
      MLFLOW_TRACKING_URI: file:///app/mlruns
    volumes:
      - ./mlruns:/app/mlruns
`,
            'mlruns/1/meta.yaml': EXPERIMENT('1', '/app/mlruns/1'),
        });
        const f = ofKind(findings, 'mount-path').find((x) =>
            /mounted at \/app\/mlruns/.test(x.title),
        );
        assert.ok(f, findings.map((x) => x.title).join('\n'));
        assert.equal(f.locations[0]?.key, 'services.mlflow.volumes.0');
    });

    void test('reads the docker_env keys of an MLproject with their lines', () => {
        const project = readMlproject(
            'name: x\ndocker_env:\n  image: img\n  volumes:\n    - /a:/b\n  environment: [[K, v], HOME]\n',
        );
        assert.equal(project.environment, 'docker');
        assert.equal(project.dockerEnv?.image, 'img');
        assert.deepEqual(project.dockerEnv?.volumes, [
            { spec: '/a:/b', key: 'docker_env.volumes.0' },
        ]);
        assert.deepEqual(project.dockerEnv?.environment, ['K', 'HOME']);
        assert.equal(project.ranges['docker_env.volumes.0']?.line, 5);
        assert.equal(project.ranges.docker_env?.line, 2);
    });
});

void describe('bind-mount permissions', () => {
    void test('reads octal and symbolic modes and decides writability by owner, group and other', () => {
        assert.equal(permissionBits('755'), 0o755);
        assert.equal(permissionBits('0775'), 0o775);
        assert.equal(permissionBits('drwxrwxr-x'), 0o775);
        const rootOwned = { uid: 0, gid: 0 };
        assert.equal(canWrite({ uid: 1000, gid: 1000 }, rootOwned, 0o755), false);
        assert.equal(canWrite({ uid: 1000, gid: 0 }, rootOwned, 0o775), true);
        assert.equal(canWrite({ uid: 1000, gid: 1000 }, rootOwned, 0o777), true);
        assert.equal(canWrite({ uid: 0 }, { uid: 1000, gid: 1000 }, 0o700), true);
        assert.equal(canWrite({ uid: 1000 }, rootOwned, 0o775), undefined);
    });

    const inspect = (user: string) => ({
        Name: '/runner',
        Config: { User: user },
        Mounts: [{ Type: 'bind', Source: '/srv/art', Destination: '/art', RW: true }],
    });

    void test('reports a numeric container user that cannot write a root-owned bind source', async () => {
        const findings = await diagnoseFiles(
            { 'README.txt': 'x' },
            {
                hostOS: 'linux',
                inspect: inspect('1001:1001'),
                hostStat: [{ path: '/srv/art', uid: 0, gid: 0, mode: '755' }],
            },
        );
        const [f] = ofKind(findings, 'mount-permission');
        assert.equal(f?.severity, 'error');
        assert.match(text(f), /1001/);
        assert.match(f.fix, /chown -R 1001:1001 \/srv\/art/);
    });

    void test('accepts a bind source the container user owns, and a root container user', async () => {
        const owned = await diagnoseFiles(
            { 'README.txt': 'x' },
            {
                inspect: inspect('1001'),
                hostStat: [{ path: '/srv/art', uid: 1001, gid: 1001, mode: '755' }],
            },
        );
        assert.deepEqual(ofKind(owned, 'mount-permission'), []);
        const root = await diagnoseFiles(
            { 'README.txt': 'x' },
            {
                inspect: inspect('root'),
                hostStat: [{ path: '/srv/art', uid: 0, gid: 0, mode: '700' }],
            },
        );
        assert.deepEqual(ofKind(root, 'mount-permission'), []);
    });

    void test('warns from files alone when the docker_env image switches to a non-root user', async () => {
        const findings = await diagnoseFiles(
            {
                MLproject: 'name: p\ndocker_env:\n  image: img\n',
                Dockerfile: 'FROM python:3.11\nRUN useradd --uid 1234 bob\nUSER bob\n',
            },
            { hostOS: 'linux' },
        );
        const [f] = ofKind(findings, 'mount-permission');
        assert.equal(f?.severity, 'warning');
        assert.equal(f?.locations[0]?.key, 'USER');
        assert.match(text(f), /1234/);
    });
});
