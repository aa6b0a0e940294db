// The explorer service against a loopback node:http stand-in for MLflow: the paths where a real
// server is hard to steer (no /version, history pages out of step order, a history above the cap,
// a page the server could only approximate). Each stand-in route answers with the JSON shapes the
// real servers send (recorded in test/unit/explorerViewModels.test.ts).

import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, test } from 'node:test';
import { MlflowClient } from '../../src/core/mlflow/client.js';
import { ExplorerError, ExplorerService } from '../../src/core/explorer/explorerService.js';
import { fetchMetricColumns } from '../../src/core/explorer/metricHistory.js';

interface Seen {
    method: string;
    path: string;
    query: URLSearchParams;
    body: Record<string, unknown> | undefined;
}

let version: string | undefined = '3.1.1';
let loggedModelsRoute = true;
const seen: Seen[] = [];

const html404 = (res: http.ServerResponse) => {
    res.writeHead(404, { 'Content-Type': 'text/html' });
    res.end('<!doctype html><title>404 Not Found</title><h1>Not Found</h1>');
};
const json = (res: http.ServerResponse, body: unknown, status = 200) => {
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
};

const run = (id: string, name: string, weird: string) => ({
    info: { run_id: id, experiment_id: '1', run_name: name, status: 'FINISHED' },
    data: { params: [{ key: 'weird', value: weird }] },
});

/** Seven history points, sent in pages of max_results and deliberately not in step order. */
const HISTORY = [3, 0, 6, 1, 5, 2, 4].map((step) => ({
    key: 'loss',
    value: step === 5 ? 'NaN' : step / 10,
    timestamp: 1000 + step,
    step,
}));

function route(seenRequest: Seen, res: http.ServerResponse): void {
    const { path, query, body } = seenRequest;
    switch (path) {
        case '/version':
            if (version === 'needs-auth') {
                res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="mlflow"' });
                res.end('You are not authenticated.');
            } else if (version) {
                res.writeHead(200, { 'Content-Type': 'text/plain' });
                res.end(version);
            } else html404(res);
            return;
        case '/health':
            res.writeHead(200, { 'Content-Type': 'text/plain' });
            res.end('OK');
            return;
        case '/api/2.0/mlflow-artifacts/artifacts':
            return json(res, {});
        case '/api/2.0/mlflow/logged-models/search':
            return loggedModelsRoute ? json(res, {}) : html404(res);
        case '/api/2.0/mlflow/metrics/get-history-bulk-interval':
            if (query.get('run_ids') === '0') {
                return json(res, { error_code: 'RESOURCE_DOES_NOT_EXIST', message: 'no run' }, 404);
            }
            return json(res, {
                metrics: [HISTORY[1], HISTORY[6], HISTORY[2]].map((m) => ({
                    ...m,
                    run_id: query.get('run_ids'),
                })),
            });
        case '/api/2.0/mlflow/metrics/get-history': {
            const size = Number(query.get('max_results') ?? HISTORY.length);
            const offset = Number(query.get('page_token') ?? 0);
            const metrics = HISTORY.slice(offset, offset + size);
            const next = offset + size < HISTORY.length ? String(offset + size) : undefined;
            return json(res, { metrics, ...(next ? { next_page_token: next } : {}) });
        }
        case '/api/2.0/mlflow/runs/get':
            return json(res, { run: run(query.get('run_id') ?? '', 'the-run', 'x') });
        case '/api/2.0/mlflow/experiments/search': {
            // What SQLite's ILIKE '%n_rmal%' returns: the `_` matches any one character.
            const pages: Record<string, { names: string[]; next?: string }> = {
                '': { names: ['normal', 'n_rmal-1', 'n-rmal'], next: 'exp-2' },
                'exp-2': { names: ['nXrmal', 'old n_rmal'] },
            };
            const token = typeof body?.['page_token'] === 'string' ? body['page_token'] : '';
            const page = pages[token] ?? { names: [] };
            return json(res, {
                experiments: page.names.map((name) => ({
                    experiment_id: `id-${name}`,
                    name,
                    lifecycle_stage: 'active',
                })),
                ...(page.next ? { next_page_token: page.next } : {}),
            });
        }
        case '/api/2.0/mlflow/runs/search':
            return json(res, {
                runs: [run('a1', 'hit', `it's a "quote"`), run('a2', 'decoy', `itXs a "quote"`)],
                next_page_token: 'page-2',
            });
        default:
            void body;
            html404(res);
    }
}

let server: http.Server;
let base = '';

before(async () => {
    server = http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (chunk: Buffer) => chunks.push(chunk));
        req.on('end', () => {
            const url = new URL(req.url ?? '/', 'http://x');
            const text = Buffer.concat(chunks).toString('utf8');
            const request: Seen = {
                method: req.method ?? 'GET',
                path: url.pathname,
                query: url.searchParams,
                body: text ? (JSON.parse(text) as Record<string, unknown>) : undefined,
            };
            seen.push(request);
            route(request, res);
        });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
    version = '3.1.1';
    loggedModelsRoute = true;
    seen.length = 0;
});

function connect(): Promise<ExplorerService> {
    const client = new MlflowClient({ baseUrl: base, timeoutMs: 3000 });
    return ExplorerService.connect({ client, key: 'fake', origin: 'test', authenticated: false });
}

describe('connecting', () => {
    test('reads what a 3.1.1 server can do from its version', async () => {
        const service = await connect();
        assert.equal(service.server.version, '3.1.1');
        assert.equal(service.server.major, 3);
        assert.deepEqual(service.server.capabilities, {
            loggedModels: true,
            metricHistoryPaging: true,
            bulkIntervalMetrics: true,
            proxiedArtifacts: true,
            limits: [],
        });
    });

    test('says a 3.0 server sends whole histories', async () => {
        version = '3.0.0';
        const { capabilities } = (await connect()).server;
        assert.equal(capabilities.metricHistoryPaging, false);
        assert.deepEqual(capabilities.limits, [
            "MLflow 3.0.0 sends a metric's whole history in one answer: a history too long for that is charted from the server's sample of 2,500 points.",
        ]);
    });

    test('probes the routes of a server that does not say its version', async () => {
        version = undefined;
        const service = await connect();
        assert.equal(service.server.version, undefined);
        assert.equal(service.server.capabilities.loggedModels, true);
        assert.equal(service.server.capabilities.bulkIntervalMetrics, true);
        assert.equal(service.server.capabilities.metricHistoryPaging, false);
        assert.match(service.server.capabilities.limits[0] ?? '', /did not say its MLflow version/);
        assert.ok(seen.some((r) => r.path === '/api/2.0/mlflow/logged-models/search'));
    });

    test('reports a 401 on /version instead of probing around it', async () => {
        version = 'needs-auth';
        await assert.rejects(connect(), (error: unknown) => {
            assert.ok(error instanceof ExplorerError);
            assert.equal(error.info.status, 401);
            assert.match(error.info.message, /wants credentials/);
            return true;
        });
        assert.ok(!seen.some((r) => r.path === '/api/2.0/mlflow/logged-models/search'));
    });

    test('takes an HTML 404 on logged-models/search as a server without logged models', async () => {
        version = undefined;
        loggedModelsRoute = false;
        const service = await connect();
        assert.equal(service.server.capabilities.loggedModels, false);
        assert.ok(
            service.server.capabilities.limits.includes(
                "This server has no logged models: models logged by this server's runs appear only as run artifacts.",
            ),
        );
        await assert.rejects(
            service.call('loggedModels', { experimentIds: ['1'] }),
            (error: unknown) =>
                error instanceof ExplorerError && error.info.kind === 'not-supported',
        );
    });
});

describe('searching runs', () => {
    test('sends the filter, order, page size and view, and drops runs the server only approximated', async () => {
        const service = await connect();
        const page = await service.call('searchRuns', {
            experimentIds: ['1'],
            view: 'all',
            pageSize: 50,
            pageToken: 'page-1',
            orderBy: { column: { kind: 'metric', key: 'loss' }, ascending: true },
            query: {
                statuses: ['FINISHED'],
                clauses: [
                    { column: { kind: 'param', key: 'weird' }, op: '=', value: `it's a "quote"` },
                ],
            },
        });
        assert.deepEqual(
            page.items.map((r) => r.name),
            ['hit'],
        );
        assert.equal(page.nextPageToken, 'page-2');
        const body = seen.find((r) => r.path === '/api/2.0/mlflow/runs/search')?.body;
        assert.deepEqual(body, {
            experiment_ids: ['1'],
            filter: `attributes.status = 'FINISHED' AND params.\`weird\` LIKE 'it_s a "quote"'`,
            order_by: ['metrics."loss" ASC'],
            max_results: 50,
            page_token: 'page-1',
            run_view_type: 'ALL',
        });
    });

    test('refuses an id that is not an MLflow id before sending anything', async () => {
        const service = await connect();
        seen.length = 0;
        await assert.rejects(
            service.call('searchRuns', {
                experimentIds: ["1' OR '1"],
                view: 'active',
                pageSize: 1,
            }),
            (error: unknown) => error instanceof ExplorerError && error.info.kind === 'invalid',
        );
        assert.equal(seen.length, 0);
    });
});

describe('listing experiments', () => {
    test('keeps only names with a literal underscore, page by page, and follows the token', async () => {
        const service = await connect();
        const first = await service.call('listExperiments', { view: 'active', search: 'N_RMAL' });
        assert.deepEqual(
            first.items.map((e) => e.name),
            ['n_rmal-1'],
        );
        assert.equal(first.nextPageToken, 'exp-2');
        const second = await service.call('listExperiments', {
            view: 'active',
            search: 'N_RMAL',
            pageToken: first.nextPageToken,
        });
        assert.deepEqual(
            second.items.map((e) => e.name),
            ['old n_rmal'],
        );
        assert.equal(second.nextPageToken, undefined);
        const bodies = seen
            .filter((r) => r.path === '/api/2.0/mlflow/experiments/search')
            .map((r) => r.body);
        assert.deepEqual(bodies, [
            { max_results: 200, filter: "name ILIKE '%N_RMAL%'", view_type: 'ACTIVE_ONLY' },
            {
                max_results: 200,
                filter: "name ILIKE '%N_RMAL%'",
                view_type: 'ACTIVE_ONLY',
                page_token: 'exp-2',
            },
        ]);
    });
});

describe('metric history', () => {
    test('follows page tokens and returns the points in step order, NaN as null', async () => {
        const service = await connect();
        const client = new MlflowClient({ baseUrl: base, timeoutMs: 3000 });
        const columns = await fetchMetricColumns(
            client,
            service.server.capabilities,
            'r1',
            'loss',
            {
                pageSize: 3,
            },
        );
        assert.deepEqual(columns, {
            steps: [0, 1, 2, 3, 4, 5, 6],
            timestamps: [1000, 1001, 1002, 1003, 1004, 1005, 1006],
            values: [0, 0.1, 0.2, 0.3, 0.4, null, 0.6],
            sampled: false,
        });
        const pages = seen.filter((r) => r.path === '/api/2.0/mlflow/metrics/get-history');
        assert.deepEqual(
            pages.map((r) => [r.query.get('max_results'), r.query.get('page_token')]),
            [
                ['3', null],
                ['3', '3'],
                ['3', '6'],
            ],
        );
    });

    test("uses the server's sample once a history passes the cap", async () => {
        const service = await connect();
        const client = new MlflowClient({ baseUrl: base, timeoutMs: 3000 });
        const columns = await fetchMetricColumns(
            client,
            service.server.capabilities,
            'r1',
            'loss',
            {
                pageSize: 3,
                maxPoints: 4,
            },
        );
        assert.deepEqual(columns, {
            steps: [0, 4, 6],
            timestamps: [1000, 1004, 1006],
            values: [0, 0.4, 0.6],
            sampled: true,
        });
    });

    test('cuts a history at the cap when the server cannot sample, and says so', async () => {
        const client = new MlflowClient({ baseUrl: base, timeoutMs: 3000 });
        const columns = await fetchMetricColumns(
            client,
            {
                loggedModels: false,
                metricHistoryPaging: false,
                bulkIntervalMetrics: false,
                limits: [],
            },
            'r1',
            'loss',
            { maxPoints: 4 },
        );
        assert.equal(columns.sampled, true);
        assert.equal(columns.steps.length, 4);
        assert.ok(!seen.some((r) => r.path.endsWith('get-history-bulk-interval')));
    });

    test('names each series after its run and refuses more than ten runs', async () => {
        const service = await connect();
        const series = await service.call('metricHistory', { runIds: ['r1', 'r2'], key: 'loss' });
        assert.deepEqual(
            series.map((s) => [s.runId, s.runName, s.steps.length]),
            [
                ['r1', 'the-run', 7],
                ['r2', 'the-run', 7],
            ],
        );
        const many = Array.from({ length: 11 }, (_, i) => `r${i}`);
        await assert.rejects(
            service.call('metricHistory', { runIds: many, key: 'loss' }),
            (error: unknown) =>
                error instanceof ExplorerError &&
                /compares 1 to 10 runs; 11/.test(error.info.message),
        );
    });
});
