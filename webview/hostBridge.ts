// The webview's only line to the extension host: `acquireVsCodeApi().postMessage` out, `message`
// events in. Requests go through the RequestClient; everything else the host sends is handed to
// the listener. State goes through here too, so nothing else touches the VS Code API object.

import { PROTOCOL_VERSION } from './protocol.js';
import type {
    ExplorerMethod,
    HostMessage,
    ParamsOf,
    ResultOf,
    WebviewMessage,
} from './protocol.js';
import { RequestClient } from './requestClient.js';
import type { PersistedState } from './persistedState.js';

interface VsCodeApi {
    postMessage(message: unknown): void;
    getState(): unknown;
    setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

type EventMessage = Exclude<HostMessage, { type: 'response' }>;

const HOST_TYPES = new Set(['init', 'response', 'focus', 'artifactOpened', 'notice']);

export class HostBridge {
    private readonly api: VsCodeApi;
    readonly requests: RequestClient;
    private listener: ((message: EventMessage) => void) | undefined;

    constructor() {
        // acquireVsCodeApi may be called once per page; this is the one call.
        this.api = acquireVsCodeApi();
        this.requests = new RequestClient((message) => this.api.postMessage(message));
        window.addEventListener('message', (event: MessageEvent<unknown>) => {
            this.receive(event.data);
        });
    }

    onMessage(listener: (message: EventMessage) => void): void {
        this.listener = listener;
    }

    ready(): void {
        this.send({ type: 'ready', protocol: PROTOCOL_VERSION });
    }

    send(
        message: Exclude<WebviewMessage, { type: 'request' }> | { type: 'ready'; protocol: number },
    ) {
        this.api.postMessage(message);
    }

    request<M extends ExplorerMethod>(method: M, params: ParamsOf<M>): Promise<ResultOf<M>> {
        return this.requests.request(method, params);
    }

    loadState(): unknown {
        try {
            return this.api.getState();
        } catch {
            return undefined;
        }
    }

    saveState(state: PersistedState): void {
        this.api.setState(state);
    }

    private receive(data: unknown): void {
        if (typeof data !== 'object' || data === null) return;
        const message = data as { type?: unknown };
        // Other extensions' or VS Code's own messages are not ours; ignore them.
        if (typeof message.type !== 'string' || !HOST_TYPES.has(message.type)) return;
        const host = message as HostMessage;
        if (host.type === 'response') {
            if (typeof host.id === 'number') this.requests.handleResponse(host);
            return;
        }
        this.listener?.(host);
    }
}
