// Compose's dotenv syntax, used for the project's `.env` and for `env_file:` files: `KEY=VALUE`
// lines, an optional `export`, comments, single quotes (literal), double quotes (escapes and
// substitution) and unquoted values (substitution, trailing ` # comment` dropped).

import { interpolate, type VariableLookup } from './interpolate.js';

export interface DotenvResult {
    values: Record<string, string>;
    /** Where each key was set, 1-based. */
    lines: Record<string, number>;
    /** Keys listed without `=`: their value comes from the environment, if there. */
    bare: string[];
    problems: { line: number; message: string }[];
}

const KEY = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

const DOUBLE_QUOTE_ESCAPES: Record<string, string> = {
    n: '\n',
    r: '\r',
    t: '\t',
    '\\': '\\',
    '"': '"',
    $: '$$',
};

/**
 * Parses dotenv text. `${VAR}` in a value resolves against `outer` first (the process
 * environment wins in Compose) and then against keys set earlier in the same file.
 */
export function parseDotenv(text: string, outer: VariableLookup = {}): DotenvResult {
    const result: DotenvResult = { values: {}, lines: {}, bare: [], problems: [] };
    const lookup = (name: string): string | undefined => {
        const fromOuter = typeof outer === 'function' ? outer(name) : outer[name];
        return fromOuter ?? result.values[name];
    };
    const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);

    for (let index = 0; index < lines.length; index++) {
        const lineNo = index + 1;
        const raw = lines[index] ?? '';
        const trimmed = raw.trim();
        if (trimmed === '' || trimmed.startsWith('#')) continue;

        const body = trimmed.replace(/^export\s+/, '');
        const separator = body.search(/[=:]/);
        if (separator < 0) {
            if (KEY.test(body)) result.bare.push(body);
            else result.problems.push({ line: lineNo, message: `cannot read line: ${trimmed}` });
            continue;
        }
        const key = body.slice(0, separator).trim();
        if (!KEY.test(key)) {
            result.problems.push({ line: lineNo, message: `invalid variable name "${key}"` });
            continue;
        }
        let rest = body.slice(separator + 1).replace(/^[ \t]+/, '');

        const quote = rest[0];
        if (quote === "'" || quote === '"') {
            // A quoted value may run over several lines; gather until the closing quote.
            let consumed = rest.slice(1);
            let close = findClosingQuote(consumed, quote);
            while (close < 0 && index + 1 < lines.length) {
                index++;
                consumed += '\n' + (lines[index] ?? '');
                close = findClosingQuote(consumed, quote);
            }
            if (close < 0) {
                result.problems.push({
                    line: lineNo,
                    message: `unterminated ${quote === '"' ? 'double' : 'single'} quote for ${key}`,
                });
                continue;
            }
            const inner = consumed.slice(0, close);
            if (quote === "'") {
                result.values[key] = inner;
            } else {
                const unescaped = inner.replace(
                    /\\(.)/g,
                    (all, ch: string) => DOUBLE_QUOTE_ESCAPES[ch] ?? all,
                );
                result.values[key] = interpolate(unescaped, lookup).value;
            }
            result.lines[key] = lineNo;
            continue;
        }

        // An unquoted value ends at a ` #` comment.
        const comment = rest.search(/\s#/);
        if (comment >= 0) rest = rest.slice(0, comment);
        result.values[key] = interpolate(rest.trim(), lookup).value;
        result.lines[key] = lineNo;
    }
    return result;
}

function findClosingQuote(text: string, quote: string): number {
    for (let i = 0; i < text.length; i++) {
        if (quote === '"' && text[i] === '\\') {
            i++;
            continue;
        }
        if (text[i] === quote) return i;
    }
    return -1;
}
