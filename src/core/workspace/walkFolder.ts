// One bounded, breadth-first walk of a workspace folder, shared by every reader that looks for
// files or folders by name. Bounded because a workspace can hold a huge tree (a dataset, a
// mounted volume): the limits keep a diagnosis fast and its memory small.

import type { Dirent } from 'node:fs';
import { promises as fs } from 'node:fs';
import path from 'node:path';

export interface WalkLimits {
    /** Folders this many levels below the root are not entered (the root is level 0). */
    maxDepth: number;
    /** Stop after this many entries (files and folders) have been seen. */
    maxEntries?: number;
    /** Stop after this many folders have been listed. */
    maxFolders?: number;
    /** `Date.now()` value after which no further folder is listed. */
    deadline?: number;
}

/**
 * Calls `visit` for each entry below `root`, nearest first. `visit` returns true to enter a
 * folder (within `maxDepth`); folders that cannot be listed are passed over.
 */
export async function walkFolder(
    root: string,
    limits: WalkLimits,
    visit: (entry: Dirent, abs: string, depth: number) => boolean | Promise<boolean>,
): Promise<void> {
    const queue: [string, number][] = [[root, 0]];
    let entriesSeen = 0;
    for (let q = 0; q < queue.length; q++) {
        if (limits.deadline !== undefined && Date.now() >= limits.deadline) return;
        if (limits.maxFolders !== undefined && q >= limits.maxFolders) return;
        const [dir, depth] = queue[q] as [string, number];
        let entries: Dirent[];
        try {
            entries = await fs.readdir(dir, { withFileTypes: true });
        } catch {
            continue;
        }
        for (const entry of entries) {
            if (limits.maxEntries !== undefined && ++entriesSeen > limits.maxEntries) return;
            const abs = path.join(dir, entry.name);
            const enter = await visit(entry, abs, depth);
            if (enter && entry.isDirectory() && depth + 1 < limits.maxDepth)
                queue.push([abs, depth + 1]);
        }
    }
}

/** Folders no workspace scan looks into: tools' caches, environments and MLflow's own stores. */
export const SKIPPED_WORKSPACE_DIRS: ReadonlySet<string> = new Set([
    'node_modules',
    '.git',
    '.venv',
    'venv',
    'mlruns',
    'mlartifacts',
    '__pycache__',
    '.ipynb_checkpoints',
    '.mypy_cache',
    '.pytest_cache',
    '.tox',
]);
