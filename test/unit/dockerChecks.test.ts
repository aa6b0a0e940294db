// The container-state and mount-sync checks on snapshots built from real compose files and the
// shared cases' live facts.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';

import { containerStateCheck, logHints } from '../../src/core/checks/containerState.js';
import { mountSyncCheck } from '../../src/core/checks/mountSync.js';
import { loadComposeProject } from '../../src/core/compose/index.js';
import { findServerConfigs } from '../../src/core/mlflow/serverConfig.js';
import type {
    ContainerFacts,
    Finding,
    MountSyncResult,
    StackSnapshot,
} from '../../src/core/model.js';
import { casesFolder } from '../fixtures/compose/sharedCases.js';
import { container as composeContainer, emptySnapshot } from '../support/snapshots.js';

const scratch: string[] = [];
after(() => scratch.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

async function snapshotOf(
    folder: string,
    parts: {
        containers?: ContainerFacts[];
        syncProbes?: MountSyncResult[];
        reachable?: boolean;
    } = {},
): Promise<StackSnapshot> {
    const { project } = await loadComposeProject(folder, { env: {} });
    assert.ok(project);
    return {
        ...emptySnapshot(folder),
        takenAt: new Date(0).toISOString(),
        compose: project,
        docker: {
            attempts: [],
            reachable: parts.reachable ?? true,
            containers: parts.containers ?? [],
        },
        serverConfigs: findServerConfigs(project),
        syncProbes: parts.syncProbes ?? [],
    };
}

function folderWith(yaml: string): string {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sd-docker-checks-'));
    scratch.push(dir);
    writeFileSync(path.join(dir, 'compose.yaml'), yaml);
    return dir;
}

function container(service: string, facts: Partial<ContainerFacts> = {}): ContainerFacts {
    return composeContainer(service, {
        id: `id-${service}`,
        image: 'img',
        health: 'none',
        ...facts,
    });
}

/** The shared case's `containers` and `logs` as gathered facts. */
function caseContainers(caseDir: string): ContainerFacts[] {
    const context = JSON.parse(readFileSync(path.join(caseDir, 'context.json'), 'utf8')) as {
        containers: {
            service: string;
            state: ContainerFacts['state'];
            exitCode?: number;
            health?: ContainerFacts['health'];
        }[];
        logs?: Record<string, string[]>;
    };
    return context.containers.map((c) =>
        container(c.service, {
            state: c.state,
            ...(c.exitCode !== undefined ? { exitCode: c.exitCode } : {}),
            health: c.health ?? 'none',
            logTail: context.logs?.[c.service] ?? [],
        }),
    );
}

function text(finding: Finding): string {
    return `${finding.title}\n${finding.fix}\n${finding.evidence.join('\n')}`;
}

const STACK = `services:
  db:
    image: postgres:16
    healthcheck:
      test: ["CMD-SHELL", "pg_isready"]
  mlflow:
    image: ghcr.io/mlflow/mlflow:v2.22.0
    depends_on:
      db:
        condition: service_healthy
    command: mlflow server --host 0.0.0.0 --backend-store-uri /mlflow/mlruns
    volumes:
      - ./data:/srv/data:ro
      - ./mlruns:/mlflow/mlruns
  init:
    image: minio/mc
    command: mb local/mlflow
  tools:
    image: busybox
    profiles: [debug]
`;

void describe('containerStateCheck', () => {
    void test('reports an exited server with its exit code, logs and the database cause (C04)', async () => {
        const dir = path.join(casesFolder(), 'C04-db-not-ready');
        const snapshot = await snapshotOf(dir, { containers: caseContainers(dir) });

        const findings = containerStateCheck.run(snapshot);

        assert.equal(findings.length, 1);
        const [mlflow] = findings;
        assert.equal(mlflow?.kind, 'container-state');
        assert.equal(mlflow?.severity, 'error');
        assert.equal(mlflow?.service, 'mlflow');
        assert.match(mlflow?.title ?? '', /mlflow exited with code 1/);
        assert.match(text(mlflow), /was not accepting connections yet/);
        assert.ok(mlflow?.evidence.some((line) => line.includes('Operation will be retried')));
        assert.equal(mlflow?.locations[0]?.file, 'docker-compose.yml');
        assert.equal(mlflow?.locations[0]?.key, 'services.mlflow');
    });

    void test('reports a restart loop and names the missing Python package (C07)', async () => {
        const dir = path.join(casesFolder(), 'C07-image-lacks-psycopg2');
        const snapshot = await snapshotOf(dir, { containers: caseContainers(dir) });

        const findings = containerStateCheck.run(snapshot);

        assert.deepEqual(
            findings.map((f) => [f.service, f.severity]),
            [['mlflow', 'error']],
        );
        assert.match(findings[0]?.title ?? '', /restarting in a loop/);
        assert.match(text(findings[0]!), /lacks the Python package "psycopg2"/);
    });

    void test('reports a service without a container, but not a one-shot job that finished or an inactive profile', async () => {
        const snapshot = await snapshotOf(folderWith(STACK), {
            containers: [
                container('db', { health: 'healthy' }),
                container('init', { state: 'exited', exitCode: 0 }),
            ],
        });

        const findings = containerStateCheck.run(snapshot);

        assert.deepEqual(
            findings.map((f) => [f.id, f.severity]),
            [['container-state:mlflow', 'warning']],
        );
        assert.match(findings[0]?.title ?? '', /never created/);
        assert.equal(findings[0]?.locations[0]?.key, 'services.mlflow');
    });

    void test('reports one finding when no container of the project exists', async () => {
        const snapshot = await snapshotOf(folderWith(STACK));

        const findings = containerStateCheck.run(snapshot);

        assert.equal(findings.length, 1);
        assert.match(findings[0]?.title ?? '', /the stack is not up/);
        assert.match(findings[0]?.fix ?? '', /docker compose up -d/);
    });

    void test('says nothing about containers when the Engine was not reachable', async () => {
        const snapshot = await snapshotOf(folderWith(STACK), { reachable: false });
        assert.deepEqual(containerStateCheck.run(snapshot), []);
    });

    void test('reports an unhealthy dependency with its last health output and links the waiting dependent to it', async () => {
        const snapshot = await snapshotOf(folderWith(STACK), {
            containers: [
                container('db', {
                    health: 'unhealthy',
                    healthLog: [{ exitCode: 1, output: '/var/run/postgresql:5432 - no response' }],
                }),
                container('mlflow', { state: 'created' }),
                container('init', { state: 'exited', exitCode: 0 }),
            ],
        });

        const findings = containerStateCheck.run(snapshot);
        const db = findings.find((f) => f.service === 'db');
        const mlflow = findings.find((f) => f.service === 'mlflow');

        assert.equal(db?.severity, 'error');
        assert.match(text(db), /no response/);
        assert.equal(db?.locations[0]?.key, 'services.db.healthcheck');
        assert.match(mlflow?.title ?? '', /created but never started/);
        assert.deepEqual(mlflow?.causedBy, [db?.id]);
        assert.deepEqual(db?.causes, [mlflow?.id]);
    });

    void test('reports a healthcheck still starting as info', async () => {
        const snapshot = await snapshotOf(folderWith(STACK), {
            containers: [
                container('db', { health: 'starting' }),
                container('mlflow'),
                container('init', { state: 'exited', exitCode: 0 }),
            ],
        });
        const findings = containerStateCheck.run(snapshot);
        assert.deepEqual(
            findings.map((f) => [f.service, f.severity]),
            [['db', 'info']],
        );
    });

    void test('explains exit code 137 when the container logged nothing', async () => {
        const snapshot = await snapshotOf(folderWith(STACK), {
            containers: [
                container('db'),
                container('mlflow', { state: 'exited', exitCode: 137, logTail: [] }),
                container('init', { state: 'exited', exitCode: 0 }),
            ],
        });
        const [finding] = containerStateCheck.run(snapshot);
        assert.match(text(finding!), /SIGKILL/);
        assert.match(text(finding!), /logged nothing/);
    });

    void test('maps a missing flag to the MLflow version, once per cause', () => {
        const hints = logHints([
            'Error: No such option: --artifacts-destination',
            'Error: No such option: --serve-artifacts',
            "ModuleNotFoundError: No module named 'boto3'",
        ]);
        assert.deepEqual(
            hints.map((h) => h.cause),
            [
                'the installed MLflow does not know the option --artifacts-destination; it was added in a later version',
                'the image lacks the Python package "boto3"; install it in the image',
            ],
        );
    });
});

function probe(
    verdict: MountSyncResult['verdict'],
    extra: Partial<MountSyncResult> = {},
): MountSyncResult {
    return {
        service: 'mlflow',
        container: 'proj-mlflow-1',
        source: '/home/user/proj/mlruns',
        destination: '/mlflow/mlruns',
        rw: true,
        verdict,
        evidence: ['on the host, .stack-doctor-sync-1 did not appear in /home/user/proj/mlruns'],
        cleanedUp: true,
        ...extra,
    };
}

void describe('mountSyncCheck', () => {
    void test('reports a stale mount at its volume line with the recreate command and the shared-store cure', async () => {
        const snapshot = await snapshotOf(folderWith(STACK), {
            syncProbes: [probe('stale', { hostToContainer: false, containerToHost: false })],
        });

        const findings = mountSyncCheck.run(snapshot);

        assert.equal(findings.length, 1);
        const [finding] = findings;
        assert.equal(finding?.kind, 'mount-sync');
        assert.equal(finding?.severity, 'error');
        assert.equal(finding?.id, 'mount-sync:mlflow:/mlflow/mlruns');
        assert.equal(finding?.locations[0]?.key, 'services.mlflow.volumes.1');
        assert.equal(finding?.locations[0]?.file, 'compose.yaml');
        assert.match(finding?.fix ?? '', /docker compose up -d --force-recreate mlflow/);
        assert.match(finding?.fix ?? '', /only the server should write the store/);
        assert.ok(finding?.evidence.some((line) => line.includes('did not appear')));
    });

    void test('reports one-way and not-syncing mounts as mount-sync errors', async () => {
        const snapshot = await snapshotOf(folderWith(STACK), {
            syncProbes: [
                probe('one-way', { hostToContainer: true, containerToHost: false }),
                probe('not-syncing', {
                    destination: '/srv/data',
                    rw: false,
                    hostToContainer: false,
                }),
            ],
        });
        const findings = mountSyncCheck.run(snapshot);
        assert.deepEqual(
            findings.map((f) => [f.kind, f.severity, f.locations[0]?.key]),
            [
                ['mount-sync', 'error', 'services.mlflow.volumes.1'],
                ['mount-sync', 'error', 'services.mlflow.volumes.0'],
            ],
        );
        assert.match(findings[0]?.fix ?? '', /container → host: no/);
    });

    void test('reports a missing host folder as mount-path', async () => {
        const snapshot = await snapshotOf(folderWith(STACK), {
            syncProbes: [probe('missing-source')],
        });
        const [finding] = mountSyncCheck.run(snapshot);
        assert.equal(finding?.kind, 'mount-path');
        assert.match(finding?.fix ?? '', /Create \/home\/user\/proj\/mlruns/);
    });

    void test('reports a root-owned folder for a uid 1000 container as mount-permission with chown (C25)', () => {
        // C25 has no compose file: the container came from `mlflow run`; its facts are context.json's.
        const snapshot: StackSnapshot = {
            ...emptySnapshot(path.join(casesFolder(), 'C25-root-owned-bind-mount')),
            takenAt: new Date(0).toISOString(),
            syncProbes: [
                probe('not-writable', {
                    service: undefined,
                    container: 'forecast-train-run',
                    source: '/home/user/proj/mlruns/0/8e0a2c4e6f8b4a1d3c5e7f9a1b3d5e7f/artifacts',
                    destination:
                        '/home/user/proj/mlruns/0/8e0a2c4e6f8b4a1d3c5e7f9a1b3d5e7f/artifacts',
                    access: { uid: 1000, gid: 1000, ownerUid: 0, ownerGid: 0, mode: '755' },
                }),
            ],
        };

        const findings = mountSyncCheck.run(snapshot);

        assert.deepEqual(
            findings.map((f) => [f.kind, f.severity]),
            [['mount-permission', 'error']],
        );
        const all = text(findings[0]!);
        assert.match(all, /1000/);
        assert.match(all, /sudo chown -R 1000:1000 \/home\/user\/proj\/mlruns/);
        assert.match(all, /owned by 0:0 with mode 755/);
        const expected = JSON.parse(
            readFileSync(path.join(snapshot.folder, 'expect.json'), 'utf8'),
        ) as { mustNotFlag: string[] };
        assert.ok(findings.every((f) => !expected.mustNotFlag.includes(f.kind)));
    });

    void test('says nothing for in-sync, read-only and skipped mounts', async () => {
        const snapshot = await snapshotOf(folderWith(STACK), {
            syncProbes: [probe('in-sync'), probe('read-only', { rw: false }), probe('skipped')],
        });
        assert.deepEqual(mountSyncCheck.run(snapshot), []);
    });

    void test('warns when a probe could not confirm its sentinels were removed', async () => {
        const snapshot = await snapshotOf(folderWith(STACK), {
            syncProbes: [probe('error', { cleanedUp: false })],
        });
        const findings = mountSyncCheck.run(snapshot);
        assert.deepEqual(
            findings.map((f) => [f.kind, f.severity]),
            [
                ['probe-failed', 'info'],
                ['probe-failed', 'warning'],
            ],
        );
        assert.match(findings[1]?.fix ?? '', /\.stack-doctor-sync-\*/);
    });
});
