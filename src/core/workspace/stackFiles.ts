// The workspace files that describe how the stack is started and fronted, besides compose:
// Dockerfiles, shell scripts with `docker run` lines, reverse-proxy configs and auth ini files.
// Read once while gathering and kept in the snapshot, so checks and edits work offline too.

import { promises as fs } from 'node:fs';
import path from 'node:path';

import { SKIPPED_WORKSPACE_DIRS, walkFolder } from './walkFolder.js';

// Build output is also skipped here: bundles carry copies of the scripts they were made from.
const SKIPPED_DIRS = new Set([...SKIPPED_WORKSPACE_DIRS, 'dist']);
const MAX_DEPTH = 4;
const MAX_ENTRIES = 5000;
const MAX_FILE_BYTES = 256 * 1024;

/** Which files count: by name, since their contents are read only when they match. */
export function isStackFile(rel: string): boolean {
    const name = rel.slice(rel.lastIndexOf('/') + 1);
    return (
        /^Dockerfile([.-][\w.-]+)?$/i.test(name) ||
        /\.Dockerfile$/i.test(name) ||
        /\.(sh|bash)$/.test(name) ||
        /\.conf$/.test(name) ||
        /(^|\/)(nginx|conf\.d|sites-(enabled|available))\//.test(rel) ||
        /\.ini$/.test(name)
    );
}

/** Relative path → text of every stack file under `folder`, within the depth and size limits. */
export async function readStackFiles(
    folder: string,
    timeoutMs: number,
): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    const limits = {
        maxDepth: MAX_DEPTH,
        maxEntries: MAX_ENTRIES,
        deadline: Date.now() + timeoutMs,
    };
    await walkFolder(folder, limits, async (entry, abs) => {
        if (entry.isDirectory()) return !SKIPPED_DIRS.has(entry.name);
        const rel = path.relative(folder, abs).split(path.sep).join('/');
        if (!entry.isFile() || !isStackFile(rel)) return false;
        try {
            const stat = await fs.stat(abs);
            if (stat.size <= MAX_FILE_BYTES) out[rel] = await fs.readFile(abs, 'utf8');
        } catch {
            // A file that vanished or cannot be read describes nothing.
        }
        return false;
    });
    return out;
}
