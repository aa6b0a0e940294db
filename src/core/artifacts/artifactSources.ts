// Which places can hold an owner's artifacts, and in which order to try them. An artifact_uri
// says where the client that logged the files put them, which is not always where the server can
// read them: a client writes `file:` roots to its own disk, and a container path the server never
// proxied is only reachable through the container's bind mounts or the Engine's archive endpoint.

import type { Readable } from 'node:stream';
import type {
    ArtifactEntry,
    ArtifactOwner,
    ArtifactSourceKind,
} from '../../../webview/protocol.js';
import {
    artifactName,
    joinArtifactPath,
    normaliseAbsolutePath,
    normaliseArtifactPath,
    parentArtifactPath,
} from './artifactPath.js';

/** Bind mounts of the server's container (host source → container destination). */
export interface ArtifactPlaces {
    serverContainerId?: string;
    mounts: { source: string; destination: string }[];
}

/** Where an artifact_uri points, as far as this machine is concerned. */
export type ArtifactRoot =
    /** Under the server's `--artifacts-destination`, relative to it. */
    | { kind: 'proxied'; path: string }
    /** An absolute POSIX path: on the client's disk, the host's, or inside the server's container. */
    | { kind: 'local'; path: string }
    /** Object storage, another server, or something this machine cannot reach directly. */
    | { kind: 'elsewhere'; why: string };

const PROXIED_ROUTE = '/api/2.0/mlflow-artifacts/artifacts';

function sameServer(url: URL, serverUrl: string): boolean {
    try {
        const server = new URL(serverUrl);
        const port = (u: URL) => u.port || (u.protocol === 'https:' ? '443' : '80');
        return url.hostname === server.hostname && port(url) === port(server);
    } catch {
        return false;
    }
}

function relativeRoot(raw: string): ArtifactRoot {
    try {
        return { kind: 'proxied', path: normaliseArtifactPath(raw.replace(/^\/+/, '')) };
    } catch (error) {
        return { kind: 'elsewhere', why: (error as Error).message };
    }
}

function climbs(uri: string): boolean {
    return uri.split(/[/\\?#]/).some((segment) => {
        let decoded = segment;
        for (let round = 0; round < 3 && decoded.includes('%'); round++) {
            try {
                decoded = decodeURIComponent(decoded);
            } catch {
                break;
            }
        }
        return segment === '..' || decoded.split(/[/\\]/).includes('..');
    });
}

/** Classifies a run's or model's artifact_uri as the server sent it. */
export function parseArtifactRoot(uri: string | undefined, serverUrl: string): ArtifactRoot {
    if (!uri) return { kind: 'elsewhere', why: 'the server sent no artifact_uri' };
    if (uri.includes('\0')) return { kind: 'elsewhere', why: 'the artifact_uri contains a NUL' };
    // URL parsing would quietly resolve `..` away; a root that is written with one is refused.
    if (climbs(uri)) return { kind: 'elsewhere', why: `${uri} contains a ".." segment` };

    const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(uri)?.[1]?.toLowerCase();
    if (scheme === 'mlflow-artifacts') {
        // `mlflow-artifacts:/p` is this server; `mlflow-artifacts://host:port/p` names one.
        const rest = uri.slice('mlflow-artifacts:'.length);
        if (rest.startsWith('//')) {
            let url: URL;
            try {
                url = new URL(`http:${rest}`);
            } catch {
                return { kind: 'elsewhere', why: `${uri} is not a valid URI` };
            }
            if (!sameServer(url, serverUrl)) {
                return { kind: 'elsewhere', why: `${uri} names another artifact server` };
            }
            return relativeRoot(decodeURIComponent(url.pathname));
        }
        return relativeRoot(rest);
    }
    if (scheme === 'http' || scheme === 'https') {
        let url: URL;
        try {
            url = new URL(uri);
        } catch {
            return { kind: 'elsewhere', why: `${uri} is not a valid URI` };
        }
        const at = url.pathname.indexOf(PROXIED_ROUTE);
        if (at < 0 || !sameServer(url, serverUrl)) {
            return { kind: 'elsewhere', why: `${uri} is served by another HTTP server` };
        }
        return relativeRoot(decodeURIComponent(url.pathname.slice(at + PROXIED_ROUTE.length)));
    }
    if (scheme === 'file') {
        let pathname: string;
        try {
            const url = new URL(uri);
            if (url.hostname && url.hostname !== 'localhost') {
                return { kind: 'elsewhere', why: `${uri} is on the host ${url.hostname}` };
            }
            pathname = decodeURIComponent(url.pathname);
        } catch {
            return { kind: 'elsewhere', why: `${uri} is not a valid file URI` };
        }
        return localRoot(pathname);
    }
    if (scheme && scheme.length > 1) {
        return { kind: 'elsewhere', why: `${scheme}: storage is read by the server or the client` };
    }
    if (uri.startsWith('/')) return localRoot(uri);
    return {
        kind: 'elsewhere',
        why: `${uri} is relative to the working folder of whichever process logged it`,
    };
}

function localRoot(pathname: string): ArtifactRoot {
    try {
        return { kind: 'local', path: normaliseAbsolutePath(pathname) };
    } catch (error) {
        return { kind: 'elsewhere', why: (error as Error).message };
    }
}

export type SourcePlan =
    | { kind: 'proxied-api'; root: string }
    | { kind: 'download-route'; runId: string }
    | { kind: 'model-files-route'; modelId: string }
    | { kind: 'host-path'; root: string }
    | { kind: 'bind-mount'; root: string; containerRoot: string }
    | { kind: 'container-archive'; containerId: string; root: string };

export interface SourcePlanning {
    plans: SourcePlan[];
    /** Sources that do not apply, with why, so "nothing worked" can say what was not tried. */
    skipped: { kind: ArtifactSourceKind; why: string }[];
}

export interface PlanInput {
    owner: ArtifactOwner;
    artifactUri?: string;
    serverUrl: string;
    places?: ArtifactPlaces;
    /** Whether a Docker connection was configured for the reader. */
    dockerConfigured: boolean;
    /** Whether a folder exists on this machine (injected so planning stays free of I/O). */
    hostDirExists: (dir: string) => boolean;
}

function under(destination: string, target: string): string | undefined {
    const dest = destination.replace(/\/+$/, '') || '/';
    if (target === dest) return '';
    const prefix = dest === '/' ? '/' : `${dest}/`;
    return target.startsWith(prefix) ? target.slice(prefix.length) : undefined;
}

/** The sources to try for an owner, in the order the reader tries them. */
export function planSources(input: PlanInput): SourcePlanning {
    const plans: SourcePlan[] = [];
    const skipped: SourcePlanning['skipped'] = [];
    const root = parseArtifactRoot(input.artifactUri, input.serverUrl);
    const { owner } = input;

    if (root.kind === 'proxied') plans.push({ kind: 'proxied-api', root: root.path });
    else skipped.push({ kind: 'proxied-api', why: 'the artifact_uri is not mlflow-artifacts:' });

    if (owner.kind === 'run') plans.push({ kind: 'download-route', runId: owner.runId });
    else skipped.push({ kind: 'download-route', why: 'get-artifact serves runs only' });

    if (owner.kind === 'model') plans.push({ kind: 'model-files-route', modelId: owner.modelId });
    else skipped.push({ kind: 'model-files-route', why: 'the owner is a run' });

    if (root.kind !== 'local') {
        const why = root.kind === 'proxied' ? 'the artifact_uri is proxied' : root.why;
        for (const kind of ['host-path', 'bind-mount', 'container-archive'] as const) {
            skipped.push({ kind, why });
        }
        return { plans, skipped };
    }

    if (input.hostDirExists(root.path)) plans.push({ kind: 'host-path', root: root.path });
    else skipped.push({ kind: 'host-path', why: `${root.path} does not exist on this machine` });

    let covered = false;
    const mounts = [...(input.places?.mounts ?? [])].sort(
        (a, b) => b.destination.length - a.destination.length,
    );
    for (const mount of mounts) {
        const rest = under(mount.destination, root.path);
        if (rest === undefined) continue;
        covered = true;
        const hostRoot = rest === '' ? mount.source : `${mount.source.replace(/\/+$/, '')}/${rest}`;
        if (input.hostDirExists(hostRoot)) {
            plans.push({ kind: 'bind-mount', root: hostRoot, containerRoot: root.path });
        } else {
            skipped.push({
                kind: 'bind-mount',
                why: `the bind mount ${mount.source} → ${mount.destination} has no ${hostRoot}`,
            });
        }
        break;
    }
    if (!covered) {
        skipped.push({
            kind: 'bind-mount',
            why: `no bind mount of the server covers ${root.path}`,
        });
    }

    const containerId = input.places?.serverContainerId;
    if (covered) {
        skipped.push({ kind: 'container-archive', why: 'a bind mount covers the path' });
    } else if (!containerId) {
        skipped.push({ kind: 'container-archive', why: 'no container is known to run the server' });
    } else if (!input.dockerConfigured) {
        skipped.push({ kind: 'container-archive', why: 'no Docker connection is configured' });
    } else {
        plans.push({ kind: 'container-archive', containerId, root: root.path });
    }
    return { plans, skipped };
}

// ---------------------------------------------------------------------------------------------
// What every source can do.

export interface OpenedArtifact {
    stream: Readable;
    size?: number;
    contentType?: string;
}

export interface SourceListing {
    entries: ArtifactEntry[];
    /** Names left out because they are not safe relative paths. */
    refused: number;
}

export interface ArtifactSource {
    readonly kind: ArtifactSourceKind;
    /** The place in words, for notes and errors (`the host path /tmp/x/artifacts`). */
    readonly where: string;
    list(dir: string): Promise<SourceListing>;
    stat(relPath: string): Promise<{ isDir: boolean; size?: number }>;
    open(relPath: string, signal?: AbortSignal): Promise<OpenedArtifact>;
}

/** Raised by a source that answered, but has no such entry. */
export class ArtifactNotFoundError extends Error {
    constructor(message: string) {
        super(message);
        this.name = 'ArtifactNotFoundError';
    }
}

/**
 * How a listing names its entries: by base name (the proxied artifact API, a folder read on this
 * machine, a tar's children) or by path from the owner's root (get-artifact's artifacts/list and
 * the logged-model directories route).
 */
export type ListedNames = 'base-name' | 'root-relative';

/** The entry's path when `listed` names a direct child of `dir` safely, else undefined. */
function childPath(dir: string, listed: string, names: ListedNames): string | undefined {
    // A trailing slash is how some stores write a folder; it changes nothing about where it is.
    const trimmed = listed.replace(/\/+$/, '');
    try {
        const normalised = normaliseArtifactPath(trimmed);
        // Only a name written in its canonical form: `./x` or `a//x` is not taken apart.
        if (normalised === '' || normalised !== trimmed) return undefined;
        if (names === 'base-name') {
            return normalised.includes('/') ? undefined : joinArtifactPath(dir, normalised);
        }
        return parentArtifactPath(normalised) === dir ? normalised : undefined;
    } catch {
        // Not a safe path (`..`, absolute, `%2e%2e`, a backslash, too long).
        return undefined;
    }
}

/**
 * Builds a listing's entries from names a server or archive returned. An entry is kept only when
 * its name is a safe path to a direct child of `dir`; anything else (`..`, an absolute path, a
 * percent-encoded climb, a path into another folder) is counted and left out, never cut down to
 * its last segment.
 */
export function entriesFromNames(
    dir: string,
    items: { name: string; isDir: boolean; size?: number }[],
    names: ListedNames = 'base-name',
): SourceListing {
    const entries: ArtifactEntry[] = [];
    const seen = new Set<string>();
    let refused = 0;
    for (const item of items) {
        const entryPath = childPath(dir, item.name, names);
        if (entryPath === undefined) {
            refused++;
            continue;
        }
        const name = artifactName(entryPath);
        if (seen.has(entryPath)) continue;
        seen.add(entryPath);
        entries.push({
            path: entryPath,
            name,
            isDir: item.isDir,
            ...(!item.isDir && item.size !== undefined && Number.isFinite(item.size)
                ? { size: item.size }
                : {}),
        });
    }
    entries.sort((a, b) => Number(b.isDir) - Number(a.isDir) || a.name.localeCompare(b.name));
    return { entries, refused };
}
