// What one Python text does with MLflow: the calls it makes (through `mlflow`, its aliases,
// names imported from it and MlflowClient objects), the tracking URIs it sets, and the
// `run_uuid` attribute uses that MLflow 3 removed.

import {
    argumentValue,
    lexPython,
    lineAt,
    literalAssignments,
    matchingParen,
    splitArguments,
    type LexedPython,
} from './pythonSource.js';

export interface PythonPlace {
    offset: number;
    line: number;
    column: number;
    text: string;
}

export interface UsageCall extends PythonPlace {
    /** Qualified name: `mlflow.log_metric`, `mlflow.sklearn.log_model`, `MlflowClient.log_artifact`. */
    api: string;
}

export interface UsageUri extends PythonPlace {
    uri: string;
    via: 'set_tracking_uri' | 'env-assignment' | 'client-argument';
}

export interface PythonUsage {
    calls: UsageCall[];
    uris: UsageUri[];
    /** Places that set a tracking URI to something not resolved to a literal. */
    unresolved: (PythonPlace & { expression: string })[];
}

const CALL = /(?<![\w.])([A-Za-z_]\w*(?:[ \t]*\.[ \t]*[A-Za-z_]\w*)*)[ \t]*\(/g;
const RUN_UUID = /\.[ \t]*run_uuid\b/g;

/** Analyses Python `text`; positions are 1-based within it. */
export function mlflowUsage(text: string): PythonUsage {
    const lexed = lexPython(text);
    const names = literalAssignments(lexed);
    const bindings = mlflowBindings(lexed.code);
    const usage: PythonUsage = { calls: [], uris: [], unresolved: [] };
    if (bindings.size === 0 && !/\bMLFLOW_TRACKING_URI\b/.test(text)) return usage;

    for (const match of lexed.code.matchAll(CALL)) {
        const written = (match[1] as string).replace(/\s+/g, '');
        const [head, ...rest] = written.split('.');
        const bound = bindings.get(head as string);
        if (!bound) continue;
        const api = [bound, ...rest].join('.');
        // `import mlflow.sklearn` lines are not calls, and neither are definitions.
        if (/^\s*(?:def|class|import|from)\b/.test(lineAt(lexed.code, match.index))) continue;
        const place = placeOf(lexed, match.index);
        usage.calls.push({ ...place, api });

        const open = match.index + match[0].length - 1;
        const close = matchingParen(lexed.code, open);
        if (close < 0) continue;
        if (/(^|\.)set_tracking_uri$/.test(api)) {
            addUri(
                usage,
                lexed,
                names,
                place,
                argument(lexed, open, close, 0, 'uri'),
                'set_tracking_uri',
            );
        } else if (/(^|\.)MlflowClient$/.test(api)) {
            const range = argument(lexed, open, close, 0, 'tracking_uri');
            if (range) addUri(usage, lexed, names, place, range, 'client-argument');
            // `MlflowClient().list_experiments()`: the method is called on an unnamed client.
            const chained = /^[ \t]*\.[ \t]*([A-Za-z_]\w*)[ \t]*\(/.exec(
                lexed.code.slice(close + 1, close + 200),
            );
            if (chained) {
                const at = lexed.code.indexOf(chained[1] as string, close + 1);
                usage.calls.push({ ...placeOf(lexed, at), api: `MlflowClient.${chained[1]}` });
            }
        }
    }

    // `.run_uuid` in code, and inside f-string replacement fields, where it is code too.
    const runUuidAt = [...lexed.code.matchAll(RUN_UUID)].map((m) => m.index);
    for (const literal of lexed.strings.filter((s) => s.fString)) {
        const raw = lexed.text.slice(literal.start, literal.end);
        for (const m of raw.matchAll(RUN_UUID)) runUuidAt.push(literal.start + m.index);
    }
    for (const at of runUuidAt.sort((a, b) => a - b)) {
        const offset = lexed.text.indexOf('run_uuid', at);
        usage.calls.push({ ...placeOf(lexed, offset), api: 'RunInfo.run_uuid' });
    }

    environmentAssignments(lexed, names, usage);
    return usage;
}

/** Local names bound to MLflow modules, functions, classes and MlflowClient objects. */
function mlflowBindings(code: string): Map<string, string> {
    const bindings = new Map<string, string>();
    for (const m of code.matchAll(/^[ \t]*import[ \t]+([^\n]+)/gm)) {
        for (const part of (m[1] as string).split(',')) {
            const item = /^\s*(mlflow(?:\.\w+)*)(?:\s+as\s+(\w+))?\s*$/.exec(part);
            if (!item) continue;
            if (item[2]) bindings.set(item[2], item[1] as string);
            else bindings.set('mlflow', 'mlflow');
        }
    }
    for (const m of code.matchAll(
        /^[ \t]*from[ \t]+(mlflow(?:\.\w+)*)[ \t]+import[ \t]+(\([^)]*\)|[^\n]+)/gm,
    )) {
        for (const part of (m[2] as string).replace(/[()\\]/g, ' ').split(',')) {
            const item = /^\s*(\w+)(?:\s+as\s+(\w+))?\s*$/.exec(part);
            if (!item) continue;
            const imported = item[1] as string;
            // MlflowClient lives under several modules; one name keeps the checks simple.
            const qualified =
                imported === 'MlflowClient' ? 'MlflowClient' : `${m[1] as string}.${imported}`;
            bindings.set(item[2] ?? imported, qualified);
        }
    }
    for (const m of code.matchAll(
        /^[ \t]*([A-Za-z_]\w*)[ \t]*=[ \t]*([A-Za-z_][\w.]*)[ \t]*\(/gm,
    )) {
        const [head, ...rest] = (m[2] as string).split('.');
        const bound = bindings.get(head as string);
        const qualified = bound ? [bound, ...rest].join('.') : undefined;
        if (qualified && /(^|\.)MlflowClient$/.test(qualified))
            bindings.set(m[1] as string, 'MlflowClient');
    }
    return bindings;
}

/** `os.environ["MLFLOW_TRACKING_URI"] = ...` and `os.environ.setdefault("MLFLOW_TRACKING_URI", ...)`. */
function environmentAssignments(
    lexed: LexedPython,
    names: Map<string, string>,
    usage: PythonUsage,
): void {
    for (const literal of lexed.strings) {
        if (literal.value !== 'MLFLOW_TRACKING_URI' || literal.fString) continue;
        const before = lexed.code.slice(Math.max(0, literal.start - 60), literal.start);
        const after = lexed.code.slice(literal.end, literal.end + 200);

        const subscript = /\benviron[ \t]*\[[ \t]*$/.exec(before);
        const assign = /^[ \t]*\][ \t]*=(?!=)/.exec(after);
        if (subscript && assign) {
            const start = literal.end + assign[0].length;
            const lineEnd = lexed.code.indexOf('\n', start);
            const place = placeOf(lexed, literal.start - subscript[0].length);
            addUri(
                usage,
                lexed,
                names,
                place,
                [start, lineEnd < 0 ? lexed.code.length : lineEnd],
                'env-assignment',
            );
            continue;
        }

        const setdefault = /\benviron[ \t]*\.[ \t]*setdefault[ \t]*\([ \t]*$/.exec(before);
        if (setdefault) {
            const open = literal.start - setdefault[0].length + setdefault[0].lastIndexOf('(');
            const close = matchingParen(lexed.code, open);
            const range =
                close > 0 ? splitArguments(lexed.code, open, close, lexed.text)[1] : undefined;
            const place = placeOf(lexed, literal.start - setdefault[0].length);
            addUri(usage, lexed, names, place, range, 'env-assignment');
        }
    }
}

/** The `index`-th positional argument or the `keyword=` argument of a call. */
function argument(
    lexed: LexedPython,
    open: number,
    close: number,
    index: number,
    keyword: string,
): [number, number] | undefined {
    const args = splitArguments(lexed.code, open, close, lexed.text);
    for (const [start, end] of args) {
        const kw = new RegExp(`^\\s*${keyword}\\s*=(?!=)`).exec(lexed.code.slice(start, end));
        if (kw) return [start + kw[0].length, end];
    }
    const positional = args.filter(([s, e]) => !/^\s*\w+\s*=(?!=)/.test(lexed.code.slice(s, e)));
    return positional[index];
}

function addUri(
    usage: PythonUsage,
    lexed: LexedPython,
    names: Map<string, string>,
    place: PythonPlace,
    range: [number, number] | undefined,
    via: UsageUri['via'],
): void {
    if (!range) return;
    const uri = argumentValue(lexed, names, range);
    if (uri !== undefined) usage.uris.push({ ...place, uri, via });
    else usage.unresolved.push({ ...place, expression: lexed.text.slice(...range).trim() });
}

function placeOf(lexed: LexedPython, offset: number): PythonPlace {
    const lineStart = lexed.text.lastIndexOf('\n', offset - 1) + 1;
    let line = 1;
    for (
        let k = lexed.text.indexOf('\n');
        k >= 0 && k < offset;
        k = lexed.text.indexOf('\n', k + 1)
    )
        line++;
    return { offset, line, column: offset - lineStart + 1, text: lineAt(lexed.text, offset) };
}
