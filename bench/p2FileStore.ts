// P2: validating a 10k-run FileStore. The product (`readFileStore`) beside MLflow's own Python
// FileStore listing the same runs (`search_runs` over the file backend) and beside reading every
// meta.yaml raw (`fs.readFileSync`, no parsing). Each measurement runs in its own process so its
// peak memory (maxRSS) is its own.
//   node <bundle>/p2FileStore.js            (bench/run.sh builds and runs it)
// Env: BENCH_RUNS (default 10000), BENCH_N (default 7), BENCH_PYTHON (MLflow 2.22.5 venv).

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readFileStore } from '../src/core/filestore/index.js';
import { printTable, stats, writeResults, type Series } from './report.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 10_000);
const N = Number(process.env.BENCH_N ?? 7);
const PYTHON =
    process.env.BENCH_PYTHON ??
    path.join(os.homedir(), '.cache/stack-doctor/venvs/mlflow-2.22.5/bin/python');
const EXPERIMENTS = 10;

/** Writes the store the way MLflow 2.x lays it out (facts §4): metas, metrics, params, tags. */
function generateStore(root: string): void {
    const perExperiment = Math.ceil(RUNS / EXPERIMENTS);
    let written = 0;
    for (let e = 0; e < EXPERIMENTS && written < RUNS; e++) {
        const id = String(e + 1);
        const expDir = path.join(root, id);
        mkdirSync(path.join(expDir, 'tags'), { recursive: true });
        writeFileSync(
            path.join(expDir, 'meta.yaml'),
            `artifact_location: file://${expDir}\ncreation_time: 1718000000000\nexperiment_id: '${id}'\nlast_update_time: 1718000000000\nlifecycle_stage: active\nname: bench-${id}\n`,
        );
        for (let r = 0; r < perExperiment && written < RUNS; r++, written++) {
            // A hex id with a letter first: an all-digit id would need quotes to stay a string in YAML.
            const runId = `f${(e * 1_000_000 + r).toString(16).padStart(31, '0')}`;
            const runDir = path.join(expDir, runId);
            for (const sub of ['metrics', 'params', 'tags', 'artifacts']) {
                mkdirSync(path.join(runDir, sub), { recursive: true });
            }
            writeFileSync(
                path.join(runDir, 'meta.yaml'),
                [
                    `artifact_uri: file://${runDir}/artifacts`,
                    'end_time: 1718000001000',
                    "entry_point_name: ''",
                    `experiment_id: '${id}'`,
                    'lifecycle_stage: active',
                    `run_id: ${runId}`,
                    `run_name: run-${r}`,
                    `run_uuid: ${runId}`,
                    "source_name: ''",
                    'source_type: 4',
                    "source_version: ''",
                    `start_time: ${1718000000000 + r}`,
                    'status: 3',
                    'tags: []',
                    'user_id: bench',
                    '',
                ].join('\n'),
            );
            writeFileSync(
                path.join(runDir, 'metrics', 'loss'),
                `1718000000000 0.5 0\n1718000000100 0.25 1\n`,
            );
            writeFileSync(path.join(runDir, 'params', 'lr'), '0.01');
            writeFileSync(path.join(runDir, 'tags', 'mlflow.runName'), `run-${r}`);
            writeFileSync(path.join(runDir, 'tags', 'mlflow.user'), 'bench');
        }
    }
}

/** The three readers, each run in a child process: `node <this> --measure <which> <root>`. */
async function measure(which: string, root: string): Promise<void> {
    const started = performance.now();
    let count = 0;
    if (which === 'product') {
        const summary = await readFileStore(root, path.dirname(root));
        count = summary.runs;
        if (summary.anomalies.length > 0)
            throw new Error(`unexpected anomalies: ${summary.anomalies[0]?.detail}`);
    } else {
        for (const experiment of readdirSync(root, { withFileTypes: true })) {
            if (!experiment.isDirectory()) continue;
            const expDir = path.join(root, experiment.name);
            readFileSync(path.join(expDir, 'meta.yaml'));
            for (const run of readdirSync(expDir, { withFileTypes: true })) {
                if (!run.isDirectory() || run.name === 'tags') continue;
                readFileSync(path.join(expDir, run.name, 'meta.yaml'));
                count++;
            }
        }
    }
    const ms = performance.now() - started;
    process.stdout.write(JSON.stringify({ ms, count, maxRssKb: process.resourceUsage().maxRSS }));
}

const PY_SCRIPT = `
import json, resource, sys, time, logging
logging.disable(logging.WARNING)
from mlflow.store.tracking.file_store import FileStore
from mlflow.entities import ViewType
root = sys.argv[1]
started = time.perf_counter()
store = FileStore(root)
ids = [e.experiment_id for e in store.search_experiments(view_type=ViewType.ALL, max_results=50000)]
runs = store.search_runs(ids, None, ViewType.ALL, max_results=50000)
ms = (time.perf_counter() - started) * 1000
print(json.dumps({"ms": ms, "count": len(runs), "maxRssKb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
`;

function child(command: string, args: string[], env: NodeJS.ProcessEnv = process.env) {
    const started = performance.now();
    const result = spawnSync(command, args, {
        encoding: 'utf8',
        env,
        maxBuffer: 16 * 1024 * 1024,
        timeout: 120_000,
    });
    const wallMs = performance.now() - started;
    if (result.status !== 0) throw new Error(`${command} failed: ${result.stderr.slice(-2000)}`);
    const parsed = JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '{}') as {
        ms: number;
        count: number;
        maxRssKb: number;
    };
    return { ...parsed, wallMs };
}

async function main(): Promise<void> {
    if (process.argv[2] === '--measure') {
        await measure(process.argv[3]!, process.argv[4]!);
        return;
    }
    const scratch = mkdtempSync(path.join(os.tmpdir(), 'stack-doctor-bench-p2-'));
    const cleanUp = () => rmSync(scratch, { recursive: true, force: true });
    process.on('SIGINT', () => {
        cleanUp();
        process.exit(130);
    });
    try {
        const root = path.join(scratch, 'mlruns');
        const genStart = performance.now();
        generateStore(root);
        console.error(
            `generated ${RUNS} runs in ${EXPERIMENTS} experiments in ${Math.round(performance.now() - genStart)} ms (${root})`,
        );

        const self = process.argv[1]!;
        const series: Record<
            string,
            { ms: number[]; wallMs: number[]; rss: number[]; count: number }
        > = {};
        const record = (name: string, r: ReturnType<typeof child>) => {
            const s = (series[name] ??= { ms: [], wallMs: [], rss: [], count: r.count });
            s.ms.push(r.ms);
            s.wallMs.push(r.wallMs);
            s.rss.push(r.maxRssKb);
        };
        // One warm-up of each so all three read from the page cache.
        child(process.execPath, [self, '--measure', 'raw', root]);
        for (let i = 0; i < N; i++) {
            record(
                'readFileStore (product)',
                child(process.execPath, [self, '--measure', 'product', root]),
            );
            record(
                'raw fs.readFileSync of every meta.yaml',
                child(process.execPath, [self, '--measure', 'raw', root]),
            );
        }
        const pyRuns = Math.max(2, Math.min(3, N));
        const pyEnv = { ...process.env, MLFLOW_ALLOW_FILE_STORE: 'true' };
        for (let i = 0; i < pyRuns; i++) {
            record(
                'MLflow 2.22.5 FileStore.search_runs',
                child(PYTHON, ['-c', PY_SCRIPT, root], pyEnv),
            );
        }

        const rows: Series[] = Object.entries(series).map(([name, s]) => ({
            name,
            runs: s.ms.length,
            count: s.count,
            ms: stats(s.ms),
            wallMs: stats(s.wallMs),
            maxRssMb: Math.max(...s.rss) / 1024,
        }));
        const product = rows[0]!;
        const raw = rows[1]!;
        const mlflow = rows[2]!;
        const ratios = {
            mlflowOverProduct: mlflow.ms.median / product.ms.median,
            productOverRaw: product.ms.median / raw.ms.median,
        };
        printTable(`P2: FileStore validation of ${RUNS} runs`, rows);
        console.log(
            `MLflow / product: ${ratios.mlflowOverProduct.toFixed(1)}x (target >= 10x)   ` +
                `product / raw read: ${ratios.productOverRaw.toFixed(2)}x (target <= 2x)`,
        );
        writeResults('p2-filestore', {
            runs: RUNS,
            experiments: EXPERIMENTS,
            rows,
            ratios,
            targets: { mlflowOverProduct: '>= 10', productOverRaw: '<= 2' },
        });
    } finally {
        cleanUp();
    }
}

main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
});
