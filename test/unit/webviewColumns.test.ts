import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import type { RunRow } from '../../webview/protocol.js';
import {
    CATALOG_LIMIT,
    ColumnDiscovery,
    cellText,
    cleanColumns,
    columnId,
    discoverColumns,
    formatDuration,
    formatMetric,
    formatNumber,
    parseColumnId,
} from '../../webview/runColumns.js';

function run(id: string, parts: Partial<RunRow> = {}): RunRow {
    return {
        id,
        experimentId: '1',
        name: `run-${id}`,
        status: 'FINISHED',
        lifecycleStage: 'active',
        params: [],
        metrics: [],
        tags: [],
        ...parts,
    };
}

describe('column discovery', () => {
    test('lists the param, metric and tag keys of loaded runs, sorted, each once', () => {
        const catalog = discoverColumns([
            run('a', {
                params: [{ key: 'lr', value: '0.1' }],
                metrics: [{ key: 'loss', value: 1 }],
            }),
            run('b', {
                params: [
                    { key: 'batch', value: '32' },
                    { key: 'lr', value: '0.2' },
                ],
                metrics: [{ key: 'acc', value: 0.9 }],
                tags: [
                    { key: 'mlflow.user', value: 'u' },
                    { key: 'team', value: 'x' },
                ],
            }),
        ]);
        assert.deepEqual(catalog, {
            params: ['batch', 'lr'],
            metrics: ['acc', 'loss'],
            tags: ['team', 'mlflow.user'],
        });
    });

    test('reports whether a new page brought a new key', () => {
        const discovery = new ColumnDiscovery();
        assert.equal(discovery.add([run('a', { params: [{ key: 'lr', value: '1' }] })]), true);
        assert.equal(discovery.add([run('b', { params: [{ key: 'lr', value: '2' }] })]), false);
        assert.equal(discovery.add([run('c', { tags: [{ key: 't', value: '' }] })]), true);
        assert.deepEqual(discovery.catalog().tags, ['t']);
    });

    test('treats keys such as __proto__ and constructor as data', () => {
        const catalog = discoverColumns([
            run('a', {
                params: [
                    { key: '__proto__', value: 'x' },
                    { key: 'constructor', value: 'y' },
                ],
            }),
        ]);
        assert.deepEqual(catalog.params, ['__proto__', 'constructor']);
        assert.equal(
            cellText(run('a', { params: [{ key: '__proto__', value: 'x' }] }), {
                kind: 'param',
                key: '__proto__',
            }),
            'x',
        );
    });

    test('stops collecting keys at the catalog limit', () => {
        const params = Array.from({ length: CATALOG_LIMIT + 500 }, (_, i) => ({
            key: `p${i}`,
            value: '',
        }));
        assert.equal(discoverColumns([run('a', { params })]).params.length, CATALOG_LIMIT);
    });
});

describe('cells and column ids', () => {
    test('shows the value of the chosen param, metric, tag or attribute', () => {
        const r = run('abc', {
            name: 'baseline',
            user: 'ana',
            params: [{ key: 'lr', value: '0.01' }],
            metrics: [
                { key: 'loss', value: 0.123456789 },
                { key: 'bad', value: null, text: 'NaN' },
            ],
            tags: [{ key: 'team', value: 'vision' }],
        });
        assert.equal(cellText(r, { kind: 'param', key: 'lr' }), '0.01');
        assert.equal(cellText(r, { kind: 'metric', key: 'loss' }), '0.123457');
        assert.equal(cellText(r, { kind: 'metric', key: 'bad' }), 'NaN');
        assert.equal(cellText(r, { kind: 'tag', key: 'team' }), 'vision');
        assert.equal(cellText(r, { kind: 'attribute', key: 'run_name' }), 'baseline');
        assert.equal(cellText(r, { kind: 'attribute', key: 'user_id' }), 'ana');
        assert.equal(cellText(r, { kind: 'attribute', key: 'run_id' }), 'abc');
        assert.equal(cellText(r, { kind: 'param', key: 'missing' }), '');
    });

    test('round-trips column ids, keys with colons included, and rejects unknown ones', () => {
        for (const column of [
            { kind: 'metric', key: 'val:loss' },
            { kind: 'attribute', key: 'start_time' },
            { kind: 'tag', key: 'mlflow.runName' },
        ] as const) {
            assert.deepEqual(parseColumnId(columnId(column)), column);
        }
        assert.equal(parseColumnId('attribute:secret'), undefined);
        assert.equal(parseColumnId('script:x'), undefined);
        assert.equal(parseColumnId('param:'), undefined);
        assert.equal(parseColumnId('nocolon'), undefined);
    });

    test('cleans persisted columns: drops invalid and duplicate ones', () => {
        assert.deepEqual(
            cleanColumns([
                { kind: 'param', key: 'lr' },
                { kind: 'param', key: 'lr' },
                { kind: 'attribute', key: 'password' },
                { kind: 'metric', key: 'loss' },
            ]),
            [
                { kind: 'param', key: 'lr' },
                { kind: 'metric', key: 'loss' },
            ],
        );
    });

    test('formats numbers, missing metrics and durations for display', () => {
        assert.equal(formatNumber(3), '3');
        assert.equal(formatNumber(0.000012345), '1.2345e-5');
        assert.equal(formatNumber(1 / 3), '0.333333');
        assert.equal(formatMetric(undefined), '');
        assert.equal(formatMetric({ key: 'k', value: null, text: 'Infinity' }), 'Infinity');
        assert.equal(formatDuration(0, 12_345), '12.3s');
        assert.equal(formatDuration(0, 185_000), '3m 05s');
        assert.equal(formatDuration(0, 3_720_000), '1h 02m');
        assert.equal(formatDuration(10, undefined), '');
    });
});
