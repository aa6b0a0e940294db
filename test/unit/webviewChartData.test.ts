import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';

import { alignSeries } from '../../webview/chartData.js';
import type { MetricSeries } from '../../webview/protocol.js';

function series(
    runId: string,
    steps: number[],
    values: (number | null)[],
    sampled = false,
): MetricSeries {
    return {
        runId,
        runName: `run ${runId}`,
        key: 'loss',
        steps,
        timestamps: steps.map(() => 0),
        values,
        sampled,
    };
}

describe('chart data alignment', () => {
    test('puts runs that logged at different steps on one x axis with gaps as null', () => {
        const chart = alignSeries([
            series('a', [0, 1, 2, 3], [4, 3, 2, 1]),
            series('b', [0, 2, 4], [5, 4, 3]),
        ]);
        assert.deepEqual(chart.x, [0, 1, 2, 3, 4]);
        assert.deepEqual(chart.ys, [
            [4, 3, 2, 1, null],
            [5, null, 4, null, 3],
        ]);
        assert.deepEqual(chart.labels, ['run a · loss', 'run b · loss']);
    });

    test('keeps the last value logged when a run logged one step twice', () => {
        const chart = alignSeries([series('a', [0, 1, 1, 2], [1, 2, 3, 4])]);
        assert.deepEqual(chart.x, [0, 1, 2]);
        assert.deepEqual(chart.ys[0], [1, 3, 4]);
    });

    test('sorts a series the host sent out of step order', () => {
        const chart = alignSeries([series('a', [2, 0, 1], [20, 0, 10])]);
        assert.deepEqual(chart.ys[0], [0, 10, 20]);
    });

    test('leaves NaN and Infinity out of the lines and counts them', () => {
        const chart = alignSeries([series('a', [0, 1, 2], [1, null, Number.POSITIVE_INFINITY])]);
        assert.deepEqual(chart.ys[0], [1, null, null]);
        assert.equal(chart.nonFinite, 2);
    });

    test('says when a series was sampled, and handles no series and empty series', () => {
        assert.equal(alignSeries([series('a', [0], [1], true)]).sampled, true);
        assert.deepEqual(alignSeries([]), {
            x: [],
            ys: [],
            labels: [],
            sampled: false,
            nonFinite: 0,
        });
        assert.deepEqual(alignSeries([series('a', [], [])]).ys, [[]]);
    });

    test('uses the run id when the run has no name', () => {
        assert.deepEqual(alignSeries([{ ...series('abc', [0], [1]), runName: '' }]).labels, [
            'abc · loss',
        ]);
    });

    test('places every finite point of every run at its own step', () => {
        const arbitrarySeries = fc
            .array(
                fc.tuple(
                    fc.integer({ min: 0, max: 50 }),
                    fc.double({ noNaN: true, noDefaultInfinity: true }),
                ),
                { maxLength: 40 },
            )
            .map((points) => points.sort((p, q) => p[0] - q[0]));
        fc.assert(
            fc.property(fc.array(arbitrarySeries, { minLength: 1, maxLength: 10 }), (all) => {
                const chart = alignSeries(
                    all.map((points, i) =>
                        series(
                            String(i),
                            points.map((p) => p[0]),
                            points.map((p) => p[1]),
                        ),
                    ),
                );
                for (let i = 1; i < chart.x.length; i++) assert.ok(chart.x[i - 1]! < chart.x[i]!);
                all.forEach((points, s) => {
                    assert.equal(chart.ys[s]!.length, chart.x.length);
                    const last = new Map<number, number>();
                    for (const [step, value] of points) last.set(step, value);
                    chart.x.forEach((step, i) =>
                        assert.equal(chart.ys[s]![i], last.has(step) ? last.get(step) : null),
                    );
                });
            }),
            { numRuns: 300 },
        );
    });

    test('aligns ten runs of 100k points each in linear time', () => {
        const big = Array.from({ length: 10 }, (_, r) => {
            const steps = Array.from({ length: 100_000 }, (_, i) => i * (r + 1));
            return series(
                String(r),
                steps,
                steps.map((s) => Math.sin(s)),
            );
        });
        const started = performance.now();
        const chart = alignSeries(big);
        const elapsed = performance.now() - started;
        assert.equal(chart.ys.length, 10);
        // Generous: a quadratic merge would take minutes; a loaded CI machine takes a second or two.
        assert.ok(elapsed < 10_000, `aligning took ${Math.round(elapsed)} ms`);
    });
});
