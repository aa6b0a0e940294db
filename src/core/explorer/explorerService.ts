// The explorer's view of one MLflow server: what it can do (from its version, or probed when it
// does not say), and every request the webview makes except artifact listings, answered with the
// view models of webview/protocol.ts. All errors leave as `ExplorerError` with a user sentence.

import type {
    Capabilities,
    ExperimentRow,
    ExplorerMethod,
    LifecycleView,
    ListExperimentsParams,
    LoggedModelRow,
    LoggedModelsParams,
    MetricHistoryParams,
    MetricSeries,
    Page,
    ParamsOf,
    ResultOf,
    RunDetail,
    RunRow,
    SearchRunsParams,
    ServerInfo,
} from '../../../webview/protocol.js';
import { LIMITS } from '../../../webview/protocol.js';
import {
    type LoggedModel,
    type MlflowClient,
    MlflowRequestError,
    settle,
} from '../mlflow/client.js';
import { isAtLeast, majorOf, parseVersion } from '../mlflow/versions.js';
import { asExplorerError, ExplorerError } from './explorerErrors.js';
import { DEFAULT_MAX_POINTS, fetchMetricColumns, mapWithLimit } from './metricHistory.js';
import {
    buildOrderBy,
    buildRunFilter,
    containsClause,
    InvalidFilterError,
    passesExactCheck,
    runPassesChecks,
} from './runFilter.js';
import {
    runDatasets,
    runModelIds,
    toExperimentRow,
    toLoggedModelRow,
    toRunRow,
} from './viewModels.js';

export { ExplorerError, toErrorInfo } from './explorerErrors.js';

export interface ExplorerServiceOptions {
    client: MlflowClient;
    /** Opaque key of this server in the host (never a URL with credentials). */
    key: string;
    /** Where the tracking URI came from, shown to the user. */
    origin: string;
    authenticated: boolean;
    log?: (line: string) => void;
}

type ServiceMethod = Exclude<ExplorerMethod, 'listArtifacts'>;

const API = '/api/2.0/mlflow';
const EXPERIMENT_PAGE = 200;
const MODEL_PAGE = 100;
const HISTORY_CONCURRENCY = 4;
const RUN_CACHE_ENTRIES = 2000;
const ID = /^[A-Za-z0-9_.:-]+$/;

const VIEW_TYPE: Record<LifecycleView, 'ACTIVE_ONLY' | 'DELETED_ONLY' | 'ALL'> = {
    active: 'ACTIVE_ONLY',
    deleted: 'DELETED_ONLY',
    all: 'ALL',
};

interface RunFacts {
    name: string;
    experimentId: string;
    artifactUri?: string;
}

/** A bounded map that forgets the least recently used entry first. */
class RecentlyUsed<V> {
    private readonly entries = new Map<string, V>();

    constructor(private readonly capacity: number) {}

    get(key: string): V | undefined {
        const value = this.entries.get(key);
        if (value !== undefined) {
            this.entries.delete(key);
            this.entries.set(key, value);
        }
        return value;
    }

    set(key: string, value: V): void {
        this.entries.delete(key);
        this.entries.set(key, value);
        if (this.entries.size > this.capacity) {
            this.entries.delete(this.entries.keys().next().value as string);
        }
    }
}

function invalid(message: string): ExplorerError {
    return new ExplorerError({ kind: 'invalid', message });
}

function checkId(id: string, what: string): string {
    if (!ID.test(id) || id.length > LIMITS.id) {
        throw invalid(`${JSON.stringify(id.slice(0, 80))} is not an MLflow ${what} id.`);
    }
    return id;
}

/** What a server of this version can do (facts §2.4, §2.6). */
export function capabilitiesFor(version: string): Omit<Capabilities, 'limits'> {
    return {
        loggedModels: (majorOf(version) ?? 0) >= 3,
        metricHistoryPaging: isAtLeast(version, '3.1.1'),
        bulkIntervalMetrics: isAtLeast(version, '2.11.0'),
    };
}

/** One sentence per thing the server cannot do, for the explorer's header. */
export function limitSentences(
    capabilities: Omit<Capabilities, 'limits'>,
    version?: string,
): string[] {
    const server = version ? `MLflow ${version}` : 'This server';
    const limits: string[] = [];
    if (!version) {
        limits.push(
            'The server did not say its MLflow version, so what it can do was probed instead of read from its version.',
        );
    }
    if (!capabilities.loggedModels) {
        limits.push(
            `${server} has no logged models: models logged by this server's runs appear only as run artifacts.`,
        );
    }
    if (!capabilities.metricHistoryPaging) {
        limits.push(
            capabilities.bulkIntervalMetrics
                ? `${server} sends a metric's whole history in one answer: a history too long for that is charted from the server's sample of 2,500 points.`
                : `${server} sends a metric's whole history in one answer: a history too long for that cannot be charted.`,
        );
    }
    if (!capabilities.bulkIntervalMetrics) {
        limits.push(
            `${server} cannot sample metric histories: a history longer than ${DEFAULT_MAX_POINTS.toLocaleString('en-US')} points is charted only up to that point.`,
        );
    }
    if (capabilities.proxiedArtifacts === false) {
        limits.push(
            `${server} does not proxy artifacts (--no-serve-artifacts): artifacts are read from where the runs stored them, when this machine can reach that place.`,
        );
    }
    return limits;
}

/**
 * Only a server whose /version route is missing or answered by something else (older than 2.1,
 * a prefix in the way) is probed; a refusal such as a 401 is the answer to show instead.
 */
function versionRouteMissing(error: MlflowRequestError | undefined): boolean {
    if (!error) return true;
    return error.status === 404 || error.kind === 'not-mlflow' || error.kind === 'non-json';
}

/** True when the route answered as MLflow does (JSON, even an error), false for a missing route. */
async function routeAnswers(call: Promise<unknown>): Promise<boolean | undefined> {
    try {
        await call;
        return true;
    } catch (error) {
        if (!(error instanceof MlflowRequestError)) return undefined;
        if (error.errorCode) return true;
        if (error.status === 404 || error.hint === 'route-missing') return false;
        return undefined;
    }
}

export class ExplorerService {
    private readonly client: MlflowClient;
    private readonly log: (line: string) => void;
    private readonly runs = new RecentlyUsed<RunFacts>(RUN_CACHE_ENTRIES);
    private readonly models = new RecentlyUsed<LoggedModelRow>(RUN_CACHE_ENTRIES);

    /** Use `connect`, which reads `server` from the server itself. */
    constructor(
        options: ExplorerServiceOptions,
        readonly server: ServerInfo,
    ) {
        this.client = options.client;
        this.log = options.log ?? (() => undefined);
    }

    /** Reads the server's version (and health); probes what it can do when it does not say. */
    static async connect(options: ExplorerServiceOptions): Promise<ExplorerService> {
        const { client } = options;
        const log = options.log ?? (() => undefined);
        const [version, health] = await Promise.all([
            settle(client.version()),
            settle(client.health()),
        ]);

        let text: string | undefined;
        let probed: Omit<Capabilities, 'limits'>;
        if (version.data !== undefined && parseVersion(version.data)) {
            text = version.data;
            probed = capabilitiesFor(text);
        } else if (health.data !== undefined && versionRouteMissing(version.error)) {
            log(
                `MLflow at ${client.baseUrl} answers /health but not /version: probing what it can do`,
            );
            probed = await ExplorerService.probeCapabilities(client);
        } else {
            throw asExplorerError(version.error ?? health.error ?? new Error('no answer'));
        }
        if (health.error)
            log(`MLflow at ${client.baseUrl}: /health failed (${health.observation.error ?? ''})`);

        const proxied = await routeAnswers(
            client.request('GET', '/api/2.0/mlflow-artifacts/artifacts', {
                query: { path: 'stack-doctor-probe' },
            }),
        ).catch(() => undefined);
        const capabilities: Capabilities = {
            ...probed,
            ...(proxied !== undefined ? { proxiedArtifacts: proxied } : {}),
            limits: [],
        };
        capabilities.limits = limitSentences(capabilities, text);

        const parsed = text ? parseVersion(text) : undefined;
        const server: ServerInfo = {
            key: options.key,
            url: client.baseUrl,
            origin: options.origin,
            authenticated: options.authenticated,
            capabilities,
            ...(text ? { version: text } : {}),
            ...(parsed ? { major: parsed.major } : {}),
        };
        log(`explorer connected to MLflow ${text ?? '(version unknown)'} at ${client.baseUrl}`);
        return new ExplorerService(options, server);
    }

    /** For a server without /version: ask the routes that differ between versions. */
    private static async probeCapabilities(
        client: MlflowClient,
    ): Promise<Omit<Capabilities, 'limits'>> {
        const [models, bulk] = await Promise.all([
            routeAnswers(client.searchLoggedModels({ experimentIds: ['0'], maxResults: 1 })),
            routeAnswers(
                client.request('GET', `${API}/metrics/get-history-bulk-interval`, {
                    query: { run_ids: ['0'], metric_key: 'stack-doctor-probe', max_results: 1 },
                }),
            ),
        ]);
        // Not yet: paging of get-history cannot be told apart by a probe (2.x ignores the
        // parameters), so an unknown version is treated as not paging and histories come whole.
        return {
            loggedModels: models === true,
            metricHistoryPaging: false,
            bulkIntervalMetrics: bulk === true,
        };
    }

    /** Every explorer request but `listArtifacts`; rejects with `ExplorerError` only. */
    async call<M extends ServiceMethod>(method: M, params: ParamsOf<M>): Promise<ResultOf<M>> {
        try {
            switch (method) {
                case 'listExperiments':
                    return await this.listExperiments(params as ListExperimentsParams);
                case 'searchRuns':
                    return await this.searchRuns(params as SearchRunsParams);
                case 'getRun':
                    return await this.getRun((params as { runId: string }).runId);
                case 'metricHistory':
                    return await this.metricHistory(params as MetricHistoryParams);
                case 'loggedModels':
                    return await this.loggedModels(params as LoggedModelsParams);
            }
        } catch (error) {
            throw asExplorerError(error);
        }
        throw invalid(`The explorer has no request named ${JSON.stringify(String(method))}.`);
    }

    async listExperiments(params: ListExperimentsParams): Promise<Page<ExperimentRow>> {
        const search = params.search?.trim()
            ? containsClause('name', params.search.trim())
            : undefined;
        const page = await this.client.searchExperiments({
            maxResults: EXPERIMENT_PAGE,
            viewType: VIEW_TYPE[params.view],
            method: 'POST',
            ...(search ? { filter: search.clause } : {}),
            ...(params.pageToken ? { pageToken: params.pageToken } : {}),
        });
        let items = page.data.items.map(toExperimentRow);
        // As with runs: a page the server could only approximate comes back shorter, and its
        // token still continues where the server stopped.
        if (search && !search.exact) {
            const check = {
                column: { kind: 'attribute' as const, key: 'name' },
                test: 'contains' as const,
                value: params.search!.trim(),
            };
            items = items.filter((row) => passesExactCheck(row.name, check));
        }
        return {
            items,
            ...(page.data.nextPageToken ? { nextPageToken: page.data.nextPageToken } : {}),
        };
    }

    async searchRuns(params: SearchRunsParams): Promise<Page<RunRow>> {
        let filter;
        let orderBy: string[] | undefined;
        try {
            filter = buildRunFilter(params.query);
            if (params.orderBy)
                orderBy = [buildOrderBy(params.orderBy.column, params.orderBy.ascending)];
        } catch (error) {
            if (error instanceof InvalidFilterError) throw invalid(error.message);
            throw error;
        }
        const experimentIds = params.experimentIds.map((id) => checkId(id, 'experiment'));
        const page = await this.client.searchRuns({
            experimentIds,
            maxResults: Math.max(1, Math.min(params.pageSize, 50_000)),
            runViewType: VIEW_TYPE[params.view],
            ...(filter.filter ? { filter: filter.filter } : {}),
            ...(orderBy ? { orderBy } : {}),
            ...(params.pageToken ? { pageToken: params.pageToken } : {}),
        });
        const items: RunRow[] = [];
        for (const run of page.data.items) {
            const row = toRunRow(run);
            this.remember(row);
            // A page may come back shorter than asked when the server could only approximate a
            // clause; its token still continues where the server stopped.
            if (filter.exact.length === 0 || runPassesChecks(row, filter.exact)) items.push(row);
        }
        return {
            items,
            ...(page.data.nextPageToken ? { nextPageToken: page.data.nextPageToken } : {}),
        };
    }

    async getRun(runId: string): Promise<RunDetail> {
        checkId(runId, 'run');
        const run = (await this.client.getRun(runId)).data;
        const row = toRunRow(run);
        this.remember(row);
        const ids = runModelIds(run);
        const detail: RunDetail = {
            run: row,
            loggedModels: [],
            inputModelIds: ids.inputs,
            datasets: runDatasets(run),
        };
        if (!this.server.capabilities.loggedModels) return detail;

        const found = await this.client.searchLoggedModels({
            experimentIds: [row.experimentId],
            filter: `source_run_id = '${runId}'`,
            maxResults: MODEL_PAGE,
        });
        const models = new Map<string, LoggedModelRow>();
        for (const model of found.data.items)
            models.set(model.info.model_id, toLoggedModelRow(model));
        const missing = ids.outputs.filter((id) => !models.has(id) && ID.test(id));
        const fetched = await mapWithLimit(missing, HISTORY_CONCURRENCY, async (id) => {
            try {
                return await this.fetchLoggedModel(id);
            } catch (error) {
                // A model the run once logged and that was deleted since: leave it out.
                if (error instanceof MlflowRequestError && error.status === 404) return undefined;
                throw error;
            }
        });
        for (const model of fetched) if (model) models.set(model.id, model);
        detail.loggedModels = [...models.values()];
        for (const model of detail.loggedModels) this.models.set(model.id, model);
        return detail;
    }

    async metricHistory(params: MetricHistoryParams): Promise<MetricSeries[]> {
        if (params.runIds.length === 0 || params.runIds.length > LIMITS.compareRuns) {
            throw invalid(
                `A chart compares 1 to ${LIMITS.compareRuns} runs; ${params.runIds.length} were asked for.`,
            );
        }
        if (!params.key) throw invalid('A metric history needs the metric key.');
        const runIds = [...new Set(params.runIds.map((id) => checkId(id, 'run')))];
        return mapWithLimit(runIds, HISTORY_CONCURRENCY, async (runId) => {
            const [facts, columns] = await Promise.all([
                this.runFacts(runId),
                fetchMetricColumns(this.client, this.server.capabilities, runId, params.key, {
                    log: this.log,
                }),
            ]);
            return { runId, runName: facts.name, key: params.key, ...columns };
        });
    }

    async loggedModels(params: LoggedModelsParams): Promise<Page<LoggedModelRow>> {
        this.requireLoggedModels();
        const experimentIds = params.experimentIds.map((id) => checkId(id, 'experiment'));
        const runId = params.runId ? checkId(params.runId, 'run') : undefined;
        const page = await this.client.searchLoggedModels({
            experimentIds,
            maxResults: MODEL_PAGE,
            ...(runId ? { filter: `source_run_id = '${runId}'` } : {}),
            ...(params.pageToken ? { pageToken: params.pageToken } : {}),
        });
        const items = page.data.items.map(toLoggedModelRow);
        for (const model of items) this.models.set(model.id, model);
        return {
            items,
            ...(page.data.nextPageToken ? { nextPageToken: page.data.nextPageToken } : {}),
        };
    }

    /** For artifact access: where a run's artifacts live. */
    async getRunInfo(runId: string): Promise<{ experimentId: string; artifactUri?: string }> {
        try {
            const facts = await this.runFacts(checkId(runId, 'run'));
            return {
                experimentId: facts.experimentId,
                ...(facts.artifactUri ? { artifactUri: facts.artifactUri } : {}),
            };
        } catch (error) {
            throw asExplorerError(error);
        }
    }

    /** For artifact access: where a logged model's artifacts live (MLflow 3). */
    async getLoggedModelInfo(
        modelId: string,
    ): Promise<{ experimentId: string; artifactUri?: string; sourceRunId?: string }> {
        try {
            this.requireLoggedModels();
            checkId(modelId, 'logged model');
            const model = this.models.get(modelId) ?? (await this.fetchLoggedModel(modelId));
            this.models.set(modelId, model);
            return {
                experimentId: model.experimentId,
                ...(model.artifactUri ? { artifactUri: model.artifactUri } : {}),
                ...(model.sourceRunId ? { sourceRunId: model.sourceRunId } : {}),
            };
        } catch (error) {
            throw asExplorerError(error);
        }
    }

    private requireLoggedModels(): void {
        if (this.server.capabilities.loggedModels) return;
        const server = this.server.version ? `MLflow ${this.server.version}` : 'This server';
        throw new ExplorerError({
            kind: 'not-supported',
            message: `${server} has no logged models (they arrived in MLflow 3.0): the models its runs logged are among each run's artifacts.`,
        });
    }

    private async fetchLoggedModel(modelId: string): Promise<LoggedModelRow> {
        const result = await this.client.request(
            'GET',
            `${API}/logged-models/${encodeURIComponent(modelId)}`,
        );
        const model = (result.data as { model?: LoggedModel } | undefined)?.model;
        if (!model || typeof model.info?.model_id !== 'string') {
            throw new ExplorerError({
                kind: 'not-mlflow',
                message: `${this.server.url} answered the logged model ${modelId} without a model in its JSON. Check that the URI points at an MLflow 3 server.`,
            });
        }
        return toLoggedModelRow(model);
    }

    private async runFacts(runId: string): Promise<RunFacts> {
        const known = this.runs.get(runId);
        if (known) return known;
        const row = toRunRow((await this.client.getRun(runId)).data);
        return this.remember(row);
    }

    private remember(row: RunRow): RunFacts {
        const facts: RunFacts = {
            name: row.name,
            experimentId: row.experimentId,
            ...(row.artifactUri ? { artifactUri: row.artifactUri } : {}),
        };
        this.runs.set(row.id, facts);
        return facts;
    }
}
