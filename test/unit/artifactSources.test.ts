// Which artifact sources apply to an owner, in which order, and which container serves a URL.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { placesFromSnapshot } from '../../src/core/artifacts/artifactReader.js';
import {
    entriesFromNames,
    parseArtifactRoot,
    planSources,
    type PlanInput,
} from '../../src/core/artifacts/artifactSources.js';
import { container, emptySnapshot } from '../support/snapshots.js';

const SERVER = 'http://127.0.0.1:5000';
const RUN = { kind: 'run', runId: 'abc123' } as const;
const MODEL = { kind: 'model', modelId: 'm-0123' } as const;

function plan(extra: Partial<PlanInput>) {
    return planSources({
        owner: RUN,
        serverUrl: SERVER,
        dockerConfigured: true,
        hostDirExists: () => false,
        ...extra,
    });
}

void describe('parseArtifactRoot', () => {
    test('reads a proxied root relative to the artifacts destination', () => {
        assert.deepEqual(parseArtifactRoot('mlflow-artifacts:/1/abc/artifacts', SERVER), {
            kind: 'proxied',
            path: '1/abc/artifacts',
        });
        assert.deepEqual(
            parseArtifactRoot('mlflow-artifacts://127.0.0.1:5000/1/abc/artifacts', SERVER),
            { kind: 'proxied', path: '1/abc/artifacts' },
        );
        assert.deepEqual(
            parseArtifactRoot(
                'http://127.0.0.1:5000/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts',
                SERVER,
            ),
            { kind: 'proxied', path: '1/abc/artifacts' },
        );
    });

    test('treats a proxied root on another server as out of reach', () => {
        assert.equal(
            parseArtifactRoot('mlflow-artifacts://other:5000/1/a', SERVER).kind,
            'elsewhere',
        );
        assert.equal(
            parseArtifactRoot('http://other:5000/api/2.0/mlflow-artifacts/artifacts/1', SERVER)
                .kind,
            'elsewhere',
        );
    });

    test('reads file URIs and plain absolute paths as local paths', () => {
        assert.deepEqual(parseArtifactRoot('file:///mlruns/1/abc/artifacts', SERVER), {
            kind: 'local',
            path: '/mlruns/1/abc/artifacts',
        });
        assert.deepEqual(parseArtifactRoot('file:///tmp/with%20space/a', SERVER), {
            kind: 'local',
            path: '/tmp/with space/a',
        });
        assert.deepEqual(parseArtifactRoot('/mlruns/1/abc/artifacts', SERVER), {
            kind: 'local',
            path: '/mlruns/1/abc/artifacts',
        });
    });

    test('refuses roots that climb out, whatever their scheme', () => {
        for (const uri of [
            'mlflow-artifacts:/1/../../etc',
            'mlflow-artifacts:/1/%2e%2e/%2e%2e/etc',
            'file:///mlruns/../etc/passwd',
            '/mlruns/1/../../etc',
            'http://127.0.0.1:5000/api/2.0/mlflow-artifacts/artifacts/..%2f..%2fetc',
        ]) {
            assert.equal(parseArtifactRoot(uri, SERVER).kind, 'elsewhere', uri);
        }
    });

    test('names object storage, relative paths and a missing uri as out of reach', () => {
        assert.match(
            (parseArtifactRoot('s3://bucket/1/abc', SERVER) as { why: string }).why,
            /s3: storage/,
        );
        assert.match(
            (parseArtifactRoot('./mlruns/1/abc', SERVER) as { why: string }).why,
            /relative to the working folder/,
        );
        assert.equal(parseArtifactRoot(undefined, SERVER).kind, 'elsewhere');
    });
});

void describe('planSources', () => {
    test('tries the proxied API, then the download route, for a proxied run', () => {
        const { plans, skipped } = plan({ artifactUri: 'mlflow-artifacts:/1/abc/artifacts' });
        assert.deepEqual(
            plans.map((p) => p.kind),
            ['proxied-api', 'download-route'],
        );
        assert.ok(skipped.some((s) => s.kind === 'host-path'));
    });

    test('uses the model file routes, not get-artifact, for a logged model', () => {
        const { plans } = plan({
            owner: MODEL,
            artifactUri: 'mlflow-artifacts:/1/models/m-0123/artifacts',
        });
        assert.deepEqual(
            plans.map((p) => p.kind),
            ['proxied-api', 'model-files-route'],
        );
    });

    test('adds the host path when a local root exists on this machine', () => {
        const { plans } = plan({
            artifactUri: 'file:///tmp/local/1/abc/artifacts',
            hostDirExists: (dir) => dir === '/tmp/local/1/abc/artifacts',
        });
        assert.deepEqual(plans, [
            { kind: 'download-route', runId: 'abc123' },
            { kind: 'host-path', root: '/tmp/local/1/abc/artifacts' },
        ]);
    });

    test('maps a container path through the longest bind mount that covers it', () => {
        const { plans, skipped } = plan({
            artifactUri: '/mlruns/1/abc/artifacts',
            places: {
                serverContainerId: 'c1',
                mounts: [
                    { source: '/srv/all', destination: '/' },
                    { source: '/srv/mlruns', destination: '/mlruns' },
                ],
            },
            hostDirExists: (dir) => dir === '/srv/mlruns/1/abc/artifacts',
        });
        assert.deepEqual(plans, [
            { kind: 'download-route', runId: 'abc123' },
            {
                kind: 'bind-mount',
                root: '/srv/mlruns/1/abc/artifacts',
                containerRoot: '/mlruns/1/abc/artifacts',
            },
        ]);
        assert.ok(skipped.some((s) => s.kind === 'container-archive' && /bind mount/.test(s.why)));
    });

    test('does not take /mlrunsX for a mount of /mlruns', () => {
        const { plans } = plan({
            artifactUri: '/mlrunsX/1',
            places: {
                serverContainerId: 'c1',
                mounts: [{ source: '/srv', destination: '/mlruns' }],
            },
            hostDirExists: () => true,
        });
        assert.deepEqual(
            plans.map((p) => p.kind),
            ['download-route', 'host-path', 'container-archive'],
        );
    });

    test('falls back to the container archive for a container path no mount covers', () => {
        const { plans } = plan({
            artifactUri: 'file:///mlruns/1/abc/artifacts',
            places: { serverContainerId: 'c1', mounts: [{ source: '/srv', destination: '/data' }] },
        });
        assert.deepEqual(plans.at(-1), {
            kind: 'container-archive',
            containerId: 'c1',
            root: '/mlruns/1/abc/artifacts',
        });
    });

    test('says why the container archive is not tried without a container or Docker', () => {
        const noContainer = plan({ artifactUri: '/mlruns/1' });
        assert.match(
            noContainer.skipped.find((s) => s.kind === 'container-archive')?.why ?? '',
            /no container/,
        );
        const noDocker = plan({
            artifactUri: '/mlruns/1',
            places: { serverContainerId: 'c1', mounts: [] },
            dockerConfigured: false,
        });
        assert.match(
            noDocker.skipped.find((s) => s.kind === 'container-archive')?.why ?? '',
            /no Docker/,
        );
    });

    test('never plans a local source for a root that climbs out', () => {
        const { plans } = plan({ artifactUri: '/mlruns/../etc', hostDirExists: () => true });
        assert.deepEqual(
            plans.map((p) => p.kind),
            ['download-route'],
        );
    });
});

void describe('entriesFromNames', () => {
    test('builds root-relative paths from basenames and from root-relative names', () => {
        const { entries, refused } = entriesFromNames('notes', [
            { name: 'hello.txt', isDir: false, size: 5 },
            { name: 'notes/deep', isDir: true },
        ]);
        assert.equal(refused, 0);
        assert.deepEqual(entries, [
            { path: 'notes/deep', name: 'deep', isDir: true },
            { path: 'notes/hello.txt', name: 'hello.txt', isDir: false, size: 5 },
        ]);
    });

    test('leaves out names a hostile server sends to escape the root', () => {
        const { entries, refused } = entriesFromNames('', [
            { name: '..', isDir: true },
            { name: '../..', isDir: true },
            { name: 'a\\..\\..', isDir: false },
            { name: '%2e%2e', isDir: true },
            { name: 'x\0y', isDir: false },
            { name: '\uff0e\uff0e', isDir: true },
            { name: 'fine.txt', isDir: false },
        ]);
        assert.deepEqual(
            entries.map((e) => e.path),
            ['fine.txt'],
        );
        assert.equal(refused, 6);
    });
});

void describe('placesFromSnapshot', () => {
    const snapshot = emptySnapshot();
    snapshot.docker = {
        reachable: true,
        attempts: [],
        containers: [
            container('db'),
            container('mlflow', {
                ports: [
                    { containerPort: 5000, protocol: 'tcp', hostIp: '0.0.0.0', hostPort: 5000 },
                ],
                mounts: [
                    { type: 'bind', source: '/srv/mlruns', destination: '/mlruns', rw: true },
                    {
                        type: 'volume',
                        source: '/var/lib/docker/volumes/x',
                        destination: '/x',
                        rw: true,
                        name: 'x',
                    },
                ],
            }),
        ],
    };

    test('finds the container that publishes the server port, with its bind mounts only', () => {
        assert.deepEqual(placesFromSnapshot(snapshot, 'http://localhost:5000'), {
            serverContainerId: 'mlflow-id',
            mounts: [{ source: '/srv/mlruns', destination: '/mlruns' }],
        });
    });

    test('finds the container by its service name on the compose network', () => {
        assert.equal(
            placesFromSnapshot(snapshot, 'http://mlflow:5000').serverContainerId,
            'mlflow-id',
        );
    });

    test('knows no container for a server nothing in the snapshot serves', () => {
        assert.deepEqual(placesFromSnapshot(snapshot, 'http://127.0.0.1:5999'), { mounts: [] });
        assert.deepEqual(placesFromSnapshot(snapshot, 'not a url'), { mounts: [] });
    });
});
