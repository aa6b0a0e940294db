// A light reading of Python source: enough lexing to tell code from strings and comments, then
// pattern matching over the code for MLflow calls and tracking-URI assignments. Not a parser:
// it finds what users write in training scripts and notebooks, and says when it cannot resolve
// a value rather than guessing.

export interface StringLiteral {
    /** Offsets of the whole literal, prefix and quotes included. */
    start: number;
    end: number;
    value: string;
    fString: boolean;
}

export interface LexedPython {
    text: string;
    /** The source with every string and comment blanked to spaces (newlines kept). */
    code: string;
    strings: StringLiteral[];
}

export function lexPython(text: string): LexedPython {
    const code = text.split('');
    const strings: StringLiteral[] = [];
    let i = 0;
    while (i < text.length) {
        const c = text[i] as string;
        if (c === '#') {
            const end = text.indexOf('\n', i);
            const stop = end < 0 ? text.length : end;
            for (let k = i; k < stop; k++) code[k] = ' ';
            i = stop;
            continue;
        }
        const prefix = /^[rRbBuUfF]{0,2}(?='|")/.exec(text.slice(i, i + 3));
        if (prefix && (i === 0 || !/[\w.]/.test(text[i - 1] as string))) {
            const start = i;
            const flags = prefix[0].toLowerCase();
            let j = i + prefix[0].length;
            const quote = text[j] as string;
            const triple = text.startsWith(quote.repeat(3), j);
            const close = triple ? quote.repeat(3) : quote;
            j += close.length;
            let value = '';
            while (j < text.length && !text.startsWith(close, j)) {
                const ch = text[j] as string;
                if (!triple && ch === '\n') break;
                if (ch === '\\' && !flags.includes('r') && j + 1 < text.length) {
                    const next = text[j + 1] as string;
                    value += next === 'n' ? '\n' : next === 't' ? '\t' : next === '\n' ? '' : next;
                    j += 2;
                    continue;
                }
                value += ch;
                j++;
            }
            const end = Math.min(text.length, j + (text.startsWith(close, j) ? close.length : 0));
            for (let k = start; k < end; k++) if (code[k] !== '\n') code[k] = ' ';
            strings.push({ start, end, value, fString: flags.includes('f') });
            i = end;
            continue;
        }
        i++;
    }
    return { text, code: code.join(''), strings };
}

/** 1-based line and column of an offset. */
export function positionOf(text: string, offset: number): { line: number; column: number } {
    let line = 1;
    let lineStart = 0;
    for (let k = text.indexOf('\n'); k >= 0 && k < offset; k = text.indexOf('\n', k + 1)) {
        line++;
        lineStart = k + 1;
    }
    return { line, column: offset - lineStart + 1 };
}

/** The full text of the line holding `offset`. */
export function lineAt(text: string, offset: number): string {
    const start = text.lastIndexOf('\n', offset - 1) + 1;
    const end = text.indexOf('\n', offset);
    return text.slice(start, end < 0 ? text.length : end);
}

/** Offset of the `)` matching the `(` at `open`, on the blanked code; -1 when unbalanced. */
export function matchingParen(code: string, open: number): number {
    let depth = 0;
    for (let k = open; k < code.length; k++) {
        const ch = code[k];
        if (ch === '(' || ch === '[' || ch === '{') depth++;
        else if (ch === ')' || ch === ']' || ch === '}') {
            depth--;
            if (depth === 0) return k;
        }
    }
    return -1;
}

/**
 * Top-level comma-separated argument ranges between `open` and `close` (exclusive), found on the
 * blanked `code`; `text` (the source) tells an empty argument list from one string argument.
 */
export function splitArguments(
    code: string,
    open: number,
    close: number,
    text: string = code,
): [number, number][] {
    const args: [number, number][] = [];
    let depth = 0;
    let start = open + 1;
    for (let k = open + 1; k < close; k++) {
        const ch = code[k];
        if (ch === '(' || ch === '[' || ch === '{') depth++;
        else if (ch === ')' || ch === ']' || ch === '}') depth--;
        else if (ch === ',' && depth === 0) {
            args.push([start, k]);
            start = k + 1;
        }
    }
    if (text.slice(start, close).trim() !== '') args.push([start, close]);
    return args;
}

/**
 * Names assigned a plain string literal (`URI = "http://..."`, `host = f"..."`), resolved in
 * source order so an f-string can use an earlier name.
 */
export function literalAssignments(lexed: LexedPython): Map<string, string> {
    const names = new Map<string, string>();
    const pattern = /^[ \t]*([A-Za-z_]\w*)[ \t]*(?::[^=\n]+)?=(?!=)/gm;
    for (const match of lexed.code.matchAll(pattern)) {
        // Blanked strings are spaces in `code`, so the value is found in the source text.
        let valueStart = match.index + match[0].length;
        while (lexed.text[valueStart] === ' ' || lexed.text[valueStart] === '\t') valueStart++;
        const literal = lexed.strings.find((s) => s.start === valueStart);
        if (!literal) continue;
        // The literal must be the whole right-hand side.
        const lineEnd = lexed.code.indexOf('\n', literal.end);
        const after = lexed.code.slice(literal.end, lineEnd < 0 ? undefined : lineEnd);
        if (after.trim() !== '') continue;
        const value = literal.fString ? resolveFString(literal.value, names) : literal.value;
        if (value !== undefined) names.set(match[1] as string, value);
    }
    return names;
}

/** An f-string's value when every `{name}` in it is a known literal. */
export function resolveFString(template: string, names: Map<string, string>): string | undefined {
    let unresolved = false;
    const value = template.replace(/\{\{|\}\}|\{([^{}]*)\}/g, (m, inner: string | undefined) => {
        if (m === '{{') return '{';
        if (m === '}}') return '}';
        const known = names.get((inner ?? '').trim());
        if (known === undefined) unresolved = true;
        return known ?? '';
    });
    return unresolved ? undefined : value;
}

/**
 * The value of an argument expression: a string literal, an f-string or a name with a known
 * literal value, `os.getenv("X", "default")`'s default; undefined otherwise.
 */
export function argumentValue(
    lexed: LexedPython,
    names: Map<string, string>,
    range: [number, number],
): string | undefined {
    let [start, end] = range;
    while (start < end && /\s/.test(lexed.text[start] as string)) start++;
    while (end > start && /\s/.test(lexed.text[end - 1] as string)) end--;
    const inside = lexed.strings.filter((s) => s.start >= start && s.end <= end);
    const literal = inside[0];
    if (literal && literal.start === start && literal.end === end) {
        return literal.fString ? resolveFString(literal.value, names) : literal.value;
    }
    const expression = lexed.code.slice(start, end).trim();
    if (/^[A-Za-z_]\w*$/.test(expression)) return names.get(expression);
    return undefined;
}
