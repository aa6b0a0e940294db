// Makes any string from an MLflow server legible before it is shown. Names and values are
// whatever a user (or an attacker) logged: control characters, bidi overrides that reorder what
// is displayed, zero-width characters that hide text, megabyte-long values. Each invisible or
// reordering code point becomes a visible marker such as `⟨U+202E⟩`, so what is shown is what
// the server holds. Pure: no DOM, unit-tested in node.

/** Display text and the full text for a tooltip. */
export interface Legible {
    /** Possibly truncated, ends with `…` when it is. */
    text: string;
    /** The whole legible text (capped at TITLE_LIMIT), for the `title` attribute. */
    title: string;
    truncated: boolean;
}

/** Code points shown in a cell before the text is cut with an ellipsis. */
export const DISPLAY_LIMIT = 160;

// A tooltip with megabytes of text freezes the renderer; beyond this the title is cut too.
export const TITLE_LIMIT = 8192;

function isInvisible(code: number): boolean {
    return (
        code <= 0x1f || // C0 controls, including tab and newline: a cell is one line
        (code >= 0x7f && code <= 0x9f) || // DEL and C1 controls
        code === 0xad || // soft hyphen
        code === 0x61c || // Arabic letter mark
        code === 0x180e || // Mongolian vowel separator
        (code >= 0x200b && code <= 0x200f) || // zero-width space/joiners, LRM, RLM
        (code >= 0x2028 && code <= 0x202e) || // line/paragraph separators, bidi embeddings
        (code >= 0x2060 && code <= 0x2064) || // word joiner, invisible operators
        (code >= 0x2066 && code <= 0x2069) || // bidi isolates
        code === 0xfeff || // zero-width no-break space (BOM)
        (code >= 0xfff9 && code <= 0xfffb) || // interlinear annotation controls
        (code >= 0xd800 && code <= 0xdfff) || // a lone surrogate (a pair is decoded before)
        (code >= 0xe0000 && code <= 0xe007f) // tag characters, used to smuggle hidden text
    );
}

function marker(code: number): string {
    return `⟨U+${code.toString(16).toUpperCase().padStart(4, '0')}⟩`;
}

/**
 * The string's code points as display units: ordinary characters as they are, invisible ones as
 * markers. Truncation counts units, so it never splits a marker or a surrogate pair.
 */
function legibleUnits(value: string): string[] {
    const units: string[] = [];
    // for..of walks code points; a lone surrogate comes through as a one-unit string.
    for (const char of value) {
        const code = char.codePointAt(0) ?? 0;
        units.push(isInvisible(code) ? marker(code) : char);
    }
    return units;
}

/** Units joined while they fit in `budget` UTF-16 code units, so no marker or pair is split. */
function joinWithin(units: string[], budget: number): string {
    let length = 0;
    let end = 0;
    while (end < units.length && length + (units[end]?.length ?? 0) <= budget) {
        length += units[end]?.length ?? 0;
        end++;
    }
    return units.slice(0, end).join('');
}

/** The whole string with every invisible code point as a marker; nothing is cut. */
export function legibleText(value: string): string {
    return legibleUnits(value).join('');
}

/** Legible display text, cut to `limit` units with `…`, and the full text for a tooltip. */
export function legible(value: unknown, limit: number = DISPLAY_LIMIT): Legible {
    const raw =
        typeof value === 'string'
            ? value
            : typeof value === 'number' || typeof value === 'boolean'
              ? String(value)
              : '';
    // Walking a huge string costs; only the part a title can show is made legible.
    const head = raw.length > TITLE_LIMIT * 2 ? raw.slice(0, TITLE_LIMIT * 2) : raw;
    const units = legibleUnits(head);
    const cutRaw = head.length < raw.length;
    let title = units.join('');
    if (title.length > TITLE_LIMIT || cutRaw) title = `${joinWithin(units, TITLE_LIMIT)}…`;
    if (units.length <= limit && !cutRaw) return { text: title, title, truncated: false };
    const keep = Math.max(1, limit - 1);
    return { text: `${units.slice(0, keep).join('')}…`, title, truncated: true };
}
