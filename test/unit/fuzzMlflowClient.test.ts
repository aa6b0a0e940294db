// Property tests for the MLflow client against a local server that answers anything: random
// statuses, headers and bodies, truncated JSON, huge and binary bodies, TLS bytes, wrong content
// types, dropped connections and silence. Every call must resolve with an `ok` observation or
// reject with a classified MlflowRequestError; the probe must always return.

import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { MlflowClient, MlflowRequestError } from '../../src/core/mlflow/client.js';
import { probeServer } from '../../src/core/mlflow/probe.js';
import type { HttpOutcome } from '../../src/core/model.js';
import { checkProperty, NASTY_SNIPPETS } from './fuzzSupport.js';

const OUTCOMES: HttpOutcome[] = [
    'ok',
    'refused',
    'reset',
    'timeout',
    'dns',
    'tls',
    'http-error',
    'non-json',
    'not-mlflow',
    'other',
];

interface Answer {
    status: number;
    contentType?: string;
    headers: Record<string, string>;
    body: Buffer;
    behaviour: 'normal' | 'drop-before' | 'drop-mid-body' | 'silent' | 'lying-length';
}

const MLFLOW_BODIES = [
    '{"experiments": [{"experiment_id": "0", "name": "Default", "artifact_location": "mlflow-artifacts:/0", "lifecycle_stage": "active"}], "next_page_token": "abc"}',
    '{"runs": [{"info": {"run_id": "a1", "experiment_id": "0", "artifact_uri": "mlflow-artifacts:/0/a1/artifacts"}, "data": {}}]}',
    '{"experiment": {"experiment_id": "0", "name": "Default"}}',
    '{"run": {"info": {"run_id": "a1"}}}',
    '{"files": [{"path": "model", "is_dir": true}], "root_uri": "file:///mlruns/0/a1/artifacts"}',
    '{"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "No such run"}',
    '{"models": [{"info": {"model_id": "m-1"}}]}',
    '{"metrics": [{"key": "loss", "value": 0.5, "timestamp": 1, "step": 0}]}',
    'OK',
    '2.22.0',
    '3.17.2\n',
    '<!doctype html><html><head><title>404 Not Found</title></head></html>',
    '<html><head><title>MLflow</title></head><body><div id="root"></div></body></html>',
    '<center>nginx/1.25.3</center>',
    'Invalid Host header - possible DNS rebinding attack detected',
    'Endpoint: /api/2.0/mlflow-artifacts disabled due to the mlflow server running with `--no-serve-artifacts`.',
    'null',
    '[]',
    '"string"',
    '{}',
    '{"files": null}',
    '{"experiments": "not a list"}',
    '{"run": null}',
];

const bodyArb: fc.Arbitrary<Buffer> = fc.oneof(
    fc.constantFrom(...MLFLOW_BODIES).map((b) => Buffer.from(b)),
    fc
        .tuple(fc.constantFrom(...MLFLOW_BODIES), fc.nat())
        .map(([b, cut]) => Buffer.from(b.slice(0, cut % (b.length + 1)))),
    fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
    fc.constantFrom(...NASTY_SNIPPETS).map((s) => Buffer.from(s)),
    fc.constant(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x2a, 0x02, 0x00])),
    fc.constant(
        Buffer.from('{"experiments": [' + '{"experiment_id": "1"},'.repeat(20_000) + '{}]}'),
    ),
    fc.constant(Buffer.alloc(9 * 1024 * 1024, 0x61)),
    fc.constant(Buffer.from('['.repeat(100_000))),
);

const answerArb: fc.Arbitrary<Answer> = fc.record({
    status: fc.oneof(
        fc.constantFrom(200, 200, 200, 201, 204, 301, 302, 400, 401, 403, 404, 500, 502, 503),
        fc.integer({ min: 200, max: 599 }),
    ),
    contentType: fc.option(
        fc.constantFrom(
            'application/json',
            'text/html; charset=utf-8',
            'text/plain',
            'application/octet-stream',
            'application/json; charset=latin1',
            'garbage/\u00e9',
            '',
        ),
        { nil: undefined },
    ),
    headers: fc.dictionary(
        fc.constantFrom(
            'server',
            'www-authenticate',
            'location',
            'x-powered-by',
            'content-encoding',
            'x-junk',
        ),
        fc.constantFrom(
            'nginx',
            'Basic realm="mlflow"',
            '/elsewhere',
            'Express',
            'gzip',
            'Jupyter',
            '\u00ff\u00fe',
        ),
    ),
    body: bodyArb,
    behaviour: fc.constantFrom(
        'normal',
        'normal',
        'normal',
        'normal',
        'drop-before',
        'drop-mid-body',
        'silent',
        'lying-length',
    ),
});

describe('fuzz: MLflow client against a server that answers anything', () => {
    let server: http.Server;
    let baseUrl = '';
    let next: Answer | undefined;
    const sockets = new Set<import('node:net').Socket>();

    before(async () => {
        server = http.createServer((req, res) => {
            req.resume();
            const answer = next;
            if (!answer || answer.behaviour === 'drop-before') {
                req.socket.destroy();
                return;
            }
            if (answer.behaviour === 'silent') return;
            const headers: Record<string, string> = {};
            for (const [name, value] of Object.entries(answer.headers)) headers[name] = value;
            if (answer.contentType !== undefined) headers['content-type'] = answer.contentType;
            if (answer.behaviour === 'lying-length')
                headers['content-length'] = String(answer.body.length + 100);
            try {
                res.writeHead(answer.status, headers);
            } catch {
                res.writeHead(answer.status);
            }
            if (answer.behaviour === 'drop-mid-body') {
                res.write(answer.body.subarray(0, Math.floor(answer.body.length / 2)));
                setTimeout(() => req.socket.destroy(), 5);
                return;
            }
            if (answer.behaviour === 'lying-length') {
                res.write(answer.body);
                setTimeout(() => req.socket.destroy(), 5);
                return;
            }
            res.end(answer.body);
        });
        server.on('connection', (socket) => {
            sockets.add(socket);
            socket.on('close', () => sockets.delete(socket));
        });
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
        baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });

    after(async () => {
        for (const socket of sockets) socket.destroy();
        await new Promise<void>((resolve) => server.close(() => resolve()));
    });

    const calls: ((client: MlflowClient) => Promise<unknown>)[] = [
        (c) => c.health(),
        (c) => c.version(),
        (c) => c.searchExperiments(),
        (c) => c.searchExperiments({ method: 'POST' }),
        (c) => c.getExperiment('0'),
        (c) => c.searchRuns({ experimentIds: ['0'] }),
        (c) => c.getRun('a1'),
        (c) => c.getMetricHistory('a1', 'loss'),
        (c) => c.listArtifacts('a1'),
        (c) => c.searchLoggedModels({ experimentIds: ['0'] }),
    ];

    test('every call resolves with an ok observation or rejects with a classified error', async () => {
        await checkProperty(
            fc.asyncProperty(
                answerArb,
                fc.nat({ max: calls.length - 1 }),
                fc.boolean(),
                async (answer, which, prefix) => {
                    next = answer;
                    const client = new MlflowClient({
                        baseUrl,
                        timeoutMs: 400,
                        detectTlsListener: false,
                        ...(prefix ? { staticPrefix: '/mlflow' } : {}),
                    });
                    const started = performance.now();
                    try {
                        const result = (await calls[which]!(client)) as {
                            observation: { outcome: HttpOutcome };
                        };
                        assert.equal(result.observation.outcome, 'ok');
                    } catch (error) {
                        assert.ok(
                            error instanceof MlflowRequestError,
                            `unclassified rejection: ${String((error as Error)?.stack ?? error)}`,
                        );
                        assert.ok(OUTCOMES.includes(error.kind), error.kind);
                        assert.equal(error.observation.outcome, error.kind);
                        assert.ok(error.message.length > 0);
                        if (error.observation.body !== undefined)
                            assert.ok(error.observation.body.length <= 2000);
                    }
                    // Two requests at most (the static-prefix retry), each on a 400 ms deadline.
                    assert.ok(
                        performance.now() - started < 2500,
                        `took ${Math.round(performance.now() - started)} ms`,
                    );
                },
            ),
            { numRuns: 150, timeLimitMs: 12_000, runTimeoutMs: 5000 },
        );
    });

    test('probeServer always returns a probe whatever the server answers', async () => {
        await checkProperty(
            fc.asyncProperty(answerArb, async (answer) => {
                next = answer;
                const probe = await probeServer(baseUrl, { timeoutMs: 400 });
                assert.equal(probe.baseUrl, baseUrl);
                for (const observation of [
                    probe.health,
                    probe.version,
                    probe.experiments,
                    probe.runs,
                    probe.loggedModels,
                ]) {
                    if (observation)
                        assert.ok(OUTCOMES.includes(observation.outcome), observation.outcome);
                }
            }),
            { numRuns: 25, timeLimitMs: 6000, runTimeoutMs: 8000 },
        );
    });
});
