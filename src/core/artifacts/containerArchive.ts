// Artifacts that exist only inside the server's container: a `file:` root the server wrote to
// its own file system, with no bind mount behind it. The Engine's archive endpoint hands out any
// path of a container as a tar stream (`GET /containers/{id}/archive?path=`) and a stat of it
// (`HEAD`, the X-Docker-Container-Path-Stat header), running or stopped.

import type Dockerode from 'dockerode';
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { ArtifactPathError, artifactName } from './artifactPath.js';
import {
    type ArtifactSource,
    ArtifactNotFoundError,
    entriesFromNames,
    type OpenedArtifact,
    type SourceListing,
} from './artifactSources.js';
import { readTar } from './tarReader.js';

/** Go's os.FileMode bits, as the Engine encodes them in the stat header. */
const MODE_DIR = 2 ** 31;
const MODE_SYMLINK = 2 ** 27;

export interface ContainerPathStat {
    name: string;
    size: number;
    mode: number;
    linkTarget?: string;
}

/** Decodes X-Docker-Container-Path-Stat (base64 JSON); undefined when absent or garbled. */
export function parsePathStat(
    header: string | string[] | undefined,
): ContainerPathStat | undefined {
    const value = Array.isArray(header) ? header[0] : header;
    if (!value) return undefined;
    try {
        const parsed = JSON.parse(Buffer.from(value, 'base64').toString('utf8')) as unknown;
        if (!parsed || typeof parsed !== 'object') return undefined;
        const { name, size, mode, linkTarget } = parsed as Record<string, unknown>;
        if (typeof name !== 'string' || typeof size !== 'number' || typeof mode !== 'number') {
            return undefined;
        }
        return {
            name,
            size,
            mode,
            ...(typeof linkTarget === 'string' && linkTarget ? { linkTarget } : {}),
        };
    } catch {
        return undefined;
    }
}

function isDirMode(mode: number): boolean {
    return Math.floor(mode / MODE_DIR) % 2 === 1;
}

function isSymlinkMode(mode: number): boolean {
    return Math.floor(mode / MODE_SYMLINK) % 2 === 1;
}

/** The Engine's answer as an error that says what the archive endpoint reported. */
function describeEngineError(error: unknown, containerPath: string): Error {
    const status = (error as { statusCode?: number }).statusCode;
    if (status === 404) {
        return new ArtifactNotFoundError(`${containerPath} does not exist in the container`);
    }
    const message = error instanceof Error ? error.message : String(error);
    return new Error(
        `the Docker Engine's archive endpoint answered for ${containerPath}: ${message}`,
    );
}

/** Resolves a Docker call within the deadline; a late answer's stream is destroyed. */
function withinDeadline<T>(
    what: string,
    timeoutMs: number,
    call: Promise<T>,
    dispose: (late: T) => void,
): Promise<T> {
    return new Promise<T>((resolve, reject) => {
        let expired = false;
        const timer = setTimeout(() => {
            expired = true;
            reject(new Error(`${what}: the Docker Engine gave no answer within ${timeoutMs} ms`));
        }, timeoutMs);
        call.then(
            (value) => {
                clearTimeout(timer);
                if (expired) dispose(value);
                else resolve(value);
            },
            (error: unknown) => {
                clearTimeout(timer);
                if (!expired) reject(error instanceof Error ? error : new Error(String(error)));
            },
        );
    });
}

/**
 * The segments of a tar entry name below the archived folder (whose own name comes first);
 * undefined for an absolute name. Each segment is checked later, where it becomes a name.
 */
function belowTop(name: string): string[] | undefined {
    if (name.startsWith('/')) return undefined;
    const segments = name.split('/').filter((segment) => segment !== '' && segment !== '.');
    return segments.slice(1);
}

export class ContainerArchiveSource implements ArtifactSource {
    readonly kind = 'container-archive' as const;
    readonly where: string;

    constructor(
        private readonly docker: () => Promise<Dockerode | undefined>,
        private readonly containerId: string,
        /** The owner's root as the container sees it. */
        private readonly root: string,
        private readonly timeoutMs: number,
    ) {
        this.where = `the archive endpoint of container ${containerId.slice(0, 12)} (${root})`;
    }

    private containerPath(relPath: string): string {
        return relPath === '' ? this.root : `${this.root.replace(/\/+$/, '')}/${relPath}`;
    }

    private async container(): Promise<Dockerode.Container> {
        const docker = await this.docker();
        if (!docker) throw new Error('no Docker Engine is reachable');
        return docker.getContainer(this.containerId);
    }

    private async archive(containerPath: string): Promise<IncomingMessage> {
        const container = await this.container();
        try {
            return await withinDeadline(
                `GET archive ${containerPath}`,
                this.timeoutMs,
                container.getArchive({ path: containerPath }) as Promise<IncomingMessage>,
                (late) => late.destroy(),
            );
        } catch (error) {
            throw describeEngineError(error, containerPath);
        }
    }

    async stat(relPath: string): Promise<{ isDir: boolean; size?: number }> {
        const containerPath = this.containerPath(relPath);
        const container = await this.container();
        let response: IncomingMessage;
        try {
            response = await withinDeadline(
                `HEAD archive ${containerPath}`,
                this.timeoutMs,
                container.infoArchive({ path: containerPath }) as Promise<IncomingMessage>,
                (late) => late.destroy(),
            );
        } catch (error) {
            throw describeEngineError(error, containerPath);
        }
        response.resume();
        const stat = parsePathStat(response.headers['x-docker-container-path-stat']);
        if (!stat) {
            throw new Error(`the Docker Engine sent no readable path stat for ${containerPath}`);
        }
        if (stat.linkTarget || isSymlinkMode(stat.mode)) {
            throw new ArtifactPathError(
                `${containerPath} is a symlink in the container; symlinks are not followed`,
            );
        }
        return isDirMode(stat.mode) ? { isDir: true } : { isDir: false, size: stat.size };
    }

    async list(dir: string): Promise<SourceListing> {
        const response = await this.archive(this.containerPath(dir));
        const items = new Map<string, { name: string; isDir: boolean; size?: number }>();
        let refused = 0;
        try {
            for await (const { entry } of readTar(response, { idleTimeoutMs: this.timeoutMs })) {
                const rest = belowTop(entry.name);
                if (rest === undefined) {
                    refused++;
                    continue;
                }
                const child = rest[0];
                if (child === undefined) continue;
                if (rest.length > 1) {
                    // Deeper entries only prove that their first folder exists.
                    if (!items.has(child)) items.set(child, { name: child, isDir: true });
                    continue;
                }
                if (entry.type === 'directory') items.set(child, { name: child, isDir: true });
                else if (entry.type === 'file') {
                    items.set(child, { name: child, isDir: false, size: entry.size });
                } else refused++;
            }
        } finally {
            response.destroy();
        }
        // Not yet: the Engine sends the whole subtree, so listing a folder above large files
        // reads (and discards) all of their bytes.
        const listing = entriesFromNames(dir, [...items.values()]);
        return { entries: listing.entries, refused: listing.refused + refused };
    }

    async open(relPath: string, signal?: AbortSignal): Promise<OpenedArtifact> {
        if (relPath === '') throw new ArtifactNotFoundError('the artifact root is a folder');
        const info = await this.stat(relPath);
        if (info.isDir) throw new ArtifactNotFoundError(`${relPath} is a folder`);

        const containerPath = this.containerPath(relPath);
        const response = await this.archive(containerPath);
        const wanted = artifactName(relPath);
        const timeoutMs = this.timeoutMs;
        const items = readTar(response, { idleTimeoutMs: timeoutMs });

        // The archive of one file holds one entry named after it; the body is passed on as it
        // arrives and the archive is closed right after it.
        const first = await items.next().catch((error: unknown) => {
            response.destroy();
            throw error;
        });
        if (first.done || first.value.entry.type !== 'file' || first.value.entry.name !== wanted) {
            response.destroy();
            const found = first.done ? 'nothing' : JSON.stringify(first.value.entry.name);
            throw new ArtifactNotFoundError(
                `the archive of ${containerPath} holds ${found}, not the file ${wanted}`,
            );
        }
        const { entry, body } = first.value;
        const chunks = (async function* (): AsyncGenerator<Buffer> {
            try {
                yield* body;
            } finally {
                response.destroy();
            }
        })();
        const stream = Readable.from(chunks, { objectMode: false, highWaterMark: 1024 * 1024 });
        // A consumer that stops early must not leave the Engine's connection open.
        stream.once('close', () => response.destroy());
        if (signal) {
            const abort = (): void => {
                stream.destroy(
                    signal.reason instanceof Error ? signal.reason : new Error('aborted'),
                );
            };
            if (signal.aborted) abort();
            else signal.addEventListener('abort', abort, { once: true });
            stream.once('close', () => signal.removeEventListener('abort', abort));
        }
        return { stream, size: entry.size };
    }
}
