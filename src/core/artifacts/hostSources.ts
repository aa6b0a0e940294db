// Artifacts read straight from this machine's disk: a root the client wrote to its own file
// system (`host-path`), or the host side of a bind mount of the server's container (`bind-mount`).
// Every path goes through resolveInside, so a symlink in the tree cannot lead out of the root.

import { createReadStream, type Dirent } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import type { ArtifactSourceKind } from '../../../webview/protocol.js';
import { ArtifactPathError, resolveInside } from './artifactPath.js';
import {
    type ArtifactSource,
    ArtifactNotFoundError,
    entriesFromNames,
    type OpenedArtifact,
    type SourceListing,
} from './artifactSources.js';

function describeFsError(error: unknown, file: string): Error {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
        return new ArtifactNotFoundError(`${file} does not exist`);
    }
    if (code === 'EACCES' || code === 'EPERM') {
        return new Error(`${file} is not readable by this user (${code})`);
    }
    return error instanceof Error ? error : new Error(String(error));
}

export class LocalDirSource implements ArtifactSource {
    readonly where: string;

    constructor(
        readonly kind: Extract<ArtifactSourceKind, 'host-path' | 'bind-mount'>,
        /** The owner's artifact root on this machine. */
        private readonly root: string,
        /** For a bind mount: the same root as the server's container sees it. */
        containerRoot?: string,
    ) {
        this.where =
            kind === 'host-path'
                ? `the host path ${root}`
                : `the bind mount's host side ${root} (${containerRoot} in the container)`;
    }

    async list(dir: string): Promise<SourceListing> {
        const real = resolveInside(this.root, dir);
        let names: Dirent[];
        try {
            names = await readdir(real, { withFileTypes: true });
        } catch (error) {
            throw describeFsError(error, real);
        }
        const items: { name: string; isDir: boolean; size?: number }[] = [];
        let refused = 0;
        for (const dirent of names) {
            const rel = dir === '' ? dirent.name : `${dir}/${dirent.name}`;
            try {
                // Follows symlinks and refuses the ones that leave the root.
                const info = await stat(resolveInside(this.root, rel));
                items.push({ name: dirent.name, isDir: info.isDirectory(), size: info.size });
            } catch (error) {
                if (error instanceof ArtifactPathError) refused++;
                // Otherwise it vanished between readdir and stat: leave it out.
            }
        }
        const listing = entriesFromNames(dir, items);
        return { entries: listing.entries, refused: listing.refused + refused };
    }

    async stat(relPath: string): Promise<{ isDir: boolean; size?: number }> {
        const real = resolveInside(this.root, relPath);
        try {
            const info = await stat(real);
            return info.isDirectory() ? { isDir: true } : { isDir: false, size: info.size };
        } catch (error) {
            throw describeFsError(error, real);
        }
    }

    async open(relPath: string, signal?: AbortSignal): Promise<OpenedArtifact> {
        const real = resolveInside(this.root, relPath);
        let size: number;
        try {
            const info = await stat(real);
            if (!info.isFile()) throw new ArtifactNotFoundError(`${real} is not a file`);
            size = info.size;
        } catch (error) {
            throw describeFsError(error, real);
        }
        // Not yet: the file is opened by name after the check, so a symlink swapped in between
        // would be followed; opening with O_NOFOLLOW on every segment would close that window.
        const stream = createReadStream(real, {
            highWaterMark: 1024 * 1024,
            ...(signal ? { signal } : {}),
        });
        return { stream, size };
    }
}
