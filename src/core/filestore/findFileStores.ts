// Finds the FileStore trees worth validating: `mlruns/` folders in the workspace, and host
// folders that compose services bind-mount where the service keeps a tracking store.

import { promises as fs } from 'node:fs';
import path from 'node:path';

import type { ComposeProject, ComposeService, FileStoreSummary } from '../model.js';
import { walkFolder } from '../workspace/walkFolder.js';
import { readFileStore, type ReadFileStoreOptions } from './readFileStore.js';

export interface FileStoreLocation {
    /** Absolute path of the tracking root. */
    path: string;
    /** Relative to the diagnosed folder. */
    root: string;
    /** Why this folder is thought to be a tracking root. */
    reason: 'mlruns-folder' | 'compose-bind-mount';
    mountedBy: FileStoreSummary['mountedBy'];
}

const SKIPPED_DIRS = new Set([
    'node_modules',
    '.git',
    '.venv',
    'venv',
    '__pycache__',
    'mlartifacts',
]);
const MAX_DEPTH = 4;
const MAX_DIRS = 2_000;

/** Tracking roots in `folder` and behind the compose project's bind mounts. */
export async function findFileStores(
    folder: string,
    compose?: ComposeProject,
): Promise<FileStoreLocation[]> {
    const found = new Map<string, FileStoreLocation>();
    const add = (rootAbs: string, reason: FileStoreLocation['reason']): FileStoreLocation => {
        const resolved = path.resolve(rootAbs);
        let location = found.get(resolved);
        if (!location) {
            location = {
                path: resolved,
                root: relativeTo(folder, resolved),
                reason,
                mountedBy: [],
            };
            found.set(resolved, location);
        }
        return location;
    };

    for (const dir of await findMlrunsFolders(folder)) add(dir, 'mlruns-folder');

    for (const service of compose?.services ?? []) {
        for (const volume of service.volumes) {
            if (volume.type !== 'bind' || !volume.hostPath) continue;
            const known = found.get(path.resolve(volume.hostPath));
            if (!known && !(await looksLikeTrackingRoot(volume.hostPath, volume.target, service))) {
                continue;
            }
            const location = known ?? add(volume.hostPath, 'compose-bind-mount');
            location.mountedBy.push({
                service: service.name,
                target: volume.target,
                readOnly: volume.readOnly,
            });
        }
    }
    return [...found.values()];
}

/** Finds and reads every tracking root; the gatherer's one call. */
export async function readFileStores(
    folder: string,
    compose?: ComposeProject,
    options: Omit<ReadFileStoreOptions, 'mountedBy'> = {},
): Promise<FileStoreSummary[]> {
    const locations = await findFileStores(folder, compose);
    return Promise.all(
        locations.map((location) =>
            readFileStore(location.path, folder, { ...options, mountedBy: location.mountedBy }),
        ),
    );
}

async function findMlrunsFolders(folder: string): Promise<string[]> {
    const result: string[] = [];
    await walkFolder(folder, { maxDepth: MAX_DEPTH, maxFolders: MAX_DIRS }, (entry, abs) => {
        if (!entry.isDirectory() || SKIPPED_DIRS.has(entry.name)) return false;
        // A tracking root's own subfolders are experiments, not more stores.
        if (entry.name === 'mlruns') {
            result.push(abs);
            return false;
        }
        return !entry.name.startsWith('.');
    });
    return result;
}

/**
 * A bind-mounted folder is a tracking root when the service points a file store at the mount
 * target (`--backend-store-uri file:///mlruns`, `MLFLOW_TRACKING_URI=file:///mlruns`), or when the
 * folder already holds experiment `0` or a `.trash`.
 */
async function looksLikeTrackingRoot(
    hostPath: string,
    target: string,
    service: ComposeService,
): Promise<boolean> {
    const mentions = [
        ...(service.command ?? []),
        ...(service.entrypoint ?? []),
        ...Object.values(service.environment).filter((value): value is string => value !== null),
    ];
    const targetNoSlash = target.replace(/\/+$/, '');
    const pointsAtTarget = mentions.some((text) =>
        [`file://${targetNoSlash}`, `file:${targetNoSlash}`].some(
            (uri) =>
                text === uri ||
                text === `${uri}/` ||
                text.includes(`${uri} `) ||
                text.endsWith(uri),
        ),
    );
    const usesAsBackend = service.command?.some(
        (arg, i, all) =>
            (all[i - 1] === '--backend-store-uri' || all[i - 1] === '--file-store') &&
            arg.replace(/\/+$/, '') === targetNoSlash,
    );
    if (pointsAtTarget || usesAsBackend) return true;

    for (const marker of ['0/meta.yaml', '.trash']) {
        try {
            await fs.stat(path.join(hostPath, marker));
            return true;
        } catch {
            // Not this marker.
        }
    }
    return false;
}

function relativeTo(folder: string, abs: string): string {
    return path.relative(folder, abs).split(path.sep).join('/') || '.';
}
