// Parsing of FileStore `meta.yaml` files. MLflow writes them with PyYAML's `safe_dump` and
// sorted keys, so almost every file is a flat `key: scalar` mapping. A line-by-line fast path
// reads those without building a YAML document (the store can hold tens of thousands of runs);
// anything it does not fully understand goes to js-yaml, so the fast path never guesses.

import yaml from 'js-yaml';

export type MetaScalar = string | number | boolean | null | unknown[] | Record<string, unknown>;

export type MetaParse =
    | {
          kind: 'mapping';
          values: Record<string, MetaScalar>;
          /** 1-based line of each top-level key. */
          lines: Record<string, number>;
      }
    | { kind: 'empty' }
    | { kind: 'not-yaml'; line: number; message: string }
    | { kind: 'not-a-mapping'; found: string };

const NOT_SPACE = /\S/;
const KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
const INT = /^[-+]?(?:0|[1-9][0-9]*)$/;
const FLOAT = /^[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$/;
// Spellings PyYAML reads as numbers or timestamps that the fast path does not convert itself
// (0x1f, 0o17, 017, 1_000, 1:30, .inf, 2024-01-31): left to js-yaml.
const OTHER_NUMBERS_AND_DATES =
    /^[-+]?(?:0[xob]|0[0-9_]+$|\.(?:inf|nan)$|[0-9][0-9_]*:|[0-9][0-9_.]*_[0-9_.]*$)|^\d{4}-\d\d?-\d\d?/i;
const NULLS = new Set(['', '~', 'null', 'Null', 'NULL']);
// YAML 1.1 booleans, as PyYAML reads them.
const TRUES = new Set(['true', 'True', 'TRUE', 'yes', 'Yes', 'YES', 'on', 'On', 'ON']);
const FALSES = new Set(['false', 'False', 'FALSE', 'no', 'No', 'NO', 'off', 'Off', 'OFF']);
// Characters that start something other than a plain scalar, or that PyYAML may read
// differently from the fast path (tags, anchors, quotes, block scalars, flow collections...).
const SPECIAL_START_CODES = new Uint8Array(128);
for (const c of '-?:,[]{}#&*!|>\'"%@`') SPECIAL_START_CODES[c.charCodeAt(0)] = 1;
// Control characters (a NUL-filled block after a crash) make PyYAML refuse the whole file, and so
// does a plain value ending in a colon: both are left to js-yaml, which rejects them too.
// eslint-disable-next-line no-control-regex -- matching control characters is the point.
const CONTROL_CHARS = /[\x00-\x08\x0b-\x1f\x7f-\x84\x86-\x9f\ufffe\uffff]/;

/** Parses one `meta.yaml`. Never throws. */
export function parseMetaYaml(text: string): MetaParse {
    // What `text.trim() === ''` says, without copying the text.
    if (!NOT_SPACE.test(text)) return { kind: 'empty' };
    return parseFlat(text) ?? parseWithJsYaml(text);
}

/** The fast path: undefined when the text is not a plain flat mapping. */
function parseFlat(text: string): MetaParse | undefined {
    // One scan of the whole file instead of one per value: every value is a slice of the text,
    // so a file without control characters has none in its values (CRLF files take the slow
    // per-value test, since their line ends are control characters too).
    const checkControls = CONTROL_CHARS.test(text);
    const values: Record<string, MetaScalar> = {};
    const lines: Record<string, number> = {};
    let start = 0;
    let lineNo = 0;
    while (start < text.length) {
        let end = text.indexOf('\n', start);
        if (end < 0) end = text.length;
        let lineEnd = end;
        if (text.charCodeAt(lineEnd - 1) === 13 /* \r */) lineEnd--;
        const lineStart = start;
        start = end + 1;
        lineNo++;
        if (lineEnd <= lineStart) continue;

        const colon = text.indexOf(':', lineStart);
        if (colon < 0 || colon >= lineEnd) return undefined;
        const key = text.slice(lineStart, colon);
        if (!KEY.test(key) || key in values) return undefined;
        let value: MetaScalar | undefined;
        if (colon + 1 === lineEnd) value = null;
        else if (text.charCodeAt(colon + 1) !== 32 /* space */) return undefined;
        else value = scalar(text.slice(colon + 2, lineEnd), checkControls);
        if (value === undefined) return undefined;
        values[key] = value;
        lines[key] = lineNo;
    }
    return { kind: 'mapping', values, lines };
}

function scalar(raw: string, checkControls: boolean): MetaScalar | undefined {
    if (checkControls && CONTROL_CHARS.test(raw)) return undefined;
    const first = raw.charCodeAt(0);
    if (first === 39 /* ' */) return singleQuoted(raw);
    if (raw === '[]') return [];
    if (raw === '{}') return {};
    // Character-code tests rather than regexes: this runs for every value of every run.
    const last = raw.charCodeAt(raw.length - 1);
    if (
        (first < 128 && SPECIAL_START_CODES[first] === 1) ||
        first === 32 /* space */ ||
        first === 9 /* tab */ ||
        last === 32 /* space */ ||
        last === 58 /* : */ ||
        raw.includes(': ') ||
        raw.includes(' #')
    ) {
        return undefined;
    }
    if (raw.length <= 5) {
        if (NULLS.has(raw)) return null;
        if (TRUES.has(raw)) return true;
        if (FALSES.has(raw)) return false;
    }
    // Numbers, and the spellings left to js-yaml, all start with a digit, a sign or a dot.
    const numeric = (first >= 48 && first <= 57) || first === 43 || first === 45 || first === 46;
    if (!numeric) return raw;
    if (INT.test(raw)) return Number(raw);
    if (FLOAT.test(raw)) return Number(raw);
    if (OTHER_NUMBERS_AND_DATES.test(raw)) return undefined;
    return raw;
}

function singleQuoted(raw: string): string | undefined {
    if (raw.length < 2 || !raw.endsWith("'")) return undefined;
    const inner = raw.slice(1, -1);
    if (!inner.includes("'")) return inner;
    // A lone quote inside would end the scalar early; only doubled quotes are escapes.
    if (inner.replace(/''/g, '').includes("'")) return undefined;
    return inner.replace(/''/g, "'");
}

function parseWithJsYaml(text: string): MetaParse {
    let doc: unknown;
    try {
        doc = yaml.load(text);
    } catch (error) {
        const mark = (error as { mark?: { line?: number } }).mark;
        const reason = (error as { reason?: string }).reason ?? String(error);
        // js-yaml can place an error at end of input one line past the last line.
        const line = Math.min((mark?.line ?? 0) + 1, text.split('\n').length);
        return { kind: 'not-yaml', line, message: reason };
    }
    if (doc === null || doc === undefined) return { kind: 'empty' };
    if (typeof doc !== 'object' || Array.isArray(doc)) {
        return { kind: 'not-a-mapping', found: Array.isArray(doc) ? 'a list' : typeof doc };
    }
    const values = doc as Record<string, MetaScalar>;
    const lines: Record<string, number> = {};
    const textLines = text.split('\n');
    for (const key of Object.keys(values)) {
        const at = textLines.findIndex((line) => line.startsWith(`${key}:`));
        lines[key] = at >= 0 ? at + 1 : 1;
    }
    return { kind: 'mapping', values, lines };
}
