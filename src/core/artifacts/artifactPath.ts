// Artifact paths as they arrive from the webview, from a server's listing, from a tar entry or
// from a run's artifact_uri. Every one of them is untrusted: a hostile name or a broken server
// must never make the host read outside the owner's artifact root.

import { existsSync, lstatSync, realpathSync } from 'node:fs';
import path from 'node:path';

export class ArtifactPathError extends Error {
    constructor(message: string) {
        super(message);
        this.name = 'ArtifactPathError';
    }
}

const MAX_PATH_CHARS = 4096;
/** Linux's NAME_MAX; a longer segment cannot be a file name on the host or in a container. */
const MAX_SEGMENT_BYTES = 255;
/** Decoding rounds: `%252e` takes two to become `.`; deeper nesting is refused outright. */
const MAX_DECODE_ROUNDS = 3;

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

function refuse(raw: string, why: string): never {
    const shown = raw.length > 80 ? `${raw.slice(0, 80)}…` : raw;
    throw new ArtifactPathError(`artifact path ${JSON.stringify(shown)} ${why}`);
}

/** What is wrong with one segment as written, or undefined. */
function segmentProblem(segment: string): string | undefined {
    if (segment === '..') return 'climbs out with ".."';
    if (segment.includes('\\')) return 'contains a backslash';
    if (CONTROL.test(segment)) return 'contains a control character';
    if (Buffer.byteLength(segment) > MAX_SEGMENT_BYTES) {
        return `has a name longer than ${MAX_SEGMENT_BYTES} bytes`;
    }
    // Compatibility forms (U+2024 ONE DOT LEADER, U+FF0E FULLWIDTH FULL STOP, U+FF0F FULLWIDTH
    // SOLIDUS) turn into dots and slashes under NFKC, which some servers and file systems apply.
    const folded = segment.normalize('NFKC');
    if (folded === '.' || folded === '..') {
        return 'has a segment that Unicode normalisation turns into a dot segment';
    }
    if (folded !== segment && (folded.includes('/') || folded.includes('\\'))) {
        return 'has a segment that Unicode normalisation turns into a path separator';
    }
    return undefined;
}

function decodeOnce(text: string): string | undefined {
    if (!text.includes('%')) return undefined;
    try {
        return decodeURIComponent(text);
    } catch {
        // Not valid percent-encoding: nothing downstream will decode it either.
        return undefined;
    }
}

/**
 * The canonical form of a relative artifact path: `/`-separated, no empty or `.` segments, no
 * trailing slash; '' for the root. Throws ArtifactPathError for an absolute path, a drive
 * letter, a `..` segment, a backslash, a control character, an over-long name, and for a path
 * whose percent-decoded form (`..%2f`, `%2e%2e`) would be any of those. The path is returned as
 * written, not decoded: a file really named `%41.txt` stays `%41.txt`.
 */
export function normaliseArtifactPath(raw: string): string {
    if (typeof raw !== 'string') refuse(String(raw), 'is not a string');
    if (raw.length > MAX_PATH_CHARS) refuse(raw, `is longer than ${MAX_PATH_CHARS} characters`);
    if (raw.startsWith('/')) refuse(raw, 'is absolute');
    if (/^[A-Za-z]:/.test(raw)) refuse(raw, 'starts with a drive letter');

    const segments: string[] = [];
    for (const segment of raw.split('/')) {
        if (segment === '' || segment === '.') continue;
        const problem = segmentProblem(segment);
        if (problem) refuse(raw, problem);
        segments.push(segment);
    }

    // A server or proxy that decodes once more would see these paths; they must be safe too.
    let decoded = raw;
    for (let round = 0; round < MAX_DECODE_ROUNDS; round++) {
        const next = decodeOnce(decoded);
        if (next === undefined) break;
        decoded = next;
        if (decoded.startsWith('/') || /^[A-Za-z]:/.test(decoded)) {
            refuse(raw, 'is absolute once percent-decoded');
        }
        for (const segment of decoded.split('/')) {
            const problem = segmentProblem(segment);
            if (problem) refuse(raw, `${problem} once percent-decoded`);
        }
        if (round === MAX_DECODE_ROUNDS - 1 && decodeOnce(decoded) !== undefined) {
            refuse(raw, 'is percent-encoded more deeply than any real file name');
        }
    }

    return segments.join('/');
}

/** Joins normalised relative paths; '' is the root. */
export function joinArtifactPath(...parts: string[]): string {
    return normaliseArtifactPath(parts.filter((part) => part !== '').join('/'));
}

/** The parent of a normalised relative path ('' for a top-level entry and for the root). */
export function parentArtifactPath(relPath: string): string {
    const cut = relPath.lastIndexOf('/');
    return cut < 0 ? '' : relPath.slice(0, cut);
}

/** The last segment of a normalised relative path. */
export function artifactName(relPath: string): string {
    return relPath.slice(relPath.lastIndexOf('/') + 1);
}

/**
 * An absolute POSIX path sent by a server (a run's `artifact_uri` without `file://`, a bind
 * mount's destination), checked the same way: no `..`, no control character, no backslash.
 * Returns it without a trailing slash.
 */
export function normaliseAbsolutePath(raw: string): string {
    if (!raw.startsWith('/')) refuse(raw, 'is not absolute');
    const rest = normaliseArtifactPath(raw.replace(/^\/+/, ''));
    return `/${rest}`;
}

function isLink(file: string): boolean {
    try {
        return lstatSync(file).isSymbolicLink();
    } catch {
        return false;
    }
}

function isInside(root: string, candidate: string): boolean {
    const relative = path.relative(root, candidate);
    return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

/**
 * The host path of `relPath` under `rootDir`, with symlinks resolved. Throws ArtifactPathError
 * when the path is not a clean relative path or when the real location (after following every
 * symlink, in the root itself too) lies outside the root's real location. A path that does not
 * exist yet is checked through its deepest existing ancestor.
 */
export function resolveInside(rootDir: string, relPath: string): string {
    const rel = normaliseArtifactPath(relPath);
    let realRoot: string;
    try {
        realRoot = realpathSync(rootDir);
    } catch (error) {
        const code = (error as NodeJS.ErrnoException).code ?? String(error);
        throw new ArtifactPathError(`artifact root ${rootDir} cannot be resolved (${code})`);
    }
    const candidate = rel === '' ? realRoot : path.join(realRoot, ...rel.split('/'));

    let existing = candidate;
    const missing: string[] = [];
    while (!existsSync(existing) && existing !== realRoot) {
        if (isLink(existing)) {
            // A dangling symlink: its target could appear later, anywhere.
            throw new ArtifactPathError(
                `artifact path ${JSON.stringify(rel)} goes through a symlink to nowhere`,
            );
        }
        missing.unshift(path.basename(existing));
        existing = path.dirname(existing);
    }
    const real = realpathSync(existing);
    if (!isInside(realRoot, real)) {
        throw new ArtifactPathError(
            `artifact path ${JSON.stringify(rel)} leads outside its root ${rootDir} (to ${real})`,
        );
    }
    return missing.length > 0 ? path.join(real, ...missing) : real;
}
