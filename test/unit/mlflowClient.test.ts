// The MLflow client and probe against real HTTP servers started here on 127.0.0.1: each server
// reproduces one way a "server" at the tracking URI goes wrong.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
    classifyTransportError,
    identifyResponder,
    maskSecrets,
    MlflowClient,
    MlflowRequestError,
    settle,
    toObservation,
} from '../../src/core/mlflow/client.js';
import { probeServer } from '../../src/core/mlflow/probe.js';
import { freeLoopbackPort } from '../support/mlflowServer.js';

type Handler = (request: http.IncomingMessage, body: string, response: http.ServerResponse) => void;

interface Started {
    url: string;
    port: number;
    close(): Promise<void>;
}

const open: Started[] = [];

function track(server: net.Server, scheme: string): Promise<Started> {
    const sockets = new Set<net.Socket>();
    server.on('connection', (socket: net.Socket) => {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
    });
    return new Promise((resolve) => {
        server.listen(0, '127.0.0.1', () => {
            const port = (server.address() as net.AddressInfo).port;
            const started: Started = {
                url: `${scheme}://127.0.0.1:${port}`,
                port,
                close: () =>
                    new Promise((done) => {
                        for (const socket of sockets) socket.destroy();
                        server.close(() => done());
                    }),
            };
            open.push(started);
            resolve(started);
        });
    });
}

function withBody(handler: Handler): http.RequestListener {
    return (request, response) => {
        const chunks: Buffer[] = [];
        request.on('data', (chunk: Buffer) => chunks.push(chunk));
        request.on('end', () => handler(request, Buffer.concat(chunks).toString('utf8'), response));
    };
}

function startHttp(handler: Handler): Promise<Started> {
    return track(http.createServer(withBody(handler)), 'http');
}

function send(
    response: http.ServerResponse,
    status: number,
    body: string,
    contentType = 'application/json',
    headers: Record<string, string> = {},
): void {
    response.writeHead(status, { 'Content-Type': contentType, ...headers });
    response.end(body);
}

async function rejection(call: Promise<unknown>): Promise<MlflowRequestError> {
    try {
        await call;
    } catch (error) {
        assert.ok(
            error instanceof MlflowRequestError,
            `not an MlflowRequestError: ${String(error)}`,
        );
        return error;
    }
    assert.fail('the call resolved, but it should have been rejected');
}

let certDir = '';
let tlsOptions: { key: Buffer; cert: Buffer } = { key: Buffer.alloc(0), cert: Buffer.alloc(0) };

before(() => {
    certDir = mkdtempSync(path.join(os.tmpdir(), 'sd-mlflow-tls-'));
    execFileSync(
        'openssl',
        [
            'req',
            '-x509',
            '-newkey',
            'rsa:2048',
            '-nodes',
            '-subj',
            '/CN=localhost',
            '-days',
            '1',
            '-keyout',
            path.join(certDir, 'key.pem'),
            '-out',
            path.join(certDir, 'cert.pem'),
        ],
        { stdio: 'ignore', timeout: 30_000 },
    );
    tlsOptions = {
        key: readFileSync(path.join(certDir, 'key.pem')),
        cert: readFileSync(path.join(certDir, 'cert.pem')),
    };
});

after(async () => {
    await Promise.all(open.map((server) => server.close()));
    if (certDir) rmSync(certDir, { recursive: true, force: true });
});

// Recorded shapes (trimmed) of what 2.22 and 3.x servers answer.
const EXPERIMENTS_2X = {
    experiments: [
        {
            experiment_id: '436158244417281025',
            name: 'churn',
            artifact_location: 'mlflow-artifacts:/436158244417281025',
            lifecycle_stage: 'active',
            last_update_time: 1733260000000,
            creation_time: 1733260000000,
        },
        {
            experiment_id: '0',
            name: 'Default',
            artifact_location: 'file:///srv/mlruns/0',
            lifecycle_stage: 'active',
        },
    ],
};

const RUNS = {
    runs: [
        {
            info: {
                run_uuid: 'a1b2c3d4e5f60718293a4b5c6d7e8f90',
                run_id: 'a1b2c3d4e5f60718293a4b5c6d7e8f90',
                run_name: 'bright-owl-12',
                experiment_id: '436158244417281025',
                status: 'FINISHED',
                start_time: 1733260001000,
                end_time: 1733260002000,
                artifact_uri:
                    'mlflow-artifacts:/436158244417281025/a1b2c3d4e5f60718293a4b5c6d7e8f90/artifacts',
                lifecycle_stage: 'active',
            },
            data: { metrics: [{ key: 'auc', value: 0.91, timestamp: 1733260001500, step: 0 }] },
        },
    ],
};

const FLASK_404 =
    '<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n' +
    '<p>The requested URL was not found on the server. If you entered the URL manually please ' +
    'check your spelling and try again.</p>\n';

/** A fake MLflow server of the given major that answers the probe's routes. */
function fakeMlflow(major: 2 | 3): Handler {
    return (request, _body, response) => {
        const url = new URL(request.url ?? '/', 'http://x');
        if (url.pathname === '/health') return send(response, 200, 'OK', 'text/plain');
        if (url.pathname === '/version') {
            return send(
                response,
                200,
                major === 2 ? '2.22.0' : '3.17.2',
                'text/html; charset=utf-8',
            );
        }
        if (url.pathname === '/api/2.0/mlflow/experiments/search') {
            assert.equal(url.searchParams.get('max_results'), '100');
            return send(response, 200, JSON.stringify(EXPERIMENTS_2X));
        }
        if (url.pathname === '/api/2.0/mlflow/runs/search' && request.method === 'POST') {
            return send(response, 200, JSON.stringify(RUNS));
        }
        if (url.pathname === '/api/2.0/mlflow/logged-models/search' && major === 3) {
            return send(response, 200, JSON.stringify({ models: [] }));
        }
        send(response, 404, FLASK_404, 'text/html; charset=utf-8');
    };
}

void describe('transport failures', () => {
    void test('reports a closed port as refused', async () => {
        const port = await freeLoopbackPort();
        const client = new MlflowClient({ baseUrl: `http://127.0.0.1:${port}`, timeoutMs: 2000 });
        const error = await rejection(client.health());
        assert.equal(error.kind, 'refused');
        assert.equal(error.observation.status, null);
        assert.equal(error.observation.request, 'GET /health');
        assert.match(error.observation.error ?? '', /ECONNREFUSED 127\.0\.0\.1:\d+/);
    });

    void test('reports a server that drops the connection as reset', async () => {
        const server = await track(
            net.createServer((socket) => socket.once('data', () => socket.destroy())),
            'http',
        );
        const client = new MlflowClient({ baseUrl: server.url, timeoutMs: 2000 });
        const error = await rejection(client.health());
        assert.equal(error.kind, 'reset');
        assert.equal(error.observation.outcome, 'reset');
    });

    void test('reports a server that never answers as a timeout within the deadline', async () => {
        const server = await track(
            net.createServer(() => undefined),
            'http',
        );
        const client = new MlflowClient({ baseUrl: server.url, timeoutMs: 300 });
        const started = Date.now();
        const error = await rejection(client.version());
        assert.equal(error.kind, 'timeout');
        assert.ok(Date.now() - started < 2500, 'the deadline was not kept');
        assert.ok(error.observation.durationMs >= 250);
    });

    void test('reports a server that sends headers but never finishes the body as a timeout', async () => {
        const server = await startHttp((_request, _body, response) => {
            response.writeHead(200, { 'Content-Type': 'application/json' });
            response.write('{"experiments": [');
            const timer = setInterval(() => response.write(' '), 50);
            response.on('close', () => clearInterval(timer));
        });
        const client = new MlflowClient({ baseUrl: server.url, timeoutMs: 400 });
        const error = await rejection(client.searchExperiments());
        assert.equal(error.kind, 'timeout');
    });

    void test('names DNS failures as dns', () => {
        const failure = classifyTransportError(
            Object.assign(new Error('getaddrinfo ENOTFOUND mlflow'), { code: 'ENOTFOUND' }),
            false,
            new URL('http://mlflow:5000'),
        );
        assert.equal(failure.kind, 'dns');
        assert.match(failure.message, /cannot resolve mlflow/);
        const again = classifyTransportError(
            Object.assign(new Error('getaddrinfo EAI_AGAIN mlflow'), { code: 'EAI_AGAIN' }),
            false,
            new URL('http://mlflow:5000'),
        );
        assert.equal(again.kind, 'dns');
    });

    void test('reports a port that does not speak HTTP as not-mlflow', async () => {
        const server = await track(
            net.createServer((socket) =>
                socket.once('data', () => socket.end('-ERR unknown command\r\n')),
            ),
            'http',
        );
        const client = new MlflowClient({ baseUrl: server.url, timeoutMs: 2000 });
        const error = await rejection(client.health());
        assert.equal(error.kind, 'not-mlflow');
        assert.match(error.message, /does not answer HTTP/);
    });
});

void describe('TLS mismatches', () => {
    void test('reports an https client against a plain-http listener as tls', async () => {
        const server = await startHttp((_request, _body, response) => send(response, 200, 'OK'));
        const client = new MlflowClient({
            baseUrl: server.url.replace('http:', 'https:'),
            timeoutMs: 2000,
        });
        const error = await rejection(client.health());
        assert.equal(error.kind, 'tls');
        assert.equal(error.hint, 'tls-port');
        assert.match(error.observation.error ?? '', /does not speak TLS/);
    });

    void test('reports an http client against a TLS listener as tls, not as a reset', async () => {
        const server = await track(
            https.createServer(tlsOptions, (_request, response) => send(response, 200, 'OK')),
            'https',
        );
        const client = new MlflowClient({
            baseUrl: server.url.replace('https:', 'http:'),
            timeoutMs: 2000,
        });
        const error = await rejection(client.health());
        assert.equal(error.kind, 'tls');
        assert.match(error.message, /https port/);
    });

    void test('reports a TLS alert sent back to a plain-http request as tls', async () => {
        const alert = Buffer.from([0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x46]);
        const server = await track(
            net.createServer((socket) => socket.once('data', () => socket.end(alert))),
            'http',
        );
        const client = new MlflowClient({ baseUrl: server.url, timeoutMs: 2000 });
        const error = await rejection(client.version());
        assert.equal(error.kind, 'tls');
    });

    void test('reports nginx\'s "plain HTTP request was sent to HTTPS port" 400 as tls', async () => {
        const page =
            '<html>\r\n<head><title>400 The plain HTTP request was sent to HTTPS port</title></head>\r\n' +
            '<body>\r\n<center><h1>400 Bad Request</h1></center>\r\n<center>The plain HTTP request ' +
            'was sent to HTTPS port</center>\r\n<hr><center>nginx/1.27.0</center>\r\n</body>\r\n</html>\r\n';
        const server = await startHttp((_request, _body, response) =>
            send(response, 400, page, 'text/html', { Server: 'nginx/1.27.0' }),
        );
        const client = new MlflowClient({ baseUrl: server.url, timeoutMs: 2000 });
        const error = await rejection(client.searchExperiments());
        assert.equal(error.kind, 'tls');
        assert.equal(error.status, 400);
    });

    void test('rejects a self-signed certificate unless told to accept it', async () => {
        const server = await track(
            https.createServer(tlsOptions, (_request, response) =>
                send(response, 200, 'OK', 'text/plain'),
            ),
            'https',
        );
        const strict = new MlflowClient({ baseUrl: server.url, timeoutMs: 2000 });
        const error = await rejection(strict.health());
        assert.equal(error.kind, 'tls');
        assert.match(error.message, /certificate/);

        const lenient = new MlflowClient({
            baseUrl: server.url,
            timeoutMs: 2000,
            insecureTls: true,
        });
        assert.equal((await lenient.health()).data, 'OK');

        const trusted = new MlflowClient({
            baseUrl: server.url.replace('127.0.0.1', 'localhost'),
            timeoutMs: 2000,
            ca: tlsOptions.cert.toString(),
        });
        assert.equal((await trusted.health()).data, 'OK');
    });
});

void describe('HTTP answers', () => {
    void test('reports a 500 HTML page as http-error with status, content type and a snippet', async () => {
        const page =
            '<!doctype html>\n<html lang=en>\n<title>500 Internal Server Error</title>\n' +
            '<h1>Internal Server Error</h1>\n<p>The server encountered an internal error.</p>\n';
        const server = await startHttp((_request, _body, response) =>
            send(response, 500, page, 'text/html; charset=utf-8'),
        );
        const client = new MlflowClient({ baseUrl: server.url, timeoutMs: 2000 });
        const error = await rejection(client.searchRuns({ experimentIds: ['1'] }));
        assert.equal(error.kind, 'http-error');
        assert.equal(error.status, 500);
        assert.equal(error.contentType, 'text/html; charset=utf-8');
        assert.match(error.bodySnippet ?? '', /Internal Server Error/);
        assert.equal(error.observation.request, 'POST /api/2.0/mlflow/runs/search');
        assert.equal(error.observation.outcome, 'http-error');
    });

    void test('reads the error code from an MLflow JSON error', async () => {
        const server = await startHttp((_request, _body, response) =>
            send(
                response,
                404,
                JSON.stringify({
                    error_code: 'RESOURCE_DOES_NOT_EXIST',
                    message: "Run 'abc' not found",
                }),
            ),
        );
        const client = new MlflowClient({ baseUrl: server.url, timeoutMs: 2000 });
        const error = await rejection(client.getRun('abc'));
        assert.equal(error.kind, 'http-error');
        assert.equal(error.errorCode, 'RESOURCE_DOES_NOT_EXIST');
        assert.match(error.message, /Run 'abc' not found/);
        assert.equal(error.observation.request, 'GET /api/2.0/mlflow/runs/get?run_id=abc');
    });

    void test('reports a 200 that is not JSON as non-json', async () => {
        const server = await startHttp((_request, _body, response) =>
            send(response, 200, 'experiments: none', 'text/plain'),
        );
        const client = new MlflowClient({ baseUrl: server.url, timeoutMs: 2000 });
        const error = await rejection(client.searchExperiments());
        assert.equal(error.kind, 'non-json');
        assert.equal(error.status, 200);
        assert.match(error.message, /expected JSON/);
    });

    void test('reports the MLflow UI page at an API path as non-json with the reason', async () => {
        const server = await startHttp((_request, _body, response) =>
            send(
                response,
                200,
                '<!doctype html><html><head><title>MLflow</title></head></html>',
                'text/html',
            ),
        );
        const client = new MlflowClient({ baseUrl: server.url, timeoutMs: 2000 });
        const error = await rejection(client.searchExperiments());
        assert.equal(error.kind, 'non-json');
        assert.equal(error.responder, 'MLflow UI');
    });

    void test('recognises a Jupyter server answering at the tracking URI', async () => {
        const page =
            '<!DOCTYPE HTML>\n<html>\n<head>\n<meta charset="utf-8">\n<title>Home Page - Select or ' +
            'create a notebook</title>\n<script id="jupyter-config-data" type="application/json">' +
            '{"baseUrl": "/"}</script>\n</head>\n</html>';
        const server = await startHttp((_request, _body, response) =>
            send(response, 200, page, 'text/html', { Server: 'TornadoServer/6.4' }),
        );
        const client = new MlflowClient({ baseUrl: server.url, timeoutMs: 2000 });
        const health = await rejection(client.health());
        assert.equal(health.kind, 'not-mlflow');
        assert.equal(health.responder, 'Jupyter');
        assert.match(health.message, /MLflow answers "OK"/);
        const version = await rejection(client.version());
        assert.equal(version.kind, 'not-mlflow');
        const runs = await rejection(client.searchRuns({ experimentIds: ['0'] }));
        assert.equal(runs.kind, 'not-mlflow');
    });

    void test('recognises the nginx welcome page as not MLflow', async () => {
        const page =
            '<!DOCTYPE html>\n<html>\n<head>\n<title>Welcome to nginx!</title>\n</head>\n<body>\n' +
            '<h1>Welcome to nginx!</h1>\n</body>\n</html>\n';
        const server = await startHttp((_request, _body, response) =>
            send(response, 200, page, 'text/html', { Server: 'nginx/1.27.0' }),
        );
        const client = new MlflowClient({ baseUrl: server.url, timeoutMs: 2000 });
        const error = await rejection(client.searchExperiments());
        assert.equal(error.kind, 'not-mlflow');
        assert.equal(error.responder, 'nginx');
        assert.equal(error.observation.headers?.['server'], 'nginx/1.27.0');
    });

    void test('reports an nginx 404 page as the proxy answering itself', async () => {
        const page =
            '<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n<center><h1>404 Not ' +
            'Found</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n';
        const server = await startHttp((_request, _body, response) =>
            send(response, 404, page, 'text/html'),
        );
        const client = new MlflowClient({ baseUrl: server.url, timeoutMs: 2000 });
        const error = await rejection(client.searchExperiments());
        assert.equal(error.kind, 'http-error');
        assert.equal(error.hint, 'proxy-page');
    });

    void test('reports a Flask HTML 404 as a missing route', async () => {
        const server = await startHttp((_request, _body, response) =>
            send(response, 404, FLASK_404, 'text/html; charset=utf-8'),
        );
        const client = new MlflowClient({ baseUrl: server.url, timeoutMs: 2000 });
        const error = await rejection(client.searchLoggedModels({ experimentIds: ['0'] }));
        assert.equal(error.kind, 'http-error');
        assert.equal(error.status, 404);
        assert.equal(error.hint, 'route-missing');
    });

    void test('reports the 3.5+ Host-header rejection as host-header', async () => {
        const server = await startHttp((request, _body, response) => {
            if (request.headers.host !== 'mlflow:5000') return send(response, 200, '{}');
            send(
                response,
                403,
                'Invalid Host header - possible DNS rebinding attack detected',
                'text/plain',
            );
        });
        const client = new MlflowClient({
            baseUrl: server.url,
            timeoutMs: 2000,
            hostHeader: 'mlflow:5000',
        });
        const error = await rejection(client.searchExperiments());
        assert.equal(error.kind, 'http-error');
        assert.equal(error.status, 403);
        assert.equal(error.hint, 'host-header');
        assert.equal(
            error.bodySnippet,
            'Invalid Host header - possible DNS rebinding attack detected',
        );
    });

    void test('reports basic auth as 401 and sends configured credentials without recording them', async () => {
        const expected = `Basic ${Buffer.from('alice:s3cret-change-me').toString('base64')}`;
        const server = await startHttp((request, _body, response) => {
            if (request.headers.authorization === expected)
                return send(response, 200, '3.17.2', 'text/plain');
            send(
                response,
                401,
                'You are not authenticated. Please see https://www.mlflow.org/docs/latest/auth/index.html#authenticating-to-mlflow on how to authenticate.',
                'text/plain',
                { 'WWW-Authenticate': 'Basic realm="mlflow"' },
            );
        });
        const anonymous = new MlflowClient({ baseUrl: server.url, timeoutMs: 2000 });
        const error = await rejection(anonymous.version());
        assert.equal(error.status, 401);
        assert.equal(error.hint, 'auth');
        assert.match(error.message, /Basic realm="mlflow"/);

        const withAuth = new MlflowClient({
            baseUrl: server.url,
            timeoutMs: 2000,
            auth: { username: 'alice', password: 's3cret-change-me' },
        });
        const version = await withAuth.version();
        assert.equal(version.data, '3.17.2');
        assert.ok(!JSON.stringify(version.observation).includes('s3cret'));

        const fromUrl = new MlflowClient({
            baseUrl: server.url.replace('//', '//alice:s3cret-change-me@'),
            timeoutMs: 2000,
        });
        const observed = await fromUrl.version();
        assert.equal(observed.data, '3.17.2');
        assert.ok(!observed.observation.url.includes('s3cret'));
        assert.ok(!fromUrl.baseUrl.includes('s3cret'));
    });

    void test('sends a bearer token', async () => {
        const server = await startHttp((request, _body, response) =>
            send(response, request.headers.authorization === 'Bearer tok-123456' ? 200 : 401, '{}'),
        );
        const client = new MlflowClient({
            baseUrl: server.url,
            timeoutMs: 2000,
            auth: { token: 'tok-123456' },
        });
        assert.deepEqual((await client.searchExperiments()).data, { items: [] });
    });

    void test('does not follow redirects and says where they point', async () => {
        const server = await startHttp((_request, _body, response) =>
            send(response, 302, '', 'text/html', { Location: 'http://127.0.0.1:1/login' }),
        );
        const client = new MlflowClient({ baseUrl: server.url, timeoutMs: 2000 });
        const error = await rejection(client.searchExperiments());
        assert.equal(error.kind, 'http-error');
        assert.equal(error.status, 302);
        assert.match(error.message, /redirected \(302\) to http:\/\/127\.0\.0\.1:1\/login/);
    });

    void test('masks secrets in recorded bodies and cuts them to about 500 characters', async () => {
        const body = JSON.stringify({
            error_code: 'INTERNAL_ERROR',
            message: `connect to postgresql://mlflow:hunter2-change-me@db:5432/mlflow failed; password=hunter2 ${'x'.repeat(900)}`,
        });
        const server = await startHttp((_request, _body, response) => send(response, 500, body));
        const client = new MlflowClient({ baseUrl: server.url, timeoutMs: 2000 });
        const error = await rejection(client.searchExperiments());
        assert.ok(!(error.bodySnippet ?? '').includes('hunter2'));
        assert.ok(!error.message.includes('hunter2'));
        assert.ok((error.bodySnippet ?? '').length <= 501);
    });
});

void describe('typed calls', () => {
    void test('keeps 18-digit experiment ids as strings and sends max_results', async () => {
        const server = await startHttp(fakeMlflow(2));
        const client = new MlflowClient({ baseUrl: server.url, timeoutMs: 2000 });
        const { data, observation } = await client.searchExperiments();
        assert.equal(data.items[0]?.experiment_id, '436158244417281025');
        assert.equal(observation.request, 'GET /api/2.0/mlflow/experiments/search?max_results=100');
        assert.equal(observation.outcome, 'ok');
        assert.equal(observation.status, 200);
    });

    void test('sends repeated query fields and a JSON body without undefined fields', async () => {
        let seen: { url?: string; body?: string; contentType?: string } = {};
        const server = await startHttp((request, body, response) => {
            seen = {
                url: request.url ?? '',
                body,
                contentType: request.headers['content-type'] ?? '',
            };
            send(response, 200, JSON.stringify({ runs: RUNS.runs, next_page_token: 'tok' }));
        });
        const client = new MlflowClient({ baseUrl: `${server.url}/mlflow/`, timeoutMs: 2000 });
        const runs = await client.searchRuns({ experimentIds: ['1', '2'], maxResults: 5 });
        assert.equal(seen.url, '/mlflow/api/2.0/mlflow/runs/search');
        assert.deepEqual(JSON.parse(seen.body ?? ''), {
            experiment_ids: ['1', '2'],
            max_results: 5,
        });
        assert.equal(seen.contentType, 'application/json');
        assert.equal(runs.data.nextPageToken, 'tok');
        assert.equal(runs.data.items[0]?.info.run_id, 'a1b2c3d4e5f60718293a4b5c6d7e8f90');

        await client.request('GET', '/api/2.0/mlflow/metrics/get-history-bulk-interval', {
            query: { run_ids: ['a', 'b'], metric_key: 'auc' },
        });
        assert.equal(
            seen.url,
            '/mlflow/api/2.0/mlflow/metrics/get-history-bulk-interval?run_ids=a&run_ids=b&metric_key=auc',
        );
    });

    void test('reads a run, its metric history and its artifacts', async () => {
        const server = await startHttp((request, _body, response) => {
            const url = new URL(request.url ?? '/', 'http://x');
            if (url.pathname.endsWith('/runs/get'))
                return send(response, 200, JSON.stringify({ run: RUNS.runs[0] }));
            if (url.pathname.endsWith('/metrics/get-history')) {
                return send(
                    response,
                    200,
                    JSON.stringify({ metrics: [{ key: 'auc', value: 0.9, step: 1 }] }),
                );
            }
            if (url.pathname.endsWith('/artifacts/list')) {
                assert.equal(url.searchParams.get('path'), 'model');
                return send(
                    response,
                    200,
                    JSON.stringify({
                        root_uri: 'mlflow-artifacts:/1/r/artifacts',
                        files: [{ path: 'model/MLmodel', is_dir: false, file_size: 321 }],
                    }),
                );
            }
            if (url.pathname.endsWith('/experiments/get')) {
                return send(
                    response,
                    200,
                    JSON.stringify({ experiment: EXPERIMENTS_2X.experiments[0] }),
                );
            }
            send(response, 404, FLASK_404, 'text/html');
        });
        const client = new MlflowClient({ baseUrl: server.url, timeoutMs: 2000 });
        assert.equal((await client.getRun('r')).data.info.status, 'FINISHED');
        assert.equal((await client.getMetricHistory('r', 'auc')).data.items[0]?.value, 0.9);
        const listing = await client.listArtifacts('r', 'model');
        assert.equal(listing.data.root_uri, 'mlflow-artifacts:/1/r/artifacts');
        assert.equal(listing.data.files[0]?.file_size, 321);
        assert.equal((await client.getExperiment('436158244417281025')).data.name, 'churn');
    });

    void test('rejects a JSON answer without the expected object as not-mlflow', async () => {
        const server = await startHttp((_request, _body, response) =>
            send(response, 200, '[1, 2]'),
        );
        const client = new MlflowClient({ baseUrl: server.url, timeoutMs: 2000 });
        const error = await rejection(client.getRun('r'));
        assert.equal(error.kind, 'not-mlflow');
    });

    void test('falls back to the static prefix for /version on 3.7+', async () => {
        const server = await startHttp((request, _body, response) => {
            if (request.url === '/mlflow/version')
                return send(response, 200, '3.17.2', 'text/plain');
            send(response, 404, FLASK_404, 'text/html');
        });
        const client = new MlflowClient({
            baseUrl: server.url,
            timeoutMs: 2000,
            staticPrefix: '/mlflow',
        });
        const version = await client.version();
        assert.equal(version.data, '3.17.2');
        assert.equal(version.observation.request, 'GET /mlflow/version');
        const without = new MlflowClient({ baseUrl: server.url, timeoutMs: 2000 });
        assert.equal((await rejection(without.version())).status, 404);
    });

    void test('toObservation turns successes and failures into observations', async () => {
        const server = await startHttp(fakeMlflow(2));
        const client = new MlflowClient({ baseUrl: server.url, timeoutMs: 2000 });
        const ok = await toObservation(client.health());
        assert.equal(ok.outcome, 'ok');
        assert.equal(ok.body, 'OK');
        const missing = await toObservation(client.searchLoggedModels({ experimentIds: ['0'] }));
        assert.equal(missing.outcome, 'http-error');
        assert.equal(missing.status, 404);
        assert.equal(missing.request, 'POST /api/2.0/mlflow/logged-models/search');
        const settled = await settle(client.version());
        assert.equal(settled.data, '2.22.0');
    });

    void test('refuses a tracking URI that is not http(s)', () => {
        assert.throws(
            () => new MlflowClient({ baseUrl: 'file:///tmp/mlruns' }),
            /must be http\(s\)/,
        );
    });
});

void describe('probeServer', () => {
    void test('fills version, experiments and run artifact URIs from a 2.x server', async () => {
        const server = await startHttp(fakeMlflow(2));
        const probe = await probeServer(server.url, { timeoutMs: 2000, origin: 'published-port' });
        assert.equal(probe.origin, 'published-port');
        assert.equal(probe.serverVersion, '2.22.0');
        assert.equal(probe.health?.outcome, 'ok');
        assert.deepEqual(probe.experimentList?.[0], {
            id: '436158244417281025',
            name: 'churn',
            artifactLocation: 'mlflow-artifacts:/436158244417281025',
        });
        assert.equal(probe.runs?.outcome, 'ok');
        assert.deepEqual(probe.runArtifactUris, [
            {
                runId: 'a1b2c3d4e5f60718293a4b5c6d7e8f90',
                artifactUri:
                    'mlflow-artifacts:/436158244417281025/a1b2c3d4e5f60718293a4b5c6d7e8f90/artifacts',
            },
        ]);
        assert.equal(probe.loggedModels?.status, 404);
    });

    void test('gets an ok logged-models search from a 3.x server', async () => {
        const server = await startHttp(fakeMlflow(3));
        const probe = await probeServer(server.url, { timeoutMs: 2000 });
        assert.equal(probe.serverVersion, '3.17.2');
        assert.equal(probe.loggedModels?.outcome, 'ok');
    });

    void test('records the Host-header rejection while /health and /version answer', async () => {
        const server = await startHttp((request, _body, response) => {
            if (request.url === '/health') return send(response, 200, 'OK', 'text/plain');
            if (request.url === '/version') return send(response, 200, '3.5.0', 'text/plain');
            send(
                response,
                403,
                'Invalid Host header - possible DNS rebinding attack detected',
                'text/plain',
            );
        });
        const probe = await probeServer(server.url, { timeoutMs: 2000 });
        assert.equal(probe.health?.status, 200);
        assert.equal(probe.serverVersion, '3.5.0');
        assert.equal(probe.experiments?.status, 403);
        assert.match(probe.experiments?.error ?? '', /Host allow-list/);
        assert.equal(probe.runs, undefined);
        assert.equal(probe.experimentList, undefined);
    });

    void test('records a basic-auth 401 without guessing credentials', async () => {
        const attempts: (string | undefined)[] = [];
        const server = await startHttp((request, _body, response) => {
            attempts.push(request.headers.authorization);
            if (request.url === '/health') return send(response, 200, 'OK', 'text/plain');
            send(response, 401, 'You are not authenticated.', 'text/plain', {
                'WWW-Authenticate': 'Basic realm="mlflow"',
            });
        });
        const probe = await probeServer(server.url, { timeoutMs: 2000 });
        assert.equal(probe.version?.status, 401);
        assert.equal(probe.experiments?.status, 401);
        assert.equal(probe.experiments?.headers?.['www-authenticate'], 'Basic realm="mlflow"');
        assert.ok(attempts.every((header) => header === undefined));
        assert.equal(attempts.length, 3);
    });

    void test('never throws: a refused port and a malformed URL become observations', async () => {
        const port = await freeLoopbackPort();
        const refused = await probeServer(`http://127.0.0.1:${port}`, { timeoutMs: 1000 });
        assert.equal(refused.health?.outcome, 'refused');
        assert.equal(refused.version?.outcome, 'refused');
        assert.equal(refused.experiments?.outcome, 'refused');
        assert.equal(refused.runs, undefined);

        const malformed = await probeServer('not a url', { timeoutMs: 1000 });
        assert.equal(malformed.health?.outcome, 'other');
        assert.match(malformed.health?.error ?? '', /not a usable MLflow URL/);
    });

    void test('runs the independent requests in parallel, each on its own deadline', async () => {
        const server = await track(
            net.createServer(() => undefined),
            'http',
        );
        const started = Date.now();
        const probe = await probeServer(server.url, { timeoutMs: 400 });
        const took = Date.now() - started;
        assert.equal(probe.health?.outcome, 'timeout');
        assert.equal(probe.experiments?.outcome, 'timeout');
        assert.ok(took < 1100, `three 400 ms deadlines took ${took} ms: not parallel`);
    });
});

void describe('secret masking and responders', () => {
    void test('masks URL passwords, tokens and keys', () => {
        assert.equal(maskSecrets('postgresql://u:pw@db/x'), 'postgresql://u:***@db/x');
        assert.equal(
            maskSecrets('Authorization: Bearer abcdef123456'),
            'Authorization: Bearer ***',
        );
        assert.equal(maskSecrets('"password": "p4ss"'), '"password": "***"');
        assert.equal(maskSecrets('AWS_SECRET_ACCESS_KEY=abc/def'), 'AWS_SECRET_ACCESS_KEY=***');
        assert.equal(maskSecrets('key AKIAABCDEFGHIJKLMNOP'), 'key AKIA****************');
        assert.equal(maskSecrets('nothing to hide'), 'nothing to hide');
    });

    void test('identifies common responders and leaves Flask error pages alone', () => {
        assert.equal(identifyResponder('<title>Grafana</title>'), 'Grafana');
        assert.equal(
            identifyResponder('<?xml version="1.0"?><Error><Code>AccessDenied</Code>'),
            'MinIO',
        );
        assert.equal(identifyResponder(FLASK_404), undefined);
        assert.equal(identifyResponder('{"experiments": []}'), undefined);
    });
});
