// Edits to a server's command line in a compose file: set a flag's value, or add the flag after
// `mlflow server`. Works on the file's text within the command node's range, so the rest of the
// file, its comments and its formatting stay as they are.

import type {
    FixEdit,
    ServerConfig,
    SourceRange,
    StackSnapshot,
    WrittenServerCommand,
} from '../model.js';
import { composeService } from './stackFacts.js';

interface TextWindow {
    file: string;
    text: string;
    start: number;
    end: number;
}

function lineStarts(text: string): number[] {
    const starts = [0];
    for (let i = 0; i < text.length; i++) if (text[i] === '\n') starts.push(i + 1);
    return starts;
}

function offsetOf(starts: number[], line: number, column: number): number {
    return (starts[line - 1] ?? 0) + column - 1;
}

function positionOf(starts: number[], offset: number): { line: number; column: number } {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if ((starts[mid] ?? 0) <= offset) lo = mid;
        else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - (starts[lo] ?? 0) + 1 };
}

function windowOf(snapshot: StackSnapshot, key: string): TextWindow | undefined {
    const range = snapshot.compose?.ranges[key];
    if (!range) return undefined;
    const text = snapshot.files?.[range.file];
    if (text === undefined) return undefined;
    const starts = lineStarts(text);
    return {
        file: range.file,
        text,
        start: offsetOf(starts, range.line, range.column),
        end: offsetOf(starts, range.endLine, range.endColumn),
    };
}

/** The text of a Dockerfile instruction or script line that holds a server command. */
function writtenWindow(
    snapshot: StackSnapshot,
    written: WrittenServerCommand,
): TextWindow | undefined {
    const text = snapshot.files?.[written.file];
    if (text === undefined) return undefined;
    const starts = lineStarts(text);
    return {
        file: written.file,
        text,
        start: offsetOf(starts, written.line, written.column),
        end: offsetOf(starts, written.endLine, written.endColumn),
    };
}

function rangeOf(text: string, file: string, from: number, to: number): SourceRange {
    const starts = lineStarts(text);
    const a = positionOf(starts, from);
    const b = positionOf(starts, to);
    return { file, line: a.line, column: a.column, endLine: b.line, endColumn: b.column };
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * An edit that makes the server run with `flag value` (or a bare `flag` when value is
 * undefined): replaces the value where the flag is already given, inserts it otherwise.
 */
export function setServerFlag(
    snapshot: StackSnapshot,
    config: ServerConfig,
    flag: string,
    value: string | undefined,
    label: string,
    aliases: string[] = [],
): FixEdit | undefined {
    const key = `services.${config.service}.command`;
    const written = composeService(snapshot, config.service) ? undefined : config.written;
    const win = windowOf(snapshot, key) ?? (written ? writtenWindow(snapshot, written) : undefined);
    if (!win) return undefined;
    const slice = win.text.slice(win.start, win.end);
    const names = [flag, ...aliases].map(escapeRegExp).join('|');

    if (value !== undefined) {
        const existing = new RegExp(
            `(?:^|[\\s"'\\[,])(?:${names})(?:=|["']?\\s*,?\\s*["']?\\s*)([^\\s"',\\]]+)`,
        ).exec(slice);
        if (existing?.[1] !== undefined) {
            const valueStart = win.start + existing.index + existing[0].length - existing[1].length;
            return {
                file: win.file,
                range: rangeOf(win.text, win.file, valueStart, valueStart + existing[1].length),
                newText: value,
                label,
            };
        }
    }

    // A script line also names images and containers: there only `mlflow server` anchors.
    const anchor = (
        written ? /\bmlflow["']?\s*,?\s*["']?(server|ui)\b(["']?)/ : /\b(server|ui)\b(["']?)/
    ).exec(slice);
    if (!anchor) return undefined;
    const form = composeService(snapshot, config.service)?.commandForm ?? written?.form ?? 'shell';
    const insertAt = win.start + anchor.index + anchor[0].length;
    let newText: string;
    if (form === 'exec') {
        const lineStart = win.text.lastIndexOf('\n', insertAt - 1) + 1;
        const line = win.text.slice(lineStart, win.text.indexOf('\n', insertAt));
        const block = /^(\s*)-\s/.exec(line);
        const quote = anchor[2] || '';
        if (block) {
            const items = value === undefined ? [flag] : [flag, value];
            newText = items.map((item) => `\n${block[1]}- ${quote}${item}${quote}`).join('');
        } else {
            const q = quote || '"';
            newText = (value === undefined ? [flag] : [flag, value])
                .map((i) => `, ${q}${i}${q}`)
                .join('');
        }
    } else {
        newText = value === undefined ? ` ${flag}` : ` ${flag} ${value}`;
    }
    return {
        file: win.file,
        range: rangeOf(win.text, win.file, insertAt, insertAt),
        newText,
        label,
    };
}

/** An edit replacing `from` with `to` on the line where compose key `key` is written. */
export function replaceOnKeyLine(
    snapshot: StackSnapshot,
    key: string,
    from: string,
    to: string,
    label: string,
): FixEdit | undefined {
    const win = windowOf(snapshot, key);
    if (!win) return undefined;
    const at = win.text.slice(win.start, win.end).indexOf(from);
    if (at < 0) return undefined;
    return {
        file: win.file,
        range: rangeOf(win.text, win.file, win.start + at, win.start + at + from.length),
        newText: to,
        label,
    };
}

/** An edit replacing the first `from` on a given line of any captured file. */
export function replaceOnLine(
    snapshot: StackSnapshot,
    file: string,
    line: number,
    from: string,
    to: string,
    label: string,
): FixEdit | undefined {
    const text = snapshot.files?.[file];
    if (text === undefined) return undefined;
    const starts = lineStarts(text);
    const lineStart = starts[line - 1];
    if (lineStart === undefined) return undefined;
    const lineEnd = text.indexOf('\n', lineStart);
    const at = text.slice(lineStart, lineEnd < 0 ? undefined : lineEnd).indexOf(from);
    if (at < 0) return undefined;
    return {
        file,
        range: rangeOf(text, file, lineStart + at, lineStart + at + from.length),
        newText: to,
        label,
    };
}
