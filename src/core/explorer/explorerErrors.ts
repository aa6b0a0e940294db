// Everything the explorer can fail with, as one sentence for the user: what failed (with the URL,
// never its credentials or query), what was observed, and what to do next.

import type { ErrorInfo } from '../../../webview/protocol.js';
import { maskSecrets, MlflowRequestError } from '../mlflow/client.js';

/** The explorer's one error type; `info` goes to the webview as is. */
export class ExplorerError extends Error {
    constructor(readonly info: ErrorInfo) {
        super(info.message);
        this.name = 'ExplorerError';
    }
}

/** `http://host:port/path` of a request: no user, password, query or fragment. */
export function requestPlace(url: string): string {
    try {
        const parsed = new URL(url);
        return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
    } catch {
        return 'the MLflow server';
    }
}

function observed(error: MlflowRequestError): string {
    // The verdict text from the client: masked, and already without the request line.
    const text = error.observation.error ?? error.message;
    return maskSecrets(text).replace(/\s+$/, '').replace(/\.$/, '');
}

function httpSentence(error: MlflowRequestError, where: string): string {
    const status = error.status ?? 0;
    const said = observed(error);
    if (status === 401) {
        return `MLflow at ${where} wants credentials (HTTP 401). Set the username and password or token for this server, then retry.`;
    }
    if (error.hint === 'host-header' || error.hint === 'cors') {
        return `MLflow at ${where} refused the request: ${said}. Start the server with --allowed-hosts (or --cors-allowed-origins) that include this address.`;
    }
    if (status === 403) {
        return `MLflow at ${where} denied access (${said}). Use credentials that may read this server's experiments.`;
    }
    if (error.hint === 'proxy-page') {
        return `A proxy in front of ${where} answered itself (${said}). Check the proxy's route to the MLflow server.`;
    }
    if (error.hint === 'endpoint-disabled') {
        return `MLflow at ${where} has this route switched off: ${said}. Restart the server without that mode to use it.`;
    }
    if (status === 404 && error.errorCode) {
        return `MLflow at ${where} has no such item (${said}). It may have been deleted; refresh the explorer.`;
    }
    if (status === 404) {
        return `MLflow at ${where} has no such route (HTTP 404). The server is older than this feature, or a proxy or --static-prefix sends the path elsewhere.`;
    }
    if (status === 400) {
        return `MLflow at ${where} rejected the request (${said}). Change the filter or sort and try again.`;
    }
    if (status >= 500) {
        return `MLflow at ${where} failed while answering (${said}). The server's log shows the cause.`;
    }
    return `MLflow at ${where} answered ${said}. Check the tracking URI and the server.`;
}

/** Turns anything thrown while talking to MLflow into the `ErrorInfo` the webview shows. */
export function toErrorInfo(error: unknown): ErrorInfo {
    if (error instanceof ExplorerError) return error.info;
    if (!(error instanceof MlflowRequestError)) {
        const message = maskSecrets(error instanceof Error ? error.message : String(error));
        return { kind: 'other', message: `The explorer could not finish the request: ${message}.` };
    }

    const where = requestPlace(error.observation.url);
    const status = error.status !== undefined ? { status: error.status } : {};
    switch (error.kind) {
        case 'refused':
            return {
                kind: 'refused',
                message: `Nothing answers at ${where}: the connection was refused. Start the MLflow server (or its container) or correct the tracking URI.`,
            };
        case 'timeout':
            return {
                kind: 'timeout',
                message: `MLflow at ${where} did not answer in time (${observed(error)}). Check that the server is up and not busy, then retry.`,
            };
        case 'dns':
            return {
                kind: 'dns',
                message: `The host in ${where} cannot be resolved (${observed(error)}). A compose service name resolves only inside Docker's network: use the published port on 127.0.0.1.`,
            };
        case 'tls':
            return {
                kind: 'tls',
                message:
                    error.hint === 'tls-port'
                        ? `${where} and the tracking URI disagree about TLS (${observed(error)}). Use https:// for a TLS port and http:// otherwise.`
                        : `The TLS connection to ${where} failed (${observed(error)}). Trust the server's certificate authority or fix its certificate.`,
            };
        case 'reset':
            return {
                kind: 'reset',
                message: `The connection to ${where} was reset before an answer came (${observed(error)}). A proxy or a crashing server worker may be in the way; check the server's log.`,
            };
        case 'http-error':
            return { kind: 'http', ...status, message: httpSentence(error, where) };
        case 'non-json':
            return {
                kind: 'non-json',
                ...status,
                message: `${where} did not answer with MLflow's JSON (${observed(error)}). Point the explorer at the MLflow server itself, not its UI path or a proxy page.`,
            };
        case 'not-mlflow':
            return {
                kind: 'not-mlflow',
                ...status,
                message: `${where} is not an MLflow server (${observed(error)}). Check the port and path of the tracking URI.`,
            };
        default: {
            const said = observed(error);
            if (/maxContentLength/i.test(said)) {
                return {
                    kind: 'too-large',
                    message: `The answer from ${where} was larger than the explorer reads at once (8 MB). Narrow the request (fewer runs or a smaller page).`,
                };
            }
            return {
                kind: 'other',
                ...status,
                message: `The request to ${where} failed (${said}). Check the server and retry.`,
            };
        }
    }
}

/** Rethrows anything as an `ExplorerError`, so callers see one error type. */
export function asExplorerError(error: unknown): ExplorerError {
    return error instanceof ExplorerError ? error : new ExplorerError(toErrorInfo(error));
}
