// Request bookkeeping for the webview: every request gets an id, a timeout and a promise that
// settles with the host's response or with an ErrorInfo. Pure: the post function and the
// timers are passed in, so node tests drive it without a browser.

import type {
    ErrorInfo,
    ExplorerMethod,
    HostMessage,
    ParamsOf,
    ResultOf,
    WebviewMessage,
} from './protocol.js';

/** A failed request, carrying the host's sentence for the user. */
export class RequestError extends Error {
    constructor(readonly info: ErrorInfo) {
        super(info.message);
    }
}

export interface RequestClientOptions {
    /** Per request unless a call says otherwise. The host's own MLflow calls time out sooner. */
    timeoutMs?: number;
    setTimer?: (callback: () => void, ms: number) => unknown;
    clearTimer?: (timer: unknown) => void;
}

interface Pending {
    method: ExplorerMethod;
    resolve: (value: unknown) => void;
    reject: (error: RequestError) => void;
    timer: unknown;
}

type ResponseMessage = Extract<HostMessage, { type: 'response' }>;

export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

export class RequestClient {
    private nextId = 1;
    private readonly pending = new Map<number, Pending>();
    private readonly timeoutMs: number;
    private readonly setTimer: (callback: () => void, ms: number) => unknown;
    private readonly clearTimer: (timer: unknown) => void;

    constructor(
        private readonly post: (message: WebviewMessage) => void,
        options: RequestClientOptions = {},
    ) {
        this.timeoutMs = options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
        this.setTimer = options.setTimer ?? ((callback, ms) => setTimeout(callback, ms));
        this.clearTimer =
            options.clearTimer ??
            ((timer) => clearTimeout(timer as Parameters<typeof clearTimeout>[0]));
    }

    get pendingCount(): number {
        return this.pending.size;
    }

    request<M extends ExplorerMethod>(
        method: M,
        params: ParamsOf<M>,
        options: { timeoutMs?: number } = {},
    ): Promise<ResultOf<M>> {
        const id = this.nextId++;
        const timeoutMs = options.timeoutMs ?? this.timeoutMs;
        return new Promise<ResultOf<M>>((resolve, reject) => {
            const timer = this.setTimer(() => {
                if (!this.pending.delete(id)) return;
                reject(
                    new RequestError({
                        message: `The extension did not answer ${method} within ${Math.round(timeoutMs / 1000)} s; the server may be slow or unreachable. Try again, or check the Stack Doctor log.`,
                        kind: 'timeout',
                    }),
                );
            }, timeoutMs);
            this.pending.set(id, {
                method,
                resolve: resolve as (value: unknown) => void,
                reject,
                timer,
            });
            try {
                this.post({ type: 'request', id, method, params } as WebviewMessage);
            } catch (error) {
                this.settle(id);
                this.clearTimer(timer);
                reject(
                    new RequestError({
                        message: `The request ${method} could not be sent to the extension: ${String(error)}.`,
                        kind: 'invalid',
                    }),
                );
            }
        });
    }

    /** Settles the matching request; false when the id is unknown (late, or never sent). */
    handleResponse(message: ResponseMessage): boolean {
        const entry = this.settle(message.id);
        if (!entry) return false;
        if (message.ok) entry.resolve(message.result);
        else entry.reject(new RequestError(errorInfoFrom(message.error)));
        return true;
    }

    /** Fails every request still waiting, e.g. when the host switches servers. */
    failAll(info: ErrorInfo): void {
        for (const id of [...this.pending.keys()]) {
            this.settle(id)?.reject(new RequestError(info));
        }
    }

    private settle(id: number): Pending | undefined {
        const entry = this.pending.get(id);
        if (!entry) return undefined;
        this.pending.delete(id);
        this.clearTimer(entry.timer);
        return entry;
    }
}

/** The host's error as sent, or a sentence when it sent something else. */
export function errorInfoFrom(value: unknown): ErrorInfo {
    if (typeof value === 'object' && value !== null) {
        const v = value as Record<string, unknown>;
        if (typeof v['message'] === 'string') {
            return {
                message: v['message'],
                kind: typeof v['kind'] === 'string' ? v['kind'] : 'unknown',
                ...(typeof v['status'] === 'number' ? { status: v['status'] } : {}),
            };
        }
    }
    if (value instanceof Error) return { message: value.message, kind: 'unknown' };
    return { message: `The request failed: ${String(value)}.`, kind: 'unknown' };
}

/** Any thrown value as an ErrorInfo, for showing it as a notice. */
export function toErrorInfo(error: unknown): ErrorInfo {
    if (error instanceof RequestError) return error.info;
    return errorInfoFrom(error);
}

/**
 * Drops answers to superseded requests: typing in a search field sends several, and only the
 * last one's answer may be shown, whatever order they arrive in.
 */
export class LatestOnly {
    private current = 0;

    /** A ticket for a new request; earlier tickets stop being current. */
    next(): number {
        return ++this.current;
    }

    isCurrent(ticket: number): boolean {
        return ticket === this.current;
    }

    /** Makes every ticket stale, e.g. when the experiment changes. */
    invalidate(): void {
        this.current++;
    }
}
