import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import type { Finding, StackSnapshot } from '../../src/core/model.js';
import { applyContainerEvent } from '../../src/extension/liveState.js';
import { buildStackTree, type StackNode } from '../../src/extension/stackModel.js';
import {
    container,
    emptySnapshot,
    probe,
    range,
    serverConfig,
    service,
    withCompose,
} from '../support/snapshots.js';

function finding(id: string, extra: Partial<Finding> = {}): Finding {
    return {
        id,
        kind: 'startup-order',
        severity: 'warning',
        title: `title of ${id}`,
        evidence: [],
        fix: 'f',
        locations: [range(26)],
        ...extra,
    };
}

function report(snapshot: StackSnapshot, findings: Finding[] = []) {
    return { folder: snapshot.folder, project: snapshot.compose?.name, findings, probes: [] };
}

function seedLike(): StackSnapshot {
    const snapshot = withCompose(
        emptySnapshot(),
        [
            service('mlflow', {
                image: 'ghcr.io/mlflow/mlflow:v2.22.0',
                ports: [
                    {
                        published: '5000',
                        target: 5000,
                        protocol: 'tcp',
                        key: 'services.mlflow.ports.0',
                    },
                ],
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
            service('notebook', {
                image: 'ghcr.io/mlflow/mlflow:v3.17.2',
                ports: [
                    {
                        published: '8888',
                        target: 8888,
                        protocol: 'tcp',
                        key: 'services.notebook.ports.0',
                    },
                ],
            }),
        ],
        { 'services.mlflow': range(7), 'services.notebook': range(18) },
    );
    snapshot.serverConfigs = [
        serverConfig({ declaredVersion: { version: '2.22.0', file: 'compose.yaml' } }),
    ];
    snapshot.docker = {
        reachable: true,
        attempts: [],
        endpoint: { source: 'default', address: 'unix:///var/run/docker.sock' },
        containers: [
            container('mlflow', {
                health: 'healthy',
                ports: [
                    { containerPort: 5000, protocol: 'tcp', hostIp: '0.0.0.0', hostPort: 5000 },
                ],
                mounts: [
                    { type: 'bind', source: '/work/proj/mlruns', destination: '/mlruns', rw: true },
                ],
            }),
        ],
    };
    snapshot.servers = [probe({ serverVersion: '2.22.0' })];
    snapshot.syncProbes = [
        {
            service: 'mlflow',
            container: 'proj-mlflow-1',
            source: '/work/proj/mlruns',
            destination: '/mlruns',
            rw: true,
            verdict: 'stale',
            evidence: ['the host sentinel did not appear inside the container'],
            cleanedUp: true,
        },
    ];
    return snapshot;
}

const byId = (nodes: StackNode[] | undefined, id: string) => nodes?.find((n) => n.id === id);

describe('the Stack view model', () => {
    test('lists compose services, a never-created one as "not created" with its compose ports', () => {
        const snapshot = seedLike();
        const [project] = buildStackTree({ snapshot, report: report(snapshot) });
        assert.equal(project?.label, 'proj');
        assert.deepEqual(
            project?.children?.map((n) => [n.label, n.description]),
            [
                ['mlflow', 'running, healthy'],
                ['notebook', 'not created'],
            ],
        );
        const notebook = byId(project?.children, 'service:notebook');
        assert.equal(notebook?.contextValue, 'service-not-created');
        assert.equal(
            byId(notebook?.children, 'service:notebook:port:services.notebook.ports.0')
                ?.description,
            '8888 → 8888/tcp',
        );
    });

    test("shows a running service's published port, mount with its last sync verdict, image and MLflow version", () => {
        const snapshot = seedLike();
        const [project] = buildStackTree({ snapshot, report: report(snapshot) });
        const mlflow = byId(project?.children, 'service:mlflow');
        assert.deepEqual(
            mlflow?.children?.map((n) => [n.label, n.description]),
            [
                ['State', 'running, healthy'],
                ['Port', '5000 → 5000/tcp'],
                ['Mount', '/work/proj/mlruns ↔ /mlruns · stale'],
                ['Image', 'ghcr.io/mlflow/mlflow:v2.22.0'],
                ['MLflow server', '2.22.0 at http://127.0.0.1:5000'],
            ],
        );
        assert.equal(byId(mlflow?.children, 'service:mlflow:mount:/mlruns')?.icon?.id, 'warning');
        assert.deepEqual(mlflow?.open?.line, 7);
    });

    test('puts findings under their service and the rest under Findings', () => {
        const snapshot = seedLike();
        const findings = [
            finding('startup-order:notebook->mlflow', { service: 'notebook', rootCause: true }),
            finding('version-mismatch:x', { kind: 'version-mismatch', severity: 'error' }),
        ];
        const nodes = buildStackTree({ snapshot, report: report(snapshot, findings) });
        const notebook = byId(nodes[0]?.children, 'service:notebook');
        const own = byId(notebook?.children, 'finding:startup-order:notebook->mlflow');
        assert.equal(own?.description, 'root cause · startup-order');
        assert.deepEqual(own?.open, range(26));
        assert.equal(notebook?.icon?.id, 'warning');
        const rest = byId(nodes, 'findings:stack');
        assert.deepEqual(
            rest?.children?.map((n) => n.findingId),
            ['version-mismatch:x'],
        );
    });

    test('says Docker is not reachable and lists every endpoint tried', () => {
        const snapshot = seedLike();
        snapshot.docker = {
            reachable: false,
            containers: [],
            attempts: [
                {
                    endpoint: { source: 'default', address: 'unix:///var/run/docker.sock' },
                    error: 'connect ENOENT',
                },
                {
                    endpoint: { source: 'rootless', address: 'unix:///run/user/1000/docker.sock' },
                    error: 'EACCES',
                },
            ],
        };
        const nodes = buildStackTree({ snapshot, report: report(snapshot) });
        const docker = byId(nodes, 'docker-unreachable');
        assert.equal(docker?.label, 'Docker not reachable');
        assert.deepEqual(
            docker?.children?.map((n) => [n.label, n.description]),
            [
                ['unix:///var/run/docker.sock', 'default: connect ENOENT'],
                ['unix:///run/user/1000/docker.sock', 'rootless: EACCES'],
            ],
        );
        const mlflow = byId(byId(nodes, 'project:proj')?.children, 'service:mlflow');
        assert.equal(mlflow?.description, 'state unknown (Docker not reachable)');
    });

    test('says when there is no compose project and no MLflow server', () => {
        const snapshot = emptySnapshot();
        snapshot.docker = { reachable: true, attempts: [], containers: [] };
        const nodes = buildStackTree({ snapshot, report: report(snapshot) });
        assert.deepEqual(
            nodes.map((n) => n.id),
            ['no-compose', 'no-server', 'no-findings'],
        );
    });

    test('a files-only diagnosis says Docker was not asked and states are unknown', () => {
        const snapshot = seedLike();
        delete snapshot.docker;
        const nodes = buildStackTree({ snapshot, report: report(snapshot), offline: true });
        assert.equal(nodes[0]?.id, 'docker-offline');
        const mlflow = byId(byId(nodes, 'project:proj')?.children, 'service:mlflow');
        assert.equal(mlflow?.description, 'state unknown (files only)');
    });

    test('shows nothing before the first diagnosis, and the error when it failed', () => {
        assert.deepEqual(buildStackTree({}), []);
        assert.equal(buildStackTree({ error: 'boom' })[0]?.label, 'The diagnosis failed');
    });
});

describe('live container events', () => {
    test("a health_status event changes the container's health and leaves the old snapshot alone", () => {
        const snapshot = seedLike();
        const patched = applyContainerEvent(snapshot, {
            kind: 'health_status',
            containerId: 'mlflow-id',
            health: 'unhealthy',
            time: 1_700_000_000,
        });
        assert.equal(patched.known, true);
        assert.equal(patched.snapshot.docker?.containers[0]?.health, 'unhealthy');
        assert.equal(snapshot.docker?.containers[0]?.health, 'healthy');
        const [project] = buildStackTree({
            snapshot: patched.snapshot,
            report: report(patched.snapshot),
        });
        assert.equal(byId(project?.children, 'service:mlflow')?.description, 'running, unhealthy');
    });

    test('die marks the container exited with its code; start runs it again', () => {
        const died = applyContainerEvent(seedLike(), {
            kind: 'die',
            containerId: 'mlflow-id',
            exitCode: 137,
            time: 1_700_000_000,
        }).snapshot;
        assert.equal(died.docker?.containers[0]?.state, 'exited');
        assert.equal(died.docker?.containers[0]?.exitCode, 137);
        const started = applyContainerEvent(died, {
            kind: 'start',
            containerId: 'mlflow-id',
            time: 1_700_000_005,
        }).snapshot;
        assert.equal(started.docker?.containers[0]?.state, 'running');
        assert.equal(started.docker?.containers[0]?.exitCode, undefined);
        assert.equal(started.docker?.containers[0]?.health, 'starting');
    });

    test('an event for a container the snapshot lacks is reported as unknown', () => {
        const snapshot = seedLike();
        const patched = applyContainerEvent(snapshot, {
            kind: 'start',
            containerId: 'new',
            time: 1,
        });
        assert.equal(patched.known, false);
        assert.equal(patched.snapshot, snapshot);
    });
});
