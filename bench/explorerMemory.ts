// PMEM: the explorer's memory on a big server. A real MLflow 3.17.2 server over a SQLite store
// with 100k runs and 1M metric points; the product (`ExplorerService`) pages through every run
// (1000 a page) and fetches the 1M points through `metricHistory`, holding what the extension
// host holds: the current page and the series it returns. Beside it, in the same run, MLflow's
// own Python client does the same (`search_runs` page by page, `get_metric_history` per run).
// Each side runs in its own process, so its peak RSS is its own.
//   npm run bench -- pmem       (bench/run.sh builds and runs it)
// Env: BENCH_RUNS (default 100000), BENCH_SERIES (10), BENCH_POINTS (points per series, 100000).
// The generated database is cached under ~/.cache/stack-doctor/bench/, keyed by GENERATOR.

import { spawnSync } from 'node:child_process';
import {
    copyFileSync,
    existsSync,
    mkdirSync,
    mkdtempSync,
    readFileSync,
    renameSync,
    rmSync,
    writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MlflowClient } from '../src/core/mlflow/client.js';
import { ExplorerService } from '../src/core/explorer/explorerService.js';
import {
    CACHE,
    startMlflowServer,
    stopMlflowServer,
    venvOf,
    venvReady,
    type RunningServer,
} from '../test/support/mlflowServer.js';
import { printTable, stats, writeResults, type Series } from './report.js';

const VERSION = '3.17.2';
const RUNS = Number(process.env.BENCH_RUNS ?? 100_000);
const SERIES = Number(process.env.BENCH_SERIES ?? 10);
const POINTS = Number(process.env.BENCH_POINTS ?? 100_000);
const PAGE_SIZE = 1000;
const TARGET_MB = 300;
/** Bump when the generated rows change, so a stale cached database is not reused. */
const GENERATOR = 1;
const MEASURE_TIMEOUT_MS = 30 * 60_000;

/** Run ids are the run's index in hex, so both sides know the series runs without a lookup. */
const runId = (index: number) => index.toString(16).padStart(32, '0');

// The schema comes from MLflow's own store (it creates and migrates a new database); the rows
// are bulk-inserted with sqlite3, which takes seconds where the REST API would take hours.
const GENERATE = `
import logging, sqlite3, sys
logging.disable(logging.WARNING)
from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore
db, runs, series, points = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
store = SqlAlchemyStore(f"sqlite:///{db}", "mlflow-artifacts:/")
exp = int(store.create_experiment("bench"))
store.engine.dispose()
con = sqlite3.connect(db)
base = 1718000000000
rid = lambda i: format(i, "032x")
con.executemany(
    "INSERT INTO runs (run_uuid, name, source_type, source_name, entry_point_name, user_id, status,"
    " start_time, end_time, source_version, lifecycle_stage, artifact_uri, experiment_id)"
    " VALUES (?, ?, 'LOCAL', '', '', 'bench', 'FINISHED', ?, ?, '', 'active', ?, ?)",
    ((rid(i), f"run-{i}", base + i, base + i + 1000, f"mlflow-artifacts:/{exp}/{rid(i)}/artifacts", exp) for i in range(runs)),
)
con.executemany("INSERT INTO params (key, value, run_uuid) VALUES (?, ?, ?)",
    ((k, v, rid(i)) for i in range(runs) for k, v in (("lr", str((i % 10) / 1000)), ("batch", str(16 * (1 + i % 4))))))
con.executemany("INSERT INTO tags (key, value, run_uuid) VALUES (?, ?, ?)",
    ((k, v, rid(i)) for i in range(runs) for k, v in (("mlflow.runName", f"run-{i}"), ("team", "red" if i % 2 else "blue"))))
con.executemany("INSERT INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid) VALUES ('loss', ?, ?, 0, 0, ?)",
    ((1.0 / (i + 1), base + i, rid(i)) for i in range(runs)))
con.executemany("INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) VALUES ('curve', ?, ?, ?, ?, 0)",
    (((s * 7 + step) % 1000 / 1000.0, base + step, rid(s), step) for s in range(series) for step in range(points)))
con.executemany("INSERT INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid) VALUES ('curve', ?, ?, ?, 0, ?)",
    (((s * 7 + points - 1) % 1000 / 1000.0, base + points - 1, points - 1, rid(s)) for s in range(series)))
con.commit()
con.close()
print(exp)
`;

// The peer: MLflow's Python client, holding the same things the product holds.
const PEER = `
import json, logging, os, resource, sys, threading, time
logging.disable(logging.WARNING)
from mlflow import MlflowClient
url, exp, series = sys.argv[1], sys.argv[2], int(sys.argv[3])
page_size = os.sysconf("SC_PAGE_SIZE")
def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * page_size
peak = [0]
def sample():
    while True:
        peak[0] = max(peak[0], rss())
        time.sleep(0.02)
threading.Thread(target=sample, daemon=True).start()
client = MlflowClient(url)
client.search_experiments(max_results=1)
baseline = rss()
started = time.perf_counter()
runs, token = 0, None
while True:
    page = client.search_runs([exp], max_results=${PAGE_SIZE}, page_token=token)
    runs += len(page)
    token = page.token
    if not token:
        break
    del page
histories = [client.get_metric_history(format(i, "032x"), "curve") for i in range(series)]
points = sum(len(h) for h in histories)
ms = (time.perf_counter() - started) * 1000
peak[0] = max(peak[0], rss())
print(json.dumps({"ms": ms, "runs": runs, "points": points, "baselineRssMb": baseline / 2**20,
    "peakRssMb": peak[0] / 2**20, "maxRssMb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
`;

interface Measurement {
    ms: number;
    runs: number;
    points: number;
    baselineRssMb: number;
    peakRssMb: number;
    maxRssMb: number;
    baselineHeapMb?: number;
    peakHeapMb?: number;
}

const MB = 2 ** 20;

/** The product's side, in its own process: `node --expose-gc <bundle> --measure <url> <exp>`. */
async function measureProduct(url: string, experimentId: string): Promise<void> {
    const gc = (globalThis as { gc?: () => void }).gc;
    const client = new MlflowClient({ baseUrl: url, timeoutMs: 300_000 });
    const service = await ExplorerService.connect({
        client,
        key: 'bench',
        origin: 'bench',
        authenticated: false,
    });
    gc?.();
    const baseline = process.memoryUsage();
    let peakRss = baseline.rss;
    let peakHeap = baseline.heapUsed;
    const sample = () => {
        const now = process.memoryUsage();
        peakRss = Math.max(peakRss, now.rss);
        peakHeap = Math.max(peakHeap, now.heapUsed);
    };
    const sampler = setInterval(sample, 20);

    const started = performance.now();
    let runs = 0;
    let pageToken: string | undefined;
    do {
        // Only the current page is held, as the webview's virtual list asks for one at a time.
        const page = await service.call('searchRuns', {
            experimentIds: [experimentId],
            view: 'active',
            pageSize: PAGE_SIZE,
            ...(pageToken ? { pageToken } : {}),
        });
        runs += page.items.length;
        pageToken = page.nextPageToken;
        sample();
    } while (pageToken);
    const series = await service.call('metricHistory', {
        runIds: Array.from({ length: SERIES }, (_, i) => runId(i)),
        key: 'curve',
    });
    sample();
    const ms = performance.now() - started;
    clearInterval(sampler);
    const points = series.reduce((sum, s) => sum + s.steps.length, 0);
    const result: Measurement = {
        ms,
        runs,
        points,
        baselineRssMb: baseline.rss / MB,
        peakRssMb: peakRss / MB,
        maxRssMb: process.resourceUsage().maxRSS / 1024,
        baselineHeapMb: baseline.heapUsed / MB,
        peakHeapMb: peakHeap / MB,
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
}

function child(command: string, args: string[]): Measurement & { wallMs: number } {
    const started = performance.now();
    const result = spawnSync(command, args, {
        encoding: 'utf8',
        maxBuffer: 16 * 1024 * 1024,
        timeout: MEASURE_TIMEOUT_MS,
        env: {
            ...process.env,
            MLFLOW_HTTP_REQUEST_TIMEOUT: '300',
            MLFLOW_HTTP_REQUEST_MAX_RETRIES: '0',
        },
    });
    const wallMs = performance.now() - started;
    if (result.status !== 0) {
        throw new Error(
            `${path.basename(command)} failed (${result.status ?? result.signal}): ${result.stderr.slice(-2000)}`,
        );
    }
    const last = result.stdout.trim().split('\n').at(-1) ?? '{}';
    return { ...(JSON.parse(last) as Measurement), wallMs };
}

/** The cached database for these sizes, generated once. */
function database(): { file: string; experimentId: string } {
    const dir = path.join(CACHE, 'bench');
    const file = path.join(dir, `pmem-g${GENERATOR}-${RUNS}r-${SERIES}x${POINTS}.db`);
    const idFile = `${file}.experiment`;
    if (existsSync(file) && existsSync(idFile)) {
        return { file, experimentId: readFileSync(idFile, 'utf8').trim() };
    }
    mkdirSync(dir, { recursive: true });
    const partial = `${file}.partial-${process.pid}`;
    rmSync(partial, { force: true });
    const started = performance.now();
    const result = spawnSync(
        path.join(venvOf(VERSION), 'bin', 'python'),
        ['-c', GENERATE, partial, String(RUNS), String(SERIES), String(POINTS)],
        { encoding: 'utf8', timeout: MEASURE_TIMEOUT_MS },
    );
    if (result.status !== 0) {
        rmSync(partial, { force: true });
        throw new Error(`generating the bench database failed: ${result.stderr.slice(-2000)}`);
    }
    const experimentId = result.stdout.trim().split('\n').at(-1) ?? '';
    renameSync(partial, file);
    writeFileSync(idFile, experimentId);
    console.error(
        `generated ${RUNS} runs and ${SERIES}×${POINTS} metric points in ${Math.round(performance.now() - started)} ms (${file})`,
    );
    return { file, experimentId };
}

function row(name: string, m: Measurement & { wallMs: number }): Series {
    return {
        name,
        runs: 1,
        count: m.runs + m.points,
        ms: stats([m.ms]),
        wallMs: stats([m.wallMs]),
        maxRssMb: m.peakRssMb,
    };
}

async function main(): Promise<void> {
    if (process.argv[2] === '--measure') {
        await measureProduct(process.argv[3]!, process.argv[4]!);
        return;
    }
    if (!venvReady(VERSION)) {
        throw new Error(
            `MLflow ${VERSION} venv missing at ${venvOf(VERSION)}: run scripts/test-env/venvs.sh`,
        );
    }
    const { file, experimentId } = database();
    const scratch = mkdtempSync(path.join(os.tmpdir(), 'stack-doctor-bench-pmem-'));
    let server: RunningServer | undefined;
    const cleanUp = async () => {
        await stopMlflowServer(server);
        rmSync(scratch, { recursive: true, force: true });
    };
    process.on('SIGINT', () => {
        void cleanUp().then(() => process.exit(130));
    });
    try {
        // A copy, so the server's own writes (migrations, job tables) never touch the cache.
        const db = path.join(scratch, 'mlflow.db');
        copyFileSync(file, db);
        server = await startMlflowServer(VERSION, () => ({ uri: `sqlite:///${db}` }), {
            dir: scratch,
            workers: 2,
        });
        console.error(
            `server ${VERSION} at ${server.url}; measuring the product, then the Python client`,
        );

        const product = child(process.execPath, [
            '--expose-gc',
            process.argv[1]!,
            '--measure',
            server.url,
            experimentId,
        ]);
        const peer = child(path.join(venvOf(VERSION), 'bin', 'python'), [
            '-c',
            PEER,
            server.url,
            experimentId,
            String(SERIES),
        ]);
        for (const [name, m] of [
            ['product', product],
            ['peer', peer],
        ] as const) {
            if (m.runs !== RUNS || m.points !== SERIES * POINTS) {
                throw new Error(
                    `${name} saw ${m.runs} runs and ${m.points} points, expected ${RUNS} and ${SERIES * POINTS}`,
                );
            }
        }

        printTable(
            `PMEM: ${RUNS} runs paged by ${PAGE_SIZE} + ${SERIES * POINTS} metric points, MLflow ${VERSION}`,
            [row('ExplorerService (node)', product), row('MlflowClient (Python)', peer)],
        );
        const growth = (m: Measurement) => m.peakRssMb - m.baselineRssMb;
        const ratio = product.peakRssMb / peer.peakRssMb;
        console.log(
            `peak RSS: product ${product.peakRssMb.toFixed(0)} MB (growth ${growth(product).toFixed(0)} MB, ` +
                `heap growth ${((product.peakHeapMb ?? 0) - (product.baselineHeapMb ?? 0)).toFixed(0)} MB), ` +
                `peer ${peer.peakRssMb.toFixed(0)} MB (growth ${growth(peer).toFixed(0)} MB); ` +
                `ratio product/peer ${ratio.toFixed(2)}; target product < ${TARGET_MB} MB: ` +
                (product.peakRssMb < TARGET_MB ? 'met' : 'NOT met'),
        );
        writeResults('pmem', {
            mlflowVersion: VERSION,
            runs: RUNS,
            metricPoints: SERIES * POINTS,
            pageSize: PAGE_SIZE,
            targetMb: TARGET_MB,
            targetMet: product.peakRssMb < TARGET_MB,
            ratio,
            series: { product, peer },
        });
    } finally {
        await cleanUp();
    }
}

main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
});
