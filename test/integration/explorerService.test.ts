// The explorer service against real MLflow servers, one per major (2.22.0 and 3.17.2), each filled
// by that version's own Python client over HTTP: experiments (one deleted, two with hostile
// names), 320 runs through log_batch, runs with quotes, backslashes and unicode in their values,
// a 30,000-point history with NaN, a dataset input, and on 3.x two logged models. The filters the
// builder writes are also handed to that version's own parser (SearchUtils) to show that MLflow
// reads back exactly the key, operator and value that went in.

import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { MlflowClient } from '../../src/core/mlflow/client.js';
import { ExplorerError, ExplorerService } from '../../src/core/explorer/explorerService.js';
import { fetchMetricColumns } from '../../src/core/explorer/metricHistory.js';
import { buildOrderBy, buildRunFilter } from '../../src/core/explorer/runFilter.js';
import type { ColumnRef, FilterClause, RunQuery, RunRow } from '../../webview/protocol.js';
import {
    freeLoopbackPort,
    missingVenvMessage,
    registerMissingComponent,
    type RunningServer,
    SERVER_MAJORS,
    startMlflowServer,
    stopMlflowServer,
    venvPython,
    venvReady,
} from '../support/mlflowServer.js';

const RUNS = 320;

const SEED = `import json, math, os, sys, time
import mlflow
from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunTag

major = int(mlflow.__version__.split(".")[0])
client = MlflowClient()
now = int(time.time() * 1000)
out = {"version": mlflow.__version__}

main = client.create_experiment("explorer-main")
other = client.create_experiment("explorer-other")
gone = client.create_experiment("explorer-gone")
client.delete_experiment(gone)
# 2.22's FileStore checks a new name with an unquoted filter, so a ' in it is refused there.
Q = "'" if major >= 3 else '"'
out["hostileName"] = f"hostile {Q}quoted{Q} 50%_off \\\\ back"
hostile_exp = client.create_experiment(out["hostileName"])
decoy_exp = client.create_experiment(f"hostile {Q}quoted{Q} 50%Xoff \\\\ back")
out.update(main=main, other=other, gone=gone, hostileExperiment=hostile_exp, decoyExperiment=decoy_exp)

# A literal _ and decoys that differ from it only there, which LIKE's _ would also match.
under_names = ["under_score lab", "underXscore lab", "under-score lab", "under score lab"]
out["underExperiments"] = {name: client.create_experiment(name) for name in under_names}
under_runs = client.create_experiment("underscore-runs")
out["underRunsExperiment"] = under_runs
for name in ["run_5", "run-5", "runX5", "run'5", "RUN_7"]:
    client.create_run(under_runs, run_name=name)

STATUS = {0: "FAILED", 1: "KILLED", 3: "FINISHED"}
RUNS = 320
def one(i):
    run = client.create_run(main, run_name=f"run-{i:03d}", start_time=now + i)
    rid = run.info.run_id
    client.log_batch(
        rid,
        metrics=[
            Metric("loss", 1.0 / (i + 1), now + i, 0),
            Metric("acc", i / RUNS, now + i, 0),
        ],
        params=[Param("lr", str((i % 10) / 1000)), Param("batch", str(16 * (1 + i % 4)))],
        tags=[RunTag("team", ["red", "blue"][i % 2])],
    )
    # Terminating every run would cost a request each: a few of each status is enough.
    if i % 10 in STATUS:
        client.set_terminated(rid, status=STATUS[i % 10], end_time=now + i + 1000)
    return rid

from concurrent.futures import ThreadPoolExecutor
with ThreadPoolExecutor(8) as pool:
    out["runIds"] = list(pool.map(one, range(RUNS)))

def special(name, params, tags=()):
    run = client.create_run(main, run_name=name, start_time=now + 10_000)
    client.log_batch(run.info.run_id, params=[Param(k, v) for k, v in params], tags=[RunTag(k, v) for k, v in tags])
    client.set_terminated(run.info.run_id, end_time=now + 11_000)
    return run.info.run_id

WEIRD = "it's a \\"quote\\" \\\\ back"
out["weird"] = WEIRD
out["hostileRun"] = special(
    "hostile-run",
    [("weird", WEIRD), ("uni", "naïve 😀 ü"), ("my key/with.dots-and:colon", "k1"), ("ключ", "значение")],
    [("path", "C:\\\\dir\\\\")],
)
out["decoyRun"] = special(
    "decoy-run", [("weird", "itXs a \\"quote\\" \\\\ back"), ("uni", "naive")], [("path", "C:/dir/")]
)
deleted = special("deleted-run", [("lr", "9")])
client.delete_run(deleted)
out["deletedRun"] = deleted

hist = client.create_run(main, run_name="history-run", start_time=now + 20_000)
hid = hist.info.run_id
POINTS = 30_000
batch = []
batches = []
for step in range(POINTS):
    value = float("nan") if step == 5 else (float("inf") if step == 6 else math.sin(step / 100.0))
    batch.append(Metric("curve", value, now + step, step))
    if len(batch) == 1000:
        batches.append(batch)
        batch = []
with ThreadPoolExecutor(8) as pool:
    list(pool.map(lambda b: client.log_batch(hid, metrics=b), batches))
client.log_batch(hid, metrics=batch + [Metric("nanmetric", float("nan"), now, 0)], params=[Param("lr", "0.5")])
from mlflow.entities import Dataset, DatasetInput, InputTag
client.log_inputs(hid, [DatasetInput(Dataset(name="train-set", digest="abc123", source_type="local", source="/data/train.csv"), tags=[InputTag("mlflow.data.context", "training")])])
client.set_terminated(hid, end_time=now + 30_000)
out["historyRun"] = hid
out["historyPoints"] = POINTS

if major >= 3:
    from mlflow.entities import LoggedModelOutput, LoggedModelStatus
    m1 = client.create_logged_model(main, name="clf", source_run_id=hid, model_type="sklearn", params={"depth": "3"})
    client.finalize_logged_model(m1.model_id, LoggedModelStatus.READY)
    m2 = client.create_logged_model(main, name="linked-only")
    client.finalize_logged_model(m2.model_id, LoggedModelStatus.READY)
    client.log_outputs(hid, [LoggedModelOutput(m1.model_id, step=0), LoggedModelOutput(m2.model_id, step=1)])
    out["models"] = [m1.model_id, m2.model_id]
print(json.dumps(out))
`;

// MLflow's own parser on the builder's output: one JSON line per filter and per order_by entry.
const PARSE = `
import json, sys
from mlflow.utils.search_utils import SearchUtils
cases = json.load(open(sys.argv[1]))
out = []
for case in cases["filters"]:
    try:
        out.append({"ok": [[c["type"], c["key"], c["comparator"], str(c["value"])] for c in SearchUtils.parse_search_filter(case)]})
    except Exception as e:
        out.append({"error": str(e)[:300]})
orders = []
for case in cases["orders"]:
    try:
        kind, key, asc = SearchUtils.parse_order_by_for_search_runs(case)
        orders.append({"ok": [kind, key, asc]})
    except Exception as e:
        orders.append({"error": str(e)[:300]})
print(json.dumps({"filters": out, "orders": orders}))
`;

interface Seeded {
    version: string;
    main: string;
    other: string;
    gone: string;
    hostileExperiment: string;
    hostileName: string;
    decoyExperiment: string;
    underExperiments: Record<string, string>;
    underRunsExperiment: string;
    runIds: string[];
    weird: string;
    hostileRun: string;
    decoyRun: string;
    deletedRun: string;
    historyRun: string;
    historyPoints: number;
    models?: string[];
}

/**
 * 2.x on a FileStore, the 2.x default, whose search has quirks of its own (LIKE patterns read as
 * regular expressions); 3.x on SQLite, the 3.x default.
 */
function backendFor(version: string): (dir: string) => { uri: string } {
    return version.startsWith('2.')
        ? (dir) => ({ uri: path.join(dir, 'mlruns') })
        : (dir) => ({ uri: `sqlite:///${path.join(dir, 'mlflow.db')}` });
}

async function allRuns(
    service: ExplorerService,
    experimentIds: string[],
    query: RunQuery | undefined,
    options: { pageSize?: number; view?: 'active' | 'deleted' | 'all' } = {},
): Promise<RunRow[]> {
    const rows: RunRow[] = [];
    let pageToken: string | undefined;
    do {
        const page = await service.call('searchRuns', {
            experimentIds,
            view: options.view ?? 'active',
            pageSize: options.pageSize ?? 1000,
            ...(query ? { query } : {}),
            ...(pageToken ? { pageToken } : {}),
        });
        rows.push(...page.items);
        pageToken = page.nextPageToken;
    } while (pageToken);
    return rows;
}

const param = (key: string): ColumnRef => ({ kind: 'param', key });
const names = (rows: RunRow[]) => rows.map((r) => r.name).sort();

for (const version of SERVER_MAJORS) {
    if (!venvReady(version)) {
        registerMissingComponent(`MLflow ${version} venv`, missingVenvMessage(version));
        continue;
    }
    const major = Number(version.split('.')[0]);

    void describe(`the explorer service on a real MLflow ${version} server`, () => {
        let server: RunningServer | undefined;
        let seed: Seeded;
        let service: ExplorerService;
        let client: MlflowClient;
        const runIndex = (row: RunRow) => Number(/^run-(\d+)$/.exec(row.name)?.[1] ?? -1);

        before(async () => {
            server = await startMlflowServer(version, backendFor(version), { workers: 2 });
            const printed = await venvPython(
                version,
                ['-c', SEED],
                { MLFLOW_TRACKING_URI: server.url },
                900_000,
            );
            seed = JSON.parse(printed.split('\n').pop() ?? '{}') as Seeded;
            assert.equal(seed.version, version);
            client = new MlflowClient({ baseUrl: server.url, timeoutMs: 60_000 });
            service = await ExplorerService.connect({
                client,
                key: 'test-server',
                origin: 'integration test',
                authenticated: false,
            });
        });

        after(async () => {
            await stopMlflowServer(server);
            if (server) rmSync(server.dir, { recursive: true, force: true });
        });

        void test('reads the version and says what this server cannot do', () => {
            assert.equal(service.server.version, version);
            assert.equal(service.server.major, major);
            assert.equal(service.server.url, server!.url);
            assert.equal(service.server.capabilities.bulkIntervalMetrics, true);
            assert.equal(service.server.capabilities.proxiedArtifacts, true);
            if (major >= 3) {
                assert.equal(service.server.capabilities.loggedModels, true);
                assert.equal(service.server.capabilities.metricHistoryPaging, true);
                assert.deepEqual(service.server.capabilities.limits, []);
            } else {
                assert.equal(service.server.capabilities.loggedModels, false);
                assert.equal(service.server.capabilities.metricHistoryPaging, false);
                assert.ok(
                    service.server.capabilities.limits.includes(
                        `MLflow ${version} has no logged models: models logged by this server's runs appear only as run artifacts.`,
                    ),
                    JSON.stringify(service.server.capabilities.limits),
                );
            }
        });

        void test('lists experiments by lifecycle view', async () => {
            const ids = async (view: 'active' | 'deleted' | 'all') =>
                (await service.call('listExperiments', { view, search: 'explorer-' })).items.map(
                    (e) => e.id,
                );
            assert.deepEqual((await ids('active')).sort(), [seed.main, seed.other].sort());
            assert.deepEqual(await ids('deleted'), [seed.gone]);
            assert.deepEqual((await ids('all')).sort(), [seed.main, seed.other, seed.gone].sort());
            const gone = (await service.call('listExperiments', { view: 'deleted' })).items;
            assert.equal(gone.find((e) => e.id === seed.gone)?.lifecycleStage, 'deleted');
        });

        void test('finds an experiment by a name with quotes, % and _ and a backslash, and not its decoy', async () => {
            const found = await service.call('listExperiments', {
                view: 'active',
                search: seed.hostileName.slice('hostile '.length),
            });
            assert.deepEqual(
                found.items.map((e) => e.id),
                [seed.hostileExperiment],
            );
            assert.equal(found.items[0]?.name, seed.hostileName);
        });

        void test('takes an underscore in an experiment search literally', async () => {
            const found = async (search: string) =>
                (await service.call('listExperiments', { view: 'active', search })).items
                    .map((e) => e.name)
                    .sort();
            assert.deepEqual(await found('r_s'), ['under_score lab']);
            assert.deepEqual(await found('UNDER_SCORE'), ['under_score lab']);
            // Only names with a real `_`: this one and the hostile experiment's "50%_off".
            assert.deepEqual(await found('_'), [seed.hostileName, 'under_score lab'].sort());
            assert.deepEqual(await found('under_'), ['under_score lab']);
            assert.equal(Object.keys(seed.underExperiments).length, 4);
        });

        void test('takes an underscore in a run name search literally, across pages', async () => {
            const found = async (nameContains: string) =>
                names(
                    await allRuns(
                        service,
                        [seed.underRunsExperiment],
                        { nameContains },
                        {
                            pageSize: 2,
                        },
                    ),
                );
            assert.deepEqual(await found('_'), ['RUN_7', 'run_5']);
            assert.deepEqual(await found('n_5'), ['run_5']);
            assert.deepEqual(await found('N_'), ['RUN_7', 'run_5']);
            assert.deepEqual(await found("n'5"), ["run'5"]);
            assert.deepEqual(
                await found('run'),
                ['RUN_7', "run'5", 'run-5', 'runX5', 'run_5'].sort(),
            );
        });

        void test('pages through every run of an experiment without repeats', async () => {
            const rows = await allRuns(service, [seed.main], undefined, { pageSize: 100 });
            // 320 runs, hostile and decoy runs, the history run; the deleted run is not active.
            assert.equal(rows.length, RUNS + 3);
            assert.equal(new Set(rows.map((r) => r.id)).size, rows.length);
            assert.ok(!rows.some((r) => r.id === seed.deletedRun));
            const deleted = await allRuns(service, [seed.main], undefined, { view: 'deleted' });
            assert.deepEqual(
                deleted.map((r) => r.id),
                [seed.deletedRun],
            );
            const first = await service.call('searchRuns', {
                experimentIds: [seed.main],
                view: 'active',
                pageSize: 7,
            });
            assert.equal(first.items.length, 7);
            assert.ok(first.nextPageToken);
        });

        void test('maps a run: name, status, params, latest metrics, tags', async () => {
            const [row] = (
                await service.call('searchRuns', {
                    experimentIds: [seed.main],
                    view: 'active',
                    pageSize: 10,
                    query: { nameContains: 'run-010' },
                })
            ).items;
            assert.ok(row);
            assert.equal(row.name, 'run-010');
            assert.equal(row.status, 'FAILED');
            assert.equal(row.experimentId, seed.main);
            assert.deepEqual(
                row.params.find((p) => p.key === 'lr'),
                { key: 'lr', value: '0.0' },
            );
            assert.equal(row.metrics.find((m) => m.key === 'loss')?.value, 1 / 11);
            assert.equal(row.tags.find((t) => t.key === 'team')?.value, 'red');
            assert.match(row.artifactUri ?? '', /^mlflow-artifacts:\//);
        });

        void test('sorts by a metric, a param and an attribute', async () => {
            const page = async (column: ColumnRef, ascending: boolean) =>
                (
                    await service.call('searchRuns', {
                        experimentIds: [seed.main],
                        view: 'active',
                        pageSize: 20,
                        orderBy: { column, ascending },
                        query: { nameContains: 'run-' },
                    })
                ).items;
            const byLoss = await page({ kind: 'metric', key: 'loss' }, true);
            const losses = byLoss.map((r) => r.metrics.find((m) => m.key === 'loss')!.value!);
            assert.deepEqual(
                losses,
                [...losses].sort((a, b) => a - b),
            );
            assert.equal(byLoss[0]?.name, `run-${String(RUNS - 1).padStart(3, '0')}`);
            const byStart = await page({ kind: 'attribute', key: 'start_time' }, false);
            const starts = byStart.map((r) => r.startTime!);
            assert.deepEqual(
                starts,
                [...starts].sort((a, b) => b - a),
            );
            const byBatch = await page(param('batch'), false);
            assert.ok(
                byBatch.every((r) => r.params.find((p) => p.key === 'batch')?.value === '64'),
            );
        });

        void test('filters by one status and by several', async () => {
            const failed = await allRuns(service, [seed.main], { statuses: ['FAILED'] });
            assert.equal(failed.length, RUNS / 10);
            assert.ok(failed.every((r) => r.status === 'FAILED' && runIndex(r) % 10 === 0));
            const ended = await allRuns(service, [seed.main], { statuses: ['FAILED', 'KILLED'] });
            assert.equal(ended.length, (2 * RUNS) / 10);
            assert.ok(ended.every((r) => r.status === 'FAILED' || r.status === 'KILLED'));
        });

        void test('filters by run name, param, tag, metric and attribute', async () => {
            const count = async (query: RunQuery) =>
                (await allRuns(service, [seed.main], query)).length;
            assert.equal(await count({ nameContains: 'RUN-01' }), 10);
            assert.equal(
                await count({ clauses: [{ column: param('lr'), op: '=', value: '0.002' }] }),
                RUNS / 10,
            );
            assert.equal(
                await count({
                    clauses: [{ column: { kind: 'tag', key: 'team' }, op: '=', value: 'blue' }],
                }),
                RUNS / 2,
            );
            assert.equal(
                await count({
                    clauses: [{ column: { kind: 'metric', key: 'acc' }, op: '>=', value: '0.5' }],
                }),
                RUNS / 2,
            );
            assert.equal(
                await count({
                    clauses: [
                        {
                            column: { kind: 'attribute', key: 'run_name' },
                            op: 'LIKE',
                            value: 'run-00%',
                        },
                        { column: param('batch'), op: '!=', value: '16' },
                    ],
                }),
                7,
            );
        });

        void test('a param value with quotes and a backslash finds exactly its run', async () => {
            const rows = await allRuns(service, [seed.main], {
                clauses: [{ column: param('weird'), op: '=', value: seed.weird }],
            });
            assert.deepEqual(names(rows), ['hostile-run']);
        });

        void test('a tag value ending in a backslash finds exactly its run', async () => {
            const rows = await allRuns(service, [seed.main], {
                clauses: [{ column: { kind: 'tag', key: 'path' }, op: '=', value: 'C:\\dir\\' }],
            });
            assert.deepEqual(names(rows), ['hostile-run']);
        });

        void test('unicode keys and values find exactly their run', async () => {
            for (const clause of [
                { column: param('uni'), op: '=', value: 'naïve 😀 ü' },
                { column: param('ключ'), op: '=', value: 'значение' },
                { column: param('my key/with.dots-and:colon'), op: '=', value: 'k1' },
                { column: param('uni'), op: 'LIKE', value: 'na_ve %' },
            ] satisfies FilterClause[]) {
                const rows = await allRuns(service, [seed.main], { clauses: [clause] });
                assert.deepEqual(names(rows), ['hostile-run'], JSON.stringify(clause));
            }
        });

        void test('rejects a metric compared with text as an invalid request', async () => {
            await assert.rejects(
                service.call('searchRuns', {
                    experimentIds: [seed.main],
                    view: 'active',
                    pageSize: 10,
                    query: {
                        clauses: [
                            { column: { kind: 'metric', key: 'loss' }, op: '>', value: 'high' },
                        ],
                    },
                }),
                (error: unknown) =>
                    error instanceof ExplorerError &&
                    error.info.kind === 'invalid' &&
                    error.info.message.includes('"high" is not a number'),
            );
        });

        void test('gets a run with its NaN metric, dataset and (3.x) logged models', async () => {
            const detail = await service.call('getRun', { runId: seed.historyRun });
            assert.equal(detail.run.name, 'history-run');
            assert.deepEqual(
                detail.run.metrics.find((m) => m.key === 'nanmetric'),
                {
                    key: 'nanmetric',
                    value: null,
                    text: 'NaN',
                    step: 0,
                    timestamp: detail.run.metrics.find((m) => m.key === 'nanmetric')?.timestamp,
                },
            );
            assert.deepEqual(detail.datasets, [
                { name: 'train-set', digest: 'abc123', context: 'training' },
            ]);
            if (major >= 3) {
                assert.deepEqual(
                    detail.loggedModels.map((m) => m.id).sort(),
                    [...seed.models!].sort(),
                );
                const clf = detail.loggedModels.find((m) => m.name === 'clf');
                assert.equal(clf?.sourceRunId, seed.historyRun);
                assert.equal(clf?.modelType, 'sklearn');
                assert.deepEqual(clf?.params, [{ key: 'depth', value: '3' }]);
            } else {
                assert.deepEqual(detail.loggedModels, []);
            }
        });

        void test('fetches a whole metric history in step order, NaN as null', async () => {
            const [series] = await service.call('metricHistory', {
                runIds: [seed.historyRun],
                key: 'curve',
            });
            assert.ok(series);
            assert.equal(series.runName, 'history-run');
            assert.equal(series.steps.length, seed.historyPoints);
            assert.equal(series.values.length, seed.historyPoints);
            assert.equal(series.timestamps.length, seed.historyPoints);
            assert.equal(series.sampled, false);
            assert.ok(series.steps.every((step, i) => step === i));
            assert.equal(series.values[5], null);
            assert.equal(series.values[100], Math.sin(1));
        });

        void test('compares several runs on one metric', async () => {
            const series = await service.call('metricHistory', {
                runIds: [seed.runIds[0]!, seed.runIds[1]!, seed.historyRun],
                key: 'loss',
            });
            assert.deepEqual(
                series.map((s) => [s.runName, s.values]),
                [
                    ['run-000', [1]],
                    ['run-001', [0.5]],
                    ['history-run', []],
                ],
            );
        });

        void test(
            major >= 3
                ? 'follows get-history page tokens and samples a history above the cap'
                : 'takes the whole history in one answer and samples a history above the cap',
            async () => {
                const caps = service.server.capabilities;
                const paged = await fetchMetricColumns(client, caps, seed.historyRun, 'curve', {
                    pageSize: 4000,
                });
                assert.equal(paged.steps.length, seed.historyPoints);
                assert.equal(paged.sampled, false);
                const capped = await fetchMetricColumns(client, caps, seed.historyRun, 'curve', {
                    maxPoints: 10_000,
                    pageSize: 4000,
                });
                assert.equal(capped.sampled, true);
                // 2.x adds the last point to its 2,500.
                assert.ok(
                    capped.steps.length <= 2501 && capped.steps.length > 100,
                    `${capped.steps.length}`,
                );
                assert.equal(capped.steps[0], 0);
                assert.equal(capped.steps.at(-1), seed.historyPoints - 1);
                assert.ok(capped.steps.every((step, i) => i === 0 || step > capped.steps[i - 1]!));
            },
        );

        if (major >= 3) {
            void test('lists logged models of an experiment and of one run', async () => {
                const all = await service.call('loggedModels', { experimentIds: [seed.main] });
                assert.deepEqual(all.items.map((m) => m.id).sort(), [...seed.models!].sort());
                const ofRun = await service.call('loggedModels', {
                    experimentIds: [seed.main],
                    runId: seed.historyRun,
                });
                assert.deepEqual(
                    ofRun.items.map((m) => m.name),
                    ['clf'],
                );
                const info = await service.getLoggedModelInfo(seed.models![0]!);
                assert.equal(info.experimentId, seed.main);
                assert.equal(info.sourceRunId, seed.historyRun);
                assert.match(info.artifactUri ?? '', /^mlflow-artifacts:\/.*\/models\/m-/);
            });
        } else {
            void test('says logged models are not supported on 2.x', async () => {
                for (const call of [
                    service.call('loggedModels', { experimentIds: [seed.main] }),
                    service.getLoggedModelInfo('m-0123456789abcdef0123456789abcdef'),
                ]) {
                    await assert.rejects(
                        call,
                        (error: unknown) =>
                            error instanceof ExplorerError &&
                            error.info.kind === 'not-supported' &&
                            error.info.message.startsWith(`MLflow ${version} has no logged models`),
                    );
                }
            });
        }

        void test('tells artifact access where a run keeps its artifacts', async () => {
            const info = await service.getRunInfo(seed.hostileRun);
            assert.equal(info.experimentId, seed.main);
            assert.equal(
                info.artifactUri,
                `mlflow-artifacts:/${seed.main}/${seed.hostileRun}/artifacts`,
            );
            await assert.rejects(
                service.getRunInfo('0123456789abcdef0123456789abcdef'),
                (error: unknown) =>
                    error instanceof ExplorerError &&
                    error.info.kind === 'http' &&
                    error.info.status === 404,
            );
        });

        void test("MLflow's own parser reads back every clause the builder writes", async () => {
            const text = fc.string({
                unit: fc.oneof(
                    fc.constantFrom(
                        "'",
                        '"',
                        '`',
                        '\\',
                        '%',
                        '_',
                        ' AND ',
                        '(',
                        '.*',
                        '😀',
                        'é',
                        '\n',
                        '/*',
                        '$$',
                    ),
                    fc.string({ unit: 'grapheme', maxLength: 2 }),
                ),
                maxLength: 10,
            });
            const clause = fc.record({
                column: fc.record({
                    kind: fc.constantFrom('param' as const, 'tag' as const),
                    key: text,
                }),
                op: fc.constantFrom('=' as const, '!=' as const, 'LIKE' as const, 'ILIKE' as const),
                value: text,
            });
            const queries = fc.sample(fc.array(clause, { minLength: 1, maxLength: 4 }), {
                numRuns: 300,
                seed: 42,
            });
            const filters: string[] = [];
            const expected: FilterClause[][] = [];
            for (const clauses of queries) {
                try {
                    filters.push(buildRunFilter({ clauses }).filter);
                    expected.push(clauses);
                } catch {
                    // Refused with a sentence; the unit tests cover which.
                }
            }
            const orderKeys = fc
                .sample(text, { numRuns: 200, seed: 7 })
                .filter((key) => !key.includes('`') && !/\s$/.test(key));
            const orders = orderKeys.map((key) => buildOrderBy({ kind: 'metric', key }, false));
            const file = path.join(server!.dir, 'parse-cases.json');
            writeFileSync(file, JSON.stringify({ filters, orders }));
            const parsed = JSON.parse(
                (await venvPython(version, ['-c', PARSE, file])).split('\n').pop()!,
            ) as {
                filters: ({ ok: string[][] } | { error: string })[];
                orders: ({ ok: [string, string, boolean] } | { error: string })[];
            };

            assert.ok(filters.length > 200);
            parsed.filters.forEach((result, i) => {
                assert.ok('ok' in result, `${filters[i]} → ${JSON.stringify(result)}`);
                const clauses = expected[i]!;
                assert.equal(result.ok.length, clauses.length, filters[i]);
                result.ok.forEach(([type, key, comparator, value], j) => {
                    const input = clauses[j]!;
                    assert.equal(type, input.column.kind === 'param' ? 'parameter' : 'tag');
                    assert.equal(key, input.column.key, filters[i]);
                    if (comparator === input.op) {
                        if (value !== input.value) {
                            // A widened pattern: same length, `_` where the input had a character
                            // MLflow cannot take as is.
                            assert.ok(/I?LIKE/.test(input.op), filters[i]);
                            assert.equal([...value!].length, [...input.value].length);
                        }
                    } else {
                        assert.equal(comparator, 'LIKE', filters[i]);
                        assert.equal(input.op, '=');
                    }
                });
            });
            parsed.orders.forEach((result, i) => {
                assert.deepEqual(result, { ok: ['metric', orderKeys[i], false] }, orders[i]);
            });
        });
    });
}

void test('connecting to a port where nothing listens names the URL without credentials', async () => {
    const port = await freeLoopbackPort();
    const client = new MlflowClient({
        baseUrl: `http://alice:s3cret@127.0.0.1:${port}`,
        timeoutMs: 5000,
    });
    await assert.rejects(
        ExplorerService.connect({ client, key: 'k', origin: 'test', authenticated: true }),
        (error: unknown) => {
            assert.ok(error instanceof ExplorerError);
            assert.equal(error.info.kind, 'refused');
            assert.ok(
                error.info.message.includes(`http://127.0.0.1:${port}/version`),
                error.info.message,
            );
            assert.ok(
                !error.info.message.includes('s3cret') && !error.info.message.includes('alice'),
            );
            return true;
        },
    );
});
