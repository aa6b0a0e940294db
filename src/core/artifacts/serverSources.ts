// The three ways an MLflow server hands out artifacts over HTTP: the proxied artifact API (files
// under --artifacts-destination), the run download routes (the server reads its own artifact
// repository), and MLflow 3's logged-model file routes.

import type { MlflowClient } from '../mlflow/client.js';
import { artifactName, joinArtifactPath, parentArtifactPath } from './artifactPath.js';
import {
    type ArtifactSource,
    ArtifactNotFoundError,
    entriesFromNames,
    type OpenedArtifact,
    type SourceListing,
} from './artifactSources.js';

const PROXIED_ROUTE = '/api/2.0/mlflow-artifacts/artifacts';

/** Each segment percent-encoded on its own, so `#`, `?`, `%` and spaces in names survive. */
export function encodePathSegments(relPath: string): string {
    return relPath.split('/').map(encodeURIComponent).join('/');
}

/**
 * Why the server cannot be asked for this path, or undefined. MLflow's validate_path_is_safe
 * percent-decodes a path until it stops changing and refuses `#` (2.x and 3.x alike), so no
 * encoding can make it look up a name that contains either; other sources may still have it.
 */
export function serverCannotAskFor(relPath: string): string | undefined {
    if (relPath.includes('#')) return 'MLflow refuses artifact paths that contain "#"';
    if (/%[0-9A-Fa-f]{2}/.test(relPath)) {
        return (
            'MLflow percent-decodes artifact paths until they stop changing, so a name ' +
            'containing "%xx" reaches it as a different name'
        );
    }
    return undefined;
}

function askable(relPath: string): void {
    const problem = serverCannotAskFor(relPath);
    if (problem) throw new Error(`${JSON.stringify(relPath)}: ${problem}`);
}

function serverFiles(body: unknown): { name: string; isDir: boolean; size?: number }[] {
    const files =
        body && typeof body === 'object' && Array.isArray((body as { files?: unknown }).files)
            ? (body as { files: unknown[] }).files
            : [];
    const out: { name: string; isDir: boolean; size?: number }[] = [];
    for (const file of files) {
        if (!file || typeof file !== 'object') continue;
        const { path, is_dir: isDir, file_size: size } = file as Record<string, unknown>;
        if (typeof path !== 'string') continue;
        const bytes = typeof size === 'number' || typeof size === 'string' ? Number(size) : NaN;
        out.push({
            name: path,
            isDir: isDir === true,
            ...(Number.isSafeInteger(bytes) && bytes >= 0 ? { size: bytes } : {}),
        });
    }
    return out;
}

/** Stat through a listing of the parent, the only way these routes describe one entry. */
async function statByListing(
    source: ArtifactSource,
    relPath: string,
): Promise<{ isDir: boolean; size?: number }> {
    if (relPath === '') return { isDir: true };
    const listing = await source.list(parentArtifactPath(relPath));
    const entry = listing.entries.find((item) => item.path === relPath);
    if (!entry) {
        throw new ArtifactNotFoundError(
            `${source.where} lists no ${JSON.stringify(artifactName(relPath))} in ` +
                `${JSON.stringify(parentArtifactPath(relPath) || '/')}`,
        );
    }
    return { isDir: entry.isDir, ...(entry.size !== undefined ? { size: entry.size } : {}) };
}

function opened(result: Awaited<ReturnType<MlflowClient['openStream']>>): OpenedArtifact {
    return {
        stream: result.stream,
        ...(result.size !== undefined ? { size: result.size } : {}),
        ...(result.contentType !== undefined ? { contentType: result.contentType } : {}),
    };
}

export class ProxiedApiSource implements ArtifactSource {
    readonly kind = 'proxied-api' as const;
    readonly where: string;

    constructor(
        private readonly client: MlflowClient,
        /** The owner's root under --artifacts-destination, normalised. */
        private readonly root: string,
    ) {
        this.where = `the proxied artifact API (${PROXIED_ROUTE}/${root})`;
    }

    async list(dir: string): Promise<SourceListing> {
        askable(dir);
        const result = await this.client.request('GET', PROXIED_ROUTE, {
            query: { path: joinArtifactPath(this.root, dir) },
        });
        // The proxied API names each entry by its base name.
        return entriesFromNames(dir, serverFiles(result.data), 'base-name');
    }

    stat(relPath: string): Promise<{ isDir: boolean; size?: number }> {
        return statByListing(this, relPath);
    }

    async open(relPath: string, signal?: AbortSignal): Promise<OpenedArtifact> {
        askable(relPath);
        const full = encodePathSegments(joinArtifactPath(this.root, relPath));
        return opened(
            await this.client.openStream(`${PROXIED_ROUTE}/${full}`, signal ? { signal } : {}),
        );
    }
}

export class DownloadRouteSource implements ArtifactSource {
    readonly kind = 'download-route' as const;
    readonly where: string;

    constructor(
        private readonly client: MlflowClient,
        private readonly runId: string,
    ) {
        this.where = `the server's download route for run ${runId}`;
    }

    async list(dir: string): Promise<SourceListing> {
        askable(dir);
        const result = await this.client.listArtifacts(this.runId, dir === '' ? undefined : dir);
        // artifacts/list names each entry by its path from the run's root.
        return entriesFromNames(
            dir,
            result.data.files.map((file) => ({
                name: file.path,
                isDir: file.is_dir === true,
                ...(file.file_size !== undefined ? { size: Number(file.file_size) } : {}),
            })),
            'root-relative',
        );
    }

    stat(relPath: string): Promise<{ isDir: boolean; size?: number }> {
        return statByListing(this, relPath);
    }

    async open(relPath: string, signal?: AbortSignal): Promise<OpenedArtifact> {
        askable(relPath);
        // A Flask route, so it carries --static-prefix (facts §2.1).
        return opened(
            await this.client.openStream(`${this.client.staticPrefix}/get-artifact`, {
                query: { run_id: this.runId, path: relPath },
                ...(signal ? { signal } : {}),
            }),
        );
    }
}

export class ModelFilesSource implements ArtifactSource {
    readonly kind = 'model-files-route' as const;
    readonly where: string;

    constructor(
        private readonly client: MlflowClient,
        private readonly modelId: string,
    ) {
        this.where = `the logged-model file routes for ${modelId}`;
    }

    async list(dir: string): Promise<SourceListing> {
        askable(dir);
        const id = encodeURIComponent(this.modelId);
        const result = await this.client.request(
            'GET',
            `/api/2.0/mlflow/logged-models/${id}/artifacts/directories`,
            { query: { artifact_directory_path: dir === '' ? undefined : dir } },
        );
        // Like artifacts/list, this route names each entry by its path from the model's root.
        return entriesFromNames(dir, serverFiles(result.data), 'root-relative');
    }

    stat(relPath: string): Promise<{ isDir: boolean; size?: number }> {
        return statByListing(this, relPath);
    }

    async open(relPath: string, signal?: AbortSignal): Promise<OpenedArtifact> {
        askable(relPath);
        const id = encodeURIComponent(this.modelId);
        // Served under /ajax-api only (facts §2.6), with the static prefix.
        return opened(
            await this.client.openStream(
                `${this.client.staticPrefix}/ajax-api/2.0/mlflow/logged-models/${id}/artifacts/files`,
                { query: { artifact_file_path: relPath }, ...(signal ? { signal } : {}) },
            ),
        );
    }
}
