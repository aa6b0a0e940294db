// One way to list, stat, open and download the artifacts of a run or a logged model, whichever
// place actually holds them. The sources are tried in a fixed order (see planSources); when the
// server cannot answer, the next source that applies is tried, and the answer says which source
// served it and what the server said, so a user learns why the MLflow UI shows nothing.

import type Dockerode from 'dockerode';
import { createWriteStream, statSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { randomBytes } from 'node:crypto';
import type {
    ArtifactListing,
    ArtifactOwner,
    ArtifactSourceKind,
} from '../../../webview/protocol.js';
import type { ContainerFacts, StackSnapshot } from '../model.js';
import { MlflowRequestError, type MlflowClient } from '../mlflow/client.js';
import { ArtifactPathError, normaliseArtifactPath } from './artifactPath.js';
import {
    type ArtifactPlaces,
    type ArtifactSource,
    ArtifactNotFoundError,
    planSources,
    type SourcePlan,
    type SourcePlanning,
} from './artifactSources.js';
import { ContainerArchiveSource } from './containerArchive.js';
import { LocalDirSource } from './hostSources.js';
import { DownloadRouteSource, ModelFilesSource, ProxiedApiSource } from './serverSources.js';

export type { ArtifactPlaces } from './artifactSources.js';

export interface ArtifactReaderOptions {
    client: MlflowClient;
    places?: ArtifactPlaces;
    docker?: () => Promise<Dockerode | undefined>;
    /** Deadline for each Docker Engine call and each silence of an archive stream. Default 30 s. */
    timeoutMs?: number;
    log?: (line: string) => void;
    owners: {
        run(runId: string): Promise<{ artifactUri?: string }>;
        model(modelId: string): Promise<{ artifactUri?: string }>;
    };
}

export interface ArtifactStat {
    path: string;
    isDir: boolean;
    size?: number;
    source: ArtifactSourceKind;
}

export interface ArtifactStream {
    stream: NodeJS.ReadableStream;
    size?: number;
    contentType?: string;
    source: ArtifactSourceKind;
}

export class ArtifactTooLargeError extends Error {
    constructor(
        readonly path: string,
        readonly maxBytes: number,
        readonly size?: number,
    ) {
        super(
            `artifact ${JSON.stringify(path)} is ${size !== undefined ? `${size} bytes` : 'larger than the limit'}; ` +
                `at most ${maxBytes} bytes are read into memory: download it instead`,
        );
        this.name = 'ArtifactTooLargeError';
    }
}

/** What each source answered when none could serve a request. */
export class ArtifactUnavailableError extends Error {
    constructor(
        message: string,
        readonly attempts: { source: ArtifactSourceKind; error: string }[],
        /** True when every source that answered said "no such file" (nothing failed). */
        readonly notFound: boolean,
    ) {
        super(message);
        this.name = 'ArtifactUnavailableError';
    }
}

const DEFAULT_TIMEOUT_MS = 30_000;

function ownerName(owner: ArtifactOwner): string {
    return owner.kind === 'run' ? `run ${owner.runId}` : `logged model ${owner.modelId}`;
}

function ownerKey(owner: ArtifactOwner): string {
    return owner.kind === 'run' ? `run:${owner.runId}` : `model:${owner.modelId}`;
}

function errorText(error: unknown): string {
    if (error instanceof MlflowRequestError) return error.message;
    return error instanceof Error ? error.message : String(error);
}

/** Why a listing has fewer entries than its source named. */
function leftOutNote(refused: number): string {
    return (
        `${refused} entr${refused === 1 ? 'y was' : 'ies were'} left out: their names are not ` +
        'safe paths, or they lead outside the folder listed.'
    );
}

function isDir(dir: string): boolean {
    try {
        return statSync(dir).isDirectory();
    } catch {
        return false;
    }
}

interface OwnerSources {
    rootUri?: string;
    sources: ArtifactSource[];
    skipped: SourcePlanning['skipped'];
}

export class ArtifactReader {
    private readonly owners = new Map<string, Promise<OwnerSources>>();
    private readonly timeoutMs: number;

    constructor(private readonly options: ArtifactReaderOptions) {
        this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    }

    /** One directory level, from the first source that has it. */
    async list(owner: ArtifactOwner, dirPath: string): Promise<ArtifactListing> {
        const dir = normaliseArtifactPath(dirPath);
        const { rootUri, sources, skipped } = await this.sourcesFor(owner);
        const failures: { source: ArtifactSource; error: unknown }[] = [];
        let empty: { source: ArtifactSource; refused: number } | undefined;

        for (const source of sources) {
            try {
                const listing = await source.list(dir);
                // An empty answer from the server is what a client-side root looks like from the
                // server's side (facts §3.3), so the places after it get their turn.
                if (listing.entries.length === 0) {
                    empty ??= { source, refused: listing.refused };
                    continue;
                }
                const notes: string[] = [];
                for (const failure of failures) {
                    notes.push(`${failure.source.where} answered: ${errorText(failure.error)}.`);
                }
                if (empty) notes.push(`${empty.source.where} listed nothing here.`);
                if (notes.length > 0) notes.push(`Listed from ${source.where} instead.`);
                if (listing.refused > 0) notes.push(leftOutNote(listing.refused));
                this.options.log?.(`artifacts of ${ownerName(owner)}/${dir}: ${source.kind}`);
                return {
                    owner,
                    path: dir,
                    ...(rootUri !== undefined ? { rootUri } : {}),
                    entries: listing.entries,
                    source: source.kind,
                    ...(notes.length > 0 ? { note: notes.join(' ') } : {}),
                };
            } catch (error) {
                if (error instanceof ArtifactPathError) throw error;
                this.options.log?.(`${source.kind} could not list ${dir}: ${errorText(error)}`);
                failures.push({ source, error });
            }
        }

        if (empty) {
            const notes = failures.map(
                (failure) => `${failure.source.where} answered: ${errorText(failure.error)}.`,
            );
            if (empty.refused > 0) notes.push(leftOutNote(empty.refused));
            return {
                owner,
                path: dir,
                ...(rootUri !== undefined ? { rootUri } : {}),
                entries: [],
                source: empty.source.kind,
                ...(notes.length > 0 ? { note: notes.join(' ') } : {}),
            };
        }
        throw this.unavailable('list', owner, dir, failures, skipped);
    }

    async stat(owner: ArtifactOwner, filePath: string): Promise<ArtifactStat> {
        const rel = normaliseArtifactPath(filePath);
        const { value, source } = await this.firstThatServes(
            'stat',
            owner,
            rel,
            undefined,
            (source) => source.stat(rel),
        );
        return { path: rel, ...value, source };
    }

    async open(
        owner: ArtifactOwner,
        filePath: string,
        options: { signal?: AbortSignal } = {},
    ): Promise<ArtifactStream> {
        const rel = normaliseArtifactPath(filePath);
        if (rel === '') throw new ArtifactPathError('the artifact root is a folder, not a file');
        const { value, source } = await this.firstThatServes(
            'open',
            owner,
            rel,
            options.signal,
            (source) => source.open(rel, options.signal),
        );
        return {
            stream: value.stream,
            ...(value.size !== undefined ? { size: value.size } : {}),
            ...(value.contentType !== undefined ? { contentType: value.contentType } : {}),
            source,
        };
    }

    /** The whole file in memory; for previews. Larger files throw ArtifactTooLargeError. */
    async read(
        owner: ArtifactOwner,
        filePath: string,
        options: { maxBytes: number; signal?: AbortSignal },
    ): Promise<Uint8Array> {
        const opened = await this.open(owner, filePath, options);
        const stream = opened.stream as NodeJS.ReadableStream & { destroy(error?: Error): void };
        if (opened.size !== undefined && opened.size > options.maxBytes) {
            stream.destroy();
            throw new ArtifactTooLargeError(filePath, options.maxBytes, opened.size);
        }
        const chunks: Buffer[] = [];
        let total = 0;
        try {
            for await (const chunk of stream) {
                const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
                total += bytes.length;
                if (total > options.maxBytes) {
                    throw new ArtifactTooLargeError(filePath, options.maxBytes, opened.size);
                }
                chunks.push(bytes);
            }
        } finally {
            stream.destroy();
        }
        if (opened.size !== undefined && total !== opened.size) {
            throw new Error(
                `artifact ${JSON.stringify(filePath)} ended after ${total} of ${opened.size} bytes`,
            );
        }
        return new Uint8Array(Buffer.concat(chunks, total));
    }

    /**
     * Streams a file to `file`. It is written under a temporary name next to the target and
     * renamed at the end, so an abort or a failure leaves neither a partial file nor the
     * temporary one.
     */
    async download(
        owner: ArtifactOwner,
        filePath: string,
        file: string,
        options: {
            signal?: AbortSignal;
            onProgress?: (bytes: number, total?: number) => void;
        } = {},
    ): Promise<{ bytes: number; source: ArtifactSourceKind }> {
        const opened = await this.open(owner, filePath, options);
        const partial = path.join(
            path.dirname(file),
            `.${path.basename(file)}.${randomBytes(4).toString('hex')}.partial`,
        );
        let bytes = 0;
        // Counted beside the pipe rather than through a Transform: one stage less per chunk.
        opened.stream.on('data', (chunk: Buffer) => {
            bytes += chunk.length;
            options.onProgress?.(bytes, opened.size);
        });
        try {
            const target = createWriteStream(partial, {
                flags: 'wx',
                highWaterMark: 4 * 1024 * 1024,
            });
            if (options.signal) {
                await pipeline(opened.stream, target, { signal: options.signal });
            } else {
                await pipeline(opened.stream, target);
            }
            if (opened.size !== undefined && bytes !== opened.size) {
                throw new Error(
                    `artifact ${JSON.stringify(filePath)} ended after ${bytes} of ${opened.size} bytes`,
                );
            }
            await rename(partial, file);
        } catch (error) {
            (opened.stream as NodeJS.ReadableStream & { destroy(): void }).destroy();
            await rm(partial, { force: true });
            throw error;
        }
        return { bytes, source: opened.source };
    }

    private async firstThatServes<T>(
        what: 'stat' | 'open',
        owner: ArtifactOwner,
        rel: string,
        signal: AbortSignal | undefined,
        attempt: (source: ArtifactSource) => Promise<T>,
    ): Promise<{ value: T; source: ArtifactSourceKind }> {
        const { sources, skipped } = await this.sourcesFor(owner);
        const failures: { source: ArtifactSource; error: unknown }[] = [];
        for (const source of sources) {
            try {
                const value = await attempt(source);
                if (failures.length > 0) {
                    this.options.log?.(
                        `${rel} of ${ownerName(owner)} served by ${source.kind} after ` +
                            failures.map((f) => f.source.kind).join(', '),
                    );
                }
                return { value, source: source.kind };
            } catch (error) {
                if (error instanceof ArtifactPathError) throw error;
                // A cancelled request is the user's choice, not a reason to try elsewhere.
                if (signal?.aborted) throw error;
                failures.push({ source, error });
            }
        }
        throw this.unavailable(what, owner, rel, failures, skipped);
    }

    private unavailable(
        what: 'list' | 'stat' | 'open',
        owner: ArtifactOwner,
        rel: string,
        failures: { source: ArtifactSource; error: unknown }[],
        skipped: SourcePlanning['skipped'],
    ): ArtifactUnavailableError {
        const verb = { list: 'list', stat: 'find', open: 'read' }[what];
        const tried = failures.map(
            (failure) =>
                `${failure.source.kind} (${failure.source.where}): ${errorText(failure.error)}`,
        );
        const notTried = skipped.map((skip) => `${skip.kind}: ${skip.why}`);
        const message =
            `Could not ${verb} ${JSON.stringify(rel || '/')} of ${ownerName(owner)}. ` +
            (tried.length > 0 ? `Tried ${tried.join('; ')}.` : 'No source applies.') +
            (notTried.length > 0 ? ` Not tried: ${notTried.join('; ')}.` : '');
        const notFound =
            failures.length > 0 &&
            failures.every(
                (failure) =>
                    failure.error instanceof ArtifactNotFoundError ||
                    (failure.error instanceof MlflowRequestError && failure.error.status === 404),
            );
        return new ArtifactUnavailableError(
            message,
            failures.map((failure) => ({
                source: failure.source.kind,
                error: errorText(failure.error),
            })),
            notFound,
        );
    }

    private sourcesFor(owner: ArtifactOwner): Promise<OwnerSources> {
        const key = ownerKey(owner);
        let found = this.owners.get(key);
        if (!found) {
            found = this.buildSources(owner);
            this.owners.set(key, found);
            // A failed look-up (server down) is not remembered; the next call asks again.
            found.catch(() => this.owners.delete(key));
        }
        return found;
    }

    private async buildSources(owner: ArtifactOwner): Promise<OwnerSources> {
        const info =
            owner.kind === 'run'
                ? await this.options.owners.run(owner.runId)
                : await this.options.owners.model(owner.modelId);
        const planning = planSources({
            owner,
            ...(info.artifactUri !== undefined ? { artifactUri: info.artifactUri } : {}),
            serverUrl: this.options.client.baseUrl,
            ...(this.options.places ? { places: this.options.places } : {}),
            dockerConfigured: this.options.docker !== undefined,
            hostDirExists: isDir,
        });
        this.options.log?.(
            `artifact sources of ${ownerName(owner)}: ${planning.plans.map((p) => p.kind).join(', ')}`,
        );
        return {
            ...(info.artifactUri !== undefined ? { rootUri: info.artifactUri } : {}),
            sources: planning.plans.map((plan) => this.sourceOf(plan)),
            skipped: planning.skipped,
        };
    }

    private sourceOf(plan: SourcePlan): ArtifactSource {
        const client = this.options.client;
        switch (plan.kind) {
            case 'proxied-api':
                return new ProxiedApiSource(client, plan.root);
            case 'download-route':
                return new DownloadRouteSource(client, plan.runId);
            case 'model-files-route':
                return new ModelFilesSource(client, plan.modelId);
            case 'host-path':
                return new LocalDirSource('host-path', plan.root);
            case 'bind-mount':
                return new LocalDirSource('bind-mount', plan.root, plan.containerRoot);
            case 'container-archive':
                return new ContainerArchiveSource(
                    this.options.docker ?? (() => Promise.resolve(undefined)),
                    plan.containerId,
                    plan.root,
                    this.timeoutMs,
                );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Where the server runs

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]', '0.0.0.0']);

function serverContainer(snapshot: StackSnapshot, url: URL): ContainerFacts | undefined {
    const containers = snapshot.docker?.containers ?? [];
    const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
    const host = url.hostname.toLowerCase();

    // A published port on this machine.
    if (LOOPBACK.has(host)) {
        const published = containers.find((container) =>
            container.ports.some(
                (binding) =>
                    binding.hostPort === port &&
                    (binding.hostIp === '' ||
                        LOOPBACK.has(binding.hostIp) ||
                        binding.hostIp === '::' ||
                        binding.hostIp === host),
            ),
        );
        if (published) return published;
    }

    // A name on a compose network (`http://mlflow:5000` from a client container).
    const byName = containers.find(
        (container) =>
            container.service === host ||
            container.name.replace(/^\//, '') === host ||
            container.networks.some((network) => network.aliases.includes(host)),
    );
    if (byName) return byName;

    // The probe that found this server may know its service.
    const base = url.toString().replace(/\/+$/, '');
    const probe = snapshot.servers.find((server) => server.baseUrl.replace(/\/+$/, '') === base);
    if (probe?.service) return containers.find((container) => container.service === probe.service);
    return undefined;
}

/** Which container serves `serverUrl`, and its bind mounts; empty when none is known. */
export function placesFromSnapshot(snapshot: StackSnapshot, serverUrl: string): ArtifactPlaces {
    let url: URL;
    try {
        url = new URL(serverUrl);
    } catch {
        return { mounts: [] };
    }
    const container = serverContainer(snapshot, url);
    if (!container) return { mounts: [] };
    return {
        serverContainerId: container.id,
        mounts: container.mounts
            .filter((mount) => mount.type === 'bind' && mount.source.startsWith('/'))
            .map((mount) => ({ source: mount.source, destination: mount.destination })),
    };
}
