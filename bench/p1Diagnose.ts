// P1: `diagnose` on a live demo stack (examples/healthy-stack, brought up here in a scratch copy
// under a unique project name and a free port, and always taken down again) beside the docker CLI
// and curl doing the same reads (`docker compose ps`, `docker inspect` of each container,
// `curl /health` and `/version`), and beside the floor: the same Engine API and HTTP round trips
// made directly (raw HTTP over the unix socket, two GETs).
//   node <bundle>/p1Diagnose.js            (bench/run.sh builds and runs it)
// Env: BENCH_N (default 7), DOCKER_SOCKET (default /var/run/docker.sock).

import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { diagnose } from '../src/core/diagnose.js';
import { printTable, stats, writeResults, type Series } from './report.js';
import { freeLoopbackPort } from '../test/support/mlflowServer.js';

const N = Number(process.env.BENCH_N ?? 7);
const SOCKET = process.env.DOCKER_SOCKET ?? '/var/run/docker.sock';
const REPO = process.env.STACK_DOCTOR_REPO ?? process.cwd();
const IMAGE = 'ghcr.io/mlflow/mlflow:v3.17.2';

function run(command: string, args: string[], env: NodeJS.ProcessEnv, cwd?: string) {
    const result = spawnSync(command, args, {
        encoding: 'utf8',
        env,
        cwd,
        timeout: 180_000,
        maxBuffer: 64 * 1024 * 1024,
    });
    return { status: result.status, stdout: result.stdout ?? '', stderr: result.stderr ?? '' };
}

/** One GET, on a fresh connection like a CLI makes; over the unix socket when `socketPath` is set. */
function get(options: {
    socketPath?: string;
    host?: string;
    port?: number;
    path: string;
}): Promise<string> {
    return new Promise((resolve, reject) => {
        const request = http.get({ ...options, agent: false, timeout: 10_000 }, (response) => {
            let body = '';
            response.setEncoding('utf8');
            response.on('data', (chunk: string) => (body += chunk));
            response.on('end', () => resolve(body));
        });
        request.on('timeout', () => request.destroy(new Error(`GET ${options.path} timed out`)));
        request.on('error', reject);
    });
}

async function timeIt(fn: () => unknown): Promise<number> {
    const started = performance.now();
    await fn();
    return performance.now() - started;
}

async function main(): Promise<void> {
    if (run('docker', ['image', 'inspect', IMAGE], process.env).status !== 0) {
        throw new Error(`${IMAGE} is missing: run bash scripts/test-env/all.sh first`);
    }
    const project = `sdbench${process.pid}`;
    const port = await freeLoopbackPort();
    const scratch = mkdtempSync(path.join(os.tmpdir(), 'stack-doctor-bench-p1-'));
    const folder = path.join(scratch, 'healthy-stack');
    cpSync(path.join(REPO, 'examples', 'healthy-stack'), folder, { recursive: true });
    const env = { ...process.env, COMPOSE_PROJECT_NAME: project, MLFLOW_PORT: String(port) };
    const compose = (...args: string[]) =>
        run(
            'docker',
            ['compose', '--project-directory', folder, '-p', project, ...args],
            env,
            folder,
        );

    let down = false;
    const takeDown = () => {
        if (down) return;
        down = true;
        compose('down', '--volumes', '--remove-orphans', '--timeout', '2');
        rmSync(scratch, { recursive: true, force: true });
    };
    process.on('SIGINT', () => {
        takeDown();
        process.exit(130);
    });
    process.on('exit', takeDown);

    try {
        console.error(`bringing up ${project} on 127.0.0.1:${port}`);
        const up = compose('up', '-d');
        if (up.status !== 0) throw new Error(`compose up failed: ${up.stderr}`);
        const deadline = Date.now() + 150_000;
        for (;;) {
            const health = await get({ host: '127.0.0.1', port, path: '/health' }).catch(() => '');
            if (health.trim() === 'OK') break;
            if (Date.now() > deadline)
                throw new Error('the MLflow server did not get healthy in 150 s');
            await new Promise((r) => setTimeout(r, 1000));
        }
        console.error('stack healthy; measuring');

        const cliEnv = { ...env };
        const samples: Record<string, { ms: number[]; count?: number }> = {};
        const add = (name: string, ms: number, count?: number) => {
            const s = (samples[name] ??= { ms: [] });
            s.ms.push(ms);
            if (count !== undefined) s.count = count;
        };

        // Warm-ups: one of each, so images, page cache and the node binary are hot for all.
        await diagnose({ folder, env });
        run(
            process.execPath,
            [path.join(REPO, 'dist', 'cli.js'), 'diagnose', '--json', '-q', folder],
            cliEnv,
        );
        compose('ps', '--format', 'json');

        for (let i = 0; i < N; i++) {
            let findings = 0;
            add(
                'diagnose in-process (product)',
                await timeIt(async () => {
                    findings = (await diagnose({ folder, env })).findings.length;
                }),
                findings,
            );

            let cliFindings = 0;
            add(
                'stack-doctor diagnose --json (CLI process)',
                await timeIt(() => {
                    const result = run(
                        process.execPath,
                        [path.join(REPO, 'dist', 'cli.js'), 'diagnose', '--json', '-q', folder],
                        cliEnv,
                    );
                    if (result.status === 2)
                        throw new Error(`CLI could not diagnose: ${result.stderr}`);
                    cliFindings = (JSON.parse(result.stdout) as { findings: unknown[] }).findings
                        .length;
                }),
                cliFindings,
            );

            let containers = 0;
            add(
                'docker compose ps + docker inspect each + curl x2 (peer)',
                await timeIt(() => {
                    const ps = compose('ps', '--all', '--format', '{{.ID}}');
                    const ids = ps.stdout.split('\n').filter(Boolean);
                    containers = ids.length;
                    for (const id of ids) run('docker', ['inspect', id], env);
                    run('curl', ['-s', '--max-time', '5', `http://127.0.0.1:${port}/health`], env);
                    run('curl', ['-s', '--max-time', '5', `http://127.0.0.1:${port}/version`], env);
                }),
                containers,
            );

            add(
                'Engine API over the socket + 2 GETs (floor)',
                await timeIt(async () => {
                    const filter = encodeURIComponent(
                        JSON.stringify({ label: [`com.docker.compose.project=${project}`] }),
                    );
                    const list = JSON.parse(
                        await get({
                            socketPath: SOCKET,
                            path: `/containers/json?all=1&filters=${filter}`,
                        }),
                    ) as { Id: string }[];
                    for (const c of list)
                        await get({ socketPath: SOCKET, path: `/containers/${c.Id}/json` });
                    await get({ host: '127.0.0.1', port, path: '/health' });
                    await get({ host: '127.0.0.1', port, path: '/version' });
                }),
            );
        }

        const rows: Series[] = Object.entries(samples).map(([name, s]) => ({
            name,
            runs: s.ms.length,
            ...(s.count !== undefined ? { count: s.count } : {}),
            ms: stats(s.ms),
        }));
        const [inProcess, cli, peer, floor] = rows as [Series, Series, Series, Series];
        const ratios = {
            inProcessOverPeer: inProcess.ms.median / peer.ms.median,
            cliOverPeer: cli.ms.median / peer.ms.median,
            inProcessOverFloor: inProcess.ms.median / floor.ms.median,
        };
        printTable(
            `P1: diagnose on the live healthy-stack (${project}, port ${port}); count = findings / containers`,
            rows,
        );
        console.log(
            `in-process / peer: ${ratios.inProcessOverPeer.toFixed(2)}x   CLI / peer: ${ratios.cliOverPeer.toFixed(2)}x (target <= 0.5x)   ` +
                `in-process / floor: ${ratios.inProcessOverFloor.toFixed(1)}x`,
        );
        writeResults('p1-diagnose', {
            project,
            port,
            rows,
            ratios,
            targets: { overPeer: '<= 0.5' },
        });
    } finally {
        takeDown();
    }
}

main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
});
