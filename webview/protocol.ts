// The one message protocol between the explorer webview and the extension host. Both sides import
// this file; it has no DOM and no Node imports. All MLflow HTTP happens in the host: the webview
// asks with requests, the host answers with view models made of plain strings and numbers.
//
// The webview is untrusted: `parseWebviewMessage` is the only way a message from it reaches the
// host's logic, and it rejects anything that is not exactly one of the shapes below.

export const PROTOCOL_VERSION = 1;

// ---------------------------------------------------------------------------------------------
// View models (host → webview). Keys and values from the server stay strings; they are rendered
// as text, never as HTML. Pairs are arrays, not objects, so a key such as `__proto__` is data.

export interface KeyValue {
    key: string;
    value: string;
}

export interface MetricValue {
    key: string;
    /** `null` when the server sent NaN or ±Infinity as a string; `text` keeps what it sent. */
    value: number | null;
    text?: string;
    step?: number;
    timestamp?: number;
}

/** What the connected server can and cannot do, decided from its version and its answers. */
export interface Capabilities {
    /** MLflow 3 logged models (`/logged-models/search`). */
    loggedModels: boolean;
    /** `get-history` honours max_results/page_token (3.1.1+). */
    metricHistoryPaging: boolean;
    /** `get-history-bulk-interval` (2.11.0+). */
    bulkIntervalMetrics: boolean;
    /** The server proxies artifacts (`--serve-artifacts`), when known. */
    proxiedArtifacts?: boolean;
    /** One sentence per thing this server cannot do, shown to the user as is. */
    limits: string[];
}

export interface ServerInfo {
    /** Opaque key the host uses for this server; never a URL with credentials. */
    key: string;
    /** The tracking URI without credentials. */
    url: string;
    /** Where the URI came from: `compose service "mlflow"`, `setting`, `.env`. */
    origin: string;
    version?: string;
    major?: number;
    /** Whether requests carry credentials from SecretStorage (never the credentials). */
    authenticated: boolean;
    capabilities: Capabilities;
}

export interface ExperimentRow {
    id: string;
    name: string;
    lifecycleStage: string;
    artifactLocation?: string;
    creationTime?: number;
    lastUpdateTime?: number;
    tags: KeyValue[];
}

export interface RunRow {
    id: string;
    experimentId: string;
    name: string;
    status: string;
    lifecycleStage: string;
    user?: string;
    startTime?: number;
    endTime?: number;
    artifactUri?: string;
    params: KeyValue[];
    /** The latest value of each metric. */
    metrics: MetricValue[];
    tags: KeyValue[];
}

export interface LoggedModelRow {
    id: string;
    name: string;
    experimentId: string;
    sourceRunId?: string;
    status?: string;
    modelType?: string;
    artifactUri?: string;
    creationTime?: number;
    params: KeyValue[];
    metrics: MetricValue[];
    tags: KeyValue[];
}

export interface RunDetail {
    run: RunRow;
    /** 3.x: models the run logged (`outputs.model_outputs`, or `source_run_id`); [] on 2.x. */
    loggedModels: LoggedModelRow[];
    /** Model ids the run used as inputs (3.x). */
    inputModelIds: string[];
    datasets: { name: string; digest?: string; context?: string }[];
}

export interface MetricSeries {
    runId: string;
    runName: string;
    key: string;
    /** Columnar: same length, in step order. `null` for NaN/±Infinity. */
    steps: number[];
    timestamps: number[];
    values: (number | null)[];
    /** True when the server sampled the history (bulk-interval) or the host capped it. */
    sampled: boolean;
}

/** Whose artifacts: a run's, or (MLflow 3) a logged model's. */
export type ArtifactOwner = { kind: 'run'; runId: string } | { kind: 'model'; modelId: string };

/** Where the host read an artifact from; shown so a user sees how a stranded file was reached. */
export type ArtifactSourceKind =
    | 'proxied-api'
    | 'download-route'
    | 'model-files-route'
    | 'host-path'
    | 'bind-mount'
    | 'container-archive';

export interface ArtifactEntry {
    /** Relative to the owner's artifact root, `/`-separated, never starting with `/` or `..`. */
    path: string;
    name: string;
    isDir: boolean;
    size?: number;
}

export interface ArtifactListing {
    owner: ArtifactOwner;
    /** The directory listed, relative to the root ('' for the root). */
    path: string;
    rootUri?: string;
    entries: ArtifactEntry[];
    source: ArtifactSourceKind;
    /** Set when the server could not list and another source was used, or nothing could. */
    note?: string;
}

export interface Page<T> {
    items: T[];
    nextPageToken?: string;
}

// ---------------------------------------------------------------------------------------------
// Queries.

export type ColumnKind = 'attribute' | 'param' | 'metric' | 'tag';

/** Attributes MLflow's search-runs filter and order_by understand. */
export const RUN_ATTRIBUTES = [
    'run_name',
    'status',
    'start_time',
    'end_time',
    'user_id',
    'run_id',
    'artifact_uri',
] as const;
export type RunAttribute = (typeof RUN_ATTRIBUTES)[number];

export interface ColumnRef {
    kind: ColumnKind;
    /** For `attribute`, one of RUN_ATTRIBUTES; otherwise the param, metric or tag key. */
    key: string;
}

export const FILTER_OPS = ['=', '!=', '>', '>=', '<', '<=', 'LIKE', 'ILIKE'] as const;
export type FilterOp = (typeof FILTER_OPS)[number];

export interface FilterClause {
    column: ColumnRef;
    op: FilterOp;
    value: string;
}

export const RUN_STATUSES = ['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export interface RunQuery {
    /** Any of these statuses; empty or absent means all. */
    statuses?: RunStatus[];
    /** Run name contains this text (case-insensitive). */
    nameContains?: string;
    clauses?: FilterClause[];
}

export type LifecycleView = 'active' | 'deleted' | 'all';

export interface ListExperimentsParams {
    /** Name contains this text (case-insensitive). */
    search?: string;
    view: LifecycleView;
    pageToken?: string;
}

export interface SearchRunsParams {
    experimentIds: string[];
    query?: RunQuery;
    orderBy?: { column: ColumnRef; ascending: boolean };
    view: LifecycleView;
    pageSize: number;
    pageToken?: string;
}

export interface MetricHistoryParams {
    /** A few runs to compare on one chart. */
    runIds: string[];
    key: string;
}

export interface ListArtifactsParams {
    owner: ArtifactOwner;
    path: string;
}

export interface LoggedModelsParams {
    experimentIds: string[];
    /** Only the models this run produced. */
    runId?: string;
    pageToken?: string;
}

/** Every request the webview can make, its parameters and what the host answers. */
export interface ExplorerMethods {
    listExperiments: { params: ListExperimentsParams; result: Page<ExperimentRow> };
    searchRuns: { params: SearchRunsParams; result: Page<RunRow> };
    getRun: { params: { runId: string }; result: RunDetail };
    metricHistory: { params: MetricHistoryParams; result: MetricSeries[] };
    listArtifacts: { params: ListArtifactsParams; result: ArtifactListing };
    loggedModels: { params: LoggedModelsParams; result: Page<LoggedModelRow> };
}
export type ExplorerMethod = keyof ExplorerMethods;
export type ParamsOf<M extends ExplorerMethod> = ExplorerMethods[M]['params'];
export type ResultOf<M extends ExplorerMethod> = ExplorerMethods[M]['result'];

// ---------------------------------------------------------------------------------------------
// Messages.

export interface ErrorInfo {
    /** A sentence for the user: what failed, what was observed, what to do. */
    message: string;
    /** `refused`, `timeout`, `http`, `not-supported`, `invalid`, ... */
    kind: string;
    status?: number;
}

/** What the explorer should show first: set by "open the run" from a finding or the tree. */
export interface Focus {
    experimentId?: string;
    runId?: string;
}

export type WebviewMessage =
    | { type: 'ready'; protocol: number }
    | {
          [M in ExplorerMethod]: { type: 'request'; id: number; method: M; params: ParamsOf<M> };
      }[ExplorerMethod]
    | { type: 'openArtifact'; owner: ArtifactOwner; path: string }
    | { type: 'downloadArtifact'; owner: ArtifactOwner; path: string }
    | { type: 'selectServer'; key: string }
    | { type: 'copyText'; text: string };

export type HostMessage =
    | {
          type: 'init';
          protocol: number;
          servers: ServerInfo[];
          /** The server the explorer talks to; absent when none is known. */
          current?: string;
          focus?: Focus;
          /** Why no server could be reached, when none could. */
          problem?: ErrorInfo;
      }
    | { type: 'response'; id: number; ok: true; result: unknown }
    | { type: 'response'; id: number; ok: false; error: ErrorInfo }
    | { type: 'focus'; focus: Focus }
    | { type: 'artifactOpened'; owner: ArtifactOwner; path: string; source: ArtifactSourceKind }
    | { type: 'notice'; level: 'info' | 'warning' | 'error'; message: string };

// ---------------------------------------------------------------------------------------------
// Validation of what the webview sends. Limits keep a hostile page from making the host build
// huge filters or fan out to thousands of requests.

export const LIMITS = {
    id: 256,
    text: 4096,
    key: 1024,
    path: 4096,
    experimentIds: 100,
    compareRuns: 10,
    clauses: 20,
    pageSize: 1000,
    copyText: 100_000,
} as const;

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

class Invalid extends Error {}

function fail(message: string): never {
    throw new Invalid(message);
}

function record(value: unknown, where: string): Record<string, unknown> {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        fail(`${where} must be an object`);
    }
    return value as Record<string, unknown>;
}

/** Only the listed keys, so a message cannot smuggle extra fields through. */
function only(value: Record<string, unknown>, keys: string[], where: string): void {
    for (const key of Object.keys(value)) {
        if (!keys.includes(key)) fail(`${where} has an unexpected field ${JSON.stringify(key)}`);
    }
}

function str(value: unknown, where: string, max: number, allowEmpty = true): string {
    if (typeof value !== 'string') fail(`${where} must be a string`);
    if (value.length > max) fail(`${where} is longer than ${max} characters`);
    if (!allowEmpty && value.length === 0) fail(`${where} must not be empty`);
    if (value.includes('\0')) fail(`${where} contains a NUL character`);
    return value;
}

function optStr(value: unknown, where: string, max: number): string | undefined {
    return value === undefined ? undefined : str(value, where, max);
}

/** MLflow ids: experiment ids are digits, run and model ids hex or `m-<hex>`; be a bit lenient. */
function id(value: unknown, where: string): string {
    const text = str(value, where, LIMITS.id, false);
    // Dots alone (`.`, `..`) would be a path segment wherever an id becomes part of a path.
    if (!/^[A-Za-z0-9_.:-]+$/.test(text) || /^\.+$/.test(text))
        fail(`${where} is not an MLflow id`);
    return text;
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[], where: string): T {
    if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
        fail(`${where} must be one of ${allowed.join(', ')}`);
    }
    return value as T;
}

function list<T>(value: unknown, where: string, max: number, item: (v: unknown, w: string) => T) {
    if (!Array.isArray(value)) fail(`${where} must be an array`);
    if (value.length > max) fail(`${where} has more than ${max} items`);
    return value.map((v, i) => item(v, `${where}[${i}]`));
}

function int(value: unknown, where: string, min: number, max: number): number {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
        fail(`${where} must be an integer from ${min} to ${max}`);
    }
    return value;
}

const LIFECYCLE: readonly LifecycleView[] = ['active', 'deleted', 'all'];
const KINDS: readonly ColumnKind[] = ['attribute', 'param', 'metric', 'tag'];

function column(value: unknown, where: string): ColumnRef {
    const v = record(value, where);
    only(v, ['kind', 'key'], where);
    const kind = oneOf(v['kind'], KINDS, `${where}.kind`);
    const key =
        kind === 'attribute'
            ? oneOf(v['key'], RUN_ATTRIBUTES, `${where}.key`)
            : str(v['key'], `${where}.key`, LIMITS.key, false);
    return { kind, key };
}

function clause(value: unknown, where: string): FilterClause {
    const v = record(value, where);
    only(v, ['column', 'op', 'value'], where);
    return {
        column: column(v['column'], `${where}.column`),
        op: oneOf(v['op'], FILTER_OPS, `${where}.op`),
        value: str(v['value'], `${where}.value`, LIMITS.text),
    };
}

function runQuery(value: unknown, where: string): RunQuery {
    const v = record(value, where);
    only(v, ['statuses', 'nameContains', 'clauses'], where);
    const query: RunQuery = {};
    if (v['statuses'] !== undefined) {
        query.statuses = list(v['statuses'], `${where}.statuses`, RUN_STATUSES.length, (s, w) =>
            oneOf(s, RUN_STATUSES, w),
        );
    }
    const name = optStr(v['nameContains'], `${where}.nameContains`, LIMITS.text);
    if (name !== undefined) query.nameContains = name;
    if (v['clauses'] !== undefined) {
        query.clauses = list(v['clauses'], `${where}.clauses`, LIMITS.clauses, clause);
    }
    return query;
}

function owner(value: unknown, where: string): ArtifactOwner {
    const v = record(value, where);
    if (v['kind'] === 'run') {
        only(v, ['kind', 'runId'], where);
        return { kind: 'run', runId: id(v['runId'], `${where}.runId`) };
    }
    if (v['kind'] === 'model') {
        only(v, ['kind', 'modelId'], where);
        return { kind: 'model', modelId: id(v['modelId'], `${where}.modelId`) };
    }
    return fail(`${where}.kind must be run or model`);
}

/**
 * An artifact path as the webview may name it: relative, `/`-separated, no `.` or `..` segment,
 * no backslash, no control character. The host confines it to the owner's root again; this is
 * the first of two gates.
 */
export function artifactPathProblem(path: string): string | undefined {
    if (path.length > LIMITS.path) return `is longer than ${LIMITS.path} characters`;
    if (path === '') return undefined;
    if (path.startsWith('/')) return 'is absolute';
    if (/^[A-Za-z]:/.test(path)) return 'has a drive letter';
    if (path.includes('\\')) return 'contains a backslash';
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f]/.test(path)) return 'contains a control character';
    for (const segment of path.split('/')) {
        if (segment === '') return 'has an empty segment';
        if (segment === '.' || segment === '..') return `has a "${segment}" segment`;
    }
    return undefined;
}

function artifactPath(value: unknown, where: string): string {
    const path = str(value, where, LIMITS.path);
    const problem = artifactPathProblem(path);
    if (problem) fail(`${where} ${problem}`);
    return path;
}

function params(method: ExplorerMethod, value: unknown): ParamsOf<ExplorerMethod> {
    const where = `${method} params`;
    const v = record(value, where);
    switch (method) {
        case 'listExperiments': {
            only(v, ['search', 'view', 'pageToken'], where);
            const out: ListExperimentsParams = { view: oneOf(v['view'], LIFECYCLE, 'view') };
            const search = optStr(v['search'], 'search', LIMITS.text);
            if (search !== undefined) out.search = search;
            const token = optStr(v['pageToken'], 'pageToken', LIMITS.text);
            if (token !== undefined) out.pageToken = token;
            return out;
        }
        case 'searchRuns': {
            only(v, ['experimentIds', 'query', 'orderBy', 'view', 'pageSize', 'pageToken'], where);
            const out: SearchRunsParams = {
                experimentIds: list(v['experimentIds'], 'experimentIds', LIMITS.experimentIds, id),
                view: oneOf(v['view'], LIFECYCLE, 'view'),
                pageSize: int(v['pageSize'], 'pageSize', 1, LIMITS.pageSize),
            };
            if (out.experimentIds.length === 0) fail('experimentIds must not be empty');
            if (v['query'] !== undefined) out.query = runQuery(v['query'], 'query');
            if (v['orderBy'] !== undefined) {
                const order = record(v['orderBy'], 'orderBy');
                only(order, ['column', 'ascending'], 'orderBy');
                if (typeof order['ascending'] !== 'boolean')
                    fail('orderBy.ascending must be true or false');
                out.orderBy = {
                    column: column(order['column'], 'orderBy.column'),
                    ascending: order['ascending'],
                };
            }
            const token = optStr(v['pageToken'], 'pageToken', LIMITS.text);
            if (token !== undefined) out.pageToken = token;
            return out;
        }
        case 'getRun':
            only(v, ['runId'], where);
            return { runId: id(v['runId'], 'runId') };
        case 'metricHistory': {
            only(v, ['runIds', 'key'], where);
            const runIds = list(v['runIds'], 'runIds', LIMITS.compareRuns, id);
            if (runIds.length === 0) fail('runIds must not be empty');
            return { runIds, key: str(v['key'], 'key', LIMITS.key, false) };
        }
        case 'listArtifacts':
            only(v, ['owner', 'path'], where);
            return { owner: owner(v['owner'], 'owner'), path: artifactPath(v['path'], 'path') };
        case 'loggedModels': {
            only(v, ['experimentIds', 'runId', 'pageToken'], where);
            const out: LoggedModelsParams = {
                experimentIds: list(v['experimentIds'], 'experimentIds', LIMITS.experimentIds, id),
            };
            if (v['runId'] !== undefined) out.runId = id(v['runId'], 'runId');
            const token = optStr(v['pageToken'], 'pageToken', LIMITS.text);
            if (token !== undefined) out.pageToken = token;
            return out;
        }
    }
}

const METHODS: readonly ExplorerMethod[] = [
    'listExperiments',
    'searchRuns',
    'getRun',
    'metricHistory',
    'listArtifacts',
    'loggedModels',
];

/** The only door from the webview into the host. Never throws. */
export function parseWebviewMessage(raw: unknown): Parsed<WebviewMessage> {
    try {
        const v = record(raw, 'message');
        switch (v['type']) {
            case 'ready':
                only(v, ['type', 'protocol'], 'ready');
                return {
                    ok: true,
                    value: { type: 'ready', protocol: int(v['protocol'], 'protocol', 0, 1000) },
                };
            case 'request': {
                only(v, ['type', 'id', 'method', 'params'], 'request');
                const requestId = int(v['id'], 'id', 0, Number.MAX_SAFE_INTEGER);
                const method = oneOf(v['method'], METHODS, 'method');
                return {
                    ok: true,
                    value: {
                        type: 'request',
                        id: requestId,
                        method,
                        params: params(method, v['params']),
                    } as WebviewMessage,
                };
            }
            case 'openArtifact':
            case 'downloadArtifact':
                only(v, ['type', 'owner', 'path'], v['type']);
                return {
                    ok: true,
                    value: {
                        type: v['type'],
                        owner: owner(v['owner'], 'owner'),
                        path: artifactPath(v['path'], 'path'),
                    },
                };
            case 'selectServer':
                only(v, ['type', 'key'], 'selectServer');
                return { ok: true, value: { type: 'selectServer', key: id(v['key'], 'key') } };
            case 'copyText':
                only(v, ['type', 'text'], 'copyText');
                return {
                    ok: true,
                    value: { type: 'copyText', text: str(v['text'], 'text', LIMITS.copyText) },
                };
            default:
                return fail('message type is not one the explorer sends');
        }
    } catch (error) {
        if (error instanceof Invalid) return { ok: false, error: error.message };
        return { ok: false, error: `message could not be read: ${String(error)}` };
    }
}
