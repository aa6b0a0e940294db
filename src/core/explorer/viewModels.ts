// REST shapes (snake_case, as the server sends them) into the explorer's view models. The server
// omits empty lists and unset fields (facts §2.1), so every field is optional here, and ids stay
// strings: FileStore experiment ids are 18 digits and would lose precision as numbers.

import type { Experiment, LoggedModel, Metric, Run, Tag } from '../mlflow/client.js';
import type {
    ExperimentRow,
    KeyValue,
    LoggedModelRow,
    MetricValue,
    RunDetail,
    RunRow,
} from '../../../webview/protocol.js';

const RUN_NAME_TAG = 'mlflow.runName';
const USER_TAG = 'mlflow.user';
const DATASET_CONTEXT_TAG = 'mlflow.data.context';

function finite(value: unknown): number | undefined {
    return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function text(value: unknown): string | undefined {
    return typeof value === 'string' ? value : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
    return !!value && typeof value === 'object' && !Array.isArray(value);
}

/** Pairs kept as an array: a key such as `__proto__` stays data. Malformed entries are dropped. */
export function keyValues(tags: readonly Tag[] | undefined): KeyValue[] {
    if (!Array.isArray(tags)) return [];
    const pairs: KeyValue[] = [];
    for (const tag of tags as unknown[]) {
        if (!isRecord(tag) || typeof tag['key'] !== 'string') continue;
        pairs.push({
            key: tag['key'],
            value: typeof tag['value'] === 'string' ? tag['value'] : '',
        });
    }
    return pairs;
}

/**
 * A metric's value. The server writes NaN and ±Infinity as the strings "NaN", "Infinity" and
 * "-Infinity" (JSON has no such numbers); they become `null` with the text kept for display.
 */
export function metricNumber(value: unknown): { value: number | null; text?: string } {
    if (typeof value === 'number') {
        return Number.isFinite(value) ? { value } : { value: null, text: String(value) };
    }
    if (typeof value === 'string') {
        const parsed = Number(value);
        if (value.trim() !== '' && Number.isFinite(parsed)) return { value: parsed };
        return { value: null, text: value };
    }
    return { value: null, text: String(value) };
}

export function toMetricValue(metric: Metric): MetricValue {
    const out: MetricValue = { key: metric.key, ...metricNumber(metric.value) };
    const step = finite(metric.step);
    const timestamp = finite(metric.timestamp);
    if (step !== undefined) out.step = step;
    if (timestamp !== undefined) out.timestamp = timestamp;
    return out;
}

function metricValues(metrics: readonly Metric[] | undefined): MetricValue[] {
    if (!Array.isArray(metrics)) return [];
    return (metrics as unknown[])
        .filter((m): m is Metric => isRecord(m) && typeof m['key'] === 'string')
        .map(toMetricValue);
}

export function toExperimentRow(experiment: Experiment): ExperimentRow {
    const row: ExperimentRow = {
        id: experiment.experiment_id,
        name: text(experiment.name) ?? '',
        lifecycleStage: text(experiment.lifecycle_stage) ?? 'active',
        tags: keyValues(experiment.tags),
    };
    const location = text(experiment.artifact_location);
    const created = finite(experiment.creation_time);
    const updated = finite(experiment.last_update_time);
    if (location !== undefined) row.artifactLocation = location;
    if (created !== undefined) row.creationTime = created;
    if (updated !== undefined) row.lastUpdateTime = updated;
    return row;
}

export function toRunRow(run: Run): RunRow {
    const info = run.info;
    const tags = keyValues(run.data?.tags);
    const tagValue = (key: string) => tags.find((t) => t.key === key)?.value;
    const row: RunRow = {
        id: info.run_id,
        experimentId: text(info.experiment_id) ?? '',
        // 1.x-era runs and some clients leave run_name empty and keep the name in a tag.
        name: text(info.run_name) || tagValue(RUN_NAME_TAG) || '',
        status: text(info.status) ?? 'UNKNOWN',
        lifecycleStage: text(info.lifecycle_stage) ?? 'active',
        params: keyValues(run.data?.params),
        metrics: metricValues(run.data?.metrics),
        tags,
    };
    const user = text(info.user_id) || tagValue(USER_TAG);
    const start = finite(info.start_time);
    const end = finite(info.end_time);
    const artifactUri = text(info.artifact_uri);
    if (user) row.user = user;
    if (start !== undefined) row.startTime = start;
    if (end !== undefined) row.endTime = end;
    if (artifactUri !== undefined) row.artifactUri = artifactUri;
    return row;
}

export function toLoggedModelRow(model: LoggedModel): LoggedModelRow {
    const info = model.info;
    const row: LoggedModelRow = {
        id: info.model_id,
        name: text(info.name) ?? '',
        experimentId: text(info.experiment_id) ?? '',
        params: keyValues(model.data?.params),
        metrics: metricValues(model.data?.metrics),
        tags: keyValues(info.tags),
    };
    const optional: [keyof LoggedModelRow, unknown][] = [
        ['sourceRunId', text(info.source_run_id)],
        ['status', text(info.status)],
        ['modelType', text(info.model_type)],
        ['artifactUri', text(info.artifact_uri)],
        ['creationTime', finite(info.creation_timestamp_ms)],
    ];
    for (const [key, value] of optional) {
        if (value !== undefined && value !== '')
            (row as unknown as Record<string, unknown>)[key] = value;
    }
    return row;
}

/** The model ids a run logged (`outputs.model_outputs`) and used (`inputs.model_inputs`), 3.x. */
export function runModelIds(run: Run): { outputs: string[]; inputs: string[] } {
    const ids = (list: unknown): string[] =>
        Array.isArray(list)
            ? [
                  ...new Set(
                      (list as unknown[])
                          .map((item) => (isRecord(item) ? item['model_id'] : undefined))
                          .filter((id): id is string => typeof id === 'string' && id !== ''),
                  ),
              ]
            : [];
    return { outputs: ids(run.outputs?.model_outputs), inputs: ids(run.inputs?.model_inputs) };
}

/** `inputs.dataset_inputs[{ dataset: { name, digest }, tags: [mlflow.data.context] }]` (2.4+). */
export function runDatasets(run: Run): RunDetail['datasets'] {
    const inputs = run.inputs?.dataset_inputs;
    if (!Array.isArray(inputs)) return [];
    const datasets: RunDetail['datasets'] = [];
    for (const input of inputs) {
        if (!isRecord(input) || !isRecord(input['dataset'])) continue;
        const dataset = input['dataset'];
        const entry: RunDetail['datasets'][number] = { name: text(dataset['name']) ?? '' };
        const digest = text(dataset['digest']);
        if (digest) entry.digest = digest;
        const tags = keyValues(input['tags'] as Tag[] | undefined);
        const context = tags.find((t) => t.key === DATASET_CONTEXT_TAG)?.value;
        if (context) entry.context = context;
        datasets.push(entry);
    }
    return datasets;
}
