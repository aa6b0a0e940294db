// Merging several compose files the way `docker compose -f a.yaml -f b.yaml` does: later files
// override scalars, mappings merge by key, `ports`/`expose`/`env_file` append, `volumes` merge
// by container path, and `command`/`entrypoint` are replaced whole.

import type { TreeMap, TreeNode, TreeScalar } from './tree.js';
import { parseShortVolume } from './volumes.js';

/** Service keys that Compose treats as mappings even when they are written as lists. */
const KEYED_LISTS = new Set([
    'environment',
    'labels',
    'depends_on',
    'networks',
    'extra_hosts',
    'annotations',
]);

/** Service keys whose lists a later file extends rather than replaces. */
const APPENDED = new Set([
    'ports',
    'expose',
    'env_file',
    'dns',
    'dns_search',
    'cap_add',
    'cap_drop',
    'security_opt',
]);

/** Keys a later file replaces whole, mapping or not. */
const REPLACED = new Set(['command', 'entrypoint', 'test', 'profiles']);

/**
 * Rewrites list syntax that Compose reads as a mapping (`- K=V`, `- db`) into map nodes, so merging
 * and reading see one shape. The entries keep the item's location and remember the list form.
 */
export function keyedEntries(node: TreeNode, key: string): TreeMap | undefined {
    if (node.kind === 'map') return node;
    if (node.kind !== 'seq') return undefined;
    const entries = new Map<string, TreeNode>();
    for (const item of node.items) {
        if (item.kind === 'map') {
            // A list of one-key mappings (`- db: {condition: ...}`) is not valid Compose, but reading
            // it as the mapping it resembles is kinder than dropping it.
            for (const [name, value] of item.entries) entries.set(name, value);
            continue;
        }
        if (item.kind !== 'scalar' || item.value === null) continue;
        const text = String(item.value);
        if (key === 'environment' || key === 'labels' || key === 'annotations') {
            const eq = text.indexOf('=');
            const name = eq < 0 ? text : text.slice(0, eq);
            const value: TreeScalar = {
                kind: 'scalar',
                value: eq < 0 ? null : text.slice(eq + 1),
                range: item.range,
                fromList: true,
            };
            entries.set(name.trim(), value);
        } else if (key === 'extra_hosts') {
            const sep = text.search(/[=:]/);
            const name = sep < 0 ? text : text.slice(0, sep);
            entries.set(name, {
                kind: 'scalar',
                value: sep < 0 ? null : text.slice(sep + 1),
                range: item.range,
                fromList: true,
            });
        } else {
            entries.set(text, { kind: 'scalar', value: null, range: item.range, fromList: true });
        }
    }
    return { kind: 'map', entries, range: node.range, fromList: true };
}

/** Normalises one service's list-or-map keys in place before merging. */
export function canonicalService(service: TreeNode): TreeNode {
    if (service.kind !== 'map') return service;
    const entries = new Map(service.entries);
    for (const [key, value] of entries) {
        if (KEYED_LISTS.has(key)) {
            const keyed = keyedEntries(value, key);
            if (keyed) entries.set(key, keyed);
        }
        if (key === 'build' && value.kind === 'map') {
            const args = value.entries.get('args');
            if (args) {
                const keyed = keyedEntries(args, 'environment');
                const buildEntries = new Map(value.entries);
                if (keyed) buildEntries.set('args', keyed);
                entries.set(key, { ...value, entries: buildEntries });
            }
        }
    }
    return { ...service, entries };
}

/** Merges compose file roots in order; nodes keep the location of the file that set them. */
export function mergeRoots(roots: TreeMap[]): TreeMap | undefined {
    let merged: TreeMap | undefined;
    for (const root of roots) merged = merged ? mergeMap(merged, root, []) : root;
    return merged;
}

function mergeMap(base: TreeMap, over: TreeMap, path: string[]): TreeMap {
    const entries = new Map(base.entries);
    for (const [key, value] of over.entries) {
        const existing = entries.get(key);
        entries.set(key, existing ? mergeValue(existing, value, [...path, key]) : value);
    }
    return { ...over, entries };
}

function mergeValue(base: TreeNode, over: TreeNode, path: string[]): TreeNode {
    const key = path[path.length - 1] ?? '';
    const inService = path[0] === 'services' && path.length === 3;
    if (REPLACED.has(key)) return over;
    if (inService && key === 'volumes' && base.kind === 'seq' && over.kind === 'seq') {
        return mergeVolumes(base, over);
    }
    if (inService && APPENDED.has(key) && base.kind === 'seq' && over.kind === 'seq') {
        const seen = new Set(base.items.map(identity));
        const added = over.items.filter((item) => !seen.has(identity(item)));
        return { ...over, items: [...base.items, ...added] };
    }
    if (base.kind === 'map' && over.kind === 'map') return mergeMap(base, over, path);
    return over;
}

function identity(node: TreeNode): string {
    return JSON.stringify(plain(node));
}

function plain(node: TreeNode): unknown {
    if (node.kind === 'scalar') return node.value;
    if (node.kind === 'seq') return node.items.map(plain);
    return Object.fromEntries([...node.entries].map(([k, v]) => [k, plain(v)]));
}

/** Later volume entries replace earlier ones with the same container path. */
function mergeVolumes(
    base: TreeNode & { kind: 'seq' },
    over: TreeNode & { kind: 'seq' },
): TreeNode {
    const targetOf = (node: TreeNode): string | undefined => {
        if (node.kind === 'scalar' && typeof node.value === 'string')
            return parseShortVolume(node.value).target;
        const target = node.kind === 'map' ? node.entries.get('target') : undefined;
        return target?.kind === 'scalar' ? String(target.value) : undefined;
    };
    const overTargets = new Set(over.items.map(targetOf).filter((t) => t !== undefined));
    const kept = base.items.filter((item) => {
        const target = targetOf(item);
        return target === undefined || !overTargets.has(target);
    });
    return { ...over, items: [...kept, ...over.items] };
}
