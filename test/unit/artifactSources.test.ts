// Which artifact sources apply to an owner, in which order, and which container serves a URL;
// and what a listing keeps of the names a hostile server sends.

import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, test } from 'node:test';
import { ArtifactReader, placesFromSnapshot } from '../../src/core/artifacts/artifactReader.js';
import {
    entriesFromNames,
    parseArtifactRoot,
    planSources,
    type PlanInput,
} from '../../src/core/artifacts/artifactSources.js';
import { DownloadRouteSource, ProxiedApiSource } from '../../src/core/artifacts/serverSources.js';
import { MlflowClient } from '../../src/core/mlflow/client.js';
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
    test('builds root-relative paths from base names', () => {
        const { entries, refused } = entriesFromNames('notes', [
            { name: 'hello.txt', isDir: false, size: 5 },
            { name: 'deep/', isDir: true },
        ]);
        assert.equal(refused, 0);
        assert.deepEqual(entries, [
            { path: 'notes/deep', name: 'deep', isDir: true },
            { path: 'notes/hello.txt', name: 'hello.txt', isDir: false, size: 5 },
        ]);
    });

    test('keeps a root-relative name only when it is a direct child of the folder listed', () => {
        const { entries, refused } = entriesFromNames(
            'notes',
            [
                { name: 'notes/hello.txt', isDir: false, size: 5 },
                { name: 'notes/deep', isDir: true },
                { name: 'hello.txt', isDir: false },
                { name: 'notes/deep/deeper.txt', isDir: false },
                { name: 'other/hello.txt', isDir: false },
                { name: 'notes/../hello.txt', isDir: false },
                { name: './notes/x.txt', isDir: false },
                { name: 'notes//x.txt', isDir: false },
                { name: 'notes', isDir: true },
            ],
            'root-relative',
        );
        assert.deepEqual(
            entries.map((e) => e.path),
            ['notes/deep', 'notes/hello.txt'],
        );
        assert.equal(refused, 7);
    });

    test('leaves out names a hostile server sends to escape the root', () => {
        const { entries, refused } = entriesFromNames('', [
            { name: '..', isDir: true },
            { name: '../..', isDir: true },
            { name: 'a\\..\\..', isDir: false },
            { name: '%2e%2e', isDir: true },
            { name: 'x\0y', isDir: false },
            { name: '\uff0e\uff0e', isDir: true },
            { name: '../SECRET.txt', isDir: false },
            { name: '/etc/passwd', isDir: false },
            { name: 'sub/x', isDir: false },
            { name: '.', isDir: true },
            { name: '', isDir: false },
            { name: 'fine.txt', isDir: false },
        ]);
        assert.deepEqual(
            entries.map((e) => e.path),
            ['fine.txt'],
        );
        assert.equal(refused, 11);
    });
});

/**
 * A loopback stand-in for a hostile MLflow server: both listing routes answer every folder with
 * the paths below, which try to climb out, name an absolute file, hide `..` behind
 * percent-encoding or point into another folder.
 */
const HOSTILE_PATHS = [
    '../SECRET.txt',
    '/etc/passwd',
    '%2e%2e/x',
    'sub/../../x',
    'other/dir/y.txt',
];
const PROXIED_ROOT = '1/abc/artifacts';

function hostileFiles(dir: string, names: 'root-relative' | 'base-name') {
    const child = (name: string) => (names === 'base-name' || dir === '' ? name : `${dir}/${name}`);
    return [
        ...HOSTILE_PATHS.map((path) => ({ path, is_dir: false, file_size: 6 })),
        // A base name where a root-relative path belongs, or the other way round.
        ...(dir !== '' && names === 'root-relative' ? [{ path: 'ok.txt', is_dir: false }] : []),
        ...(names === 'base-name' ? [{ path: 'sub/ok.txt', is_dir: false }] : []),
        { path: child('ok.txt'), is_dir: false, file_size: 2 },
        { path: child('sub'), is_dir: true },
    ];
}

void describe('listings from a hostile server', () => {
    let server: http.Server;
    let client: MlflowClient;
    let allHostile = false;

    before(async () => {
        server = http.createServer((req, res) => {
            const url = new URL(req.url ?? '/', 'http://x');
            const send = (body: unknown) => {
                res.writeHead(200, { 'Content-Type': 'application/json' });
                res.end(JSON.stringify(body));
            };
            const only = (files: { path: string }[]) =>
                allHostile ? files.filter((f) => HOSTILE_PATHS.includes(f.path)) : files;
            if (url.pathname === '/api/2.0/mlflow/artifacts/list') {
                const dir = url.searchParams.get('path') ?? '';
                return send({
                    root_uri: 's3://b/r',
                    files: only(hostileFiles(dir, 'root-relative')),
                });
            }
            if (url.pathname === '/api/2.0/mlflow-artifacts/artifacts') {
                const full = url.searchParams.get('path') ?? '';
                const dir = full === PROXIED_ROOT ? '' : full.slice(PROXIED_ROOT.length + 1);
                return send({ files: only(hostileFiles(dir, 'base-name')) });
            }
            res.writeHead(404, { 'Content-Type': 'text/plain' });
            res.end('not here');
        });
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
        const port = (server.address() as AddressInfo).port;
        client = new MlflowClient({ baseUrl: `http://127.0.0.1:${port}`, timeoutMs: 3000 });
    });

    after(async () => {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
    });

    beforeEach(() => {
        allHostile = false;
    });

    function reader(artifactUri: string): ArtifactReader {
        return new ArtifactReader({
            client,
            timeoutMs: 3000,
            owners: {
                run: () => Promise.resolve({ artifactUri }),
                model: () => Promise.resolve({}),
            },
        });
    }

    for (const [kind, uri] of [
        ['download-route', 's3://bucket/1/abc/artifacts'],
        ['proxied-api', `mlflow-artifacts:/${PROXIED_ROOT}`],
    ] as const) {
        test(`${kind}: keeps only the direct children of the root and says how many it left out`, async () => {
            const listing = await reader(uri).list(RUN, '');
            assert.equal(listing.source, kind);
            assert.deepEqual(
                listing.entries.map((e) => [e.path, e.isDir]),
                [
                    ['sub', true],
                    ['ok.txt', false],
                ],
            );
            const leftOut = kind === 'proxied-api' ? 6 : 5;
            assert.match(listing.note ?? '', new RegExp(`^${leftOut} entries were left out: `));
        });

        test(`${kind}: keeps only the direct children of a subfolder`, async () => {
            const listing = await reader(uri).list(RUN, 'sub');
            assert.deepEqual(
                listing.entries.map((e) => e.path),
                ['sub/sub', 'sub/ok.txt'],
            );
            assert.match(listing.note ?? '', /^6 entries were left out: /);
        });

        test(`${kind}: names nothing it cannot trust, and says so, when every path is hostile`, async () => {
            allHostile = true;
            const listing = await reader(uri).list(RUN, '');
            assert.deepEqual(listing.entries, []);
            assert.match(listing.note ?? '', /5 entries were left out: /);
        });
    }

    test('each source leaves out every hostile path on its own', async () => {
        const sources = [
            new DownloadRouteSource(client, RUN.runId),
            new ProxiedApiSource(client, PROXIED_ROOT),
        ];
        for (const source of sources) {
            const { entries, refused } = await source.list('');
            const paths = entries.map((e) => e.path);
            for (const hostile of HOSTILE_PATHS) {
                const last = hostile.slice(hostile.lastIndexOf('/') + 1);
                assert.ok(!paths.includes(last), `${source.kind} kept ${hostile} as ${last}`);
            }
            assert.deepEqual(paths, ['sub', 'ok.txt'], source.kind);
            assert.ok(refused >= HOSTILE_PATHS.length, `${source.kind} refused ${refused}`);
        }
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
