// Short volume syntax (`./mlruns:/mlruns:ro`, `data:/data`, `C:\Users\x:/data`) and how a bind
// source becomes an absolute host path. Follows compose-go's ParseVolume, including its reading
// of a single letter before `:` as a Windows drive.

import path from 'node:path';

export interface ShortVolume {
    source?: string;
    target?: string;
    readOnly: boolean;
    type: 'bind' | 'volume';
    error?: string;
}

function isDriveLetter(buffer: string): boolean {
    return buffer.length === 1 && /\p{L}/u.test(buffer);
}

/** Parses `[source:]target[:options]`. */
export function parseShortVolume(spec: string): ShortVolume {
    const volume: ShortVolume = { readOnly: false, type: 'volume' };
    if (spec.length === 0) return { ...volume, error: 'empty volume' };
    if (spec.length <= 2) return { ...volume, target: spec };

    const fields: string[] = [];
    let buffer = '';
    for (const ch of spec) {
        if (ch === ':' && isDriveLetter(buffer)) {
            buffer += ch;
        } else if (ch === ':') {
            fields.push(buffer);
            buffer = '';
        } else {
            buffer += ch;
        }
    }
    fields.push(buffer);

    if (fields.some((f) => f === ''))
        return { ...volume, error: `empty section between colons in "${spec}"` };
    if (fields.length > 3) return { ...volume, error: `too many colons in "${spec}"` };
    if (fields.length === 1) return { ...volume, target: fields[0] };

    volume.source = fields[0];
    volume.target = fields[1];
    for (const option of (fields[2] ?? '').split(',')) {
        if (option === 'ro') volume.readOnly = true;
        if (option === 'rw') volume.readOnly = false;
    }
    volume.type = isFilePath(volume.source ?? '') ? 'bind' : 'volume';
    return volume;
}

/** Whether a volume source names a host path rather than a named volume. */
export function isFilePath(source: string): boolean {
    if (source === '') return false;
    if ('./~'.includes(source[0] ?? '')) return true;
    if (source.startsWith('\\\\')) return true;
    return isWindowsPath(source);
}

/** `C:\x`, `C:/x` or `C:` (compose-go reads any letter before a colon as a drive). */
export function isWindowsPath(source: string): boolean {
    return /^\p{L}:/u.test(source);
}

/**
 * The absolute host path of a bind source. Windows paths are left as written: they are absolute
 * on the machine they were meant for, and resolving them as POSIX paths would invent a folder.
 */
export function resolveBindSource(
    source: string,
    projectDir: string,
    home: string | undefined,
): string {
    if (isWindowsPath(source) || source.startsWith('\\\\')) return source;
    if (source === '~' || source.startsWith('~/')) {
        // Not yet: `~user/` forms are read as relative paths, as no real compose file uses them.
        return home ? path.join(home, source.slice(1)) : source;
    }
    return path.resolve(projectDir, source);
}
