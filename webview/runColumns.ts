// The run grid's columns: the keys discovered from loaded runs, the default columns, the text of a
// cell, and the ids under which chosen columns are persisted. Pure, unit-tested in node.

import type { ColumnRef, KeyValue, MetricValue, RunAttribute, RunRow } from './protocol.js';
import { RUN_ATTRIBUTES } from './protocol.js';

/** The param, metric and tag keys seen so far, each sorted. */
export interface ColumnCatalog {
    params: string[];
    metrics: string[];
    tags: string[];
}

// A hostile or huge experiment can log thousands of keys; the picker lists this many per kind.
export const CATALOG_LIMIT = 2000;

export const ATTRIBUTE_LABELS: Record<RunAttribute, string> = {
    run_name: 'Run name',
    status: 'Status',
    start_time: 'Started',
    end_time: 'Ended',
    user_id: 'User',
    run_id: 'Run id',
    artifact_uri: 'Artifact URI',
};

export const DEFAULT_COLUMNS: ColumnRef[] = [
    { kind: 'attribute', key: 'run_name' },
    { kind: 'attribute', key: 'status' },
    { kind: 'attribute', key: 'start_time' },
    { kind: 'attribute', key: 'user_id' },
];

/** Collects keys incrementally: each new page only adds what it brings. */
export class ColumnDiscovery {
    private readonly params = new Set<string>();
    private readonly metrics = new Set<string>();
    private readonly tags = new Set<string>();
    private cached: ColumnCatalog | undefined;

    /** Adds the keys of these runs; true when a new key was found. */
    add(runs: readonly RunRow[]): boolean {
        let grew = false;
        const take = (set: Set<string>, pairs: readonly { key: string }[]) => {
            for (const { key } of pairs) {
                if (set.size >= CATALOG_LIMIT || set.has(key)) continue;
                set.add(key);
                grew = true;
            }
        };
        for (const run of runs) {
            take(this.params, run.params);
            take(this.metrics, run.metrics);
            take(this.tags, run.tags);
        }
        if (grew) this.cached = undefined;
        return grew;
    }

    catalog(): ColumnCatalog {
        this.cached ??= {
            params: [...this.params].sort(compareKeys),
            metrics: [...this.metrics].sort(compareKeys),
            tags: [...this.tags].sort(compareKeys),
        };
        return this.cached;
    }
}

/** User keys before MLflow's own `mlflow.*` tags, then by code point: stable on any locale. */
function compareKeys(a: string, b: string): number {
    const systemA = a.startsWith('mlflow.');
    const systemB = b.startsWith('mlflow.');
    if (systemA !== systemB) return systemA ? 1 : -1;
    return a < b ? -1 : a > b ? 1 : 0;
}

export function discoverColumns(runs: readonly RunRow[]): ColumnCatalog {
    const discovery = new ColumnDiscovery();
    discovery.add(runs);
    return discovery.catalog();
}

/** A stable id for a column, used as a select option value and in persisted state. */
export function columnId(column: ColumnRef): string {
    return `${column.kind}:${column.key}`;
}

export function parseColumnId(id: string): ColumnRef | undefined {
    const colon = id.indexOf(':');
    if (colon < 0) return undefined;
    const kind = id.slice(0, colon);
    const key = id.slice(colon + 1);
    if (key === '') return undefined;
    if (kind === 'attribute') {
        return (RUN_ATTRIBUTES as readonly string[]).includes(key) ? { kind, key } : undefined;
    }
    if (kind === 'param' || kind === 'metric' || kind === 'tag') return { kind, key };
    return undefined;
}

export function sameColumn(a: ColumnRef, b: ColumnRef): boolean {
    return a.kind === b.kind && a.key === b.key;
}

/** The header text before legibility: attributes by name, others by their key. */
export function columnLabel(column: ColumnRef): string {
    if (column.kind === 'attribute') {
        return ATTRIBUTE_LABELS[column.key as RunAttribute] ?? column.key;
    }
    return column.key;
}

/** Whether the server can sort by this column (MLflow orders by all of these kinds). */
export function sortable(column: ColumnRef): boolean {
    return column.kind !== 'attribute' || column.key !== 'artifact_uri';
}

function valueOf(pairs: readonly KeyValue[], key: string): string | undefined {
    for (const pair of pairs) if (pair.key === key) return pair.value;
    return undefined;
}

function metricOf(metrics: readonly MetricValue[], key: string): MetricValue | undefined {
    for (const metric of metrics) if (metric.key === key) return metric;
    return undefined;
}

/** A metric value as text: up to 6 significant digits, and what the server sent for NaN. */
export function formatMetric(metric: MetricValue | undefined): string {
    if (!metric) return '';
    if (metric.value === null) return metric.text ?? 'NaN';
    return formatNumber(metric.value);
}

export function formatNumber(value: number): string {
    if (!Number.isFinite(value)) return String(value);
    if (Number.isInteger(value) && Math.abs(value) < 1e15) return String(value);
    const abs = Math.abs(value);
    if (abs !== 0 && (abs < 1e-4 || abs >= 1e15)) return value.toExponential(4);
    return String(Number(value.toPrecision(6)));
}

/** Milliseconds since the epoch as `YYYY-MM-DD HH:MM:SS` in the user's time zone. */
export function formatTime(ms: number | undefined): string {
    if (ms === undefined || !Number.isFinite(ms) || ms <= 0) return '';
    const date = new Date(ms);
    if (Number.isNaN(date.getTime())) return '';
    const two = (n: number) => String(n).padStart(2, '0');
    return (
        `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())} ` +
        `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}`
    );
}

/** A run's duration as `1h 02m`, `3m 05s` or `12.3s`; '' when it has not ended. */
export function formatDuration(startMs: number | undefined, endMs: number | undefined): string {
    if (startMs === undefined || endMs === undefined || endMs < startMs) return '';
    const seconds = (endMs - startMs) / 1000;
    if (seconds < 60) return `${seconds.toFixed(1)}s`;
    const minutes = Math.floor(seconds / 60);
    if (minutes < 60) return `${minutes}m ${String(Math.floor(seconds % 60)).padStart(2, '0')}s`;
    return `${Math.floor(minutes / 60)}h ${String(minutes % 60).padStart(2, '0')}m`;
}

/** The raw text of a cell; the caller makes it legible. */
export function cellText(run: RunRow, column: ColumnRef): string {
    switch (column.kind) {
        case 'param':
            return valueOf(run.params, column.key) ?? '';
        case 'tag':
            return valueOf(run.tags, column.key) ?? '';
        case 'metric':
            return formatMetric(metricOf(run.metrics, column.key));
        case 'attribute':
            switch (column.key as RunAttribute) {
                case 'run_name':
                    return run.name;
                case 'status':
                    return run.status;
                case 'start_time':
                    return formatTime(run.startTime);
                case 'end_time':
                    return formatTime(run.endTime);
                case 'user_id':
                    return run.user ?? '';
                case 'run_id':
                    return run.id;
                case 'artifact_uri':
                    return run.artifactUri ?? '';
                default:
                    return '';
            }
    }
}

/** Columns kept from a persisted list: valid ones, no duplicates, at most `max`. */
export function cleanColumns(columns: readonly ColumnRef[], max = 50): ColumnRef[] {
    const out: ColumnRef[] = [];
    for (const column of columns) {
        const parsed = parseColumnId(columnId(column));
        if (!parsed || out.some((c) => sameColumn(c, parsed))) continue;
        out.push(parsed);
        if (out.length >= max) break;
    }
    return out;
}
