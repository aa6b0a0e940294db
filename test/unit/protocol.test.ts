import fc from 'fast-check';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
    artifactPathProblem,
    LIMITS,
    parseWebviewMessage,
    type WebviewMessage,
} from '../../webview/protocol.js';
import { checkProperty } from './fuzzSupport.js';

const RUN = '0a1b2c3d4e5f60718293a4b5c6d7e8f9';
const MODEL = 'm-5a1c0c6e2f8b4a0d9e3f7b6c5d4e3f2a';

/** One of every shape the webview may send, with optional fields both present and absent. */
const VALID: WebviewMessage[] = [
    { type: 'ready', protocol: 1 },
    { type: 'request', id: 0, method: 'listExperiments', params: { view: 'active' } },
    {
        type: 'request',
        id: 1,
        method: 'listExperiments',
        params: {
            view: 'all',
            search: '<script>alert(1)</script>',
            pageToken: 'eyJvZmZzZXQiOjEwMH0=',
        },
    },
    {
        type: 'request',
        id: 2,
        method: 'searchRuns',
        params: { experimentIds: ['0'], view: 'deleted', pageSize: 100 },
    },
    {
        type: 'request',
        id: 3,
        method: 'searchRuns',
        params: {
            experimentIds: ['1', '2'],
            view: 'active',
            pageSize: LIMITS.pageSize,
            pageToken: 'abc',
            query: {
                statuses: ['FINISHED', 'FAILED'],
                nameContains: "it's \u202eevil",
                clauses: [
                    { column: { kind: 'metric', key: 'loss' }, op: '<', value: '0.5' },
                    { column: { kind: 'param', key: '__proto__' }, op: 'LIKE', value: '%a%' },
                    { column: { kind: 'attribute', key: 'run_name' }, op: 'ILIKE', value: 'x' },
                ],
            },
            orderBy: { column: { kind: 'tag', key: 'mlflow.user' }, ascending: false },
        },
    },
    { type: 'request', id: 4, method: 'getRun', params: { runId: RUN } },
    { type: 'request', id: 5, method: 'metricHistory', params: { runIds: [RUN], key: 'loss' } },
    {
        type: 'request',
        id: 6,
        method: 'listArtifacts',
        params: { owner: { kind: 'run', runId: RUN }, path: '' },
    },
    {
        type: 'request',
        id: 7,
        method: 'listArtifacts',
        params: { owner: { kind: 'model', modelId: MODEL }, path: 'model/data' },
    },
    { type: 'request', id: 8, method: 'loggedModels', params: { experimentIds: ['1'] } },
    {
        type: 'request',
        id: Number.MAX_SAFE_INTEGER,
        method: 'loggedModels',
        params: { experimentIds: ['1'], runId: RUN, pageToken: 't' },
    },
    { type: 'openArtifact', owner: { kind: 'run', runId: RUN }, path: 'plots/loss curve.png' },
    { type: 'downloadArtifact', owner: { kind: 'model', modelId: MODEL }, path: 'model.pkl' },
    { type: 'selectServer', key: 'a1b2c3d4e5f6a7b8c9d0e1f2' },
    { type: 'copyText', text: 'javascript:alert(1)' },
];

describe('the webview message protocol', () => {
    test('accepts every valid message shape and returns it unchanged', () => {
        for (const message of VALID) {
            const parsed = parseWebviewMessage(structuredClone(message));
            assert.ok(parsed.ok, `${JSON.stringify(message)}: ${parsed.ok ? '' : parsed.error}`);
            assert.deepEqual(parsed.value, message);
        }
    });

    test('rejects an extra field smuggled into a message or its params', () => {
        const extra = [
            { type: 'ready', protocol: 1, html: '<img onerror=alert(1)>' },
            { type: 'request', id: 1, method: 'getRun', params: { runId: RUN, url: 'http://x' } },
            { type: 'openArtifact', owner: { kind: 'run', runId: RUN, root: '/' }, path: 'a' },
        ];
        for (const message of extra) assert.equal(parseWebviewMessage(message).ok, false);
    });

    test('rejects artifact paths that could leave their root', () => {
        for (const path of [
            '..',
            '../etc/passwd',
            'a/../../b',
            '/etc/passwd',
            'a\\..\\b',
            'C:/x',
            'a//b',
            './a',
            'a/\u0000',
            'a/\n',
        ]) {
            assert.ok(artifactPathProblem(path), `${JSON.stringify(path)} is refused`);
            const parsed = parseWebviewMessage({
                type: 'openArtifact',
                owner: { kind: 'run', runId: RUN },
                path,
            });
            assert.equal(parsed.ok, false, JSON.stringify(path));
        }
        assert.equal(artifactPathProblem('a/..b/c..'), undefined);
    });

    test('rejects ids that are not MLflow ids and requests that fan out too far', () => {
        const bad: unknown[] = [
            { type: 'request', id: 1, method: 'getRun', params: { runId: '../x' } },
            { type: 'request', id: 1, method: 'getRun', params: { runId: '' } },
            { type: 'request', id: -1, method: 'getRun', params: { runId: RUN } },
            { type: 'request', id: 1.5, method: 'getRun', params: { runId: RUN } },
            { type: 'request', id: 1, method: 'eval', params: {} },
            { type: 'request', id: 1, method: 'constructor', params: {} },
            {
                type: 'request',
                id: 1,
                method: 'metricHistory',
                params: {
                    runIds: Array.from({ length: LIMITS.compareRuns + 1 }, () => RUN),
                    key: 'k',
                },
            },
            {
                type: 'request',
                id: 1,
                method: 'searchRuns',
                params: { experimentIds: ['1'], view: 'active', pageSize: LIMITS.pageSize + 1 },
            },
            {
                type: 'request',
                id: 1,
                method: 'searchRuns',
                params: { experimentIds: [], view: 'active', pageSize: 1 },
            },
            { type: 'selectServer', key: 'http://user:pw@host' },
            { type: 'openArtifact', owner: { kind: 'run', runId: '..' }, path: 'a' },
            { type: 'request', id: 1, method: 'getRun', params: { runId: '.' } },
            { type: 'copyText', text: 'x'.repeat(LIMITS.copyText + 1) },
        ];
        for (const message of bad) {
            assert.equal(
                parseWebviewMessage(message).ok,
                false,
                JSON.stringify(message).slice(0, 200),
            );
        }
    });

    test('never throws and accepts nothing unexpected in a fuzzed corpus', async () => {
        // Arbitrary JSON-like values, and valid messages with one field replaced by anything.
        const anything = fc.anything({
            maxDepth: 4,
            withObjectString: true,
            withNullPrototype: true,
        });
        const mutated = fc
            .tuple(fc.constantFrom(...VALID), fc.string({ maxLength: 12 }), anything)
            .map(([message, key, value]) => {
                const copy = structuredClone(message) as unknown as Record<string, unknown>;
                const field =
                    key in copy
                        ? key
                        : (Object.keys(copy)[key.length % Object.keys(copy).length] ?? 'type');
                copy[field] = value;
                return copy;
            });
        await checkProperty(
            fc.property(fc.oneof(anything, mutated), (raw) => {
                const parsed = parseWebviewMessage(raw);
                if (!parsed.ok) {
                    assert.equal(typeof parsed.error, 'string');
                    return;
                }
                // Whatever passes is one of the shapes, and parses again to itself.
                const again = parseWebviewMessage(JSON.parse(JSON.stringify(parsed.value)));
                assert.ok(again.ok);
                assert.deepEqual(again.value, parsed.value);
                assert.ok(
                    [
                        'ready',
                        'request',
                        'openArtifact',
                        'downloadArtifact',
                        'selectServer',
                        'copyText',
                    ].includes(parsed.value.type),
                );
            }),
            { numRuns: 3000, timeLimitMs: 10_000 },
        );
    });

    test('survives values that throw when read', () => {
        const hostile = new Proxy(
            {},
            {
                get() {
                    throw new Error('boom');
                },
                ownKeys() {
                    throw new Error('boom');
                },
            },
        );
        const parsed = parseWebviewMessage(hostile);
        assert.equal(parsed.ok, false);
        const getter = Object.defineProperty({ type: 'ready' }, 'protocol', {
            enumerable: true,
            get() {
                throw new Error('boom');
            },
        });
        assert.equal(parseWebviewMessage(getter).ok, false);
    });
});
