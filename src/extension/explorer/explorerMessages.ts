// What the explorer panel does with each message from its webview. The webview is untrusted:
// every message goes through parseWebviewMessage first; an invalid one is logged by its type
// alone and, when it carried a numeric id, answered with an error so the page does not wait.
// Nothing here throws into VS Code's message dispatch, and a disposed panel answers nothing.

import {
    parseWebviewMessage,
    type ArtifactOwner,
    type ErrorInfo,
    type ExplorerMethod,
    type HostMessage,
    type ParamsOf,
    type ResultOf,
} from '../../../webview/protocol.js';

export interface ExplorerMessageHandlers {
    post(message: HostMessage): void;
    /** The page loaded: send it `init`. */
    ready(): Promise<void>;
    request<M extends ExplorerMethod>(method: M, params: ParamsOf<M>): Promise<ResultOf<M>>;
    openArtifact(owner: ArtifactOwner, path: string): Promise<void>;
    downloadArtifact(owner: ArtifactOwner, path: string): Promise<void>;
    selectServer(key: string): Promise<void>;
    copyText(text: string): Promise<void>;
    /** MlflowRequestError and ExplorerError → ErrorInfo (the engine's toErrorInfo). */
    toErrorInfo(error: unknown): ErrorInfo;
    debug(line: string): void;
}

/** The notice a 401 or 403 adds to the error: where the credentials are set. */
export const CREDENTIALS_NOTICE =
    'The MLflow server refused the request without valid credentials: run "Stack Doctor: Set MLflow Server Credentials" and choose this server.';

export function needsCredentials(error: ErrorInfo): boolean {
    return error.status === 401 || error.status === 403;
}

/** The type of a message, for the log; never its content. */
function typeOf(raw: unknown): string {
    if (typeof raw !== 'object' || raw === null) return typeof raw;
    const type = (raw as Record<string, unknown>)['type'];
    return typeof type === 'string' && /^[A-Za-z]{1,40}$/.test(type) ? type : 'unknown';
}

function idOf(raw: unknown): number | undefined {
    if (typeof raw !== 'object' || raw === null) return undefined;
    const id = (raw as Record<string, unknown>)['id'];
    return typeof id === 'number' && Number.isSafeInteger(id) && id >= 0 ? id : undefined;
}

export class ExplorerMessages {
    private closed = false;

    constructor(private readonly handlers: ExplorerMessageHandlers) {}

    get disposed(): boolean {
        return this.closed;
    }

    /** Handles one message; resolves when it has been answered. Never rejects. */
    async receive(raw: unknown): Promise<void> {
        if (this.closed) return;
        const parsed = parseWebviewMessage(raw);
        if (!parsed.ok) {
            this.handlers.debug(`explorer: refused a "${typeOf(raw)}" message: ${parsed.error}`);
            const id = idOf(raw);
            if (id !== undefined) {
                this.post({
                    type: 'response',
                    id,
                    ok: false,
                    error: {
                        message: `The request was refused: ${parsed.error}.`,
                        kind: 'invalid',
                    },
                });
            }
            return;
        }
        const message = parsed.value;
        try {
            switch (message.type) {
                case 'ready':
                    await this.handlers.ready();
                    return;
                case 'request': {
                    const { id, method, params } = message;
                    this.handlers.debug(`explorer: ${method} (#${id})`);
                    try {
                        const result = await this.handlers.request(method, params);
                        this.post({ type: 'response', id, ok: true, result });
                    } catch (error) {
                        const info = this.errorInfo(error);
                        this.post({ type: 'response', id, ok: false, error: info });
                        if (needsCredentials(info)) {
                            this.post({
                                type: 'notice',
                                level: 'warning',
                                message: CREDENTIALS_NOTICE,
                            });
                        }
                    }
                    return;
                }
                case 'openArtifact':
                    await this.handlers.openArtifact(message.owner, message.path);
                    return;
                case 'downloadArtifact':
                    await this.handlers.downloadArtifact(message.owner, message.path);
                    return;
                case 'selectServer':
                    await this.handlers.selectServer(message.key);
                    return;
                case 'copyText':
                    await this.handlers.copyText(message.text);
                    return;
            }
        } catch (error) {
            // A handler that failed outside a request: the page hears it as a notice.
            const info = this.errorInfo(error);
            this.post({ type: 'notice', level: 'error', message: info.message });
        }
    }

    private errorInfo(error: unknown): ErrorInfo {
        try {
            return this.handlers.toErrorInfo(error);
        } catch {
            return {
                message: error instanceof Error ? error.message : String(error),
                kind: 'other',
            };
        }
    }

    /** Posts unless the panel is gone (a late answer to a closed panel is dropped). */
    post(message: HostMessage): void {
        if (this.closed) return;
        try {
            this.handlers.post(message);
        } catch (error) {
            this.handlers.debug(
                `explorer: could not post "${message.type}": ${error instanceof Error ? error.message : String(error)}`,
            );
        }
    }

    dispose(): void {
        this.closed = true;
    }
}
