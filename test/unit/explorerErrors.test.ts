// The sentences the explorer shows when a request fails. Each failure is produced for real by the
// MLflow client against a loopback node:http server (or a closed port), so the sentence is made
// from what the client actually observed; credentials sent with the request never appear.

import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { MlflowClient } from '../../src/core/mlflow/client.js';
import { ExplorerError, toErrorInfo } from '../../src/core/explorer/explorerService.js';
import { freeLoopbackPort } from '../support/mlflowServer.js';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

const ROUTES: Record<string, Handler> = {
    '/api/2.0/mlflow/runs/get': (_req, res) => {
        res.writeHead(404, { 'Content-Type': 'application/json' });
        res.end(
            '{"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "Run with id=abc not found"}',
        );
    },
    '/api/2.0/mlflow/runs/search': (_req, res) => {
        res.writeHead(400, { 'Content-Type': 'application/json' });
        res.end(
            '{"error_code": "INVALID_PARAMETER_VALUE", "message": "Invalid clause(s) in filter string"}',
        );
    },
    '/auth': (_req, res) => {
        res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="mlflow"' });
        res.end('You are not authenticated.');
    },
    '/host': (_req, res) => {
        res.writeHead(403, { 'Content-Type': 'text/plain' });
        res.end('Invalid Host header - possible DNS rebinding attack detected');
    },
    '/missing': (_req, res) => {
        res.writeHead(404, { 'Content-Type': 'text/html' });
        res.end('<!doctype html><title>404 Not Found</title><h1>Not Found</h1>');
    },
    // A crash page that repeats the request's Authorization header, as some proxies do.
    '/crash': (req, res) => {
        res.writeHead(500, { 'Content-Type': 'text/plain' });
        res.end(`Internal error while handling Authorization: ${req.headers.authorization ?? ''}`);
    },
    '/ui': (_req, res) => {
        res.writeHead(200, { 'Content-Type': 'text/html' });
        res.end('<!doctype html><html><head><title>MLflow</title></head><body></body></html>');
    },
    '/nginx': (_req, res) => {
        res.writeHead(200, { 'Content-Type': 'text/html' });
        res.end(
            '<html><head><title>Welcome to nginx!</title></head><body>Welcome to nginx</body></html>',
        );
    },
    '/slow': () => {
        // Never answers: the client's deadline must end it.
    },
    '/reset': (req) => {
        req.socket.destroy();
    },
};

let server: http.Server;
let base = '';

before(async () => {
    server = http.createServer((req, res) => {
        const route = ROUTES[new URL(req.url ?? '/', 'http://x').pathname];
        if (route) route(req, res);
        else {
            res.writeHead(500);
            res.end('unexpected route');
        }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
});

const SECRET = 'hunter2-secret';

function client(timeoutMs = 3000): MlflowClient {
    return new MlflowClient({
        baseUrl: `http://bob:${SECRET}@${base}`,
        timeoutMs,
        detectTlsListener: false,
    });
}

async function failure(call: Promise<unknown>): Promise<ReturnType<typeof toErrorInfo>> {
    try {
        await call;
    } catch (error) {
        const info = toErrorInfo(error);
        assert.ok(!info.message.includes(SECRET), info.message);
        assert.ok(!info.message.includes('bob:'), info.message);
        assert.ok(!/Basic [A-Za-z0-9+/=]{8,}/.test(info.message), info.message);
        return info;
    }
    throw new Error('the call did not fail');
}

describe('explorer error sentences', () => {
    test('a refused connection names the URL and says to start the server', async () => {
        const port = await freeLoopbackPort();
        const info = await failure(
            new MlflowClient({ baseUrl: `http://bob:${SECRET}@127.0.0.1:${port}` }).version(),
        );
        assert.equal(info.kind, 'refused');
        assert.equal(
            info.message,
            `Nothing answers at http://127.0.0.1:${port}/version: the connection was refused. Start the MLflow server (or its container) or correct the tracking URI.`,
        );
    });

    test('a missing run is a 404 that says it may have been deleted, without the query', async () => {
        const info = await failure(client().getRun('abc'));
        assert.equal(info.kind, 'http');
        assert.equal(info.status, 404);
        assert.match(
            info.message,
            new RegExp(`^MLflow at http://${base}/api/2.0/mlflow/runs/get has no such item`),
        );
        assert.ok(info.message.includes('Run with id=abc not found'));
        assert.ok(!info.message.includes('run_id='));
    });

    test('a rejected filter says to change the filter', async () => {
        const info = await failure(
            client().searchRuns({ experimentIds: ['1'], filter: "x = 'y'" }),
        );
        assert.equal(info.status, 400);
        assert.ok(info.message.includes('INVALID_PARAMETER_VALUE'));
        assert.ok(info.message.endsWith('Change the filter or sort and try again.'));
    });

    test('a 401 asks for credentials', async () => {
        const info = await failure(client().request('GET', '/auth'));
        assert.equal(info.status, 401);
        assert.match(
            info.message,
            /wants credentials \(HTTP 401\)\. Set the username and password or token/,
        );
    });

    test('a 403 from the Host check names --allowed-hosts', async () => {
        const info = await failure(client().request('GET', '/host'));
        assert.equal(info.status, 403);
        assert.ok(info.message.includes('--allowed-hosts'));
    });

    test('an HTML 404 says the route is missing', async () => {
        const info = await failure(client().request('GET', '/missing'));
        assert.equal(info.status, 404);
        assert.match(
            info.message,
            /has no such route \(HTTP 404\)\. The server is older than this feature/,
        );
    });

    test('a 500 that echoes the Authorization header shows no credentials', async () => {
        const info = await failure(client().request('GET', '/crash'));
        assert.equal(info.kind, 'http');
        assert.equal(info.status, 500);
        assert.ok(info.message.endsWith("The server's log shows the cause."));
    });

    test('the UI page instead of JSON says to point at the server, not its UI path', async () => {
        const info = await failure(client().request('GET', '/ui'));
        assert.equal(info.kind, 'non-json');
        assert.match(info.message, /did not answer with MLflow's JSON/);
    });

    test('another application names itself as not MLflow', async () => {
        const info = await failure(client().request('GET', '/nginx'));
        assert.equal(info.kind, 'not-mlflow');
        assert.match(
            info.message,
            new RegExp(`^http://${base}/nginx is not an MLflow server \\(answered by nginx`),
        );
    });

    test('a server that never answers is a timeout, within the deadline', async () => {
        const started = Date.now();
        const info = await failure(client(300).request('GET', '/slow'));
        assert.equal(info.kind, 'timeout');
        assert.ok(Date.now() - started < 3000);
        assert.match(info.message, /did not answer in time/);
    });

    test('a reset connection says what may be in the way', async () => {
        const info = await failure(client().request('GET', '/reset'));
        assert.equal(info.kind, 'reset');
        assert.match(info.message, /was reset before an answer came/);
    });

    test('an ExplorerError keeps its own sentence and anything else is masked', () => {
        const own = new ExplorerError({ kind: 'invalid', message: 'Bad filter.' });
        assert.deepEqual(toErrorInfo(own), { kind: 'invalid', message: 'Bad filter.' });
        const other = toErrorInfo(new Error('failed with token=abcdef123456'));
        assert.equal(other.kind, 'other');
        assert.ok(!other.message.includes('abcdef123456'), other.message);
    });
});
