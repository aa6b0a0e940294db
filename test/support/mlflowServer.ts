// Real `mlflow server` processes from the venvs that scripts/test-env/venvs.sh builds, on
// 127.0.0.1 and a free port, each in its own process group so `stopMlflowServer` ends it and its
// workers. Shared by the integration tests, the e2e tests and the benchmarks.

import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { MlflowClient } from '../../src/core/mlflow/client.js';

export const CACHE =
    process.env.STACK_DOCTOR_CACHE ?? path.join(os.homedir(), '.cache', 'stack-doctor');
const START_TIMEOUT_MS = 120_000;

/** The newest 2.x and 3.x this machine can install (see the README's test environment). */
export const SERVER_MAJORS = ['2.22.0', '3.17.2'] as const;

export function venvOf(version: string): string {
    return path.join(CACHE, 'venvs', `mlflow-${version}`);
}

export function venvReady(version: string): boolean {
    const venv = venvOf(version);
    return existsSync(path.join(venv, '.complete')) && existsSync(path.join(venv, 'bin', 'mlflow'));
}

export function missingVenvMessage(version: string): string {
    return (
        `MLflow ${version} venv not found at ${venvOf(version)}: ` +
        'run scripts/test-env/venvs.sh to build it'
    );
}

/** A port nothing listens on at 127.0.0.1, for a server a test or benchmark starts. */
export async function freeLoopbackPort(): Promise<number> {
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', resolve);
    });
    const port = (server.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return port;
}

export interface RunningServer {
    url: string;
    port: number;
    dir: string;
    process: ChildProcess;
    log(): string;
}

export interface ServerBackend {
    uri: string;
    env?: Record<string, string>;
}

export interface StartOptions {
    /** Reuse a folder (a restart over the same store). */
    dir?: string;
    /** Extra arguments after the defaults, e.g. ['--no-serve-artifacts']. */
    extraArgs?: string[];
    workers?: number;
}

/** The default backend: SQLite in the server's folder. */
export function sqliteBackend(dir: string): ServerBackend {
    return { uri: `sqlite:///${path.join(dir, 'mlflow.db')}` };
}

/**
 * Starts `mlflow server` with `--artifacts-destination <dir>/mlartifacts` (proxied artifacts,
 * the 2.x and 3.x default) and waits for /health.
 */
export async function startMlflowServer(
    version: string,
    backend: (dir: string) => ServerBackend = sqliteBackend,
    options: StartOptions = {},
): Promise<RunningServer> {
    const dir = options.dir ?? mkdtempSync(path.join(os.tmpdir(), `sd-mlflow-${version}-`));
    const port = await freeLoopbackPort();
    const store = backend(dir);
    const logFile = path.join(dir, 'server.log');
    const extra = (options.extraArgs ?? []).map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    const child = spawn(
        'bash',
        [
            '-c',
            `exec "$0" server --host 127.0.0.1 --port ${port} --workers ${options.workers ?? 1} ` +
                `--backend-store-uri "$1" --artifacts-destination "$2" ${extra} >>"$3" 2>&1`,
            path.join(venvOf(version), 'bin', 'mlflow'),
            store.uri,
            path.join(dir, 'mlartifacts'),
            logFile,
        ],
        { cwd: dir, detached: true, stdio: 'ignore', env: { ...process.env, ...store.env } },
    );
    const server: RunningServer = {
        url: `http://127.0.0.1:${port}`,
        port,
        dir,
        process: child,
        log: () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : ''),
    };

    const client = new MlflowClient({ baseUrl: server.url, timeoutMs: 1000 });
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline) {
        if (child.exitCode !== null) break;
        try {
            await client.health();
            return server;
        } catch {
            await new Promise((resolve) => setTimeout(resolve, 250));
        }
    }
    await stopMlflowServer(server);
    throw new Error(
        `mlflow ${version} server did not answer /health within ${START_TIMEOUT_MS} ms ` +
            `(exit ${child.exitCode}); log:\n${server.log().slice(-3000)}`,
    );
}

export async function stopMlflowServer(server: RunningServer | undefined): Promise<void> {
    if (!server?.process.pid) return;
    const pid = server.process.pid;
    const exited = new Promise<void>((resolve) => {
        if (server.process.exitCode !== null || server.process.signalCode !== null) resolve();
        else server.process.once('exit', () => resolve());
    });
    try {
        process.kill(-pid, 'SIGTERM');
    } catch {
        return;
    }
    const timer = setTimeout(() => {
        try {
            process.kill(-pid, 'SIGKILL');
        } catch {
            // Already gone.
        }
    }, 5000);
    await exited;
    clearTimeout(timer);
    // Workers may outlive the leader by a moment; make sure the group is gone.
    try {
        process.kill(-pid, 'SIGKILL');
    } catch {
        // Already gone.
    }
}

/** Runs Python in a version's venv with a timeout; resolves to stdout. */
export function venvPython(
    version: string,
    args: string[],
    env: Record<string, string> = {},
    timeoutMs = 120_000,
): Promise<string> {
    return new Promise((resolve, reject) => {
        execFile(
            path.join(venvOf(version), 'bin', 'python'),
            args,
            {
                timeout: timeoutMs,
                maxBuffer: 64 * 1024 * 1024,
                env: {
                    ...process.env,
                    MLFLOW_HTTP_REQUEST_MAX_RETRIES: '0',
                    MLFLOW_HTTP_REQUEST_TIMEOUT: '60',
                    ...env,
                },
            },
            (error, stdout, stderr) => {
                if (error) reject(new Error(`${error.message}\n${stderr.slice(-2000)}`));
                else resolve(stdout.trim());
            },
        );
    });
}

/**
 * Registers the place of a real component this machine lacks: a failing test under
 * `STACK_DOCTOR_REQUIRE_REAL=1` (what `npm test` sets), otherwise a loudly skipped one.
 */
export function registerMissingComponent(what: string, message: string): void {
    if (process.env.STACK_DOCTOR_REQUIRE_REAL === '1') {
        void test(`${what} is present (STACK_DOCTOR_REQUIRE_REAL=1)`, () => {
            throw new Error(message);
        });
        return;
    }
    console.warn(`\n${'!'.repeat(100)}\n!! SKIPPED: ${message}\n${'!'.repeat(100)}\n`);
    void test(what, { skip: message }, () => undefined);
}
