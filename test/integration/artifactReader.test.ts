// ArtifactReader against real components: MLflow 2.x and 3.x servers whose artifacts were logged
// by that version's own Python client over HTTP, a server without artifact serving whose client
// wrote to its own disk, and a real container holding artifacts behind a bind mount and inside
// its own file system. Every source must serve the same bytes for the same hostile names.

import Dockerode from 'dockerode';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
    existsSync,
    mkdirSync,
    mkdtempSync,
    readdirSync,
    readFileSync,
    rmSync,
    writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ArtifactOwner } from '../../webview/protocol.js';
import {
    ArtifactReader,
    ArtifactTooLargeError,
    ArtifactUnavailableError,
    type ArtifactPlaces,
} from '../../src/core/artifacts/artifactReader.js';
import { ModelFilesSource } from '../../src/core/artifacts/serverSources.js';
import { MlflowClient } from '../../src/core/mlflow/client.js';
import {
    missingVenvMessage,
    registerMissingComponent,
    type RunningServer,
    SERVER_MAJORS,
    type ServerBackend,
    startMlflowServer,
    stopMlflowServer,
    venvPython,
    venvReady,
} from '../support/mlflowServer.js';

const BUSYBOX = process.env.STACK_DOCTOR_BUSYBOX_IMAGE ?? 'stack-doctor/busybox:1';
const SUFFIX = randomBytes(4).toString('hex');

/** Legal file names that the Python client uploads unchanged. */
const CLIENT_NAMES = [
    '<img src=x onerror=alert(1)>.txt',
    `quote"s and 'apos'.txt`,
    'bidi \u202egnp.txt',
    'two  spaces .txt',
    'ünïcödé 文件 🚀.txt',
    'javascript:alert(1).txt',
    '..dots...txt',
    '+plus=eq;semi,comma@at.txt',
];
/**
 * Names the Python client mangles on upload (it sends `%41` and `#` unencoded), written to the
 * store directly so that this reader's own encoding is what gets tested.
 */
const DISK_NAMES = ['%41 100%.txt', 'hash#and?query&x=1.txt'];
const ALL_NAMES = [...CLIENT_NAMES, ...DISK_NAMES];
/** A legal file name that decodes to `..`: every listing must leave it out and say so. */
const TRAVERSAL_NAME = '%2e%2e';

function writeHostileFiles(dir: string, names: string[]): void {
    mkdirSync(dir, { recursive: true });
    for (const name of names)
        writeFileSync(path.join(dir, name), `hostile ${ALL_NAMES.indexOf(name)}`);
    writeFileSync(path.join(dir, TRAVERSAL_NAME), 'must never be listed');
}
const BLOB_BYTES = 5 * 1024 * 1024;

const LOG_ARTIFACTS = `
import json, os, sys, tempfile, mlflow
names = json.loads(sys.argv[1])
mlflow.set_experiment("artifact-reader")
with mlflow.start_run() as run:
    mlflow.log_text("hello\\n", "notes/hello.txt")
    mlflow.log_text("deep", "a/b/c/deep.txt")
    folder = tempfile.mkdtemp()
    blob = os.path.join(folder, "blob.bin")
    with open(blob, "wb") as f:
        f.write(bytes(range(256)) * (${BLOB_BYTES} // 256))
    mlflow.log_artifact(blob, "data")
    for i, name in enumerate(names):
        mlflow.log_text("hostile %d" % i, "hostile/" + name)
    model_id = ""
    if mlflow.__version__.startswith("3") and sys.argv[2] == "model":
        class Echo(mlflow.pyfunc.PythonModel):
            def predict(self, context, model_input):
                return model_input
        model_id = mlflow.pyfunc.log_model(name="echo", python_model=Echo()).model_id
print(json.dumps({"run_id": run.info.run_id, "model_id": model_id, "uri": run.info.artifact_uri}))
`;

const CREATE_RUNS = `
import json, sys, mlflow
client = mlflow.MlflowClient()
out = {}
for key, location in json.loads(sys.argv[1]).items():
    exp = client.create_experiment(key + "-${SUFFIX}", artifact_location=location)
    run = client.create_run(exp)
    out[key] = {"run_id": run.info.run_id, "uri": run.info.artifact_uri}
print(json.dumps(out))
`;

function lastJson<T>(printed: string): T {
    return JSON.parse(printed.split('\n').pop() ?? '{}') as T;
}

function sha256(bytes: Buffer | Uint8Array): string {
    return createHash('sha256').update(bytes).digest('hex');
}

function blob(): Buffer {
    const pattern = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    return Buffer.concat(Array.from({ length: BLOB_BYTES / 256 }, () => pattern));
}

function readerFor(
    client: MlflowClient,
    extra: {
        places?: ArtifactPlaces;
        docker?: () => Promise<Dockerode | undefined>;
        runUris?: Map<string, string>;
    } = {},
): ArtifactReader {
    return new ArtifactReader({
        client,
        ...(extra.places ? { places: extra.places } : {}),
        ...(extra.docker ? { docker: extra.docker } : {}),
        timeoutMs: 10_000,
        owners: {
            run: async (runId) => {
                // A stopped server cannot say; the explorer keeps what it learned earlier.
                const known = extra.runUris?.get(runId);
                if (known !== undefined) return { artifactUri: known };
                const run = await client.getRun(runId);
                return run.data.info.artifact_uri
                    ? { artifactUri: run.data.info.artifact_uri }
                    : {};
            },
            model: async (modelId) => {
                const answer = await client.request(
                    'GET',
                    `/api/2.0/mlflow/logged-models/${modelId}`,
                );
                const uri = (answer.data as { model?: { info?: { artifact_uri?: string } } }).model
                    ?.info?.artifact_uri;
                return uri ? { artifactUri: uri } : {};
            },
        },
    });
}

/**
 * Every hostile name is listed exactly and reads back its own content. Over the server's HTTP
 * routes the names with `#` or `%xx` are listed but cannot be asked for (MLflow decodes them
 * again); the error must say so instead of naming a different file.
 */
async function assertHostileNamesRoundTrip(
    reader: ArtifactReader,
    owner: ArtifactOwner,
    expectedSource: string,
): Promise<void> {
    const overHttp = ['proxied-api', 'download-route', 'model-files-route'].includes(
        expectedSource,
    );
    const names = overHttp ? CLIENT_NAMES : ALL_NAMES;
    if (overHttp) {
        // The server cannot be asked; a later source (the host path of a local root) may serve.
        for (const name of DISK_NAMES) {
            const opened = await reader.open(owner, `hostile/${name}`).then(
                (value) => ({ value }),
                (error: Error) => ({ error }),
            );
            if ('error' in opened) {
                assert.match(
                    opened.error.message,
                    /MLflow (refuses artifact paths that contain "#"|percent-decodes artifact paths)/,
                );
                continue;
            }
            assert.equal(opened.value.source, 'host-path');
            const chunks: Buffer[] = [];
            for await (const chunk of opened.value.stream) chunks.push(chunk as Buffer);
            assert.equal(Buffer.concat(chunks).toString(), `hostile ${ALL_NAMES.indexOf(name)}`);
        }
    }
    const listing = await reader.list(owner, 'hostile');
    assert.equal(listing.source, expectedSource, listing.note);
    assert.deepEqual(
        listing.entries.map((entry) => entry.name).sort(),
        [...ALL_NAMES].sort(),
        'the listing names every hostile file exactly',
    );
    assert.match(listing.note ?? '', /1 entry was left out/);
    await assert.rejects(
        reader.read(owner, `hostile/${TRAVERSAL_NAME}`, { maxBytes: 100 }),
        /artifact path/,
    );
    for (const name of names) {
        const text = Buffer.from(
            await reader.read(owner, `hostile/${name}`, { maxBytes: 1024 }),
        ).toString();
        assert.equal(text, `hostile ${ALL_NAMES.indexOf(name)}`, `content of ${name}`);
    }
}

/**
 * 2.x on a FileStore, as the probe tests run it; 3.x on SQLite (3.13+ refuses a FileStore).
 * Not yet: the 2.22.0 venv's SQLAlchemy 2.1 breaks MLflow 2.22.0's SQLite store, so 2.x is not
 * exercised on SQLite here.
 */
function backendFor(version: string): (dir: string) => ServerBackend {
    return version.startsWith('2.')
        ? (dir) => ({ uri: path.join(dir, 'mlruns') })
        : (dir) => ({ uri: `sqlite:///${path.join(dir, 'mlflow.db')}` });
}

for (const version of SERVER_MAJORS) {
    if (!venvReady(version)) {
        registerMissingComponent(`MLflow ${version} venv`, missingVenvMessage(version));
        continue;
    }
    const major = Number(version.split('.')[0]);

    void describe(`artifacts on a real MLflow ${version} server that proxies them`, () => {
        let server: RunningServer | undefined;
        let client: MlflowClient;
        let reader: ArtifactReader;
        let owner: ArtifactOwner;
        let modelId = '';
        const downloads = mkdtempSync(path.join(os.tmpdir(), 'sd-artifact-downloads-'));

        before(async () => {
            server = await startMlflowServer(version, backendFor(version));
            const logged = lastJson<{ run_id: string; model_id: string; uri: string }>(
                await venvPython(
                    version,
                    ['-c', LOG_ARTIFACTS, JSON.stringify(CLIENT_NAMES), 'model'],
                    { MLFLOW_TRACKING_URI: server.url },
                    300_000,
                ),
            );
            assert.match(logged.uri, /^mlflow-artifacts:\//);
            owner = { kind: 'run', runId: logged.run_id };
            modelId = logged.model_id;
            const stored = path.join(
                server.dir,
                'mlartifacts',
                logged.uri.slice('mlflow-artifacts:/'.length),
                'hostile',
            );
            writeHostileFiles(stored, DISK_NAMES);
            client = new MlflowClient({ baseUrl: server.url, timeoutMs: 10_000 });
            reader = readerFor(client);
        });
        after(async () => {
            await stopMlflowServer(server);
            if (server) rmSync(server.dir, { recursive: true, force: true });
            rmSync(downloads, { recursive: true, force: true });
        });

        test('lists the run root through the proxied artifact API', async () => {
            const listing = await reader.list(owner, '');
            assert.equal(listing.source, 'proxied-api');
            assert.equal(listing.note, undefined);
            assert.match(listing.rootUri ?? '', /^mlflow-artifacts:\//);
            assert.deepEqual(
                listing.entries.map((e) => [e.path, e.isDir]),
                [
                    ['a', true],
                    ['data', true],
                    ['hostile', true],
                    ['notes', true],
                ],
            );
            const nested = await reader.list(owner, 'a/b/c');
            assert.deepEqual(nested.entries, [
                { path: 'a/b/c/deep.txt', name: 'deep.txt', isDir: false, size: 4 },
            ]);
        });

        test('reads, stats and downloads text and binary files through the proxied API', async () => {
            const text = await reader.read(owner, 'notes/hello.txt', { maxBytes: 100 });
            assert.equal(Buffer.from(text).toString(), 'hello\n');
            assert.deepEqual(await reader.stat(owner, 'data/blob.bin'), {
                path: 'data/blob.bin',
                isDir: false,
                size: BLOB_BYTES,
                source: 'proxied-api',
            });
            assert.equal((await reader.stat(owner, 'data')).isDir, true);

            const file = path.join(downloads, 'blob.bin');
            let progress = 0;
            const result = await reader.download(owner, 'data/blob.bin', file, {
                onProgress: (bytes) => (progress = bytes),
            });
            assert.deepEqual(result, { bytes: BLOB_BYTES, source: 'proxied-api' });
            assert.equal(progress, BLOB_BYTES);
            assert.equal(sha256(readFileSync(file)), sha256(blob()));
            assert.deepEqual(readdirSync(downloads), ['blob.bin']);
        });

        test('refuses to read a file larger than the limit into memory', async () => {
            await assert.rejects(
                reader.read(owner, 'data/blob.bin', { maxBytes: 1024 }),
                ArtifactTooLargeError,
            );
        });

        test('round-trips hostile file names through the proxied API', async () => {
            await assertHostileNamesRoundTrip(reader, owner, 'proxied-api');
        });

        test('leaves no file behind when a download is aborted mid-stream', async () => {
            const file = path.join(downloads, 'aborted.bin');
            const controller = new AbortController();
            await assert.rejects(
                reader.download(owner, 'data/blob.bin', file, {
                    signal: controller.signal,
                    onProgress: () => controller.abort(),
                }),
                (error: Error) => error.name === 'AbortError',
            );
            assert.equal(existsSync(file), false);
            assert.deepEqual(
                readdirSync(downloads).filter((n) => n.includes('aborted')),
                [],
            );
        });

        test('names every source it tried when a file exists nowhere', async () => {
            await assert.rejects(
                reader.read(owner, 'notes/missing.txt', { maxBytes: 10 }),
                (error: unknown) => {
                    assert.ok(error instanceof ArtifactUnavailableError);
                    assert.match(error.message, /proxied-api \(the proxied artifact API/);
                    assert.match(error.message, /download-route \(the server's download route/);
                    assert.match(error.message, /Not tried: .*host-path/);
                    return true;
                },
            );
        });

        test('refuses traversal paths before any request is made', async () => {
            for (const attempt of ['../x', 'a/../../x', '..%2fmlflow.db', '/etc/passwd']) {
                await assert.rejects(
                    reader.read(owner, attempt, { maxBytes: 10 }),
                    /artifact path/,
                    attempt,
                );
            }
        });

        if (major >= 3) {
            test('lists and reads a logged model through the proxied API and its file routes', async () => {
                const model: ArtifactOwner = { kind: 'model', modelId };
                const listing = await reader.list(model, '');
                assert.equal(listing.source, 'proxied-api');
                assert.ok(listing.entries.some((e) => e.name === 'MLmodel'));
                const viaApi = Buffer.from(await reader.read(model, 'MLmodel', { maxBytes: 1e6 }));
                assert.match(viaApi.toString(), /python_function/);

                const routes = new ModelFilesSource(client, modelId);
                const routed = await routes.list('');
                assert.ok(routed.entries.some((e) => e.path === 'MLmodel'));
                const opened = await routes.open('MLmodel');
                const chunks: Buffer[] = [];
                for await (const chunk of opened.stream) chunks.push(chunk as Buffer);
                assert.deepEqual(Buffer.concat(chunks), viaApi);
            });
        }
    });

    void describe(`a ${version} server without artifact serving, whose client writes to its own disk`, () => {
        let server: RunningServer | undefined;
        let owner: ArtifactOwner;
        let artifactUri = '';
        const local = mkdtempSync(path.join(os.tmpdir(), 'sd-artifact-local-'));

        before(async () => {
            server = await startMlflowServer(version, backendFor(version), {
                extraArgs: ['--no-serve-artifacts', '--default-artifact-root', local],
            });
            const logged = lastJson<{ run_id: string; uri: string }>(
                await venvPython(
                    version,
                    ['-c', LOG_ARTIFACTS, JSON.stringify(CLIENT_NAMES), 'no-model'],
                    { MLFLOW_TRACKING_URI: server.url },
                ),
            );
            owner = { kind: 'run', runId: logged.run_id };
            artifactUri = logged.uri;
            assert.ok(artifactUri.startsWith(local), artifactUri);
            writeHostileFiles(path.join(artifactUri, 'hostile'), DISK_NAMES);
        });
        after(async () => {
            await stopMlflowServer(server);
            if (server) rmSync(server.dir, { recursive: true, force: true });
            rmSync(local, { recursive: true, force: true });
        });

        test('reads through the download routes while the server can see the files', async () => {
            const reader = readerFor(new MlflowClient({ baseUrl: server!.url, timeoutMs: 10_000 }));
            const listing = await reader.list(owner, '');
            assert.equal(listing.source, 'download-route');
            assert.equal(listing.rootUri, artifactUri);
            const bytes = await reader.read(owner, 'data/blob.bin', { maxBytes: BLOB_BYTES });
            assert.equal(sha256(bytes), sha256(blob()));
            await assertHostileNamesRoundTrip(reader, owner, 'download-route');
        });

        test('reads the host path when the server is down, saying what the server answered', async () => {
            const url = server!.url;
            await stopMlflowServer(server);
            const reader = readerFor(new MlflowClient({ baseUrl: url, timeoutMs: 2000 }), {
                runUris: new Map([[(owner as { runId: string }).runId, artifactUri]]),
            });
            const listing = await reader.list(owner, 'a/b/c');
            assert.equal(listing.source, 'host-path');
            assert.match(
                listing.note ?? '',
                /download route .* answered: .*(ECONNREFUSED|ECONNRESET)/,
            );
            assert.match(listing.note ?? '', /Listed from the host path/);
            assert.deepEqual(
                listing.entries.map((e) => e.path),
                ['a/b/c/deep.txt'],
            );
            await assertHostileNamesRoundTrip(reader, owner, 'host-path');
            assert.equal((await reader.stat(owner, 'data/blob.bin')).source, 'host-path');
        });
    });
}

// ---------------------------------------------------------------------------------------------
// A real container: a bind mount, and files only its own file system holds.

const docker = new Dockerode({ socketPath: '/var/run/docker.sock' });

/** Checked synchronously so the suite can be registered or reported missing up front. */
function dockerProblem(): string | undefined {
    try {
        execFileSync('docker', ['image', 'inspect', BUSYBOX], { stdio: 'ignore', timeout: 10_000 });
        return undefined;
    } catch (error) {
        return `Docker Engine or image ${BUSYBOX} not available: ${String(error)}`;
    }
}

async function exec(container: Dockerode.Container, script: string): Promise<string> {
    const run = await container.exec({
        Cmd: ['/bin/sh', '-c', script],
        AttachStdout: true,
        AttachStderr: true,
    });
    const stream = await run.start({});
    const chunks: Buffer[] = [];
    await new Promise<void>((resolve, reject) => {
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', resolve);
        stream.on('error', reject);
    });
    const inspected = await run.inspect();
    // Multiplexed frames: an 8-byte header, then the payload.
    const all = Buffer.concat(chunks);
    const out: Buffer[] = [];
    for (let at = 0; at + 8 <= all.length;) {
        const size = all.readUInt32BE(at + 4);
        out.push(all.subarray(at + 8, at + 8 + size));
        at += 8 + size;
    }
    const text = Buffer.concat(out).toString();
    if (inspected.ExitCode !== 0) throw new Error(`${script} → ${inspected.ExitCode}: ${text}`);
    return text;
}

const DOCKER_VERSION = SERVER_MAJORS[SERVER_MAJORS.length - 1]!;
const missingDocker = dockerProblem();

if (missingDocker || !venvReady(DOCKER_VERSION)) {
    registerMissingComponent(
        'a Docker container holding artifacts',
        missingDocker ?? missingVenvMessage(DOCKER_VERSION),
    );
} else {
    void describe('artifacts that only a container holds', () => {
        const work = mkdtempSync(path.join(os.tmpdir(), 'sd-artifact-container-'));
        const mount = path.join(work, 'mount');
        const boundRoot = `/sd-bound-${SUFFIX}`;
        const insideRoot = `/sd-inside-${SUFFIX}`;
        let server: RunningServer | undefined;
        let container: Dockerode.Container | undefined;
        let reader: ArtifactReader;
        let bound: ArtifactOwner;
        let inside: ArtifactOwner;
        let insideUri = '';
        let bigSha = '';
        const BIG_BYTES = 24 * 1024 * 1024;

        before(async () => {
            mkdirSync(mount, { recursive: true });
            container = await docker.createContainer({
                Image: BUSYBOX,
                name: `sd-artifact-reader-${SUFFIX}`,
                Cmd: ['sleep', '3600'],
                Labels: { 'org.stack-doctor.test': '1' },
                HostConfig: { Binds: [`${mount}:${boundRoot}`] },
            });
            await container.start();

            server = await startMlflowServer(DOCKER_VERSION);
            const runs = lastJson<Record<string, { run_id: string; uri: string }>>(
                await venvPython(
                    DOCKER_VERSION,
                    [
                        '-c',
                        CREATE_RUNS,
                        JSON.stringify({ bound: `${boundRoot}/exp`, inside: `${insideRoot}/exp` }),
                    ],
                    { MLFLOW_TRACKING_URI: server.url },
                ),
            );
            bound = { kind: 'run', runId: runs['bound']!.run_id };
            inside = { kind: 'run', runId: runs['inside']!.run_id };
            insideUri = runs['inside']!.uri;

            // What a client container with the same mount would have written.
            const boundHost = path.join(mount, runs['bound']!.uri.slice(boundRoot.length));
            writeHostileFiles(path.join(boundHost, 'hostile'), ALL_NAMES);
            mkdirSync(path.join(boundHost, 'notes'), { recursive: true });
            writeFileSync(path.join(boundHost, 'notes', 'hello.txt'), 'hello from the mount\n');

            // Files only the container's own file system holds, hostile names included.
            const staging = path.join(work, 'staging');
            writeHostileFiles(path.join(staging, 'hostile'), ALL_NAMES);
            writeFileSync(path.join(staging, 'notes.txt'), 'only in the container\n');
            execFileSync('ln', ['-s', '/etc/passwd', path.join(staging, 'passwd-link')]);
            await exec(container, `mkdir -p ${insideUri}`);
            const tarball = execFileSync('tar', ['-c', '-C', staging, '.'], {
                maxBuffer: 16 * 1024 * 1024,
            });
            await container.putArchive(tarball, { path: insideUri });
            await exec(container, `head -c ${BIG_BYTES} /dev/urandom > ${insideUri}/big.bin`);
            bigSha = (await exec(container, `sha256sum ${insideUri}/big.bin`)).split(/\s+/)[0]!;

            reader = readerFor(new MlflowClient({ baseUrl: server.url, timeoutMs: 10_000 }), {
                places: {
                    serverContainerId: container.id,
                    mounts: [{ source: mount, destination: boundRoot }],
                },
                docker: () => Promise.resolve(docker),
            });
        });
        after(async () => {
            await container?.remove({ force: true }).catch(() => undefined);
            await stopMlflowServer(server);
            if (server) rmSync(server.dir, { recursive: true, force: true });
            rmSync(work, { recursive: true, force: true });
        });

        test('reads a container path through the host side of its bind mount', async () => {
            const listing = await reader.list(bound, '');
            assert.equal(listing.source, 'bind-mount');
            assert.match(listing.note ?? '', /download route .* listed nothing here/);
            assert.deepEqual(
                listing.entries.map((e) => e.path),
                ['hostile', 'notes'],
            );
            const text = await reader.read(bound, 'notes/hello.txt', { maxBytes: 100 });
            assert.equal(Buffer.from(text).toString(), 'hello from the mount\n');
            await assertHostileNamesRoundTrip(reader, bound, 'bind-mount');
        });

        test('lists and reads files only the container holds through its archive endpoint', async () => {
            const listing = await reader.list(inside, '');
            assert.equal(listing.source, 'container-archive');
            assert.deepEqual(
                listing.entries.map((e) => [e.path, e.isDir, e.size]),
                [
                    ['hostile', true, undefined],
                    ['big.bin', false, BIG_BYTES],
                    ['notes.txt', false, 22],
                ],
            );
            assert.match(listing.note ?? '', /1 entry was left out/);
            assert.deepEqual(await reader.stat(inside, 'notes.txt'), {
                path: 'notes.txt',
                isDir: false,
                size: 22,
                source: 'container-archive',
            });
            await assertHostileNamesRoundTrip(reader, inside, 'container-archive');
        });

        test('never follows a symlink inside the container', async () => {
            await assert.rejects(
                reader.read(inside, 'passwd-link', { maxBytes: 10_000 }),
                /symlink/,
            );
        });

        test('streams a 24 MB file out of the container without holding it in memory', async () => {
            const opened = await reader.open(inside, 'big.bin');
            assert.equal(opened.source, 'container-archive');
            assert.equal(opened.size, BIG_BYTES);
            const hash = createHash('sha256');
            let largest = 0;
            let total = 0;
            for await (const chunk of opened.stream) {
                const bytes = chunk as Buffer;
                largest = Math.max(largest, bytes.length);
                total += bytes.length;
                hash.update(bytes);
            }
            assert.equal(total, BIG_BYTES);
            assert.equal(hash.digest('hex'), bigSha);
            assert.ok(largest <= 1024 * 1024, `largest chunk ${largest} bytes`);

            const file = path.join(work, 'big-copy.bin');
            const result = await reader.download(inside, 'big.bin', file);
            assert.deepEqual(result, { bytes: BIG_BYTES, source: 'container-archive' });
            assert.equal(sha256(readFileSync(file)), bigSha);
            rmSync(file);
        });

        test('leaves no partial file when a container download is aborted', async () => {
            const file = path.join(work, 'aborted.bin');
            const controller = new AbortController();
            let seen = 0;
            await assert.rejects(
                reader.download(inside, 'big.bin', file, {
                    signal: controller.signal,
                    onProgress: (bytes) => {
                        seen = bytes;
                        if (bytes > 1024 * 1024) controller.abort();
                    },
                }),
                (error: Error) => error.name === 'AbortError',
            );
            assert.ok(seen < BIG_BYTES);
            assert.deepEqual(
                readdirSync(work).filter((name) => name.includes('aborted')),
                [],
            );
        });
    });
}
