// A real MLflow server filled with the explorer's test data (scripts/test-env/explorer-data.py):
// the "ten-thousand" experiment written into the backend store before the server starts, from a
// per-version cache, then "showcase" and the "hostile" corpus over HTTP. Shared by the explorer
// e2e test and the P3 benchmark.

import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
    cpSync,
    existsSync,
    mkdirSync,
    mkdtempSync,
    readFileSync,
    renameSync,
    rmSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import {
    CACHE,
    type RunningServer,
    startMlflowServer,
    stopMlflowServer,
    venvOf,
    venvPython,
} from './mlflowServer.js';
import { REPO } from './paths.js';

export const GENERATOR = path.join(REPO, 'scripts', 'test-env', 'explorer-data.py');
export const EXPLORER_DATA = path.join(CACHE, 'explorer-data');
export const TEN_THOUSAND = 10_000;
const LARGE_MIB = 64;

export type StoreBackend = 'sqlite' | 'file';

/** What the server answered to one hostile string in one role. */
export interface HostileOutcome {
    accepted: boolean;
    status?: number;
    errorCode?: string | null;
    answer?: string;
    experimentId?: string;
    runId?: string;
    storedAs?: string;
    path?: string;
}

export type HostileRole =
    | 'experimentName'
    | 'runName'
    | 'paramValue'
    | 'tagValue'
    | 'tagKey'
    | 'metricKey'
    | 'artifactName';

export interface HostileEntry {
    /** `h00`, ...: the param and tag key (and tag value) that carries this string. */
    hid: string;
    id: string;
    what: string;
    value: string;
    uses: Record<HostileRole, HostileOutcome>;
}

/** The manifest explorer-data.py writes; `stored` is what the server holds, read back. */
export interface ExplorerManifest {
    mlflowVersion: string;
    showcase: {
        experimentId: string;
        runs: { runId: string; name: string; status: string; params: Record<string, string> }[];
        gallery: {
            runId: string;
            files: Record<'text' | 'png' | 'code' | 'json' | 'notebook' | 'deep' | 'large', string>;
            textContent: string;
            largeBytes: number;
            model: { modelUri?: string; modelId?: string };
        };
    };
    hostile: {
        experimentId: string;
        allRunId: string;
        entries: HostileEntry[];
        stored: {
            experiments: { id: string; name: string }[];
            runs: { id: string; name: string }[];
            params: { key: string; value: string }[];
            tags: { key: string; value: string }[];
            metrics: { key: string; value: number | string }[];
            artifacts: { path: string; isDir: boolean }[];
        };
    };
}

export interface ExplorerServer {
    version: string;
    backend: StoreBackend;
    server: RunningServer;
    /** Absent when started with `seed: false` (only "ten-thousand"). */
    manifest?: ExplorerManifest;
    /** How long the cached store took to copy in, and whether it had to be generated first. */
    store: { copiedMs: number; generated: boolean };
}

function run(command: string, args: string[], timeoutMs: number): Promise<string> {
    return new Promise((resolve, reject) => {
        execFile(
            command,
            args,
            { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 },
            (e, out, err) =>
                e
                    ? reject(new Error(`${command} ${args.join(' ')}: ${e.message}\n${err}`))
                    : resolve(out),
        );
    });
}

/** The generator's hash, so a change to what it writes makes a new cache entry. */
function generatorHash(): string {
    return createHash('sha256').update(readFileSync(GENERATOR)).digest('hex').slice(0, 12);
}

/**
 * SQLite when the version's venv can open a SQLAlchemy store, else a FileStore. MLflow 2.22
 * cannot import SQLAlchemy 2.1 (`FallbackAsyncAdaptedQueuePool`); scripts/test-env/venvs.sh pins
 * 2.0 into the 2.x venvs, so the FileStore is only the answer for a venv built some other way.
 */
export async function storeBackendFor(version: string): Promise<StoreBackend> {
    try {
        await venvPython(version, ['-c', 'import mlflow.store.db.utils'], {}, 60_000);
        return 'sqlite';
    } catch {
        return 'file';
    }
}

/** Fills `target` from `generate(scratch)` once; concurrent callers keep the first result. */
async function cached(target: string, generate: (scratch: string) => Promise<void>) {
    if (existsSync(path.join(target, '.complete'))) return false;
    mkdirSync(path.dirname(target), { recursive: true });
    const scratch = mkdtempSync(`${target}.partial-`);
    try {
        await generate(scratch);
        cpSync(GENERATOR, path.join(scratch, '.complete'));
        rmSync(target, { recursive: true, force: true });
        renameSync(scratch, target);
    } finally {
        rmSync(scratch, { recursive: true, force: true });
    }
    return true;
}

/** The "ten-thousand" store of `version`, generated once per version and generator. */
export async function explorerStoreCache(
    version: string,
    backend: StoreBackend,
    runs = TEN_THOUSAND,
): Promise<{ dir: string; generated: boolean }> {
    const dir = path.join(EXPLORER_DATA, `${version}-${backend}-${runs}-${generatorHash()}`);
    const generated = await cached(dir, async (scratch) => {
        await venvPython(
            version,
            [GENERATOR, 'store', '--backend', backend, '--out', scratch, '--runs', String(runs)],
            {},
            600_000,
        );
    });
    return { dir, generated };
}

/** The large binary artifact (64 MiB, deterministic), generated once. */
export async function largeArtifact(version: string): Promise<string> {
    const dir = path.join(EXPLORER_DATA, `large-${LARGE_MIB}MiB`);
    await cached(dir, async (scratch) => {
        const file = path.join(scratch, 'large.bin');
        await venvPython(version, [GENERATOR, 'large', '--out', file, '--mib', String(LARGE_MIB)]);
    });
    return path.join(dir, 'large.bin');
}

/**
 * Copies the cached store into `dir` (the server's folder) and says how to start a server on
 * it: `{ backendUri, artifactsDir }`.
 */
export async function prepareExplorerStore(
    version: string,
    dir: string,
    options: { backend?: StoreBackend; runs?: number } = {},
): Promise<{
    backendUri: string;
    artifactsDir: string;
    backend: StoreBackend;
    copiedMs: number;
    generated: boolean;
}> {
    const backend = options.backend ?? (await storeBackendFor(version));
    const cache = await explorerStoreCache(version, backend, options.runs);
    const started = Date.now();
    if (backend === 'sqlite') {
        cpSync(path.join(cache.dir, 'mlflow.db'), path.join(dir, 'mlflow.db'));
    } else {
        // 10k run folders: cp is several times faster than fs.cpSync on that many small files.
        await run('cp', ['-a', path.join(cache.dir, 'mlruns'), path.join(dir, 'mlruns')], 300_000);
    }
    return {
        backendUri:
            backend === 'sqlite'
                ? `sqlite:///${path.join(dir, 'mlflow.db')}`
                : path.join(dir, 'mlruns'),
        artifactsDir: path.join(dir, 'mlartifacts'),
        backend,
        copiedMs: Date.now() - started,
        generated: cache.generated,
    };
}

/**
 * A server of `version` on loopback with the explorer's data. `seed: false` skips the HTTP part
 * (showcase and hostile), for the benchmark that needs only "ten-thousand".
 */
export async function startExplorerServer(
    version: string,
    options: { seed?: boolean; runs?: number } = {},
): Promise<ExplorerServer> {
    if (!existsSync(path.join(venvOf(version), 'bin', 'python'))) {
        throw new Error(`MLflow ${version} venv missing at ${venvOf(version)}`);
    }
    const dir = mkdtempSync(path.join(os.tmpdir(), `sd-explorer-${version}-`));
    let server: RunningServer | undefined;
    try {
        const store = await prepareExplorerStore(version, dir, { runs: options.runs });
        // `mlflow server`'s own default of 4 workers: with one, a FileStore's slow search-runs
        // (seconds over 10k runs) holds up every other request, /version included.
        server = await startMlflowServer(version, () => ({ uri: store.backendUri }), {
            dir,
            workers: 4,
        });
        const started: ExplorerServer = {
            version,
            backend: store.backend,
            server,
            store: { copiedMs: store.copiedMs, generated: store.generated },
        };
        if (options.seed === false) return started;
        const large = await largeArtifact(version);
        const manifestFile = path.join(dir, 'explorer-manifest.json');
        await venvPython(
            version,
            [GENERATOR, 'seed', '--url', server.url, '--large', large, '--manifest', manifestFile],
            {},
            600_000,
        );
        started.manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as ExplorerManifest;
        return started;
    } catch (error) {
        await stopMlflowServer(server);
        rmSync(dir, { recursive: true, force: true });
        throw error;
    }
}

/** Stops the server and removes its folder (store, artifacts, log). */
export async function stopExplorerServer(explorer: ExplorerServer | undefined): Promise<void> {
    if (!explorer) return;
    await stopMlflowServer(explorer.server);
    rmSync(explorer.server.dir, { recursive: true, force: true });
}
