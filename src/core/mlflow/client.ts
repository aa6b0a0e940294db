// The MLflow REST client used by probes and the explorer. It is built for diagnosis, not for
// throughput: no retries (a retry hides the first answer, which is the evidence), explicit
// timeouts on every call, no redirects followed, and bodies read as text so that an HTML page,
// a TLS alert or another application's answer can be recognised instead of failing to parse.

import axios, { type AxiosResponse, type RawAxiosRequestHeaders } from 'axios';
import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import tls from 'node:tls';
import type { HttpObservation, HttpOutcome } from '../model.js';
import { parseVersion } from './versions.js';
import { maskSecrets } from '../secrets.js';

export type MlflowErrorKind = Exclude<HttpOutcome, 'ok'>;

/** Why a response was judged the way it was, when the body or headers say more than the status. */
export type ResponseHint =
    /** 3.5+ DNS-rebinding protection rejected the Host header (facts §5.3). */
    | 'host-header'
    /** 3.5+ CORS check rejected a write with a foreign Origin (facts §5.3). */
    | 'cors'
    /** Basic auth (or a proxy) wants credentials (facts §2.1). */
    | 'auth'
    /** A plain-http request reached a TLS port, or the reverse. */
    | 'tls-port'
    /** A reverse proxy answered with its own page (the request did not reach MLflow). */
    | 'proxy-page'
    /** An unknown route on a Flask app: HTML 404 (facts §1.6, §2.1). */
    | 'route-missing'
    /** `--no-serve-artifacts` or `--artifacts-only` mode (plain-text 503, facts §2.1). */
    | 'endpoint-disabled';

export interface MlflowErrorDetails {
    kind: MlflowErrorKind;
    observation: HttpObservation;
    status?: number;
    contentType?: string;
    /** The first ~500 characters of the body, secrets masked. */
    bodySnippet?: string;
    /** MLflow's `error_code` from a JSON error body (`RESOURCE_DOES_NOT_EXIST`). */
    errorCode?: string;
    /** The application that answered instead of MLflow (`nginx`, `Jupyter`), when recognised. */
    responder?: string;
    hint?: ResponseHint;
}

/** The one error every client call rejects with. `kind` says what failed; the message says why. */
export class MlflowRequestError extends Error implements MlflowErrorDetails {
    readonly kind: MlflowErrorKind;
    readonly observation: HttpObservation;
    readonly status?: number;
    readonly contentType?: string;
    readonly bodySnippet?: string;
    readonly errorCode?: string;
    readonly responder?: string;
    readonly hint?: ResponseHint;

    constructor(message: string, details: MlflowErrorDetails) {
        super(message);
        this.name = 'MlflowRequestError';
        this.kind = details.kind;
        this.observation = details.observation;
        if (details.status !== undefined) this.status = details.status;
        if (details.contentType !== undefined) this.contentType = details.contentType;
        if (details.bodySnippet !== undefined) this.bodySnippet = details.bodySnippet;
        if (details.errorCode !== undefined) this.errorCode = details.errorCode;
        if (details.responder !== undefined) this.responder = details.responder;
        if (details.hint !== undefined) this.hint = details.hint;
    }
}

export type MlflowAuth = { username: string; password: string } | { token: string };

export interface MlflowClientOptions {
    /** Tracking URI as the client would use it: `http://127.0.0.1:5000` or `https://h/mlflow`. */
    baseUrl: string;
    /** Whole-request deadline. Default 5000 ms. */
    timeoutMs?: number;
    /** Deadline for the TCP connection alone. Default: the request deadline. */
    connectTimeoutMs?: number;
    auth?: MlflowAuth;
    /** The server's `--static-prefix`, for `/health` and `/version` on 3.7+ (facts §1.1). */
    staticPrefix?: string;
    /** Send this Host header (`mlflow:5000`) to see what a container client gets (facts §5.3). */
    hostHeader?: string;
    /** Accept any TLS certificate. Default false: certificate errors are reported as `tls`. */
    insecureTls?: boolean;
    /** PEM CA bundle for https. */
    ca?: string;
    /** When an http:// request is reset, check whether the port speaks TLS. Default true. */
    detectTlsListener?: boolean;
    /** Debug log for requests; receives no secrets and no bodies. */
    log?: (message: string) => void;
    /** Cancels every request in flight and later ones (a probe whose answer is not needed). */
    signal?: AbortSignal;
}

/** A call's result together with what was observed on the wire. */
export interface Observed<T> {
    data: T;
    observation: HttpObservation;
}

// ---------------------------------------------------------------------------------------------
// REST shapes (facts §2): snake_case as the server sends them; IDs stay strings.

export interface Tag {
    key: string;
    value: string;
}

export interface Experiment {
    experiment_id: string;
    name: string;
    artifact_location?: string;
    lifecycle_stage?: string;
    last_update_time?: number;
    creation_time?: number;
    tags?: Tag[];
}

export interface RunInfo {
    run_id: string;
    run_uuid?: string;
    run_name?: string;
    experiment_id: string;
    user_id?: string;
    status?: string;
    start_time?: number;
    end_time?: number;
    artifact_uri?: string;
    lifecycle_stage?: string;
}

export interface Metric {
    key: string;
    value: number | string;
    timestamp?: number;
    step?: number;
    run_id?: string;
}

export interface Run {
    info: RunInfo;
    data?: { metrics?: Metric[]; params?: Tag[]; tags?: Tag[] };
    inputs?: { dataset_inputs?: unknown[]; model_inputs?: { model_id: string }[] };
    /** 3.0+: the link from a run to its logged models (facts §2.3). */
    outputs?: { model_outputs?: { model_id: string; step?: number }[] };
}

export interface ArtifactFile {
    path: string;
    is_dir?: boolean;
    file_size?: number;
}

export interface ArtifactListing {
    root_uri?: string;
    files: ArtifactFile[];
}

export interface LoggedModel {
    info: {
        model_id: string;
        experiment_id: string;
        name?: string;
        artifact_uri?: string;
        status?: string;
        source_run_id?: string;
        creation_timestamp_ms?: number;
        last_updated_timestamp_ms?: number;
        model_type?: string;
        tags?: Tag[];
    };
    data?: { params?: Tag[]; metrics?: Metric[] };
}

export interface Page<T> {
    items: T[];
    nextPageToken?: string;
}

export interface SearchExperimentsOptions {
    /** Always sent: the proto has no default and 0 is rejected (facts §2.2). Default 100. */
    maxResults?: number;
    filter?: string;
    orderBy?: string[];
    viewType?: 'ACTIVE_ONLY' | 'DELETED_ONLY' | 'ALL';
    pageToken?: string;
    /** The route accepts both; GET is what the probe uses. Default GET. */
    method?: 'GET' | 'POST';
}

export interface SearchRunsOptions {
    experimentIds: string[];
    filter?: string;
    orderBy?: string[];
    maxResults?: number;
    pageToken?: string;
    runViewType?: 'ACTIVE_ONLY' | 'DELETED_ONLY' | 'ALL';
}

export interface SearchLoggedModelsOptions {
    experimentIds: string[];
    filter?: string;
    maxResults?: number;
    orderBy?: { field_name: string; ascending?: boolean }[];
    pageToken?: string;
}

export interface StreamRequestOptions {
    query?: RequestOptions['query'];
    /** Cancels the request, and the body while it streams. */
    signal?: AbortSignal;
    /** Longest silence of the socket once the answer has started. Default 30 s. */
    idleTimeoutMs?: number;
}

/** A 2xx answer whose body has not been read: the caller streams it and must consume or destroy. */
export interface OpenedStream {
    stream: Readable;
    status: number;
    /** From Content-Length, when the server sent one. */
    size?: number;
    contentType?: string;
    observation: HttpObservation;
}

/** What a call expects in a 2xx body, which decides `non-json` and `not-mlflow`. */
export type ExpectedBody = 'json' | 'text' | 'health' | 'version';

export interface RequestOptions {
    query?: Record<string, string | number | boolean | (string | number)[] | undefined>;
    body?: unknown;
    expect?: ExpectedBody;
}

const API = '/api/2.0/mlflow';
const SNIPPET_CHARS = 500;
const DEFAULT_TIMEOUT_MS = 5000;
const MAX_BODY_BYTES = 8 * 1024 * 1024;
/** How much of an error answer `openStream` reads to say what the server meant. */
const MAX_ERROR_BODY_BYTES = 64 * 1024;
const DEFAULT_IDLE_TIMEOUT_MS = 30_000;
const KEPT_HEADERS = ['content-type', 'server', 'www-authenticate', 'location', 'content-length'];

export const HOST_HEADER_REJECTED = 'Invalid Host header - possible DNS rebinding attack detected';
const CORS_REJECTED = 'Cross-origin request blocked';
const PLAIN_HTTP_TO_HTTPS = 'The plain HTTP request was sent to HTTPS port';

// ---------------------------------------------------------------------------------------------
// Secrets

export { maskSecrets };

function snippet(text: string): string {
    const masked = maskSecrets(text);
    return masked.length > SNIPPET_CHARS ? `${masked.slice(0, SNIPPET_CHARS)}…` : masked;
}

function urlWithoutCredentials(url: URL): string {
    const copy = new URL(url.toString());
    copy.username = '';
    copy.password = '';
    return copy.toString();
}

// ---------------------------------------------------------------------------------------------
// Recognising who answered

/**
 * Names the application behind a response when the body or headers give it away, so "this is
 * not MLflow" can say what it is instead. Returns undefined for anything unrecognised.
 */
export function identifyResponder(
    body: string,
    headers: Record<string, string> = {},
): string | undefined {
    const server = headers['server'] ?? '';
    const head = body.slice(0, 4000);
    if (/<title>\s*MLflow\b/i.test(head)) return 'MLflow UI';
    if (/jupyter/i.test(head) || /^TornadoServer/i.test(server)) return 'Jupyter';
    if (/Welcome to nginx|<center>nginx/i.test(head)) return 'nginx';
    if (/Apache2 (?:Ubuntu|Debian) Default Page|<address>Apache\//i.test(head)) return 'Apache';
    if (/^MinIO/i.test(server) || /<Error>\s*<Code>/.test(head)) return 'MinIO';
    if (/<title>\s*Grafana/i.test(head)) return 'Grafana';
    if (/<title>[^<]*Airflow/i.test(head)) return 'Airflow';
    if (/<title>[^<]*Traefik|^404 page not found\s*$/i.test(head)) return 'Traefik';
    if (/^Caddy/i.test(server)) return 'Caddy';
    const title = /<title>\s*([^<]{1,80}?)\s*<\/title>/i.exec(head)?.[1];
    // A Flask/werkzeug error page ("404 Not Found") is what MLflow itself sends for unknown
    // routes, so it does not name another application.
    if (title && !/^\d{3}\b/.test(title)) return title;
    return undefined;
}

function startsWithTlsRecord(bytes: Buffer | string): boolean {
    const buffer = typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes;
    // TLS record header: content type 0x15 (alert) or 0x16 (handshake), then version 0x03 0x0N.
    return buffer.length >= 3 && (buffer[0] === 0x15 || buffer[0] === 0x16) && buffer[1] === 0x03;
}

function mlflowErrorBody(text: string): { error_code?: string; message?: string } | undefined {
    try {
        const parsed: unknown = JSON.parse(text);
        if (parsed && typeof parsed === 'object' && 'error_code' in parsed) {
            return parsed as { error_code?: string; message?: string };
        }
    } catch {
        // Not JSON: the caller falls back to the text.
    }
    return undefined;
}

// ---------------------------------------------------------------------------------------------
// Transport

/** An agent that fails the connection attempt on its own deadline, to tell connect from read. */
function connectDeadlineAgent<T extends http.Agent>(agent: T, connectTimeoutMs: number): T {
    const original = agent.createConnection.bind(agent);
    agent.createConnection = (options, callback) => {
        const socket = original(options, callback);
        if (!socket) return socket;
        const timer = setTimeout(() => {
            const error = new Error(`no TCP connection within ${connectTimeoutMs} ms`);
            (error as NodeJS.ErrnoException).code = 'ECONNECTTIMEOUT';
            socket.destroy(error);
        }, connectTimeoutMs);
        timer.unref();
        const clear = (): void => clearTimeout(timer);
        socket.once('connect', clear);
        socket.once('close', clear);
        socket.once('error', clear);
        return socket;
    };
    return agent;
}

export interface TransportFailure {
    kind: MlflowErrorKind;
    message: string;
}

function errorChain(error: unknown): NodeJS.ErrnoException[] {
    const chain: NodeJS.ErrnoException[] = [];
    let current: unknown = error;
    while (current instanceof Error && chain.length < 5) {
        chain.push(current);
        current = (current as { cause?: unknown }).cause;
    }
    return chain;
}

/** Names what went wrong below HTTP: refused, reset, timeout, DNS, TLS, or not HTTP at all. */
export function classifyTransportError(
    error: unknown,
    timedOut: boolean,
    url: URL,
): TransportFailure {
    const chain = errorChain(error);
    const codes = chain.map((item) => item.code ?? '').filter(Boolean);
    const text = chain.map((item) => item.message).join(' | ');
    const has = (...wanted: string[]): boolean => codes.some((code) => wanted.includes(code));
    const target = `${url.hostname}:${url.port || (url.protocol === 'https:' ? 443 : 80)}`;

    if (has('ECONNECTTIMEOUT')) return { kind: 'timeout', message: `${text} to ${target}` };
    if (timedOut || has('ETIMEDOUT', 'ECONNABORTED') || /timeout of \d+ms exceeded/.test(text)) {
        return { kind: 'timeout', message: `no response from ${target} in time (${text})` };
    }
    if (has('ECONNREFUSED')) return { kind: 'refused', message: `ECONNREFUSED ${target}` };
    if (has('ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME')) {
        return { kind: 'dns', message: `cannot resolve ${url.hostname} (${codes[0] ?? text})` };
    }
    if (
        has('EPROTO', 'ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_SSL_PACKET_LENGTH_TOO_LONG') ||
        codes.some((code) => code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_')) ||
        /wrong version number|packet length too long|http request|unknown protocol/i.test(text)
    ) {
        return {
            kind: 'tls',
            message: `TLS handshake with ${target} failed: the port does not speak TLS (${text})`,
        };
    }
    if (
        has(
            'DEPTH_ZERO_SELF_SIGNED_CERT',
            'SELF_SIGNED_CERT_IN_CHAIN',
            'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
            'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
            'CERT_HAS_EXPIRED',
            'ERR_TLS_CERT_ALTNAME_INVALID',
        )
    ) {
        return { kind: 'tls', message: `TLS certificate of ${target} rejected: ${text}` };
    }
    if (has('ECONNRESET', 'EPIPE') || /socket hang up/i.test(text)) {
        return { kind: 'reset', message: `connection to ${target} reset (${codes[0] ?? text})` };
    }
    if (codes.some((code) => code.startsWith('HPE_'))) {
        const raw = chain
            .map((item) => (item as { rawPacket?: unknown }).rawPacket)
            .find((packet): packet is Buffer => Buffer.isBuffer(packet));
        if (raw && startsWithTlsRecord(raw)) {
            return {
                kind: 'tls',
                message: `${target} answered with TLS bytes: it is an https port`,
            };
        }
        return {
            kind: 'not-mlflow',
            message: `${target} does not answer HTTP (${codes.find((c) => c.startsWith('HPE_'))})`,
        };
    }
    return { kind: 'other', message: `${codes[0] ? `${codes[0]}: ` : ''}${text}` };
}

/** True when the port completes a TLS handshake: an http:// URL that was reset is an https port. */
function speaksTls(host: string, port: number, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
        const socket = tls.connect({
            host,
            port,
            rejectUnauthorized: false,
            servername: /^[\d.]+$|:/.test(host) ? undefined : host,
        });
        const done = (result: boolean): void => {
            clearTimeout(timer);
            socket.destroy();
            resolve(result);
        };
        const timer = setTimeout(() => done(false), timeoutMs);
        socket.once('secureConnect', () => done(true));
        socket.once('error', () => done(false));
    });
}

// ---------------------------------------------------------------------------------------------
// The client

export class MlflowClient {
    private readonly base: URL;
    /** The tracking URI's path without a trailing slash: '' or `/mlflow`. */
    private readonly basePath: string;
    private readonly timeoutMs: number;
    private readonly connectTimeoutMs: number;
    private readonly authorization?: string;
    private readonly httpAgent: http.Agent;
    private readonly httpsAgent: https.Agent;

    constructor(private readonly options: MlflowClientOptions) {
        const base = new URL(options.baseUrl);
        if (base.protocol !== 'http:' && base.protocol !== 'https:') {
            throw new Error(`MLflow tracking URI must be http(s), got ${base.protocol}`);
        }
        let auth = options.auth;
        if (!auth && base.username) {
            auth = {
                username: decodeURIComponent(base.username),
                password: decodeURIComponent(base.password),
            };
        }
        base.username = '';
        base.password = '';
        this.basePath = base.pathname.replace(/\/+$/, '');
        this.base = base;
        this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
        this.connectTimeoutMs = options.connectTimeoutMs ?? this.timeoutMs;
        if (auth) {
            this.authorization =
                'token' in auth
                    ? `Bearer ${auth.token}`
                    : `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
        }
        this.httpAgent = connectDeadlineAgent(new http.Agent(), this.connectTimeoutMs);
        this.httpsAgent = connectDeadlineAgent(
            new https.Agent({
                rejectUnauthorized: !options.insecureTls,
                ...(options.ca ? { ca: options.ca } : {}),
            }),
            this.connectTimeoutMs,
        );
    }

    /** The tracking URI without credentials. */
    get baseUrl(): string {
        return urlWithoutCredentials(this.base).replace(/\/$/, '');
    }

    /** `GET /health`, then `<prefix>/health` when a static prefix is set (3.7+ moved it). */
    async health(): Promise<Observed<string>> {
        return this.withPrefixFallback('/health', 'health');
    }

    /** `GET /version` (2.1.0+), then `<prefix>/version` (3.7+ with a static prefix). */
    async version(): Promise<Observed<string>> {
        return this.withPrefixFallback('/version', 'version');
    }

    async searchExperiments(
        options: SearchExperimentsOptions = {},
    ): Promise<Observed<Page<Experiment>>> {
        const fields = {
            max_results: options.maxResults ?? 100,
            filter: options.filter,
            order_by: options.orderBy,
            view_type: options.viewType,
            page_token: options.pageToken,
        };
        const result =
            options.method === 'POST'
                ? await this.request('POST', `${API}/experiments/search`, { body: fields })
                : await this.request('GET', `${API}/experiments/search`, { query: fields });
        return this.page(result, 'experiments', (item) => isExperiment(item));
    }

    async getExperiment(experimentId: string): Promise<Observed<Experiment>> {
        const result = await this.request('GET', `${API}/experiments/get`, {
            query: { experiment_id: experimentId },
        });
        return this.field(result, 'experiment', isExperiment);
    }

    async searchRuns(options: SearchRunsOptions): Promise<Observed<Page<Run>>> {
        const result = await this.request('POST', `${API}/runs/search`, {
            body: {
                experiment_ids: options.experimentIds,
                filter: options.filter,
                order_by: options.orderBy,
                max_results: options.maxResults,
                page_token: options.pageToken,
                run_view_type: options.runViewType,
            },
        });
        return this.page(result, 'runs', isRun);
    }

    async getRun(runId: string): Promise<Observed<Run>> {
        const result = await this.request('GET', `${API}/runs/get`, { query: { run_id: runId } });
        return this.field(result, 'run', isRun);
    }

    /**
     * Metric history. 2.x servers ignore `maxResults`/`pageToken` and return everything; paging
     * is real from 3.1.1 (facts §2.4).
     */
    async getMetricHistory(
        runId: string,
        metricKey: string,
        options: { maxResults?: number; pageToken?: string } = {},
    ): Promise<Observed<Page<Metric>>> {
        const result = await this.request('GET', `${API}/metrics/get-history`, {
            query: {
                run_id: runId,
                metric_key: metricKey,
                max_results: options.maxResults,
                page_token: options.pageToken,
            },
        });
        return this.page(result, 'metrics', isMetric);
    }

    /** One directory level of a run's artifacts, listed by the server through its own storage. */
    async listArtifacts(runId: string, path?: string): Promise<Observed<ArtifactListing>> {
        const result = await this.request('GET', `${API}/artifacts/list`, {
            query: { run_id: runId, path },
        });
        const body = this.objectBody(result);
        const files = Array.isArray(body['files']) ? body['files'].filter(isArtifactFile) : [];
        const rootUri = typeof body['root_uri'] === 'string' ? body['root_uri'] : undefined;
        return {
            data: { files, ...(rootUri !== undefined ? { root_uri: rootUri } : {}) },
            observation: result.observation,
        };
    }

    /** MLflow 3 only: 2.x answers an HTML 404 (facts §2.6). */
    async searchLoggedModels(
        options: SearchLoggedModelsOptions,
    ): Promise<Observed<Page<LoggedModel>>> {
        const result = await this.request('POST', `${API}/logged-models/search`, {
            body: {
                experiment_ids: options.experimentIds,
                filter: options.filter,
                max_results: options.maxResults,
                order_by: options.orderBy,
                page_token: options.pageToken,
            },
        });
        return this.page(result, 'models', isLoggedModel);
    }

    /**
     * Any request, relative to the tracking URI's path. Resolves for 2xx answers that match
     * `expect` (default `json`); rejects with `MlflowRequestError` otherwise.
     */
    async request(
        method: string,
        path: string,
        options: RequestOptions = {},
    ): Promise<Observed<unknown>> {
        const expect = options.expect ?? 'json';
        const url = this.urlFor(path, options.query);
        const request = `${method.toUpperCase()} ${url.pathname}${url.search}`;
        const observationBase = { request, url: urlWithoutCredentials(url) };
        const started = performance.now();
        const elapsed = (): number => Math.round(performance.now() - started);

        const headers: RawAxiosRequestHeaders = { Accept: 'application/json, text/plain, */*' };
        if (this.authorization) headers['Authorization'] = this.authorization;
        if (this.options.hostHeader) headers['Host'] = this.options.hostHeader;
        if (options.body !== undefined) headers['Content-Type'] = 'application/json';

        // axios's own timeout is a socket-idle timer; the signal bounds the whole exchange.
        const deadline = AbortSignal.timeout(this.timeoutMs);
        const signal = this.options.signal
            ? AbortSignal.any([deadline, this.options.signal])
            : deadline;
        let response: AxiosResponse<string>;
        try {
            response = await axios.request<string>({
                method,
                url: url.toString(),
                headers,
                data:
                    options.body === undefined
                        ? undefined
                        : JSON.stringify(stripUndefined(options.body)),
                timeout: this.timeoutMs,
                signal,
                maxRedirects: 0,
                validateStatus: () => true,
                responseType: 'text',
                transformResponse: [(data: unknown) => data],
                maxContentLength: MAX_BODY_BYTES,
                httpAgent: this.httpAgent,
                httpsAgent: this.httpsAgent,
                // Probes go straight to the stack; an HTTP_PROXY meant for the internet would
                // turn a local refusal into a proxy's 502.
                proxy: false,
            });
        } catch (error) {
            let failure = classifyTransportError(error, deadline.aborted, url);
            if (
                failure.kind === 'reset' &&
                url.protocol === 'http:' &&
                this.options.detectTlsListener !== false &&
                (await speaksTls(url.hostname, Number(url.port || 80), 1500))
            ) {
                failure = {
                    kind: 'tls',
                    message:
                        `${url.host} reset the plain-HTTP request and completes a TLS ` +
                        `handshake: it is an https port (${failure.message})`,
                };
            }
            throw this.transportFailure(
                observationBase,
                failure,
                elapsed(),
                failure.kind === 'tls' ? 'tls-port' : undefined,
            );
        }

        const body =
            typeof response.data === 'string' ? response.data : String(response.data ?? '');
        const keptHeaders = pickHeaders(response.headers);
        const contentType = keptHeaders['content-type'];
        const observation: HttpObservation = {
            ...observationBase,
            outcome: 'ok',
            status: response.status,
            ...(contentType !== undefined ? { contentType } : {}),
            body: startsWithTlsRecord(body) ? '<TLS record bytes>' : snippet(body),
            headers: keptHeaders,
            durationMs: elapsed(),
        };
        this.options.log?.(`${request} → ${response.status} in ${observation.durationMs} ms`);

        const verdict = judgeResponse(response.status, body, keptHeaders, expect, url);
        if (verdict) {
            observation.outcome = verdict.kind;
            observation.error = verdict.message;
            throw new MlflowRequestError(`${request}: ${verdict.message}`, {
                ...verdict,
                observation,
                status: response.status,
                ...(contentType !== undefined ? { contentType } : {}),
                ...(observation.body !== undefined ? { bodySnippet: observation.body } : {}),
            });
        }

        if (expect === 'json') return { data: JSON.parse(body) as unknown, observation };
        return { data: expect === 'text' ? body : body.trim(), observation };
    }

    /** The server's `--static-prefix` without a trailing slash, '' when none was given. */
    get staticPrefix(): string {
        return (this.options.staticPrefix ?? '').replace(/\/+$/, '');
    }

    /**
     * A GET whose 2xx body is handed back unread, for artifacts of any size: no body limit, the
     * request deadline only until the answer starts, then an idle deadline on the socket. Non-2xx
     * answers reject with `MlflowRequestError`, judged like `request()` judges them.
     */
    openStream(path: string, options: StreamRequestOptions = {}): Promise<OpenedStream> {
        const url = this.urlFor(path, options.query);
        const request = `GET ${url.pathname}${url.search}`;
        const observationBase = { request, url: urlWithoutCredentials(url) };
        const started = performance.now();
        const elapsed = (): number => Math.round(performance.now() - started);
        const idleMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;

        const headers: Record<string, string> = { Accept: '*/*' };
        if (this.authorization) headers['Authorization'] = this.authorization;
        if (this.options.hostHeader) headers['Host'] = this.options.hostHeader;
        const signals = [this.options.signal, options.signal].filter(
            (signal): signal is AbortSignal => signal !== undefined,
        );
        const signal = signals.length > 1 ? AbortSignal.any(signals) : signals[0];
        const transport = url.protocol === 'https:' ? https : http;

        return new Promise<OpenedStream>((resolve, reject) => {
            let timedOut = false;
            let answered = false;
            let response: http.IncomingMessage | undefined;
            const fail = (error: unknown): void => {
                clearTimeout(headerTimer);
                const failure = classifyTransportError(error, timedOut, url);
                reject(this.transportFailure(observationBase, failure, elapsed()));
            };

            const req = transport.request(url, {
                method: 'GET',
                headers,
                agent: url.protocol === 'https:' ? this.httpsAgent : this.httpAgent,
            });
            // Handled here rather than by http.request so the body fails with the signal's own
            // AbortError, which callers tell apart from a broken connection.
            const abort = (): void => {
                const reason: unknown = signal?.reason;
                const error = reason instanceof Error ? reason : new Error('aborted');
                response?.destroy(error);
                req.destroy(error);
            };
            if (signal?.aborted) abort();
            signal?.addEventListener('abort', abort, { once: true });
            req.once('close', () => signal?.removeEventListener('abort', abort));
            const headerTimer = setTimeout(() => {
                timedOut = true;
                req.destroy(new Error(`no answer within ${this.timeoutMs} ms`));
            }, this.timeoutMs);
            req.setTimeout(idleMs, () => {
                timedOut = true;
                req.destroy(new Error(`the connection was silent for ${idleMs} ms`));
            });
            req.once('error', (error) => {
                if (!answered) fail(error);
            });

            req.once('response', (res) => {
                answered = true;
                response = res;
                clearTimeout(headerTimer);
                const status = res.statusCode ?? 0;
                const keptHeaders = pickHeaders(res.headers);
                const contentType = keptHeaders['content-type'];
                const observation: HttpObservation = {
                    ...observationBase,
                    outcome: 'ok',
                    status,
                    ...(contentType !== undefined ? { contentType } : {}),
                    headers: keptHeaders,
                    durationMs: elapsed(),
                };
                this.options.log?.(`${request} → ${status} in ${observation.durationMs} ms`);

                if (status >= 200 && status < 300) {
                    const length = Number(res.headers['content-length']);
                    resolve({
                        stream: res,
                        status,
                        ...(Number.isSafeInteger(length) && length >= 0 ? { size: length } : {}),
                        ...(contentType !== undefined ? { contentType } : {}),
                        observation,
                    });
                    return;
                }

                // An error answer: read enough of it to say what it means, then let it go.
                const chunks: Buffer[] = [];
                let kept = 0;
                const settleError = (): void => {
                    res.destroy();
                    const body = Buffer.concat(chunks).toString('utf8');
                    observation.body = startsWithTlsRecord(body)
                        ? '<TLS record bytes>'
                        : snippet(body);
                    const verdict = judgeResponse(status, body, keptHeaders, 'text', url) ?? {
                        kind: 'http-error' as const,
                        message: `HTTP ${status}`,
                    };
                    observation.outcome = verdict.kind;
                    observation.error = verdict.message;
                    reject(
                        new MlflowRequestError(`${request}: ${verdict.message}`, {
                            ...verdict,
                            observation,
                            status,
                            ...(contentType !== undefined ? { contentType } : {}),
                            bodySnippet: observation.body,
                        }),
                    );
                };
                res.on('data', (chunk: Buffer) => {
                    if (kept >= MAX_ERROR_BODY_BYTES) return;
                    chunks.push(chunk);
                    kept += chunk.length;
                    if (kept >= MAX_ERROR_BODY_BYTES) settleError();
                });
                res.once('end', settleError);
                res.once('error', settleError);
            });
            req.end();
        });
    }

    /** A request that got no HTTP answer, as the error both `request` and `openStream` throw. */
    private transportFailure(
        base: { request: string; url: string },
        failure: TransportFailure,
        durationMs: number,
        hint?: 'tls-port',
    ): MlflowRequestError {
        const observation: HttpObservation = {
            ...base,
            outcome: failure.kind,
            status: null,
            error: maskSecrets(failure.message),
            durationMs,
        };
        this.options.log?.(`${base.request} → ${failure.kind} in ${durationMs} ms`);
        return new MlflowRequestError(`${base.request}: ${failure.message}`, {
            kind: failure.kind,
            observation,
            ...(hint ? { hint } : {}),
        });
    }

    private urlFor(path: string, query?: RequestOptions['query']): URL {
        const url = new URL(this.base.toString());
        url.pathname = `${this.basePath}${path.startsWith('/') ? path : `/${path}`}`;
        for (const [key, value] of Object.entries(query ?? {})) {
            if (value === undefined) continue;
            // Repeated fields repeat the key (facts §2.1).
            for (const item of Array.isArray(value) ? value : [value]) {
                url.searchParams.append(key, String(item));
            }
        }
        return url;
    }

    private async withPrefixFallback(
        path: string,
        expect: 'health' | 'version',
    ): Promise<Observed<string>> {
        try {
            return (await this.request('GET', path, { expect })) as Observed<string>;
        } catch (error) {
            const prefix = this.options.staticPrefix?.replace(/\/+$/, '');
            const retryable =
                error instanceof MlflowRequestError &&
                (error.status === 404 || error.kind === 'not-mlflow' || error.kind === 'non-json');
            if (!prefix || !retryable) throw error;
            return (await this.request('GET', `${prefix}${path}`, { expect })) as Observed<string>;
        }
    }

    private page<T>(
        result: Observed<unknown>,
        field: string,
        accept: (item: unknown) => item is T,
    ): Observed<Page<T>> {
        const body = this.objectBody(result);
        const raw = body[field];
        // The server omits empty lists entirely (facts §2.1), so a missing field is an empty page.
        const items = Array.isArray(raw) ? raw.filter(accept) : [];
        const token = body['next_page_token'];
        return {
            data: {
                items,
                ...(typeof token === 'string' && token ? { nextPageToken: token } : {}),
            },
            observation: result.observation,
        };
    }

    private field<T>(
        result: Observed<unknown>,
        field: string,
        accept: (item: unknown) => item is T,
    ): Observed<T> {
        const value = this.objectBody(result)[field];
        if (!accept(value)) {
            throw this.shapeError(result, `the JSON has no valid "${field}" object`);
        }
        return { data: value, observation: result.observation };
    }

    private objectBody(result: Observed<unknown>): Record<string, unknown> {
        const data = result.data;
        if (!data || typeof data !== 'object' || Array.isArray(data)) {
            throw this.shapeError(result, 'the JSON is not an object');
        }
        return data as Record<string, unknown>;
    }

    private shapeError(result: Observed<unknown>, why: string): MlflowRequestError {
        const observation = { ...result.observation, outcome: 'not-mlflow' as const };
        observation.error = `not an MLflow answer: ${why}`;
        return new MlflowRequestError(`${observation.request}: ${observation.error}`, {
            kind: 'not-mlflow',
            observation,
            ...(observation.status !== null ? { status: observation.status } : {}),
            ...(observation.body !== undefined ? { bodySnippet: observation.body } : {}),
        });
    }
}

interface Verdict {
    kind: MlflowErrorKind;
    message: string;
    errorCode?: string;
    responder?: string;
    hint?: ResponseHint;
}

/** Decides whether an HTTP answer is what an MLflow server gives for this call. */
function judgeResponse(
    status: number,
    body: string,
    headers: Record<string, string>,
    expect: ExpectedBody,
    url: URL,
): Verdict | undefined {
    if (startsWithTlsRecord(body)) {
        return {
            kind: 'tls',
            hint: 'tls-port',
            message: `${url.host} answered with TLS bytes: it is an https port`,
        };
    }
    if (status === 400 && body.includes(PLAIN_HTTP_TO_HTTPS)) {
        return {
            kind: 'tls',
            hint: 'tls-port',
            message: `${url.host} says "${PLAIN_HTTP_TO_HTTPS}": use https://`,
        };
    }

    const responder = identifyResponder(body, headers);
    if (status >= 300 && status < 400) {
        return {
            kind: 'http-error',
            message: `redirected (${status}) to ${headers['location'] ?? 'an unnamed location'}`,
        };
    }
    if (status >= 400) return judgeErrorStatus(status, body, headers, responder);

    switch (expect) {
        case 'health':
            if (body.trim() === 'OK') return undefined;
            return {
                kind: 'not-mlflow',
                ...(responder ? { responder } : {}),
                message: `/health answered ${describeBody(body, responder)}; MLflow answers "OK"`,
            };
        case 'version':
            if (/^\d+\.\d+[\w.+-]*$/.test(body.trim()) && parseVersion(body.trim())) {
                return undefined;
            }
            return {
                kind: 'not-mlflow',
                ...(responder ? { responder } : {}),
                message: `/version answered ${describeBody(body, responder)}, not a version number`,
            };
        case 'text':
            return undefined;
        case 'json':
            try {
                JSON.parse(body);
                return undefined;
            } catch {
                if (responder && responder !== 'MLflow UI') {
                    return {
                        kind: 'not-mlflow',
                        responder,
                        message: `answered by ${responder}, not the MLflow REST API`,
                    };
                }
                return {
                    kind: 'non-json',
                    ...(responder ? { responder } : {}),
                    message:
                        `expected JSON, got ${describeBody(body, responder)}` +
                        (responder === 'MLflow UI'
                            ? ' (the UI page: a proxy or --static-prefix sends API paths to the UI)'
                            : ''),
                };
            }
    }
}

function judgeErrorStatus(
    status: number,
    body: string,
    headers: Record<string, string>,
    responder: string | undefined,
): Verdict {
    const mlflowError = mlflowErrorBody(body);
    const base = { kind: 'http-error' as const, ...(responder ? { responder } : {}) };
    if (mlflowError) {
        return {
            ...base,
            ...(mlflowError.error_code ? { errorCode: mlflowError.error_code } : {}),
            message: `HTTP ${status} ${mlflowError.error_code ?? ''}: ${snippet(mlflowError.message ?? '')}`,
        };
    }
    if (status === 403 && body.includes(HOST_HEADER_REJECTED)) {
        return {
            ...base,
            hint: 'host-header',
            message: `HTTP 403 "${HOST_HEADER_REJECTED}": the server's Host allow-list (3.5+ --allowed-hosts) rejected the Host header`,
        };
    }
    if (status === 403 && body.includes(CORS_REJECTED)) {
        return {
            ...base,
            hint: 'cors',
            message: `HTTP 403 "${CORS_REJECTED}": the request's Origin is not allowed (3.5+ --cors-allowed-origins)`,
        };
    }
    if (status === 401) {
        const challenge = headers['www-authenticate'];
        return {
            ...base,
            hint: 'auth',
            message: `HTTP 401: the server wants credentials${challenge ? ` (${challenge})` : ''}`,
        };
    }
    if (status === 503 && /disabled due to the mlflow server running/i.test(body)) {
        return { ...base, hint: 'endpoint-disabled', message: `HTTP 503: ${snippet(body.trim())}` };
    }
    if (responder && /^(nginx|Apache|Traefik|Caddy)$/.test(responder)) {
        return {
            ...base,
            hint: 'proxy-page',
            message: `HTTP ${status} from ${responder} itself: the request did not reach MLflow`,
        };
    }
    if (status === 404 && /<title>404 Not Found<\/title>/i.test(body)) {
        return { ...base, hint: 'route-missing', message: 'HTTP 404: no such route (HTML page)' };
    }
    return { ...base, message: `HTTP ${status}: ${describeBody(body, responder)}` };
}

function describeBody(body: string, responder: string | undefined): string {
    const trimmed = body.trim();
    if (!trimmed) return 'an empty body';
    if (responder) return `a page from ${responder}`;
    if (/^\s*</.test(trimmed)) return 'an HTML page';
    const short = maskSecrets(trimmed.slice(0, 60));
    return `"${short}${trimmed.length > 60 ? '…' : ''}"`;
}

function pickHeaders(headers: Record<string, unknown>): Record<string, string> {
    const kept: Record<string, string> = {};
    for (const name of KEPT_HEADERS) {
        const value = headers[name];
        if (value === undefined || value === null) continue;
        if (Array.isArray(value)) kept[name] = value.join(', ');
        else kept[name] = typeof value === 'string' ? value : JSON.stringify(value);
    }
    return kept;
}

function stripUndefined(value: unknown): unknown {
    if (!value || typeof value !== 'object' || Array.isArray(value)) return value;
    return Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined));
}

function isObject(value: unknown): value is Record<string, unknown> {
    return !!value && typeof value === 'object' && !Array.isArray(value);
}

function isExperiment(value: unknown): value is Experiment {
    return isObject(value) && typeof value['experiment_id'] === 'string';
}

function isRun(value: unknown): value is Run {
    return (
        isObject(value) && isObject(value['info']) && typeof value['info']['run_id'] === 'string'
    );
}

function isMetric(value: unknown): value is Metric {
    return isObject(value) && typeof value['key'] === 'string';
}

function isArtifactFile(value: unknown): value is ArtifactFile {
    return isObject(value) && typeof value['path'] === 'string';
}

function isLoggedModel(value: unknown): value is LoggedModel {
    return (
        isObject(value) && isObject(value['info']) && typeof value['info']['model_id'] === 'string'
    );
}

// ---------------------------------------------------------------------------------------------
// Observations

/** Settles a call into its data (when it succeeded) and what was observed, never rejecting. */
export async function settle<T>(
    call: Promise<Observed<T>>,
): Promise<{ data?: T; observation: HttpObservation; error?: MlflowRequestError }> {
    try {
        const result = await call;
        return { data: result.data, observation: result.observation };
    } catch (error) {
        if (error instanceof MlflowRequestError) return { observation: error.observation, error };
        // A bug or a bad argument, not a wire answer: still an observation, so probes go on.
        const message = error instanceof Error ? error.message : String(error);
        return {
            observation: {
                request: 'unknown',
                url: '',
                outcome: 'other',
                status: null,
                error: maskSecrets(message),
                durationMs: 0,
            },
        };
    }
}

/** Turns any client call into the `HttpObservation` a snapshot stores. */
export async function toObservation(call: Promise<Observed<unknown>>): Promise<HttpObservation> {
    return (await settle(call)).observation;
}
