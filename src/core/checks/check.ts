import type { Finding, FindingLocation, ServerConfig, StackSnapshot } from '../model.js';

/** A check is a pure function of a snapshot; all I/O happened while gathering. */
export interface Check {
    /** A short name for logs and probe notes. */
    name: string;
    run(snapshot: StackSnapshot): Finding[];
}

/** Where a compose key was written, as a finding location, or nothing when it is not in a file. */
export function composeLocation(snapshot: StackSnapshot, key: string): FindingLocation | undefined {
    const range = snapshot.compose?.ranges[key];
    return range ? { ...range, key } : undefined;
}

/**
 * The location of the closest written ancestor of `key`: a missing `healthcheck` is reported on
 * its service, a missing flag on the command.
 */
export function nearestComposeLocation(
    snapshot: StackSnapshot,
    key: string,
): FindingLocation | undefined {
    const parts = key.split('.');
    while (parts.length > 0) {
        const found = composeLocation(snapshot, parts.join('.'));
        if (found) return { ...found, key };
        parts.pop();
    }
    return undefined;
}

/** A finding with its id derived from what it is about, so the same fault keeps its id. */
export function makeFinding(subject: string, finding: Omit<Finding, 'id'>): Finding {
    return { id: `${finding.kind}:${subject}`, ...finding };
}

/** The 1-based line and column range of `needle` within a file's text, if it is there. */
export function locateText(
    snapshot: StackSnapshot,
    file: string,
    needle: string,
    fromLine = 1,
): FindingLocation | undefined {
    const text = snapshot.files?.[file];
    if (text === undefined) return undefined;
    const lines = text.split(/\r?\n/);
    for (let i = Math.max(0, fromLine - 1); i < lines.length; i++) {
        const column = (lines[i] ?? '').indexOf(needle);
        if (column >= 0) {
            return {
                file,
                line: i + 1,
                column: column + 1,
                endLine: i + 1,
                endColumn: column + 1 + needle.length,
                key: needle,
            };
        }
    }
    return undefined;
}

/**
 * Where a server option is set: its compose key (or the service's command) when compose
 * describes the server, else the Dockerfile instruction or script line its command is written
 * on, narrowed to the line that names `flag` when the command spans several lines.
 */
export function serverFieldLocation(
    snapshot: StackSnapshot,
    config: ServerConfig,
    field?: keyof ServerConfig['keys'],
    flag?: string,
): FindingLocation | undefined {
    const key = field ? config.keys[field] : undefined;
    const inCompose = snapshot.compose?.services.some((s) => s.name === config.service) ?? false;
    if (key || inCompose || !config.written) {
        return nearestComposeLocation(snapshot, key ?? `services.${config.service}.command`);
    }
    const { file, line, column, endLine, endColumn, key: writtenKey } = config.written;
    if (flag && endLine > line) {
        const found = locateText(snapshot, file, flag, line);
        if (found && found.line <= endLine) return { ...found, key: writtenKey };
    }
    return { file, line, column, endLine, endColumn, key: writtenKey };
}
