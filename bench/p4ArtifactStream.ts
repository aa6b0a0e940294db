// P4: downloading a 1 GiB artifact from a real MLflow 3.17.2 server through the proxied artifact
// API. ArtifactReader.download beside `curl -s -o` on the same URL, alternating, with this
// process's RSS sampled every 50 ms during our downloads (the extension host's growth).
//   node <bundle>/p4ArtifactStream.js       (bench/run.sh builds and runs it)
// Env: BENCH_N (default 3), BENCH_P4_BYTES (default 1 GiB).

import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ArtifactReader } from '../src/core/artifacts/artifactReader.js';
import { MlflowClient } from '../src/core/mlflow/client.js';
import {
    CACHE,
    startMlflowServer,
    stopMlflowServer,
    venvPython,
    type RunningServer,
} from '../test/support/mlflowServer.js';
import { printTable, stats, writeResults, type Series } from './report.js';

const VERSION = '3.17.2';
const N = Number(process.env.BENCH_N ?? 3);
const BYTES = Number(process.env.BENCH_P4_BYTES ?? 1024 ** 3);
const MB = 1024 * 1024;

/** The random payload, written once and kept for later runs. */
function cachedPayload(): string {
    const dir = path.join(CACHE, 'bench');
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `p4-random-${BYTES}.bin`);
    if (existsSync(file) && statSync(file).size === BYTES) return file;
    const result = spawnSync(
        'bash',
        ['-c', `head -c ${BYTES} /dev/urandom > "$0.tmp" && mv "$0.tmp" "$0"`, file],
        { stdio: 'inherit', timeout: 300_000 },
    );
    if (result.status !== 0) throw new Error(`could not write ${file}`);
    return file;
}

const CREATE_RUN = `
import mlflow
with mlflow.start_run() as run:
    mlflow.log_text("placeholder", "big/README.txt")
print(run.info.run_id)
print(run.info.artifact_uri)
`;

function curl(url: string, file: string): number {
    const started = performance.now();
    const result = spawnSync('curl', ['-s', '-f', '--noproxy', '*', '-o', file, url], {
        timeout: 600_000,
    });
    if (result.status !== 0)
        throw new Error(`curl failed (${result.status}): ${String(result.stderr)}`);
    return performance.now() - started;
}

async function ours(reader: ArtifactReader, runId: string, file: string) {
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sampler = setInterval(() => {
        peak = Math.max(peak, process.memoryUsage().rss);
    }, 50);
    const started = performance.now();
    try {
        const result = await reader.download({ kind: 'run', runId }, 'big/payload.bin', file);
        if (result.source !== 'proxied-api') throw new Error(`served by ${result.source}`);
        if (result.bytes !== BYTES) throw new Error(`downloaded ${result.bytes} bytes`);
    } finally {
        clearInterval(sampler);
    }
    const ms = performance.now() - started;
    peak = Math.max(peak, process.memoryUsage().rss);
    return { ms, rssGrowthMb: (peak - baseline) / MB };
}

async function main(): Promise<void> {
    const payload = cachedPayload();
    const scratch = mkdtempSync(path.join(os.tmpdir(), 'stack-doctor-bench-p4-'));
    let server: RunningServer | undefined;
    const cleanUp = async () => {
        await stopMlflowServer(server);
        if (server) rmSync(server.dir, { recursive: true, force: true });
        rmSync(scratch, { recursive: true, force: true });
    };
    process.on('SIGINT', () => {
        void cleanUp().then(() => process.exit(130));
    });
    try {
        server = await startMlflowServer(VERSION);
        const [runId, uri] = (
            await venvPython(VERSION, ['-c', CREATE_RUN], { MLFLOW_TRACKING_URI: server.url })
        )
            .split('\n')
            .slice(-2);
        if (!runId || !uri?.startsWith('mlflow-artifacts:/'))
            throw new Error(`run ${runId} ${uri}`);
        const rel = uri.slice('mlflow-artifacts:/'.length);
        const stored = path.join(server.dir, 'mlartifacts', rel, 'big', 'payload.bin');
        copyFileSync(payload, stored);
        const url = `${server.url}/api/2.0/mlflow-artifacts/artifacts/${rel}/big/payload.bin`;

        const client = new MlflowClient({ baseUrl: server.url, timeoutMs: 30_000 });
        const reader = new ArtifactReader({
            client,
            owners: {
                run: async (id) => ({
                    artifactUri: (await client.getRun(id)).data.info.artifact_uri,
                }),
                model: () => Promise.reject(new Error('no models in this bench')),
            },
        });

        // One warm-up each, so both read the stored file from the page cache.
        curl(url, path.join(scratch, 'warm-curl.bin'));
        await ours(reader, runId, path.join(scratch, 'warm-ours.bin'));
        rmSync(path.join(scratch, 'warm-curl.bin'));
        rmSync(path.join(scratch, 'warm-ours.bin'));

        const oursMs: number[] = [];
        const curlMs: number[] = [];
        const growth: number[] = [];
        for (let i = 0; i < N; i++) {
            const mine = path.join(scratch, `ours-${i}.bin`);
            const theirs = path.join(scratch, `curl-${i}.bin`);
            const run = await ours(reader, runId, mine);
            oursMs.push(run.ms);
            growth.push(run.rssGrowthMb);
            rmSync(mine);
            curlMs.push(curl(url, theirs));
            if (statSync(theirs).size !== BYTES) throw new Error('curl wrote a short file');
            rmSync(theirs);
        }

        const mbps = (ms: number[]) => (BYTES / MB / stats(ms).median) * 1000;
        const rows: Series[] = [
            { name: 'ArtifactReader.download (proxied-api)', runs: N, ms: stats(oursMs) },
            { name: 'curl -s -o', runs: N, ms: stats(curlMs) },
        ];
        const figures = {
            oursMBps: mbps(oursMs),
            curlMBps: mbps(curlMs),
            ratio: mbps(oursMs) / mbps(curlMs),
            rssGrowthMb: { max: Math.max(...growth), runs: growth },
        };
        printTable(`P4: ${BYTES / MB} MiB artifact from MLflow ${VERSION}`, rows);
        console.log(
            `ours ${figures.oursMBps.toFixed(0)} MB/s, curl ${figures.curlMBps.toFixed(0)} MB/s: ` +
                `${figures.ratio.toFixed(2)}x (target >= 0.8x); RSS growth during ours ` +
                `${figures.rssGrowthMb.max.toFixed(1)} MB (target <= 64 MB)`,
        );
        writeResults('p4', {
            bytes: BYTES,
            server: VERSION,
            rows,
            ...figures,
            targets: { ratio: '>= 0.8', rssGrowthMb: '<= 64' },
        });
    } finally {
        await cleanUp();
    }
}

main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
});
