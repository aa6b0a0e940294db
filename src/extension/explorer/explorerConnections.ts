// One connection per MLflow server: its client (with the credentials from SecretStorage), the
// engine's ExplorerService (versions, capabilities, view models) and ArtifactReader (the proxied
// API, the download routes, a host path, a bind mount's host side, the container's archive).
// The panel keeps a set of its own, cancelled when it closes; the artifact file system keeps one
// for the window's life. No `vscode` at run time: what the editor knows comes in through the
// environment.

import type Dockerode from 'dockerode';

import type { StackSnapshot } from '../../core/model.js';
import type { ErrorInfo } from '../../../webview/protocol.js';
import type { Engine } from '../engine.js';
import type { DockerTarget } from '../engineEntry.js';
import type { ServerCredentials } from './credentialStore.js';
import type { KnownServer } from './explorerServers.js';

type ExplorerService = Awaited<ReturnType<Engine['ExplorerService']['connect']>>;
type ArtifactReader = InstanceType<Engine['ArtifactReader']>;

/** What a connection needs from the editor, read when it is made. */
export interface ExplorerEnvironment {
    engine(): Engine;
    servers(): KnownServer[];
    credentials: ServerCredentials;
    snapshot(): StackSnapshot | undefined;
    /** Undefined when Docker may not be asked (restricted mode). */
    dockerTarget(): DockerTarget | undefined;
    timeoutMs(): number;
    /** Whether the explorer may make HTTP requests at all (a trusted workspace). */
    trusted(): boolean;
    debug(line: string): void;
    info(line: string): void;
}

export interface ServerConnection {
    server: KnownServer;
    service: ExplorerService;
    reader: ArtifactReader;
}

/** A failure the host itself decides, in the protocol's words. */
export class ExplorerHostError extends Error {
    constructor(readonly info: ErrorInfo) {
        super(info.message);
        this.name = 'ExplorerHostError';
    }
}

export const RESTRICTED: ErrorInfo = {
    message:
        'The explorer asks the MLflow server over HTTP, which restricted mode does not allow: trust the workspace first.',
    kind: 'restricted',
};

export const NO_SERVER: ErrorInfo = {
    message:
        'No MLflow server is known: run "Stack Doctor: Diagnose Now" with the stack up, or set "stackDoctor.trackingUri" to the server\'s URL.',
    kind: 'no-server',
};

export function unknownServer(key: string): ErrorInfo {
    return {
        message: `No known MLflow server has the key ${key}: the diagnosis may have changed; open the explorer again.`,
        kind: 'unknown-server',
    };
}

export class ExplorerConnections {
    private readonly made = new Map<string, Promise<ServerConnection>>();
    private readonly abort = new AbortController();
    private docker?: Promise<Dockerode | undefined>;

    /** `cancellable`: requests in flight are aborted by dispose (a panel's set). */
    constructor(
        private readonly env: ExplorerEnvironment,
        private readonly cancellable: boolean,
    ) {}

    server(key: string): KnownServer | undefined {
        return this.env.servers().find((s) => s.key === key);
    }

    /** The connection to a server, made on first use; a failed attempt is not kept. */
    get(key: string): Promise<ServerConnection> {
        if (this.abort.signal.aborted) {
            return Promise.reject(
                new ExplorerHostError({ message: 'The explorer was closed.', kind: 'closed' }),
            );
        }
        if (!this.env.trusted()) return Promise.reject(new ExplorerHostError(RESTRICTED));
        const known = this.made.get(key);
        if (known) return known;
        const server = this.server(key);
        if (!server) return Promise.reject(new ExplorerHostError(unknownServer(key)));
        const connecting = this.connect(server);
        this.made.set(key, connecting);
        connecting.catch(() => {
            if (this.made.get(key) === connecting) this.made.delete(key);
        });
        return connecting;
    }

    /** Drops a server's connection, so the next request connects with fresh credentials. */
    forget(url: string): void {
        for (const [key] of this.made) {
            if (this.server(key)?.url === url || !this.server(key)) this.made.delete(key);
        }
    }

    private async connect(server: KnownServer): Promise<ServerConnection> {
        const engine = this.env.engine();
        const auth = await this.env.credentials.get(server.url);
        const embedded = /^[a-z]+:\/\/[^/@]+@/i.test(server.connectUrl);
        const log = (line: string) => this.env.debug(engine.maskSecrets(line));
        const client = new engine.MlflowClient({
            baseUrl: server.connectUrl,
            timeoutMs: this.env.timeoutMs(),
            ...(auth ? { auth } : {}),
            log,
            ...(this.cancellable ? { signal: this.abort.signal } : {}),
        });
        const service = await engine.ExplorerService.connect({
            client,
            key: server.key,
            origin: server.origin,
            authenticated: auth !== undefined || embedded,
            log,
        });
        const snapshot = this.env.snapshot();
        const reader = new engine.ArtifactReader({
            client,
            places: snapshot ? engine.placesFromSnapshot(snapshot, server.url) : undefined,
            docker: () => this.dockerClient(),
            timeoutMs: this.env.timeoutMs(),
            log,
            owners: {
                run: (runId: string) => service.getRunInfo(runId),
                model: (modelId: string) => service.getLoggedModelInfo(modelId),
            },
        });
        this.env.info(
            `explorer: MLflow ${service.server.version ?? '(version unknown)'} at ${server.url}${auth ? ' with stored credentials' : ''}`,
        );
        return { server, service, reader };
    }

    /** Docker is asked only when an artifact sits behind the server container's paths. */
    private dockerClient(): Promise<Dockerode | undefined> {
        const target = this.env.dockerTarget();
        if (!target) return Promise.resolve(undefined);
        this.docker ??= this.env
            .engine()
            .openDockerClient(target)
            .catch((error: unknown) => {
                this.env.debug(
                    `explorer: Docker not reachable for artifacts: ${error instanceof Error ? error.message : String(error)}`,
                );
                this.docker = undefined;
                return undefined;
            });
        return this.docker;
    }

    dispose(): void {
        this.abort.abort();
        this.made.clear();
    }
}
