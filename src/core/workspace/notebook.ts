// Reading `.ipynb` notebooks: the code cells' sources, and for any place in a cell the same
// place in the raw JSON file, so an editor can point at either. The JSON is walked by a small
// position-keeping parser because `JSON.parse` forgets where each string was.

import { positionOf } from './pythonSource.js';

export interface NotebookCell {
    /** Index among all cells, as Jupyter numbers them (0-based). */
    index: number;
    source: string;
    /** Maps an offset in `source` to a 1-based line and column in the raw file. */
    rawPosition(offset: number): { line: number; column: number };
}

export type NotebookRead = { ok: true; cells: NotebookCell[] } | { ok: false; error: string };

type JsonNode =
    | { type: 'object'; entries: Map<string, JsonNode> }
    | { type: 'array'; items: JsonNode[] }
    | { type: 'string'; value: string; start: number }
    | { type: 'other' };

/** The code cells of a notebook; a malformed notebook is reported, never thrown. */
export function readNotebook(raw: string): NotebookRead {
    let root: JsonNode;
    try {
        root = new JsonReader(raw).document();
    } catch (error) {
        return { ok: false, error: `not valid notebook JSON: ${(error as Error).message}` };
    }
    const cellsNode = root.type === 'object' ? root.entries.get('cells') : undefined;
    if (!cellsNode || cellsNode.type !== 'array') {
        return { ok: false, error: 'not a notebook: no "cells" list' };
    }

    const cells: NotebookCell[] = [];
    cellsNode.items.forEach((cell, index) => {
        if (cell.type !== 'object') return;
        const kind = cell.entries.get('cell_type');
        if (kind?.type !== 'string' || kind.value !== 'code') return;
        const source = cell.entries.get('source');
        const parts =
            source?.type === 'string'
                ? [source]
                : source?.type === 'array'
                  ? source.items.filter((item) => item.type === 'string')
                  : [];
        cells.push(codeCell(raw, index, parts));
    });
    return { ok: true, cells };
}

function codeCell(
    raw: string,
    index: number,
    parts: Extract<JsonNode, { type: 'string' }>[],
): NotebookCell {
    const starts: number[] = [];
    let source = '';
    for (const part of parts) {
        starts.push(source.length);
        source += part.value;
    }
    return {
        index,
        source,
        rawPosition(offset: number) {
            let k = starts.length - 1;
            while (k > 0 && (starts[k] as number) > offset) k--;
            const part = parts[k];
            if (!part) return { line: 1, column: 1 };
            const rawOffset = rawOffsetInString(raw, part.start, offset - (starts[k] as number));
            return positionOf(raw, rawOffset);
        },
    };
}

/** The raw offset of the `decoded`-th character of the JSON string whose quote is at `quote`. */
function rawOffsetInString(raw: string, quote: number, decoded: number): number {
    let k = quote + 1;
    for (let n = 0; n < decoded && k < raw.length && raw[k] !== '"'; n++) {
        k += raw[k] === '\\' ? (raw[k + 1] === 'u' ? 6 : 2) : 1;
    }
    return k;
}

class JsonReader {
    private at = 0;

    constructor(private readonly text: string) {}

    document(): JsonNode {
        const node = this.value();
        this.space();
        if (this.at < this.text.length) this.fail('unexpected text after the document');
        return node;
    }

    private value(): JsonNode {
        this.space();
        const ch = this.text[this.at];
        if (ch === '{') return this.object();
        if (ch === '[') return this.array();
        if (ch === '"') return this.string();
        const literal = /^(?:true|false|null|-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)/.exec(
            this.text.slice(this.at, this.at + 64),
        );
        if (!literal) this.fail('expected a value');
        this.at += literal[0].length;
        return { type: 'other' };
    }

    private object(): JsonNode {
        const entries = new Map<string, JsonNode>();
        this.at++;
        this.space();
        if (this.text[this.at] === '}') {
            this.at++;
            return { type: 'object', entries };
        }
        for (;;) {
            this.space();
            if (this.text[this.at] !== '"') this.fail('expected a key');
            const key = this.string();
            this.space();
            if (this.text[this.at] !== ':') this.fail('expected ":"');
            this.at++;
            entries.set(key.value, this.value());
            this.space();
            const ch = this.text[this.at++];
            if (ch === '}') return { type: 'object', entries };
            if (ch !== ',') this.fail('expected "," or "}"', -1);
        }
    }

    private array(): JsonNode {
        const items: JsonNode[] = [];
        this.at++;
        this.space();
        if (this.text[this.at] === ']') {
            this.at++;
            return { type: 'array', items };
        }
        for (;;) {
            items.push(this.value());
            this.space();
            const ch = this.text[this.at++];
            if (ch === ']') return { type: 'array', items };
            if (ch !== ',') this.fail('expected "," or "]"', -1);
        }
    }

    private string(): Extract<JsonNode, { type: 'string' }> {
        const start = this.at;
        let end = start + 1;
        while (end < this.text.length && this.text[end] !== '"') {
            if (this.text[end] === '\n') break;
            end += this.text[end] === '\\' ? 2 : 1;
        }
        if (this.text[end] !== '"') this.fail('unterminated string');
        this.at = end + 1;
        let value: unknown;
        try {
            value = JSON.parse(this.text.slice(start, end + 1));
        } catch {
            this.fail('bad escape in string');
        }
        return { type: 'string', value: value as string, start };
    }

    private space(): void {
        while (this.at < this.text.length && ' \t\r\n'.includes(this.text[this.at] as string)) {
            this.at++;
        }
    }

    private fail(message: string, back = 0): never {
        const { line, column } = positionOf(this.text, this.at + back);
        throw new Error(`${message} at line ${line}, column ${column}`);
    }
}
