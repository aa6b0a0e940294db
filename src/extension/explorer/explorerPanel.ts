// The MLflow Explorer: one webview panel, reused, restored after a reload by its serializer. The
// page only renders; every MLflow request it makes comes here as a message, is validated, and is
// answered from this panel's own connections, which closing the panel cancels.

import * as vscode from 'vscode';

import {
    PROTOCOL_VERSION,
    type ArtifactOwner,
    type ErrorInfo,
    type ExplorerMethod,
    type Focus,
    type HostMessage,
    type ParamsOf,
    type ResultOf,
    type ServerInfo,
} from '../../../webview/protocol.js';
import type { ArtifactOpener } from './artifactOpener.js';
import {
    ExplorerConnections,
    ExplorerHostError,
    NO_SERVER,
    RESTRICTED,
    type ExplorerEnvironment,
} from './explorerConnections.js';
import { explorerHtml, newNonce } from './explorerHtml.js';
import { CREDENTIALS_NOTICE, ExplorerMessages, needsCredentials } from './explorerMessages.js';
import type { KnownServer } from './explorerServers.js';

export const EXPLORER_VIEW_TYPE = 'stackDoctor.explorer';
export const EXPLORER_TITLE = 'MLflow Explorer';

/** What the panel last told its page, for tests and for knowing when to tell it again. */
export interface ExplorerPanelState {
    servers: ServerInfo[];
    current?: string;
    problem?: ErrorInfo;
}

/** A server the panel has not connected to: what the diagnosis knows of it. */
function unconnected(server: KnownServer): ServerInfo {
    return {
        key: server.key,
        url: server.url,
        origin: server.origin,
        ...(server.version ? { version: server.version } : {}),
        authenticated: false,
        capabilities: {
            loggedModels: false,
            metricHistoryPaging: false,
            bulkIntervalMetrics: false,
            limits: [],
        },
    };
}

export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions {
    return {
        enableScripts: true,
        enableCommandUris: false,
        localResourceRoots: [
            vscode.Uri.joinPath(extensionUri, 'dist'),
            vscode.Uri.joinPath(extensionUri, 'media'),
        ],
    };
}

export class ExplorerPanel implements vscode.Disposable {
    private readonly connections: ExplorerConnections;
    private readonly messages: ExplorerMessages;
    private readonly disposables: vscode.Disposable[] = [];
    private currentKey?: string;
    private pendingFocus?: Focus;
    private ready = false;
    private lastState?: ExplorerPanelState;
    private readonly closed = new vscode.EventEmitter<void>();
    readonly onDidDispose = this.closed.event;

    constructor(
        readonly panel: vscode.WebviewPanel,
        private readonly env: ExplorerEnvironment,
        private readonly opener: ArtifactOpener,
        private readonly extensionUri: vscode.Uri,
        options: { serverKey?: string; focus?: Focus },
    ) {
        this.connections = new ExplorerConnections(env, true);
        this.currentKey = options.serverKey;
        this.pendingFocus = options.focus;
        this.messages = new ExplorerMessages({
            post: (message) => this.post(message),
            ready: () => this.sendInit(),
            request: (method, params) => this.request(method, params),
            openArtifact: (owner, path) => this.openArtifact(owner, path),
            downloadArtifact: (owner, path) => this.downloadArtifact(owner, path),
            selectServer: async (key) => {
                this.currentKey = key;
                await this.sendInit();
            },
            copyText: async (text) => {
                await vscode.env.clipboard.writeText(text);
            },
            toErrorInfo: (error) =>
                error instanceof ExplorerHostError ? error.info : env.engine().toErrorInfo(error),
            debug: (line) => env.debug(line),
        });
        panel.webview.options = webviewOptions(extensionUri);
        this.disposables.push(
            panel.webview.onDidReceiveMessage((raw: unknown) => void this.messages.receive(raw)),
            panel.onDidDispose(() => this.dispose()),
        );
        this.render();
    }

    /** A fresh page with a fresh nonce. */
    private render(): void {
        const webview = this.panel.webview;
        const dist = vscode.Uri.joinPath(this.extensionUri, 'dist');
        this.ready = false;
        webview.html = explorerHtml({
            cspSource: webview.cspSource,
            nonce: newNonce(),
            scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(dist, 'webview.js')).toString(),
            styleUri: webview.asWebviewUri(vscode.Uri.joinPath(dist, 'webview.css')).toString(),
        });
    }

    get state(): ExplorerPanelState | undefined {
        return this.lastState;
    }

    get disposed(): boolean {
        return this.messages.disposed;
    }

    /** Shows the panel, on another server or run when asked. */
    reveal(options: { serverKey?: string; focus?: Focus }): void {
        this.panel.reveal();
        const serverChanged =
            options.serverKey !== undefined && options.serverKey !== this.currentKey;
        if (options.serverKey) this.currentKey = options.serverKey;
        if (!this.ready) {
            if (options.focus) this.pendingFocus = options.focus;
            return;
        }
        if (serverChanged) {
            this.pendingFocus = options.focus;
            void this.sendInit();
        } else if (options.focus) {
            this.post({ type: 'focus', focus: options.focus });
        }
    }

    /** Tells the page again when the known servers changed (a diagnosis finished). */
    serversChanged(): void {
        if (!this.ready || !this.lastState) return;
        const known = this.env.servers().map((s) => s.key);
        const shown = this.lastState.servers.map((s) => s.key);
        if (known.join() === shown.join()) return;
        if (this.lastState.current && known.includes(this.lastState.current)) return;
        void this.sendInit();
    }

    private async sendInit(): Promise<void> {
        this.ready = true;
        const focus = this.pendingFocus;
        this.pendingFocus = undefined;
        const state = await this.initState();
        this.lastState = state;
        this.post({
            type: 'init',
            protocol: PROTOCOL_VERSION,
            servers: state.servers,
            ...(state.current ? { current: state.current } : {}),
            ...(focus ? { focus } : {}),
            ...(state.problem ? { problem: state.problem } : {}),
        });
        if (state.problem && needsCredentials(state.problem)) {
            this.post({ type: 'notice', level: 'warning', message: CREDENTIALS_NOTICE });
        }
    }

    private async initState(): Promise<ExplorerPanelState> {
        if (!this.env.trusted()) return { servers: [], problem: RESTRICTED };
        const known = this.env.servers();
        if (known.length === 0) return { servers: [], problem: NO_SERVER };
        const server = known.find((s) => s.key === this.currentKey) ?? known[0];
        if (!server) return { servers: [], problem: NO_SERVER };
        this.currentKey = server.key;
        const servers = known.map(unconnected);
        try {
            const conn = await this.connections.get(server.key);
            const index = servers.findIndex((s) => s.key === server.key);
            servers[index] = conn.service.server;
            return { servers, current: server.key };
        } catch (error) {
            const problem =
                error instanceof ExplorerHostError
                    ? error.info
                    : this.env.engine().toErrorInfo(error);
            this.env.info(`explorer: ${server.url} could not be reached (${problem.kind})`);
            return { servers, problem };
        }
    }

    private async request<M extends ExplorerMethod>(
        method: M,
        params: ParamsOf<M>,
    ): Promise<ResultOf<M>> {
        const conn = await this.connections.get(this.requireServer());
        if (method === 'listArtifacts') {
            const { owner, path } = params as ParamsOf<'listArtifacts'>;
            return conn.reader.list(owner, path);
        }
        // The protocol's validator has already matched params to method.
        return conn.service.call(method as Exclude<M, 'listArtifacts'>, params as never);
    }

    private requireServer(): string {
        if (!this.currentKey) throw new ExplorerHostError(NO_SERVER);
        return this.currentKey;
    }

    private async openArtifact(owner: ArtifactOwner, path: string): Promise<void> {
        const opened = await this.opener.open(this.requireServer(), owner, path);
        this.post({ type: 'artifactOpened', owner, path, source: opened.source });
    }

    private async downloadArtifact(owner: ArtifactOwner, path: string): Promise<void> {
        await this.opener.download(this.requireServer(), owner, path);
    }

    /** Forgets connections made with old credentials and tells the page again. */
    credentialsChanged(url: string): void {
        this.connections.forget(url);
        if (this.ready) void this.sendInit();
    }

    private post(message: HostMessage): void {
        if (this.messages.disposed) return;
        void this.panel.webview.postMessage(message);
    }

    dispose(): void {
        if (this.messages.disposed) return;
        this.messages.dispose();
        this.connections.dispose();
        for (const disposable of this.disposables.splice(0)) disposable.dispose();
        this.closed.fire();
        this.closed.dispose();
        this.panel.dispose();
    }
}
