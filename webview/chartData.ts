// Puts metric histories of several runs on one x axis for uPlot, which wants one shared x array
// and one y array per series of the same length. Runs log at different steps (one every epoch,
// another every 10 batches), so x is the sorted union of their steps and a run has `null` where
// it logged nothing. Pure, unit-tested in node; O(n log n) in the number of points.

import type { MetricSeries } from './protocol.js';

export interface AlignedChart {
    /** Sorted, distinct steps. */
    x: number[];
    /** One per series, the same length as `x`; null where the run has no value at that step. */
    ys: (number | null)[][];
    /** Legend labels, in series order: the run name (or id) and the key. */
    labels: string[];
    /** True when any series was sampled by the server or capped by the host. */
    sampled: boolean;
    /** Points with NaN or ±Infinity, left out of the lines. */
    nonFinite: number;
}

/** Index order of a series by step, or undefined when it already is (the protocol's promise). */
function stepOrder(steps: readonly number[], n: number): number[] | undefined {
    let sorted = true;
    for (let i = 1; i < n; i++) {
        if ((steps[i] ?? 0) < (steps[i - 1] ?? 0)) {
            sorted = false;
            break;
        }
    }
    if (sorted) return undefined;
    // A stable sort keeps logging order within a step, so the last value logged wins below.
    const order = Array.from({ length: n }, (_, i) => i);
    return order.sort((a, b) => (steps[a] ?? 0) - (steps[b] ?? 0));
}

export function alignSeries(series: readonly MetricSeries[]): AlignedChart {
    // Each series is in step order already, so x is a merge of sorted lists, not a sort: a
    // typed-array sort of 1M steps takes several hundred milliseconds, the merge a few dozen.
    const orders = series.map((s) => stepOrder(s.steps, Math.min(s.steps.length, s.values.length)));
    const lists = series.map((s, index) => {
        const n = Math.min(s.steps.length, s.values.length);
        const order = orders[index];
        const steps: number[] = [];
        for (let k = 0; k < n; k++) {
            const step = s.steps[order ? (order[k] ?? k) : k];
            if (step !== undefined && Number.isFinite(step)) steps.push(step);
        }
        return steps;
    });
    const heads = lists.map(() => 0);
    const x: number[] = [];
    for (;;) {
        let min = Number.POSITIVE_INFINITY;
        for (let l = 0; l < lists.length; l++) {
            const step = lists[l]![heads[l]!];
            if (step !== undefined && step < min) min = step;
        }
        if (min === Number.POSITIVE_INFINITY) break;
        x.push(min);
        for (let l = 0; l < lists.length; l++) {
            const list = lists[l]!;
            while (list[heads[l]!] === min) heads[l]!++;
        }
    }

    let nonFinite = 0;
    const ys = series.map((s, index) => {
        // Built by appending in step order: a pre-filled array of nulls that then receives
        // doubles changes its element kind point by point, which is several times slower.
        const y: (number | null)[] = [];
        const n = Math.min(s.steps.length, s.values.length);
        const order = orders[index];
        let at = 0;
        for (let k = 0; k < n; k++) {
            const i = order ? (order[k] ?? k) : k;
            const step = s.steps[i];
            if (step === undefined || !Number.isFinite(step)) continue;
            while (at < x.length && (x[at] ?? 0) < step) at++;
            const value = s.values[i];
            if (value === null || value === undefined || !Number.isFinite(value)) {
                nonFinite++;
                continue;
            }
            while (y.length < at) y.push(null);
            // Several values at one step (MLflow allows it): the last logged is shown.
            if (y.length === at) y.push(value);
            else y[at] = value;
        }
        while (y.length < x.length) y.push(null);
        return y;
    });

    return {
        x,
        ys,
        labels: series.map((s) => `${s.runName || s.runId} · ${s.key}`),
        sampled: series.some((s) => s.sampled),
        nonFinite,
    };
}

/**
 * Chart colours for up to ten runs: VS Code's chart palette variables with fallbacks. A canvas
 * cannot use `var()`, so the chart resolves each variable against the document first.
 */
export const SERIES_COLOURS: readonly (readonly [variable: string, fallback: string])[] = [
    ['--vscode-charts-blue', '#3794ff'],
    ['--vscode-charts-orange', '#d18616'],
    ['--vscode-charts-green', '#89d185'],
    ['--vscode-charts-purple', '#b180d7'],
    ['--vscode-charts-red', '#f14c4c'],
    ['--vscode-charts-yellow', '#cca700'],
    ['--vscode-terminal-ansiCyan', '#29b8db'],
    ['--vscode-terminal-ansiMagenta', '#bc3fbc'],
    ['--vscode-terminal-ansiBrightGreen', '#23d18b'],
    ['--vscode-terminal-ansiBrightBlue', '#3b8eea'],
];
