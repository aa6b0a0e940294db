// Splitting command strings into argv. Compose splits a string `command:` into words itself and
// runs them without a shell, so quotes and backslashes matter but `&&` is just another word. For
// `sh -c "..."` scripts we also need the individual commands the shell would run.

export interface ShellWords {
    words: string[];
    /** The quote character left open at the end of the text, if any. */
    unterminated?: '"' | "'";
}

const SPACE = /[ \t\r\n]/;

/** Splits like a POSIX shell's word splitting, without expansion. */
export function shellWords(text: string): ShellWords {
    const words: string[] = [];
    let current = '';
    let inWord = false;
    let quote: '"' | "'" | undefined;

    for (let i = 0; i < text.length; i++) {
        const ch = text[i] ?? '';
        if (quote === "'") {
            if (ch === "'") quote = undefined;
            else current += ch;
            continue;
        }
        if (quote === '"') {
            if (ch === '"') {
                quote = undefined;
            } else if (
                ch === '\\' &&
                i + 1 < text.length &&
                '"\\$`\n'.includes(text[i + 1] ?? '')
            ) {
                // Inside double quotes a backslash only escapes these; elsewhere it stays.
                i++;
                if (text[i] !== '\n') current += text[i];
            } else {
                current += ch;
            }
            continue;
        }
        if (ch === '\\') {
            i++;
            // A backslash before a newline joins lines.
            if (i < text.length && text[i] !== '\n') {
                current += text[i];
                inWord = true;
            }
            continue;
        }
        if (SPACE.test(ch)) {
            if (inWord) words.push(current);
            current = '';
            inWord = false;
            continue;
        }
        if (ch === '"' || ch === "'") {
            quote = ch;
            inWord = true;
            continue;
        }
        current += ch;
        inWord = true;
    }
    if (inWord) words.push(current);
    return quote ? { words, unterminated: quote } : { words };
}

/** The argv Compose builds from a string `command:` or `entrypoint:`. */
export function shellSplit(text: string): string[] {
    return shellWords(text).words;
}

/**
 * The simple commands of a shell script (`pip install x && mlflow server ...`), split on the
 * unquoted operators `&&`, `||`, `;`, `|`, `&` and newlines, each as argv.
 */
export function scriptCommands(script: string): string[][] {
    const segments: string[] = [];
    let current = '';
    let quote: '"' | "'" | undefined;
    for (let i = 0; i < script.length; i++) {
        const ch = script[i] ?? '';
        if (quote) {
            if (ch === '\\' && quote === '"') {
                current += ch + (script[i + 1] ?? '');
                i++;
                continue;
            }
            if (ch === quote) quote = undefined;
            current += ch;
            continue;
        }
        if (ch === '\\') {
            current += ch + (script[i + 1] ?? '');
            i++;
            continue;
        }
        if (ch === '"' || ch === "'") {
            quote = ch;
            current += ch;
            continue;
        }
        if (ch === ';' || ch === '\n' || ch === '&' || ch === '|') {
            segments.push(current);
            current = '';
            if ((ch === '&' || ch === '|') && script[i + 1] === ch) i++;
            continue;
        }
        current += ch;
    }
    segments.push(current);
    return segments.map((s) => shellSplit(s)).filter((argv) => argv.length > 0);
}
