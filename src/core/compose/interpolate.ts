// Compose's variable substitution: `$VAR`, `${VAR}`, the `-`, `?` and `+` modifiers with and
// without `:`, nested defaults and `$$`. It follows compose-go's template package, so a value
// renders here as it does for `docker compose config`.

/** Where substitution looks variables up: a plain record, or a function for layered sources. */
export type VariableLookup =
    Record<string, string | undefined> | ((name: string) => string | undefined);

export interface InterpolationResult {
    value: string;
    /** Variables that were referenced but not set (each once, in order of first use). */
    missing: string[];
    /** Variables that were referenced and set. */
    used: string[];
    /** `${VAR:?message}` failures and malformed templates; Compose refuses to start on these. */
    errors: string[];
}

const NAME_START = /[_a-zA-Z]/;
const NAME_CHAR = /[_a-zA-Z0-9]/;

function lookupIn(vars: VariableLookup, name: string): string | undefined {
    if (typeof vars === 'function') return vars(name);
    return Object.prototype.hasOwnProperty.call(vars, name) ? vars[name] : undefined;
}

/** Substitutes variables in `text` the way Compose does; never throws. */
export function interpolate(text: string, vars: VariableLookup): InterpolationResult {
    const state: InterpolationResult = { value: '', missing: [], used: [], errors: [] };
    state.value = substitute(text, vars, state, 0);
    return state;
}

function note(list: string[], name: string): void {
    if (!list.includes(name)) list.push(name);
}

function substitute(
    text: string,
    vars: VariableLookup,
    state: InterpolationResult,
    depth: number,
): string {
    // A default that nests defaults a hundred deep is not a compose file; stop rather than recurse.
    if (depth > 50) {
        state.errors.push('variable defaults are nested too deeply');
        return text;
    }
    let out = '';
    let i = 0;
    while (i < text.length) {
        const ch = text[i];
        if (ch !== '$') {
            out += ch;
            i++;
            continue;
        }
        const next = text[i + 1];
        if (next === '$') {
            out += '$';
            i += 2;
            continue;
        }
        if (next !== undefined && NAME_START.test(next)) {
            let end = i + 2;
            while (end < text.length && NAME_CHAR.test(text[end] ?? '')) end++;
            const name = text.slice(i + 1, end);
            out += resolvePlain(name, vars, state);
            i = end;
            continue;
        }
        if (next === '{') {
            const close = matchingBrace(text, i + 2);
            if (close < 0) {
                state.errors.push(`invalid template: "${text.slice(i)}" has no closing brace`);
                out += text.slice(i);
                break;
            }
            out += resolveBraced(text.slice(i + 2, close), vars, state, depth);
            i = close + 1;
            continue;
        }
        // compose-go leaves a `$` that starts no substitution (`$1`, a trailing `$`) as written.
        out += ch;
        i++;
    }
    return out;
}

/** The index of the `}` closing a `${` whose body starts at `start`, counting nested `${`. */
function matchingBrace(text: string, start: number): number {
    let depth = 1;
    for (let i = start; i < text.length; i++) {
        const ch = text[i];
        if (ch === '$' && text[i + 1] === '$') {
            i++;
        } else if (ch === '$' && text[i + 1] === '{') {
            depth++;
            i++;
        } else if (ch === '}') {
            depth--;
            if (depth === 0) return i;
        }
    }
    return -1;
}

function resolvePlain(name: string, vars: VariableLookup, state: InterpolationResult): string {
    const value = lookupIn(vars, name);
    if (value === undefined) {
        note(state.missing, name);
        return '';
    }
    note(state.used, name);
    return value;
}

function resolveBraced(
    body: string,
    vars: VariableLookup,
    state: InterpolationResult,
    depth: number,
): string {
    const match = /^([_a-zA-Z][_a-zA-Z0-9]*)(?:(:?)([-?+])([\s\S]*))?$/.exec(body);
    if (!match) {
        state.errors.push(`invalid template: "\${${body}}"`);
        return '';
    }
    const name = match[1] ?? '';
    const colon = match[2] === ':';
    const operator = match[3];
    const argument = match[4] ?? '';
    const value = lookupIn(vars, name);
    // With a colon the modifiers treat an empty value like an unset one.
    const present = colon ? value !== undefined && value !== '' : value !== undefined;

    if (operator === undefined) return resolvePlain(name, vars, state);
    if (value !== undefined) note(state.used, name);
    if (operator === '-') {
        if (present) return value ?? '';
        return substitute(argument, vars, state, depth + 1);
    }
    if (operator === '+') {
        return present ? substitute(argument, vars, state, depth + 1) : '';
    }
    // `?`: a required variable.
    if (present) return value ?? '';
    const message = substitute(argument, vars, state, depth + 1);
    state.errors.push(
        `required variable ${name} is ${value === undefined ? 'missing' : 'empty'}` +
            (message ? `: ${message}` : ''),
    );
    return '';
}
