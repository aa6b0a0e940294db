import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import type { WebviewMessage } from '../../webview/protocol.js';
import { parseWebviewMessage } from '../../webview/protocol.js';
import {
    LatestOnly,
    RequestClient,
    RequestError,
    errorInfoFrom,
    toErrorInfo,
} from '../../webview/requestClient.js';

/** Timers driven by the test: `fire()` runs the callbacks that are due. */
function fakeTimers() {
    const timers = new Map<number, { at: number; run: () => void }>();
    let now = 0;
    let next = 1;
    return {
        setTimer: (run: () => void, ms: number) => {
            const id = next++;
            timers.set(id, { at: now + ms, run });
            return id;
        },
        clearTimer: (id: unknown) => void timers.delete(id as number),
        advance(ms: number) {
            now += ms;
            for (const [id, timer] of [...timers]) {
                if (timer.at <= now) {
                    timers.delete(id);
                    timer.run();
                }
            }
        },
        get active() {
            return timers.size;
        },
    };
}

function client(options: { timeoutMs?: number } = {}) {
    const sent: WebviewMessage[] = [];
    const timers = fakeTimers();
    const requests = new RequestClient((m) => sent.push(m), { ...options, ...timers });
    return { sent, timers, requests };
}

describe('request client', () => {
    test('sends a request the host validator accepts and resolves with its response', async () => {
        const { sent, timers, requests } = client();
        const answer = requests.request('getRun', { runId: 'abc123' });
        assert.equal(sent.length, 1);
        const parsed = parseWebviewMessage(sent[0]);
        assert.ok(parsed.ok, parsed.ok ? '' : parsed.error);
        const message = sent[0] as Extract<WebviewMessage, { type: 'request' }>;
        assert.equal(message.method, 'getRun');
        const result = { run: { id: 'abc123' }, loggedModels: [], inputModelIds: [], datasets: [] };
        assert.equal(
            requests.handleResponse({ type: 'response', id: message.id, ok: true, result }),
            true,
        );
        assert.deepEqual(await answer, result);
        assert.equal(requests.pendingCount, 0);
        assert.equal(timers.active, 0);
    });

    test('gives each request its own id and matches answers that arrive out of order', async () => {
        const { sent, requests } = client();
        const first = requests.request('listExperiments', { view: 'active' });
        const second = requests.request('listExperiments', { view: 'deleted' });
        const [a, b] = sent as Extract<WebviewMessage, { type: 'request' }>[];
        assert.notEqual(a!.id, b!.id);
        requests.handleResponse({ type: 'response', id: b!.id, ok: true, result: 'second' });
        requests.handleResponse({ type: 'response', id: a!.id, ok: true, result: 'first' });
        assert.equal(await first, 'first');
        assert.equal(await second, 'second');
    });

    test('rejects with the host error sentence, kind and status', async () => {
        const { sent, requests } = client();
        const answer = requests.request('getRun', { runId: 'r1' });
        const id = (sent[0] as { id: number }).id;
        requests.handleResponse({
            type: 'response',
            id,
            ok: false,
            error: { message: 'The server answered 404 for run r1.', kind: 'http', status: 404 },
        });
        await assert.rejects(answer, (error: unknown) => {
            assert.ok(error instanceof RequestError);
            assert.deepEqual(error.info, {
                message: 'The server answered 404 for run r1.',
                kind: 'http',
                status: 404,
            });
            return true;
        });
    });

    test('fails a request the host never answers with a timeout sentence', async () => {
        const { timers, requests } = client({ timeoutMs: 5000 });
        const answer = requests.request('searchRuns', {
            experimentIds: ['1'],
            view: 'active',
            pageSize: 200,
        });
        timers.advance(4999);
        assert.equal(requests.pendingCount, 1);
        timers.advance(1);
        await assert.rejects(answer, (error: unknown) => {
            assert.ok(error instanceof RequestError);
            assert.equal(error.info.kind, 'timeout');
            assert.match(error.info.message, /searchRuns within 5 s/);
            return true;
        });
        assert.equal(requests.pendingCount, 0);
    });

    test('ignores a response that arrives after the timeout or for an unknown id', async () => {
        const { sent, timers, requests } = client({ timeoutMs: 10 });
        const answer = requests.request('getRun', { runId: 'r1' });
        timers.advance(10);
        await assert.rejects(answer);
        const id = (sent[0] as { id: number }).id;
        assert.equal(requests.handleResponse({ type: 'response', id, ok: true, result: 1 }), false);
        assert.equal(
            requests.handleResponse({ type: 'response', id: 999, ok: true, result: 1 }),
            false,
        );
    });

    test('fails every pending request when told to, and clears their timers', async () => {
        const { timers, requests } = client();
        const a = requests.request('getRun', { runId: 'a' });
        const b = requests.request('getRun', { runId: 'b' });
        requests.failAll({ message: 'The server changed.', kind: 'cancelled' });
        await assert.rejects(a, /The server changed/);
        await assert.rejects(b, /The server changed/);
        assert.equal(timers.active, 0);
    });

    test('turns a post that throws into a rejected request', async () => {
        const timers = fakeTimers();
        const requests = new RequestClient(
            () => {
                throw new Error('DataCloneError');
            },
            { ...timers },
        );
        await assert.rejects(requests.request('getRun', { runId: 'a' }), /could not be sent/);
        assert.equal(requests.pendingCount, 0);
        assert.equal(timers.active, 0);
    });

    test('reads an error the host sent in an unexpected shape as a sentence', () => {
        assert.deepEqual(errorInfoFrom({ message: 'm', kind: 7 }), {
            message: 'm',
            kind: 'unknown',
        });
        assert.equal(errorInfoFrom(undefined).kind, 'unknown');
        assert.match(errorInfoFrom('boom').message, /boom/);
        assert.equal(toErrorInfo(new Error('plain')).message, 'plain');
    });
});

describe('latest-only tickets', () => {
    test('keeps only the last ticket current', () => {
        const latest = new LatestOnly();
        const first = latest.next();
        const second = latest.next();
        assert.equal(latest.isCurrent(first), false);
        assert.equal(latest.isCurrent(second), true);
        latest.invalidate();
        assert.equal(latest.isCurrent(second), false);
    });
});
