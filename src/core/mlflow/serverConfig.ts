// Which compose services run an MLflow tracking server, and with what options: read from the
// rendered command line (also inside `sh -c "pip install ... && mlflow server ..."`), the
// service's environment (every server option is a click option with an env var) and the image
// tag, pip pin or Dockerfile that says which MLflow version it runs.

import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { scriptCommands } from '../compose/shellSplit.js';
import type { ComposeProject, ComposeService, ContainerFacts, ServerConfig } from '../model.js';

/** The options we read: those whose place ServerConfig records, and `--gunicorn-opts`. */
export type ServerField = keyof ServerConfig['keys'] | 'gunicornOpts';

export interface ServerCommand {
    subcommand: 'server' | 'ui';
    /** Option values as written; booleans for the on/off flags. */
    values: Partial<Record<ServerField, string | boolean>>;
    /** The argv index of the word that carried each value. */
    at: Partial<Record<ServerField, number>>;
    /** Set when the server starts inside a `sh -c` script: the argv index of the script. */
    scriptIndex?: number;
    /** `pip install mlflow==X` run before the server in the same script. */
    pipVersion?: string;
}

interface FlagSpec {
    field: ServerField;
    /** For on/off flags, the value the flag sets. */
    sets?: boolean;
}

const FLAGS: Record<string, FlagSpec> = {
    '--host': { field: 'host' },
    '-h': { field: 'host' },
    '--port': { field: 'port' },
    '-p': { field: 'port' },
    '--backend-store-uri': { field: 'backendStoreUri' },
    '--default-artifact-root': { field: 'defaultArtifactRoot' },
    '--artifacts-destination': { field: 'artifactsDestination' },
    '--serve-artifacts': { field: 'serveArtifacts', sets: true },
    '--no-serve-artifacts': { field: 'serveArtifacts', sets: false },
    '--artifacts-only': { field: 'artifactsOnly', sets: true },
    '--allowed-hosts': { field: 'allowedHosts' },
    '--static-prefix': { field: 'staticPrefix' },
    '--app-name': { field: 'appName' },
    '--gunicorn-opts': { field: 'gunicornOpts' },
};

/** Options we do not read but must step over correctly: on/off flags take no value. */
const VALUELESS = new Set(['--dev', '--disable-security-middleware', '--expose-prometheus-off']);

const ENV_VARS: Record<string, ServerField> = {
    MLFLOW_HOST: 'host',
    MLFLOW_PORT: 'port',
    MLFLOW_BACKEND_STORE_URI: 'backendStoreUri',
    MLFLOW_DEFAULT_ARTIFACT_ROOT: 'defaultArtifactRoot',
    MLFLOW_ARTIFACTS_DESTINATION: 'artifactsDestination',
    MLFLOW_SERVE_ARTIFACTS: 'serveArtifacts',
    MLFLOW_ARTIFACTS_ONLY: 'artifactsOnly',
    MLFLOW_SERVER_ALLOWED_HOSTS: 'allowedHosts',
    MLFLOW_STATIC_PREFIX: 'staticPrefix',
    MLFLOW_GUNICORN_OPTS: 'gunicornOpts',
};

const BOOLEAN_FIELDS = new Set<ServerField>(['serveArtifacts', 'artifactsOnly']);

const SHELLS = new Set(['sh', 'bash', 'ash', 'dash', 'zsh']);

function basename(word: string): string {
    return word.slice(word.lastIndexOf('/') + 1);
}

/** Where `mlflow server|ui` starts in argv: the index of its first option. */
function invocationAt(
    argv: string[],
): { flagsAt: number; subcommand: 'server' | 'ui' } | undefined {
    for (let i = 0; i < argv.length; i++) {
        const word = basename(argv[i] ?? '');
        const sub = (n: number): 'server' | 'ui' | undefined => {
            const s = argv[i + n];
            return s === 'server' || s === 'ui' ? s : undefined;
        };
        if (word === 'mlflow' && sub(1)) return { flagsAt: i + 2, subcommand: sub(1) ?? 'server' };
        if (
            /^python[\d.]*$/.test(word) &&
            argv[i + 1] === '-m' &&
            argv[i + 2] === 'mlflow' &&
            sub(3)
        ) {
            return { flagsAt: i + 4, subcommand: sub(3) ?? 'server' };
        }
    }
    return undefined;
}

/** The index of a shell's `-c` script in argv (`sh -c`, `bash -ec`, `/bin/sh -c`). */
function shellScriptAt(argv: string[]): number | undefined {
    for (let i = 0; i < argv.length; i++) {
        if (!SHELLS.has(basename(argv[i] ?? ''))) continue;
        for (let j = i + 1; j < argv.length; j++) {
            const word = argv[j] ?? '';
            if (!word.startsWith('-')) break;
            if (/^-[a-z]*c[a-z]*$/.test(word)) return j + 1 < argv.length ? j + 1 : undefined;
        }
    }
    return undefined;
}

/** Reads `mlflow server` options from argv (`--flag value`, `--flag=value`, `-p5000`). */
export function parseServerFlags(argv: string[], from = 0): Pick<ServerCommand, 'values' | 'at'> {
    const values: ServerCommand['values'] = {};
    const at: ServerCommand['at'] = {};
    for (let i = from; i < argv.length; i++) {
        const word = argv[i] ?? '';
        if (!word.startsWith('-')) continue;
        const eq = word.indexOf('=');
        let name = eq > 0 && word.startsWith('--') ? word.slice(0, eq) : word;
        let inline = eq > 0 && word.startsWith('--') ? word.slice(eq + 1) : undefined;
        if (!word.startsWith('--') && word.length > 2 && FLAGS[word.slice(0, 2)]) {
            name = word.slice(0, 2);
            inline = word.slice(2);
        }
        const spec = FLAGS[name];
        if (!spec) {
            // An unknown option most likely takes a value (most of click's do); step over it.
            if (
                inline === undefined &&
                !VALUELESS.has(name) &&
                !(argv[i + 1] ?? '-').startsWith('-')
            )
                i++;
            continue;
        }
        if (spec.sets !== undefined) {
            values[spec.field] = spec.sets;
            at[spec.field] = i;
            continue;
        }
        if (inline !== undefined) {
            values[spec.field] = inline;
            at[spec.field] = i;
        } else if (i + 1 < argv.length) {
            values[spec.field] = argv[i + 1] ?? '';
            at[spec.field] = i + 1;
            i++;
        }
    }
    return { values, at };
}

/** The version in `pip install ... mlflow==X` (also `mlflow[extras]==X`, quoted). */
export function pipPinnedVersion(argv: string[]): string | undefined {
    const pip = argv.findIndex(
        (w, i) => /^pip[\d.]*$/.test(basename(w)) && argv[i + 1] === 'install',
    );
    const isModulePip = argv.findIndex(
        (w, i) => argv[i - 1] === '-m' && w === 'pip' && argv[i + 1] === 'install',
    );
    const start = pip >= 0 ? pip : isModulePip;
    if (start < 0) return undefined;
    for (const word of argv.slice(start + 2)) {
        const m = /^mlflow(?:\[[^\]]*\])?==([0-9][\w.+-]*)$/.exec(word);
        if (m) return m[1];
    }
    return undefined;
}

/**
 * Finds an MLflow server invocation in argv (a container's entrypoint and command, joined) and
 * reads its options. A `sh -c` wrapper is looked into: only the script runs, so words after it
 * are the script's `$0`, `$1`, not part of the command.
 */
export function parseServerCommand(argv: string[]): ServerCommand | undefined {
    const scriptIndex = shellScriptAt(argv);
    if (scriptIndex !== undefined) {
        let pipVersion: string | undefined;
        for (const command of scriptCommands(argv[scriptIndex] ?? '')) {
            pipVersion = pipPinnedVersion(command) ?? pipVersion;
            const found = parseDirect(command);
            if (found) {
                // Indices inside a script do not point into argv; the script word carries them all.
                const at: ServerCommand['at'] = {};
                for (const field of Object.keys(found.values) as ServerField[])
                    at[field] = scriptIndex;
                const result: ServerCommand = { ...found, at, scriptIndex };
                if (pipVersion) result.pipVersion = pipVersion;
                return result;
            }
        }
        return undefined;
    }
    return parseDirect(argv);
}

function parseDirect(argv: string[]): ServerCommand | undefined {
    const found = invocationAt(argv);
    if (!found) return undefined;
    return { subcommand: found.subcommand, ...parseServerFlags(argv, found.flagsAt) };
}

// ---------------------------------------------------------------------------------------------

interface ImageReference {
    repository: string;
    tag?: string;
}

export function parseImageReference(image: string): ImageReference {
    const withoutDigest = image.split('@')[0] ?? image;
    const slash = withoutDigest.lastIndexOf('/');
    const colon = withoutDigest.lastIndexOf(':');
    if (colon > slash)
        return { repository: withoutDigest.slice(0, colon), tag: withoutDigest.slice(colon + 1) };
    return { repository: withoutDigest };
}

/** `v2.20.0`, `2.22.0`, `v3.9.0-full` → the version; `latest` → undefined. */
export function versionFromTag(tag: string | undefined): string | undefined {
    const m = /^v?(\d+\.\d+(?:\.\d+)?(?:(?:rc|a|b|\.dev|\.post)\d+)?)(?:-[\w.]+)?$/.exec(tag ?? '');
    return m?.[1];
}

export function isMlflowImage(image: string | undefined): boolean {
    if (!image) return false;
    const repo = parseImageReference(image).repository;
    return /mlflow/i.test(repo.slice(repo.lastIndexOf('/') + 1)) || /(^|\/)mlflow\//i.test(repo);
}

export interface DockerfileFacts {
    file: string;
    entrypoint?: string[];
    cmd?: string[];
    version?: { version: string; instruction: 'RUN' | 'FROM' | 'ARG'; line: number };
}

export interface Instruction {
    name: string;
    args: string;
    line: number;
}

/** A Dockerfile's instructions, continuation lines joined, each with its first line. */
export function instructionsOf(text: string): Instruction[] {
    const out: Instruction[] = [];
    const lines = text.split(/\r?\n/);
    for (let i = 0; i < lines.length; i++) {
        const first = lines[i] ?? '';
        if (/^\s*(#|$)/.test(first)) continue;
        const start = i + 1;
        let body = first;
        while (/\\\s*$/.test(body) && i + 1 < lines.length) {
            i++;
            const next = lines[i] ?? '';
            if (/^\s*#/.test(next)) continue;
            body = body.replace(/\\\s*$/, ' ') + next;
        }
        const m = /^\s*([A-Za-z]+)\s*(.*)$/.exec(body);
        if (m)
            out.push({ name: (m[1] ?? '').toUpperCase(), args: (m[2] ?? '').trim(), line: start });
    }
    return out;
}

function commandOf(args: string): string[] {
    if (args.startsWith('[')) {
        try {
            const parsed: unknown = JSON.parse(args);
            if (Array.isArray(parsed)) return parsed.map(String);
        } catch {
            // Docker runs a malformed JSON form as a shell command; so do we.
        }
    }
    return ['/bin/sh', '-c', args];
}

function substituteArgs(text: string, args: Record<string, string>): string {
    return text.replace(
        /\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g,
        (all, name: string) => args[name] ?? all,
    );
}

/** Reads the final stage's ENTRYPOINT, CMD and the MLflow version it installs or starts from. */
export function readDockerfileFacts(
    text: string,
    file: string,
    buildArgs: Record<string, string> = {},
): DockerfileFacts {
    const facts: DockerfileFacts = { file };
    const args: Record<string, string> = {};
    const setArg = (body: string): void => {
        const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:=(.*))?$/.exec(body.trim());
        if (!m) return;
        const name = m[1] ?? '';
        const fallback = m[2]?.replace(/^["']|["']$/g, '');
        const value = buildArgs[name] ?? fallback;
        if (value !== undefined) args[name] = value;
    };
    for (const ins of instructionsOf(text)) {
        if (ins.name === 'ARG') {
            setArg(ins.args);
            const m = /^MLFLOW_VERSION=["']?([0-9][\w.+-]*)/.exec(ins.args);
            const version = buildArgs.MLFLOW_VERSION ?? m?.[1];
            if (version && !facts.version)
                facts.version = { version, instruction: 'ARG', line: ins.line };
        } else if (ins.name === 'FROM') {
            // A new stage starts: what the previous one ran is not in the final image.
            delete facts.entrypoint;
            delete facts.cmd;
            const image = substituteArgs(
                ins.args.replace(/--\S+\s+/g, '').split(/\s+/)[0] ?? '',
                args,
            );
            const version = isMlflowImage(image)
                ? versionFromTag(parseImageReference(image).tag)
                : undefined;
            if (version) facts.version = { version, instruction: 'FROM', line: ins.line };
            else if (facts.version?.instruction !== 'ARG') delete facts.version;
        } else if (ins.name === 'RUN') {
            const version = scriptCommands(substituteArgs(ins.args, args))
                .map(pipPinnedVersion)
                .find((v) => v !== undefined);
            if (version) facts.version = { version, instruction: 'RUN', line: ins.line };
        } else if (ins.name === 'ENTRYPOINT') {
            facts.entrypoint = commandOf(ins.args);
            // Docker resets CMD when a stage sets ENTRYPOINT.
            delete facts.cmd;
        } else if (ins.name === 'CMD') {
            facts.cmd = commandOf(ins.args);
        }
    }
    return facts;
}

const MAX_DOCKERFILE_BYTES = 1024 * 1024;

function loadDockerfile(
    project: ComposeProject,
    service: ComposeService,
    folder: string,
): DockerfileFacts | undefined {
    const build = service.build;
    // Not yet: remote (git URL) build contexts and inline `dockerfile_inline` are not read.
    if (!build || /^[a-z]+:\/\//i.test(build.context) || build.context.startsWith('git@'))
        return undefined;
    const context = path.resolve(project.workingDir, build.context);
    const file = path.resolve(context, build.dockerfile ?? 'Dockerfile');
    try {
        if (statSync(file).size > MAX_DOCKERFILE_BYTES) return undefined;
        const text = readFileSync(file, 'utf8');
        const rel = path.relative(folder, file).split(path.sep).join('/');
        return readDockerfileFacts(text, rel.startsWith('..') ? file : rel, build.args ?? {});
    } catch {
        return undefined;
    }
}

/** The folder the project's file names are relative to: where the first compose file sits. */
function diagnosedFolder(project: ComposeProject): string {
    const first = project.files[0];
    if (!first || path.isAbsolute(first)) return project.workingDir;
    const dir = path.posix.dirname(first);
    if (dir === '.') return project.workingDir;
    return path.resolve(project.workingDir, ...dir.split('/').map(() => '..'));
}

/** The MLflow servers among the project's services, with their options and where each is set. */
export function findServerConfigs(project: ComposeProject): ServerConfig[] {
    const folder = diagnosedFolder(project);
    const configs: ServerConfig[] = [];
    for (const service of project.services) {
        const config = serverConfigOf(project, service, folder);
        if (config) configs.push(config);
    }
    return configs;
}

function serverConfigOf(
    project: ComposeProject,
    service: ComposeService,
    folder: string,
): ServerConfig | undefined {
    const base = `services.${service.name}`;
    const dockerfile = service.build ? loadDockerfile(project, service, folder) : undefined;

    // What the container runs: a compose entrypoint drops the image's CMD, as Docker does.
    const entrypoint = service.entrypoint ?? dockerfile?.entrypoint ?? [];
    const command = service.command ?? (service.entrypoint ? [] : (dockerfile?.cmd ?? []));
    const argv = [...entrypoint, ...command];

    let parsed = parseServerCommand(argv);
    if (
        !parsed &&
        isMlflowImage(service.image) &&
        command.length > 0 &&
        command[0]?.startsWith('-')
    ) {
        // An MLflow image whose entrypoint is the server, given only options.
        parsed = { subcommand: 'server', ...parseServerFlags(command) };
        for (const field of Object.keys(parsed.at) as ServerField[])
            parsed.at[field] = (parsed.at[field] ?? 0) + entrypoint.length;
    }
    if (!parsed) return undefined;

    const keyOf = (index: number | undefined): string | undefined => {
        if (index === undefined) return undefined;
        const inEntrypoint = index < entrypoint.length;
        const fromCompose = inEntrypoint
            ? service.entrypoint !== undefined
            : service.command !== undefined;
        // Not yet: options that come from the Dockerfile's CMD or ENTRYPOINT get no location.
        if (!fromCompose) return undefined;
        const field = inEntrypoint ? 'entrypoint' : 'command';
        const form = inEntrypoint ? service.entrypointForm : service.commandForm;
        const offset = inEntrypoint ? index : index - entrypoint.length;
        return form === 'exec' ? `${base}.${field}.${offset}` : `${base}.${field}`;
    };

    const fromEnv = envOptions(service.environment);
    const values: ServerCommand['values'] = fromEnv.values;
    const keys: Partial<Record<ServerField, string>> = {};
    for (const [field, name] of Object.entries(fromEnv.names) as [ServerField, string][])
        keys[field] = `${base}.environment.${name}`;
    // The command line wins over the environment, as click resolves options.
    for (const field of Object.keys(parsed.values) as ServerField[]) {
        values[field] = parsed.values[field];
        const key = keyOf(parsed.at[field]);
        if (key) keys[field] = key;
        else delete keys[field];
    }
    const config = configFromOptions(service.name, values, keys);

    const declared = declaredVersionOf(
        project,
        service,
        parsed,
        dockerfile,
        keyOf(parsed.scriptIndex),
    );
    if (declared) config.declaredVersion = declared;
    return config;
}

function declaredVersionOf(
    project: ComposeProject,
    service: ComposeService,
    parsed: ServerCommand,
    dockerfile: DockerfileFacts | undefined,
    scriptKey: string | undefined,
): ServerConfig['declaredVersion'] {
    const base = `services.${service.name}`;
    const at = (key: string): { file: string; key: string; line?: number } => {
        const range = project.ranges[key];
        return range
            ? { file: range.file, key, line: range.line }
            : { file: project.files[0] ?? '', key };
    };
    // A pip install at start-up replaces whatever the image had.
    if (parsed.pipVersion)
        return { version: parsed.pipVersion, ...at(scriptKey ?? `${base}.command`) };
    if (dockerfile?.version) {
        return {
            version: dockerfile.version.version,
            file: dockerfile.file,
            key: dockerfile.version.instruction,
            line: dockerfile.version.line,
        };
    }
    const tagged = isMlflowImage(service.image)
        ? versionFromTag(parseImageReference(service.image ?? '').tag)
        : undefined;
    if (tagged) return { version: tagged, ...at(`${base}.image`) };
    return undefined;
}

/**
 * The server config of a running container that no compose file describes (a stack started
 * with `docker run`), from its live Cmd, Entrypoint and environment. Values have no file keys.
 */
export function serverConfigFromContainer(container: ContainerFacts): ServerConfig | undefined {
    const parsed = parseServerCommand([...container.entrypoint, ...container.cmd]);
    if (!parsed) return undefined;
    const config = commandConfig(container.service ?? container.name, parsed, container.env);
    const version = versionFromTag(parseImageReference(container.image).tag) ?? parsed.pipVersion;
    if (version) config.declaredVersion = { version, file: `container ${container.name}` };
    return config;
}

/**
 * The server config for an argv and environment that no compose file holds (a `docker run` line,
 * a Dockerfile's command). Values have no file keys and no declared version.
 */
export function serverConfigFromCommand(
    service: string,
    argv: string[],
    env: Record<string, string>,
): ServerConfig | undefined {
    const parsed = parseServerCommand(argv);
    return parsed ? commandConfig(service, parsed, env) : undefined;
}

function commandConfig(
    service: string,
    parsed: ServerCommand,
    env: Record<string, string>,
): ServerConfig {
    // The command line wins over the environment, as click resolves options.
    return configFromOptions(service, { ...envOptions(env).values, ...parsed.values });
}

/** The server options set by `MLFLOW_*` variables, and the variable that set each. */
function envOptions(environment: Record<string, string | null | undefined>): {
    values: ServerCommand['values'];
    names: Partial<Record<ServerField, string>>;
} {
    const values: ServerCommand['values'] = {};
    const names: Partial<Record<ServerField, string>> = {};
    for (const [name, field] of Object.entries(ENV_VARS)) {
        const value = environment[name];
        if (value === undefined || value === null) continue;
        values[field] = BOOLEAN_FIELDS.has(field) ? /^(1|true|yes|on|t|y)$/i.test(value) : value;
        names[field] = name;
    }
    return { values, names };
}

/** A ServerConfig from resolved option values and the file key each value came from. */
function configFromOptions(
    service: string,
    values: ServerCommand['values'],
    keys: Partial<Record<ServerField, string>> = {},
): ServerConfig {
    const text = (field: ServerField): string | undefined => {
        const v = values[field];
        return typeof v === 'string' ? v : undefined;
    };
    const portText = text('port');
    const port = portText !== undefined && /^\d+$/.test(portText) ? Number(portText) : 5000;
    const config: ServerConfig = { service, port, keys: {} };
    const host = text('host');
    if (host !== undefined) config.host = host;
    const optional = [
        'backendStoreUri',
        'defaultArtifactRoot',
        'artifactsDestination',
        'staticPrefix',
        'appName',
        'gunicornOpts',
    ] as const;
    for (const field of optional) {
        const v = text(field);
        if (v !== undefined) config[field] = v;
    }
    if (typeof values.serveArtifacts === 'boolean') config.serveArtifacts = values.serveArtifacts;
    if (typeof values.artifactsOnly === 'boolean') config.artifactsOnly = values.artifactsOnly;
    const allowed = text('allowedHosts');
    if (allowed !== undefined)
        config.allowedHosts = allowed
            .split(',')
            .map((h) => h.trim())
            .filter((h) => h !== '');
    for (const field of Object.keys(keys) as ServerField[]) {
        if (field === 'gunicornOpts') continue;
        const key = keys[field];
        if (key) config.keys[field] = key;
    }
    return config;
}
