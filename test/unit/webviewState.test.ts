import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import {
    REMEMBERED_EXPERIMENTS,
    emptyState,
    prefsFor,
    restoreState,
    withPrefs,
} from '../../webview/persistedState.js';
import { LIMITS } from '../../webview/protocol.js';
import { clauseProblem, toRunQuery } from '../../webview/runQueryBuilder.js';

describe('persisted explorer state', () => {
    test('restores a saved selection, view, tab and per-experiment columns', () => {
        const saved = withPrefs(
            {
                ...emptyState(),
                serverKey: 'compose-mlflow',
                experimentId: '7',
                runId: 'abc',
                tab: 'metrics',
                experimentView: 'all',
            },
            '7',
            {
                columns: [{ kind: 'metric', key: 'loss' }],
                sort: { column: { kind: 'metric', key: 'loss' }, ascending: true },
            },
        );
        const restored = restoreState(JSON.parse(JSON.stringify(saved)));
        assert.deepEqual(restored, saved);
        assert.deepEqual(prefsFor(restored, '7').columns, [{ kind: 'metric', key: 'loss' }]);
        assert.deepEqual(prefsFor(restored, '8'), { experimentId: '8' });
    });

    test('gives the defaults for a missing, foreign or older state', () => {
        for (const raw of [
            undefined,
            null,
            'x',
            [],
            { version: 0 },
            { version: 2, experimentId: '1' },
        ]) {
            assert.deepEqual(restoreState(raw), emptyState());
        }
    });

    test('drops tampered fields: URL-like server keys, bad ids, unknown tabs and columns', () => {
        const restored = restoreState({
            version: 1,
            serverKey: 'http://user:secret@host:5000',
            experimentId: '1; DROP',
            runId: '<script>',
            tab: 'javascript:alert(1)',
            experimentView: 'everything',
            experiments: [
                {
                    experimentId: '__proto__',
                    columns: [
                        { kind: 'attribute', key: 'password' },
                        { kind: 'param', key: 'lr' },
                    ],
                },
                {
                    experimentId: '2',
                    filters: {
                        statuses: ['FINISHED', 'EVIL'],
                        nameContains: 5,
                        clauses: [
                            { column: { kind: 'metric', key: 'acc' }, op: 'DROP', value: '1' },
                        ],
                    },
                },
                'garbage',
            ],
        });
        assert.equal(restored.serverKey, undefined);
        assert.equal(restored.experimentId, undefined);
        assert.equal(restored.runId, undefined);
        assert.equal(restored.tab, undefined);
        assert.equal(restored.experimentView, 'active');
        assert.deepEqual(restored.experiments, [
            { experimentId: '__proto__', columns: [{ kind: 'param', key: 'lr' }] },
            {
                experimentId: '2',
                filters: { statuses: ['FINISHED'], nameContains: '', clauses: [] },
            },
        ]);
        assert.equal(Object.getPrototypeOf(restored), Object.prototype);
    });

    test('remembers the most recently used experiments only', () => {
        let state = emptyState();
        for (let i = 0; i < REMEMBERED_EXPERIMENTS + 10; i++)
            state = withPrefs(state, String(i), { columns: [] });
        assert.equal(state.experiments.length, REMEMBERED_EXPERIMENTS);
        assert.equal(state.experiments[0]?.experimentId, String(REMEMBERED_EXPERIMENTS + 9));
        state = withPrefs(state, '30', {
            sort: { column: { kind: 'attribute', key: 'start_time' }, ascending: false },
        });
        assert.equal(state.experiments[0]?.experimentId, '30');
        assert.equal(state.experiments.filter((p) => p.experimentId === '30').length, 1);
    });
});

describe('run filters', () => {
    test('builds a query from statuses, name and valid clauses', () => {
        assert.deepEqual(
            toRunQuery({
                statuses: ['FAILED', 'KILLED'],
                nameContains: '  resnet ',
                clauses: [
                    { column: { kind: 'metric', key: 'acc' }, op: '>', value: '0.9' },
                    { column: { kind: 'metric', key: 'acc' }, op: 'LIKE', value: '%' },
                ],
            }),
            {
                statuses: ['FAILED', 'KILLED'],
                nameContains: 'resnet',
                clauses: [{ column: { kind: 'metric', key: 'acc' }, op: '>', value: '0.9' }],
            },
        );
    });

    test('leaves the query out when nothing filters, or every status is ticked', () => {
        assert.equal(toRunQuery({ statuses: [], nameContains: ' ', clauses: [] }), undefined);
        assert.equal(
            toRunQuery({
                statuses: ['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED'],
                nameContains: '',
                clauses: [],
            }),
            undefined,
        );
    });

    test('says why MLflow would refuse a clause', () => {
        assert.match(
            clauseProblem({ column: { kind: 'metric', key: 'acc' }, op: '>', value: 'high' }) ?? '',
            /not a number/,
        );
        assert.match(
            clauseProblem({ column: { kind: 'metric', key: 'acc' }, op: 'LIKE', value: '1' }) ?? '',
            /does not accept LIKE/,
        );
        assert.match(
            clauseProblem({ column: { kind: 'param', key: ' ' }, op: '=', value: '1' }) ?? '',
            /Choose a key/,
        );
        assert.match(
            clauseProblem({ column: { kind: 'attribute', key: 'secret' }, op: '=', value: '1' }) ??
                '',
            /cannot filter/,
        );
        assert.match(
            clauseProblem({
                column: { kind: 'tag', key: 't' },
                op: '=',
                value: 'x'.repeat(LIMITS.text + 1),
            }) ?? '',
            /longer/,
        );
        assert.equal(
            clauseProblem({ column: { kind: 'param', key: 'opt' }, op: 'ILIKE', value: '%adam%' }),
            undefined,
        );
        assert.equal(
            clauseProblem({
                column: { kind: 'attribute', key: 'start_time' },
                op: '>=',
                value: '1700000000000',
            }),
            undefined,
        );
    });

    test('caps the clauses sent at the protocol limit', () => {
        const clauses = Array.from({ length: LIMITS.clauses + 5 }, (_, i) => ({
            column: { kind: 'param' as const, key: `p${i}` },
            op: '=' as const,
            value: '1',
        }));
        assert.equal(
            toRunQuery({ statuses: [], nameContains: '', clauses })?.clauses?.length,
            LIMITS.clauses,
        );
    });
});
