// One compose file read into a small tree whose every node remembers where it was written.
// Interpolation happens here, per file and before merging, as Compose does it; anchors, aliases
// and `<<` merge keys are resolved so later stages see plain data.

import {
    isAlias,
    isMap,
    isScalar,
    isSeq,
    LineCounter,
    parseDocument,
    type Node as YamlNode,
    type Document,
} from 'yaml';
import type { ComposeProblem, SourceRange } from '../model.js';
import { interpolate, type VariableLookup } from './interpolate.js';

interface TreeBase {
    /** Where the value was written: for a mapping entry from its key to the end of its value. */
    range: SourceRange;
    /** Set on entries made from list syntax (`- db` under `depends_on`, `- K=V`). */
    fromList?: boolean;
}

export interface TreeMap extends TreeBase {
    kind: 'map';
    entries: Map<string, TreeNode>;
}

export interface TreeSeq extends TreeBase {
    kind: 'seq';
    items: TreeNode[];
}

export interface TreeScalar extends TreeBase {
    kind: 'scalar';
    value: string | number | boolean | null;
}

export type TreeNode = TreeMap | TreeSeq | TreeScalar;

export interface ComposeFileTree {
    root?: TreeMap;
    problems: ComposeProblem[];
    missing: { name: string; key: string }[];
    used: Set<string>;
}

/** Aliases can expand exponentially ("billion laughs"); no real compose file comes near this. */
const NODE_BUDGET = 200_000;

const MAX_ALIAS_DEPTH = 64;

class TreeReader {
    private readonly lines = new LineCounter();
    private doc: Document.Parsed | undefined;
    private visited = 0;
    private text = '';
    readonly result: ComposeFileTree = { problems: [], missing: [], used: new Set() };

    constructor(
        private readonly file: string,
        private readonly vars: VariableLookup,
    ) {}

    read(text: string): ComposeFileTree {
        this.text = text;
        const doc = parseDocument(text, {
            keepSourceTokens: true,
            lineCounter: this.lines,
            merge: true,
            prettyErrors: false,
        });
        this.doc = doc;
        for (const error of doc.errors) {
            this.result.problems.push({
                type: 'parse',
                message: `${this.file}: ${error.message.split('\n')[0] ?? error.message}`,
                range: this.range(error.pos[0], error.pos[1]),
            });
        }
        if (doc.errors.length > 0) return this.result;

        const contents = doc.contents;
        if (!isMap(contents)) {
            const what = contents === null ? 'empty' : 'not a mapping of top-level keys';
            this.result.problems.push({
                type: 'schema',
                message: `${this.file}: the file is ${what}; a compose file starts with keys such as services:`,
                range: contents?.range
                    ? this.range(contents.range[0], contents.range[1])
                    : this.range(0, 0),
            });
            return this.result;
        }
        const root = this.walk(contents, [], [contents.range?.[0] ?? 0, contentEnd(contents)], 0);
        if (root?.kind === 'map') this.result.root = root;
        return this.result;
    }

    private range(start: number, rawEnd: number): SourceRange {
        let end = rawEnd;
        while (end > start && /\s/.test(this.text[end - 1] ?? '')) end--;
        const from = this.lines.linePos(start);
        const to = this.lines.linePos(Math.max(start, end));
        return {
            file: this.file,
            line: from.line,
            column: from.col,
            endLine: to.line,
            endColumn: to.col,
        };
    }

    private walk(
        node: unknown,
        path: string[],
        span: readonly [number, number, number?],
        aliasDepth: number,
    ): TreeNode | undefined {
        if (++this.visited > NODE_BUDGET) {
            if (this.visited === NODE_BUDGET + 1) {
                this.result.problems.push({
                    type: 'parse',
                    message: `${this.file}: aliases expand to more than ${NODE_BUDGET} nodes; stopped reading`,
                });
            }
            return undefined;
        }
        const range = this.range(span[0], span[1]);
        if (isAlias(node)) {
            if (aliasDepth > MAX_ALIAS_DEPTH || !this.doc) return undefined;
            const target = node.resolve(this.doc);
            if (!target) {
                this.result.problems.push({
                    type: 'parse',
                    message: `${this.file}: unknown alias *${node.source}`,
                    range,
                    key: path.join('.'),
                });
                return undefined;
            }
            const inner = this.walk(target, path, target.range ?? span, aliasDepth + 1);
            // The alias is where this value was written in this place; keep its location.
            return inner ? { ...inner, range } : undefined;
        }
        if (isMap(node)) {
            const entries = new Map<string, TreeNode>();
            const mergeSources: TreeMap[] = [];
            for (const pair of node.items) {
                const keyNode = pair.key as YamlNode | null;
                const valueNode = pair.value as YamlNode | null;
                const keyStart = keyNode?.range?.[0] ?? span[0];
                const valueEnd = valueNode
                    ? contentEnd(valueNode)
                    : (keyNode?.range?.[1] ?? keyStart);
                if (isScalar(keyNode) && typeof keyNode.value === 'symbol') {
                    mergeSources.push(...this.mergeSources(valueNode, path, aliasDepth));
                    continue;
                }
                const key = isScalar(keyNode) ? String(keyNode.value) : undefined;
                if (key === undefined) continue;
                const child =
                    valueNode === null
                        ? {
                              kind: 'scalar' as const,
                              value: null,
                              range: this.range(keyStart, valueEnd),
                          }
                        : this.walk(valueNode, [...path, key], [keyStart, valueEnd], aliasDepth);
                if (child) entries.set(key, child);
            }
            // Explicit keys win over merged ones, and earlier merge sources over later ones.
            for (const source of mergeSources) {
                for (const [key, value] of source.entries)
                    if (!entries.has(key)) entries.set(key, value);
            }
            return { kind: 'map', entries, range };
        }
        if (isSeq(node)) {
            const items: TreeNode[] = [];
            node.items.forEach((item, index) => {
                const itemNode = item as YamlNode | null;
                const itemSpan: [number, number] = itemNode
                    ? [itemNode.range?.[0] ?? span[0], contentEnd(itemNode)]
                    : [span[0], span[1]];
                const child =
                    itemNode === null
                        ? { kind: 'scalar' as const, value: null, range }
                        : this.walk(itemNode, [...path, String(index)], itemSpan, aliasDepth);
                if (child) items.push(child);
            });
            return { kind: 'seq', items, range };
        }
        if (isScalar(node)) {
            const value = node.value;
            if (typeof value === 'string')
                return { kind: 'scalar', value: this.substitute(value, path, range), range };
            if (typeof value === 'number' || typeof value === 'boolean' || value === null) {
                return { kind: 'scalar', value, range };
            }
            // Big integers and the like: keep the text as written.
            return { kind: 'scalar', value: node.source ?? node.toString(), range };
        }
        return undefined;
    }

    private mergeSources(value: YamlNode | null, path: string[], aliasDepth: number): TreeMap[] {
        if (value === null) return [];
        const parts = isSeq(value) ? (value.items as YamlNode[]) : [value];
        const out: TreeMap[] = [];
        for (const part of parts) {
            const walked = this.walk(part, path, part.range ?? [0, 0], aliasDepth);
            if (walked?.kind === 'map') out.push(walked);
        }
        return out;
    }

    private substitute(text: string, path: string[], range: SourceRange): string {
        if (!text.includes('$')) return text;
        const key = path.join('.');
        const result = interpolate(text, this.vars);
        for (const name of result.used) this.result.used.add(name);
        for (const name of result.missing) {
            this.result.used.add(name);
            this.result.missing.push({ name, key });
        }
        for (const message of result.errors) {
            this.result.problems.push({ type: 'interpolation', message, range, key });
        }
        return result.value;
    }
}

/**
 * Where a node's text ends. A block collection's own range runs on to the next key, blank lines
 * and comments included; a finding should end at its last character instead.
 */
function contentEnd(node: YamlNode): number {
    const own = node.range?.[1] ?? 0;
    if ((isMap(node) || isSeq(node)) && !node.flow) {
        const last = node.items[node.items.length - 1];
        if (last === undefined || last === null) return own;
        if (isMap(node)) {
            const pair = last as { key: YamlNode | null; value: YamlNode | null };
            if (pair.value) return contentEnd(pair.value);
            return pair.key?.range?.[1] ?? own;
        }
        return contentEnd(last as YamlNode);
    }
    return own;
}

/** Reads one compose file's text; `file` is the name used in ranges and messages. */
export function readComposeTree(text: string, file: string, vars: VariableLookup): ComposeFileTree {
    return new TreeReader(file, vars).read(text);
}

/** A dotted path's node, or undefined. */
export function childAt(node: TreeNode | undefined, key: string): TreeNode | undefined {
    return node?.kind === 'map' ? node.entries.get(key) : undefined;
}
