// MlflowClient.openStream against a loopback HTTP server this test starts: bodies are handed
// over unread, error answers are judged like every other call, and silence or an abort ends the
// stream instead of hanging it.

import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { MlflowClient, MlflowRequestError } from '../../src/core/mlflow/client.js';

let server: http.Server;
let base = '';
const seen: { url: string; authorization?: string }[] = [];

before(async () => {
    server = http.createServer((req, res) => {
        seen.push({
            url: req.url ?? '',
            ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
        });
        if (req.url?.startsWith('/prefix/api/2.0/mlflow-artifacts/artifacts/big')) {
            res.writeHead(200, {
                'Content-Type': 'application/octet-stream',
                'Content-Length': 3_000_000,
            });
            res.end(Buffer.alloc(3_000_000, 1));
        } else if (req.url?.startsWith('/prefix/missing')) {
            res.writeHead(404, { 'Content-Type': 'application/json' });
            res.end('{"error_code":"RESOURCE_DOES_NOT_EXIST","message":"No such artifact"}');
        } else if (req.url?.startsWith('/prefix/stall')) {
            res.writeHead(200, { 'Content-Length': 100 });
            res.write('partial');
        } else {
            res.writeHead(500, { 'Content-Type': 'text/html' });
            res.end('<html><title>500 Internal Server Error</title></html>');
        }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://user:secret@127.0.0.1:${(server.address() as AddressInfo).port}/prefix`;
});
after(() => {
    server.closeAllConnections();
    server.close();
});

async function drain(stream: NodeJS.ReadableStream): Promise<number> {
    let total = 0;
    for await (const chunk of stream) total += (chunk as Buffer).length;
    return total;
}

void describe('MlflowClient.openStream', () => {
    test('hands over a large body unread, with its size, under the tracking path', async () => {
        const client = new MlflowClient({ baseUrl: base, timeoutMs: 2000 });
        const opened = await client.openStream('/api/2.0/mlflow-artifacts/artifacts/big/a%20b.bin');
        assert.equal(opened.status, 200);
        assert.equal(opened.size, 3_000_000);
        assert.equal(opened.contentType, 'application/octet-stream');
        assert.equal(await drain(opened.stream), 3_000_000);
        const request = seen.at(-1)!;
        assert.equal(request.url, '/prefix/api/2.0/mlflow-artifacts/artifacts/big/a%20b.bin');
        assert.equal(
            request.authorization,
            `Basic ${Buffer.from('user:secret').toString('base64')}`,
        );
        assert.doesNotMatch(opened.observation.url, /secret/);
    });

    test('rejects an MLflow error answer with its error code', async () => {
        const client = new MlflowClient({ baseUrl: base, timeoutMs: 2000 });
        await assert.rejects(client.openStream('/missing', { query: { path: 'x y' } }), (error) => {
            assert.ok(error instanceof MlflowRequestError);
            assert.equal(error.status, 404);
            assert.equal(error.errorCode, 'RESOURCE_DOES_NOT_EXIST');
            assert.match(error.message, /GET \/prefix\/missing\?path=x\+y: HTTP 404/);
            return true;
        });
        await assert.rejects(client.openStream('/other'), /HTTP 500/);
    });

    test('ends a stream that goes silent with an error instead of hanging', async () => {
        const client = new MlflowClient({ baseUrl: base, timeoutMs: 2000 });
        const opened = await client.openStream('/stall', { idleTimeoutMs: 200 });
        const started = Date.now();
        await assert.rejects(drain(opened.stream));
        assert.ok(Date.now() - started < 2000);
    });

    test('ends the stream when the caller aborts', async () => {
        const client = new MlflowClient({ baseUrl: base, timeoutMs: 2000 });
        const controller = new AbortController();
        const opened = await client.openStream('/stall', { signal: controller.signal });
        setTimeout(() => controller.abort(), 50);
        await assert.rejects(drain(opened.stream), (error: Error) => error.name === 'AbortError');
    });

    test('names a refused connection', async () => {
        const client = new MlflowClient({ baseUrl: 'http://127.0.0.1:1', timeoutMs: 2000 });
        await assert.rejects(client.openStream('/x'), (error) => {
            assert.ok(error instanceof MlflowRequestError);
            assert.equal(error.kind, 'refused');
            return true;
        });
    });
});
