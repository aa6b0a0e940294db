// Finding a folder's compose files and rendering them into one ComposeProject, the way
// `docker compose config` would: `.env` and the process environment feed interpolation, files
// merge in order, and every node keeps the file and range it was written at.

import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { ComposeProblem, ComposeProject, SourceRange } from '../model.js';
import { parseDotenv, type DotenvResult } from './dotenv.js';
import { canonicalService, mergeRoots } from './merge.js';
import { readService } from './services.js';
import { readComposeTree, type TreeMap, type TreeNode } from './tree.js';
import { resolveBindSource } from './volumes.js';

export type Environment = Record<string, string | undefined>;

/** Compose's own file names, in the order it looks for them. */
export const COMPOSE_FILE_NAMES = [
    'compose.yaml',
    'compose.yml',
    'docker-compose.yml',
    'docker-compose.yaml',
];

export const OVERRIDE_FILE_NAMES = [
    'compose.override.yaml',
    'compose.override.yml',
    'docker-compose.override.yml',
    'docker-compose.override.yaml',
];

/** Compose files are small; anything bigger is not one, and reading it would stall the gather. */
const MAX_FILE_BYTES = 4 * 1024 * 1024;

const READ_TIMEOUT_MS = 5000;

export interface ComposeFileList {
    /** Absolute paths in merge order. */
    files: string[];
    /** How they were chosen. */
    source: 'COMPOSE_FILE' | 'default' | 'none';
    /** Files COMPOSE_FILE names that do not exist. */
    missing: string[];
}

async function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
            () => reject(new Error(`${what} took longer than ${READ_TIMEOUT_MS} ms`)),
            READ_TIMEOUT_MS,
        );
    });
    try {
        return await Promise.race([promise, timeout]);
    } finally {
        clearTimeout(timer);
    }
}

type ReadOutcome = { text: string } | { missing: true } | { error: string };

async function readText(file: string): Promise<ReadOutcome> {
    try {
        const info = await withTimeout(stat(file), `reading ${file}`);
        if (!info.isFile()) return { error: 'not a regular file' };
        if (info.size > MAX_FILE_BYTES) return { error: `larger than ${MAX_FILE_BYTES} bytes` };
        const text = await readFile(file, {
            encoding: 'utf8',
            signal: AbortSignal.timeout(READ_TIMEOUT_MS),
        });
        return { text };
    } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ENOTDIR') return { missing: true };
        return { error: (error as Error).message };
    }
}

async function exists(file: string): Promise<boolean> {
    const outcome = await withTimeout(stat(file), `reading ${file}`).then(
        (info) => info.isFile(),
        () => false,
    );
    return outcome;
}

async function readProjectDotenv(
    folder: string,
    env: Environment,
): Promise<{ dotenv?: DotenvResult; error?: string }> {
    const outcome = await readText(path.join(folder, '.env'));
    if ('missing' in outcome) return {};
    if ('error' in outcome) return { error: outcome.error };
    return { dotenv: parseDotenv(outcome.text, (name) => env[name]) };
}

/**
 * The compose files Compose would use in `folder`: COMPOSE_FILE (from the environment or
 * `.env`, split on COMPOSE_PATH_SEPARATOR), else the first default name plus its override.
 */
export async function findComposeFiles(
    folder: string,
    env: Environment = {},
): Promise<ComposeFileList> {
    const root = path.resolve(folder);
    const { dotenv } = await readProjectDotenv(root, env);
    const lookup = (name: string): string | undefined => env[name] ?? dotenv?.values[name];

    const composeFile = lookup('COMPOSE_FILE');
    if (composeFile) {
        const separator =
            lookup('COMPOSE_PATH_SEPARATOR') || (process.platform === 'win32' ? ';' : ':');
        const files = composeFile
            .split(separator)
            .map((f) => f.trim())
            .filter((f) => f !== '')
            .map((f) => path.resolve(root, f));
        const found = await Promise.all(files.map(exists));
        return { files, source: 'COMPOSE_FILE', missing: files.filter((_, i) => !found[i]) };
    }

    for (const name of COMPOSE_FILE_NAMES) {
        const candidate = path.join(root, name);
        if (!(await exists(candidate))) continue;
        for (const override of OVERRIDE_FILE_NAMES) {
            const overrideFile = path.join(root, override);
            if (await exists(overrideFile))
                return { files: [candidate, overrideFile], source: 'default', missing: [] };
        }
        return { files: [candidate], source: 'default', missing: [] };
    }
    // Not yet: Compose also looks in parent folders when the folder itself has no compose file.
    return { files: [], source: 'none', missing: [] };
}

/** Compose's normalisation of a folder name into a project name. */
export function normalizeProjectName(name: string): string {
    return name
        .toLowerCase()
        .replace(/[^a-z0-9_-]/g, '')
        .replace(/^[_-]+/, '');
}

export interface LoadedCompose {
    project?: ComposeProject;
    problems: ComposeProblem[];
}

export interface LoadOptions {
    /** The environment `docker compose` would run in; defaults to this process's. */
    env?: Environment;
}

function relativeTo(folder: string, file: string): string {
    const rel = path.relative(folder, file);
    return (rel.startsWith('..') || path.isAbsolute(rel) ? file : rel).split(path.sep).join('/');
}

/** Renders the folder's compose project; problems explain anything that could not be read. */
export async function loadComposeProject(
    folder: string,
    options: LoadOptions = {},
): Promise<LoadedCompose> {
    const root = path.resolve(folder);
    const env = options.env ?? process.env;
    const problems: ComposeProblem[] = [];

    const { dotenv, error: dotenvError } = await readProjectDotenv(root, env);
    if (dotenvError)
        problems.push({ type: 'parse', message: `.env could not be read: ${dotenvError}` });
    for (const p of dotenv?.problems ?? []) {
        problems.push({
            type: 'parse',
            message: `.env line ${p.line}: ${p.message}`,
            range: lineRange('.env', p.line),
        });
    }
    const lookup = (name: string): string | undefined => env[name] ?? dotenv?.values[name];

    const list = await findComposeFiles(root, env);
    for (const missing of list.missing) {
        problems.push({
            type: 'schema',
            message: `COMPOSE_FILE names ${relativeTo(root, missing)}, which does not exist`,
        });
    }
    if (list.files.length === 0 || list.missing.length > 0) return { problems };

    const roots: TreeMap[] = [];
    const used = new Set<string>();
    const missingVariables: { name: string; key: string }[] = [];
    let unreadable = false;
    for (const file of list.files) {
        const rel = relativeTo(root, file);
        const outcome = await readText(file);
        if (!('text' in outcome)) {
            problems.push({
                type: 'parse',
                message: `${rel} could not be read: ${'error' in outcome ? outcome.error : 'not found'}`,
            });
            unreadable = true;
            continue;
        }
        const tree = readComposeTree(outcome.text, rel, lookup);
        problems.push(...tree.problems);
        tree.used.forEach((name) => used.add(name));
        missingVariables.push(...tree.missing);
        if (!tree.root || tree.problems.some((p) => p.type === 'parse')) {
            unreadable = true;
            continue;
        }
        const services = tree.root.entries.get('services');
        if (
            services &&
            services.kind !== 'map' &&
            !(services.kind === 'scalar' && services.value === null)
        ) {
            problems.push({
                type: 'schema',
                message: `${rel}: services must be a mapping of service names`,
                range: services.range,
                key: 'services',
            });
            unreadable = true;
            continue;
        }
        roots.push(withCanonicalServices(tree.root));
    }
    const merged = mergeRoots(roots);
    if (unreadable || !merged) return { problems };

    const workingDir = path.dirname(list.files[0] ?? path.join(root, 'compose.yaml'));
    const nameNode = merged.entries.get('name');
    const written =
        lookup('COMPOSE_PROJECT_NAME') ??
        (nameNode?.kind === 'scalar' && nameNode.value !== null
            ? String(nameNode.value)
            : undefined);
    const name = written ?? normalizeProjectName(path.basename(workingDir));
    if (written !== undefined && normalizeProjectName(written) !== written) {
        problems.push({
            type: 'schema',
            message: `project name "${written}" is not valid: Compose accepts lowercase letters, digits, "_" and "-"`,
            ...(nameNode ? { range: nameNode.range, key: 'name' } : {}),
        });
    }

    const envFiles = await readEnvFiles(merged, workingDir, env, lookup);
    const servicesNode = merged.entries.get('services');
    const services =
        servicesNode?.kind === 'map'
            ? [...servicesNode.entries].map(([serviceName, node]) =>
                  readService(serviceName, node, {
                      projectDir: workingDir,
                      home: homeOf(env),
                      problems,
                      readEnvFile: (file) => envFiles.get(file),
                      display: (file) => relativeTo(root, file),
                      lookup,
                  }),
              )
            : [];

    const ranges: Record<string, SourceRange> = {};
    collectRanges(merged, [], ranges);

    const project: ComposeProject = {
        name,
        workingDir,
        files: list.files.map((f) => relativeTo(root, f)),
        services,
        variables: variablesOf(dotenv, env, used),
        ranges,
        problems,
    };
    if (missingVariables.length > 0) project.missingVariables = missingVariables;
    return { project, problems };
}

function lineRange(file: string, line: number): SourceRange {
    return { file, line, column: 1, endLine: line, endColumn: 1 };
}

function withCanonicalServices(root: TreeMap): TreeMap {
    const services = root.entries.get('services');
    if (services?.kind !== 'map') return root;
    const canonical = new Map<string, TreeNode>();
    for (const [name, node] of services.entries) canonical.set(name, canonicalService(node));
    const entries = new Map(root.entries);
    entries.set('services', { ...services, entries: canonical });
    return { ...root, entries };
}

/**
 * Only `.env` variables and the environment variables the files actually use are kept: the
 * snapshot is saved and shared, and the whole process environment would carry secrets with it.
 */
function variablesOf(
    dotenv: DotenvResult | undefined,
    env: Environment,
    used: Set<string>,
): ComposeProject['variables'] {
    const variables: ComposeProject['variables'] = {};
    for (const [name, value] of Object.entries(dotenv?.values ?? {})) {
        const fromEnv = env[name];
        variables[name] =
            fromEnv !== undefined
                ? { value: fromEnv, from: 'environment' }
                : { value, from: 'dotenv' };
    }
    for (const name of used) {
        const fromEnv = env[name];
        if (fromEnv !== undefined) variables[name] = { value: fromEnv, from: 'environment' };
    }
    return variables;
}

/** Reads every env_file the services name, up front, so reading services stays synchronous. */
async function readEnvFiles(
    merged: TreeMap,
    projectDir: string,
    env: Environment,
    lookup: (name: string) => string | undefined,
): Promise<Map<string, Record<string, string>>> {
    const wanted = new Set<string>();
    const services = merged.entries.get('services');
    if (services?.kind === 'map') {
        for (const service of services.entries.values()) {
            const envFile = service.kind === 'map' ? service.entries.get('env_file') : undefined;
            const items =
                envFile === undefined ? [] : envFile.kind === 'seq' ? envFile.items : [envFile];
            for (const item of items) {
                const pathNode = item.kind === 'map' ? item.entries.get('path') : item;
                if (pathNode?.kind === 'scalar' && pathNode.value !== null) {
                    wanted.add(resolveBindSource(String(pathNode.value), projectDir, homeOf(env)));
                }
            }
        }
    }
    const out = new Map<string, Record<string, string>>();
    await Promise.all(
        [...wanted].map(async (file) => {
            const outcome = await readText(file);
            if ('text' in outcome) out.set(file, parseDotenv(outcome.text, lookup).values);
        }),
    );
    return out;
}

function collectRanges(node: TreeNode, trail: string[], ranges: Record<string, SourceRange>): void {
    if (trail.length > 0) ranges[trail.join('.')] = node.range;
    if (node.kind === 'map') {
        for (const [key, child] of node.entries) collectRanges(child, [...trail, key], ranges);
    } else if (node.kind === 'seq') {
        node.items.forEach((child, index) =>
            collectRanges(child, [...trail, String(index)], ranges),
        );
    }
}

function homeOf(env: Environment): string | undefined {
    return env.HOME ?? env.USERPROFILE;
}
