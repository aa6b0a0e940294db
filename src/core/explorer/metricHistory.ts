// One metric's history for one run, as columns in step order. Paged where the server pages
// (3.1.1+); capped so that a runaway history cannot fill the extension host's memory; sampled by
// the server (get-history-bulk-interval, 2.11+) when it is longer than the cap or than one answer
// can carry.

import type { Capabilities } from '../../../webview/protocol.js';
import { type Metric, type MlflowClient, MlflowRequestError } from '../mlflow/client.js';
import { metricNumber } from './viewModels.js';

export interface MetricColumns {
    steps: number[];
    timestamps: number[];
    values: (number | null)[];
    sampled: boolean;
}

export interface MetricHistoryOptions {
    /** Points kept per series before it is sampled or cut. Default 200,000. */
    maxPoints?: number;
    /** `max_results` of each get-history page on servers that page. Default 25,000. */
    pageSize?: number;
    log?: (line: string) => void;
}

export const DEFAULT_MAX_POINTS = 200_000;
const DEFAULT_PAGE_SIZE = 25_000;
/** The most get-history-bulk-interval returns per run (facts §2.4). */
export const BULK_INTERVAL_MAX = 2500;
const API = '/api/2.0/mlflow';

class ColumnBuilder {
    readonly steps: number[] = [];
    readonly timestamps: number[] = [];
    readonly values: (number | null)[] = [];

    get length(): number {
        return this.steps.length;
    }

    add(metrics: readonly Metric[]): void {
        for (const metric of metrics) {
            this.steps.push(typeof metric.step === 'number' ? metric.step : 0);
            this.timestamps.push(typeof metric.timestamp === 'number' ? metric.timestamp : 0);
            this.values.push(metricNumber(metric.value).value);
        }
    }

    truncate(length: number): void {
        this.steps.length = Math.min(this.steps.length, length);
        this.timestamps.length = this.steps.length;
        this.values.length = this.steps.length;
    }

    /** Step order, then time; the SQL store returns time order and a FileStore file order. */
    build(sampled: boolean): MetricColumns {
        const { steps, timestamps, values } = this;
        let ordered = true;
        for (let i = 1; i < steps.length && ordered; i++) {
            const previous = steps[i - 1]!;
            const current = steps[i]!;
            ordered =
                previous < current ||
                (previous === current && timestamps[i - 1]! <= timestamps[i]!);
        }
        if (ordered) return { steps, timestamps, values, sampled };
        const order = Array.from({ length: steps.length }, (_, i) => i);
        order.sort((a, b) => steps[a]! - steps[b]! || timestamps[a]! - timestamps[b]! || a - b);
        return {
            steps: order.map((i) => steps[i]!),
            timestamps: order.map((i) => timestamps[i]!),
            values: order.map((i) => values[i]!),
            sampled,
        };
    }
}

function isTooLarge(error: unknown): boolean {
    return error instanceof MlflowRequestError && /maxContentLength/i.test(error.message);
}

/** The server's own sample of a long history: at most 2500 points, first and last kept. */
async function sampledHistory(
    client: MlflowClient,
    runId: string,
    key: string,
): Promise<MetricColumns> {
    const result = await client.request('GET', `${API}/metrics/get-history-bulk-interval`, {
        query: { run_ids: [runId], metric_key: key, max_results: BULK_INTERVAL_MAX },
    });
    const body = result.data as { metrics?: unknown };
    const metrics = Array.isArray(body?.metrics)
        ? (body.metrics as Metric[]).filter((m) => m && typeof m === 'object' && m.key === key)
        : [];
    const builder = new ColumnBuilder();
    builder.add(metrics);
    return builder.build(true);
}

/** The history of `key` in `runId`, following page tokens where the server pages. */
export async function fetchMetricColumns(
    client: MlflowClient,
    capabilities: Capabilities,
    runId: string,
    key: string,
    options: MetricHistoryOptions = {},
): Promise<MetricColumns> {
    const maxPoints = options.maxPoints ?? DEFAULT_MAX_POINTS;
    const builder = new ColumnBuilder();

    if (!capabilities.metricHistoryPaging) {
        // 2.x ignores max_results and sends everything in one answer (facts §2.4).
        let page;
        try {
            page = await client.getMetricHistory(runId, key);
        } catch (error) {
            if (isTooLarge(error) && capabilities.bulkIntervalMetrics) {
                options.log?.(`metric ${key} of ${runId} is too long for one answer: sampling`);
                return sampledHistory(client, runId, key);
            }
            throw error;
        }
        builder.add(page.data.items);
        if (builder.length <= maxPoints) return builder.build(false);
        if (capabilities.bulkIntervalMetrics) return sampledHistory(client, runId, key);
        builder.truncate(maxPoints);
        return builder.build(true);
    }

    let token: string | undefined;
    do {
        const page = await client.getMetricHistory(runId, key, {
            maxResults: options.pageSize ?? DEFAULT_PAGE_SIZE,
            ...(token ? { pageToken: token } : {}),
        });
        builder.add(page.data.items);
        token = page.data.nextPageToken;
        if (builder.length > maxPoints) {
            options.log?.(`metric ${key} of ${runId} has more than ${maxPoints} points: sampling`);
            if (capabilities.bulkIntervalMetrics) return sampledHistory(client, runId, key);
            // Not yet: without bulk-interval a long history keeps only its first points, so the
            // chart ends early instead of showing the whole run coarsely.
            builder.truncate(maxPoints);
            return builder.build(true);
        }
    } while (token);
    return builder.build(false);
}

/** Runs `work` over `items` with at most `limit` in flight, keeping the input order. */
export async function mapWithLimit<T, R>(
    items: readonly T[],
    limit: number,
    work: (item: T) => Promise<R>,
): Promise<R[]> {
    const results = new Array<R>(items.length);
    let next = 0;
    const worker = async (): Promise<void> => {
        while (next < items.length) {
            const index = next++;
            results[index] = await work(items[index]!);
        }
    };
    await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
    return results;
}
