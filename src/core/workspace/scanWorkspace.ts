// The client side of a stack as the workspace shows it: which tracking URIs scripts, notebooks,
// `.env` files and compose services set, which MLflow calls the code makes, and which MLflow
// version the clients install (interpreter, requirement pins, lock files, Dockerfiles).

import { promises as fs } from 'node:fs';
import path from 'node:path';

import { mlflowVersionAtLeast } from '../filestore/readerVersions.js';
import type { ComposeProject, MlflowCall, TrackingUriUse, WorkspaceFacts } from '../model.js';
import {
    probeInterpreterMlflow,
    workspaceInterpreter,
    type InterpreterAnswer,
} from './interpreter.js';
import {
    isServerDockerfile,
    pinnedVersion,
    pinsInCondaEnvironment,
    pinsInDockerfile,
    pinsInPipfileLock,
    pinsInRequirements,
    pinsInTomlLock,
    pinsInTomlSpecs,
    pinsOnInstallCommand,
} from './mlflowPins.js';
import { mlflowUsage, type PythonUsage } from './mlflowUsage.js';
import { readNotebook, type NotebookCell } from './notebook.js';
import { positionOf } from './pythonSource.js';
import { SKIPPED_WORKSPACE_DIRS } from './walkFolder.js';

export interface ScanOptions {
    compose?: ComposeProject;
    /** Bound for the interpreter probe and for the whole scan's file reads. */
    timeoutMs: number;
    pythonPath?: string;
    /** false: the workspace's Python is not run (an untrusted folder's `.venv` is its code). */
    runInterpreter?: boolean;
    /**
     * The interpreter's answer, when the caller started the probe already (it is the slow part
     * of the scan, so the gatherer starts it before it knows the compose project).
     */
    interpreterAnswer?: Promise<InterpreterAnswer>;
}

const SKIPPED_DIRS = SKIPPED_WORKSPACE_DIRS;
const MAX_FILE_BYTES = 2 * 1024 * 1024;
const MAX_ENTRIES = 20_000;
const MAX_DEPTH = 8;

type FileRole =
    | 'python'
    | 'notebook'
    | 'dotenv'
    | 'requirements'
    | 'pyproject'
    | 'pipfile'
    | 'conda'
    | 'toml-lock'
    | 'pipfile-lock'
    | 'dockerfile';

/** What a file name says it is, or undefined for files the scan ignores. */
export function roleOf(name: string): FileRole | undefined {
    const lower = name.toLowerCase();
    if (lower.endsWith('.py')) return 'python';
    if (lower.endsWith('.ipynb')) return 'notebook';
    if (lower === '.env' || lower.startsWith('.env.') || lower.endsWith('.env')) return 'dotenv';
    if (/^(requirements|constraints)[\w.-]*\.(txt|in)$/.test(lower)) return 'requirements';
    if (lower === 'pyproject.toml') return 'pyproject';
    if (lower === 'pipfile') return 'pipfile';
    if (lower === 'pipfile.lock') return 'pipfile-lock';
    if (lower === 'poetry.lock' || lower === 'uv.lock') return 'toml-lock';
    if (/^(environment|conda)[\w.-]*\.ya?ml$/.test(lower)) return 'conda';
    if (
        lower === 'dockerfile' ||
        lower.startsWith('dockerfile.') ||
        lower.endsWith('.dockerfile')
    ) {
        return 'dockerfile';
    }
    return undefined;
}

export async function scanWorkspace(folder: string, options: ScanOptions): Promise<WorkspaceFacts> {
    const facts: WorkspaceFacts = {
        trackingUris: [],
        calls: [],
        clientVersions: [],
        unreadable: [],
        notes: [],
    };
    const deadline = Date.now() + options.timeoutMs;
    const interpreter = options.interpreterAnswer ?? askInterpreter(folder, options);

    const files = await listFiles(folder, facts);
    const scripts = new Map<string, { calls: MlflowCall[]; setsUri: boolean }>();
    const serverDockerfiles = serverDockerfilesOf(folder, options.compose);
    const dockerfileServices = dockerfileServicesOf(folder, options.compose);

    for (const { abs, rel, role } of files) {
        if (Date.now() > deadline) {
            facts.notes?.push(
                `stopped reading the workspace after ${options.timeoutMs} ms; later files were not read`,
            );
            break;
        }
        let text: string;
        try {
            text = await fs.readFile(abs, 'utf8');
        } catch (error) {
            facts.unreadable.push({
                file: rel,
                error: (error as NodeJS.ErrnoException).code ?? String(error),
            });
            continue;
        }
        switch (role) {
            case 'python':
                addPython(facts, scripts, rel, mlflowUsage(text));
                break;
            case 'notebook':
                addNotebook(facts, scripts, rel, text);
                break;
            case 'dotenv':
                facts.trackingUris.push(...dotenvUris(text, rel));
                break;
            case 'requirements':
                facts.clientVersions.push(...pinsInRequirements(text, rel));
                break;
            case 'pyproject':
            case 'pipfile':
                facts.clientVersions.push(...pinsInTomlSpecs(text, rel));
                break;
            case 'conda':
                facts.clientVersions.push(...pinsInCondaEnvironment(text, rel));
                break;
            case 'toml-lock':
                facts.clientVersions.push(...pinsInTomlLock(text, rel));
                break;
            case 'pipfile-lock':
                facts.clientVersions.push(...pinsInPipfileLock(text, rel));
                break;
            case 'dockerfile': {
                // A server image's pin is the server's version, not a client's.
                if (serverDockerfiles.has(abs) || isServerDockerfile(text)) break;
                const service = dockerfileServices.get(abs);
                const pins = pinsInDockerfile(text, rel, service?.args);
                facts.clientVersions.push(
                    ...pins.map((p) => (service ? { ...p, service: service.name } : p)),
                );
                break;
            }
        }
    }

    if (options.compose) addCompose(facts, options.compose);

    const answer = await interpreter;
    if (answer.kind === 'version') {
        facts.clientVersions.unshift({
            version: answer.version,
            source: 'interpreter',
            interpreter: answer.interpreter,
            spec: answer.package === 'mlflow' ? undefined : `${answer.package}==${answer.version}`,
        });
    } else if (answer.kind === 'not-installed') {
        facts.notes?.push(`${answer.interpreter} has no mlflow or mlflow-skinny installed`);
    } else {
        facts.notes?.push(
            `could not ask ${answer.interpreter} for its MLflow version: ${answer.error}`,
        );
    }

    addDefaultUris(facts, scripts);
    return facts;
}

/** The workspace interpreter's MLflow, or why it was not asked. */
export function askInterpreter(
    folder: string,
    options: Pick<ScanOptions, 'timeoutMs' | 'pythonPath' | 'runInterpreter'>,
): Promise<InterpreterAnswer> {
    const interpreter = workspaceInterpreter(folder, options.pythonPath);
    if (options.runInterpreter === false) {
        return Promise.resolve({
            kind: 'failed',
            interpreter,
            error: 'running the workspace interpreter is off',
        });
    }
    return probeInterpreterMlflow(interpreter, Math.min(options.timeoutMs, 10_000));
}

// ---------------------------------------------------------------------------------------------
// Files

async function listFiles(
    folder: string,
    facts: WorkspaceFacts,
): Promise<{ abs: string; rel: string; role: FileRole }[]> {
    const found: { abs: string; rel: string; role: FileRole }[] = [];
    const queue: [string, number][] = [[folder, 0]];
    let entriesSeen = 0;
    for (let q = 0; q < queue.length; q++) {
        const [dir, depth] = queue[q] as [string, number];
        let entries;
        try {
            entries = await fs.readdir(dir, { withFileTypes: true });
        } catch (error) {
            facts.unreadable.push({
                file: relativeTo(folder, dir),
                error: (error as NodeJS.ErrnoException).code ?? String(error),
            });
            continue;
        }
        entries.sort((a, b) => a.name.localeCompare(b.name));
        for (const entry of entries) {
            if (++entriesSeen > MAX_ENTRIES) {
                facts.notes?.push(
                    `the workspace has more than ${MAX_ENTRIES} entries; the rest were not scanned`,
                );
                return found;
            }
            const abs = path.join(dir, entry.name);
            if (entry.isDirectory()) {
                if (!SKIPPED_DIRS.has(entry.name) && depth + 1 < MAX_DEPTH)
                    queue.push([abs, depth + 1]);
                continue;
            }
            if (!entry.isFile()) continue;
            const role = roleOf(entry.name);
            if (!role) continue;
            const rel = relativeTo(folder, abs);
            try {
                const { size } = await fs.stat(abs);
                if (size > MAX_FILE_BYTES) {
                    facts.unreadable.push({
                        file: rel,
                        error: `skipped: ${size} bytes is over the 2 MB limit`,
                    });
                    continue;
                }
            } catch (error) {
                facts.unreadable.push({
                    file: rel,
                    error: (error as NodeJS.ErrnoException).code ?? String(error),
                });
                continue;
            }
            found.push({ abs, rel, role });
        }
    }
    return found;
}

// ---------------------------------------------------------------------------------------------
// Scripts and notebooks

function addPython(
    facts: WorkspaceFacts,
    scripts: Map<string, { calls: MlflowCall[]; setsUri: boolean }>,
    file: string,
    usage: PythonUsage,
): void {
    const calls = usage.calls.map((c) => ({
        api: c.api,
        file,
        line: c.line,
        column: c.column,
        text: c.text,
    }));
    facts.calls.push(...calls);
    for (const uri of usage.uris) {
        facts.trackingUris.push({
            uri: uri.uri,
            file,
            line: uri.line,
            column: uri.column,
            via: uri.via,
        });
    }
    for (const place of usage.unresolved) {
        facts.notes?.push(
            `${file}:${place.line} sets the tracking URI from \`${place.expression}\`, which was not resolved`,
        );
    }
    scripts.set(file, { calls, setsUri: usage.uris.length > 0 || usage.unresolved.length > 0 });
}

/** Cell magics whose body is not Python. */
const NON_PYTHON_CELL = /^\s*%%(?!capture|time|timeit|prun)\w+/;

function addNotebook(
    facts: WorkspaceFacts,
    scripts: Map<string, { calls: MlflowCall[]; setsUri: boolean }>,
    file: string,
    raw: string,
): void {
    const notebook = readNotebook(raw);
    if (!notebook.ok) {
        facts.unreadable.push({ file, error: notebook.error });
        return;
    }

    // The cells share one namespace, so they are analysed as one text; magics become blanks.
    const starts: number[] = [];
    let python = '';
    const uris: TrackingUriUse[] = [];
    for (const cell of notebook.cells) {
        starts.push(python.length);
        python += magicsBlanked(cell, file, facts, uris) + '\n';
    }
    const usage = mlflowUsage(python);
    const locate = (
        offset: number,
    ): { cell: NotebookCell; line: number; column: number; rawLine: number; rawColumn: number } => {
        let k = starts.length - 1;
        while (k > 0 && (starts[k] as number) > offset) k--;
        const cell = notebook.cells[k] as NotebookCell;
        const inCell = offset - (starts[k] as number);
        const { line, column } = positionOf(cell.source, inCell);
        const rawAt = cell.rawPosition(inCell);
        return { cell, line, column, rawLine: rawAt.line, rawColumn: rawAt.column };
    };

    const calls: MlflowCall[] = usage.calls.map((c) => {
        const at = locate(c.offset);
        return {
            api: c.api,
            file,
            line: at.line,
            column: at.column,
            cell: at.cell.index,
            rawLine: at.rawLine,
            rawColumn: at.rawColumn,
            text: c.text,
        };
    });
    facts.calls.push(...calls);
    for (const uri of usage.uris) {
        const at = locate(uri.offset);
        uris.push({
            uri: uri.uri,
            file,
            line: at.line,
            column: at.column,
            cell: at.cell.index,
            rawLine: at.rawLine,
            rawColumn: at.rawColumn,
            via: uri.via,
        });
    }
    for (const place of usage.unresolved) {
        const at = locate(place.offset);
        facts.notes?.push(
            `${file} cell ${at.cell.index} line ${at.line} sets the tracking URI from \`${place.expression}\`, which was not resolved`,
        );
    }
    facts.trackingUris.push(...uris);
    scripts.set(file, { calls, setsUri: uris.length > 0 || usage.unresolved.length > 0 });
}

/**
 * The cell's source with IPython magics and shell escapes replaced by spaces (offsets kept);
 * `%env MLFLOW_TRACKING_URI=...` and `%pip install mlflow==...` are recorded on the way.
 */
function magicsBlanked(
    cell: NotebookCell,
    file: string,
    facts: WorkspaceFacts,
    uris: TrackingUriUse[],
): string {
    const wholeCell = NON_PYTHON_CELL.test(cell.source);
    let offset = 0;
    return cell.source
        .split('\n')
        .map((line) => {
            const lineStart = offset;
            offset += line.length + 1;
            const magic = /^(\s*)([%!])/.exec(line);
            if (!magic && !wholeCell) return line;

            const at = positionOf(cell.source, lineStart);
            const raw = cell.rawPosition(lineStart);
            const env = /^\s*%(?:env|set_env)\s+MLFLOW_TRACKING_URI(?:\s*=\s*|\s+)(\S.*?)\s*$/.exec(
                line,
            );
            if (env) {
                const column = line.indexOf('%') + 1;
                uris.push({
                    uri: stripQuotes(env[1] as string),
                    file,
                    line: at.line,
                    column,
                    cell: cell.index,
                    rawLine: raw.line,
                    rawColumn: raw.column + column - 1,
                    via: 'env-assignment',
                });
            }
            for (const spec of pinsOnInstallCommand(line.replace(/^\s*[%!]/, ''))) {
                const cleanSpec = spec.spec ?? '';
                facts.clientVersions.push({
                    version: pinnedVersion(cleanSpec),
                    spec: `${spec.name.toLowerCase()}${spec.extras ?? ''}${cleanSpec}`,
                    source: 'requirements',
                    file,
                    line: at.line,
                    cell: cell.index,
                    rawLine: raw.line,
                });
            }
            return ' '.repeat(line.length);
        })
        .join('\n');
}

// ---------------------------------------------------------------------------------------------
// .env files and compose

function dotenvUris(text: string, file: string): TrackingUriUse[] {
    const uris: TrackingUriUse[] = [];
    text.split('\n').forEach((line, i) => {
        const match = /^(\s*(?:export\s+)?)MLFLOW_TRACKING_URI\s*=\s*(.*?)\s*$/.exec(
            line.replace(/\r$/, ''),
        );
        if (!match) return;
        let value = match[2] as string;
        value = /^["']/.test(value) ? stripQuotes(value) : value.replace(/\s+#.*$/, '');
        if (value === '') return;
        uris.push({
            uri: value,
            file,
            line: i + 1,
            column: (match[1] as string).length + 1,
            via: 'dotenv',
        });
    });
    return uris;
}

function addCompose(facts: WorkspaceFacts, compose: ComposeProject): void {
    for (const service of compose.services) {
        const uri = service.environment.MLFLOW_TRACKING_URI;
        if (uri) {
            const range =
                compose.ranges[`services.${service.name}.environment.MLFLOW_TRACKING_URI`] ??
                compose.ranges[`services.${service.name}.env_file`] ??
                compose.ranges[`services.${service.name}`];
            facts.trackingUris.push({
                uri,
                file: range?.file ?? compose.files[0] ?? 'compose.yaml',
                line: range?.line ?? 1,
                column: range?.column ?? 1,
                via: 'compose-environment',
                service: service.name,
            });
        }
        // Images like apache/airflow install extra packages from this variable at start-up.
        const extra = service.environment._PIP_ADDITIONAL_REQUIREMENTS;
        if (extra) {
            const range =
                compose.ranges[`services.${service.name}.environment._PIP_ADDITIONAL_REQUIREMENTS`];
            for (const spec of pinsOnInstallCommand(`pip install ${extra}`)) {
                const cleanSpec = spec.spec ?? '';
                facts.clientVersions.push({
                    version: pinnedVersion(cleanSpec),
                    spec: `${spec.name.toLowerCase()}${spec.extras ?? ''}${cleanSpec}`,
                    source: 'requirements',
                    file: range?.file ?? compose.files[0],
                    line: range?.line,
                    service: service.name,
                });
            }
        }
    }
}

/** Absolute Dockerfile paths of compose services that run an MLflow server. */
function serverDockerfilesOf(folder: string, compose?: ComposeProject): Set<string> {
    const result = new Set<string>();
    for (const [abs, service] of dockerfileServicesOf(folder, compose)) {
        const line = [...(service.entrypoint ?? []), ...(service.command ?? [])].join(' ');
        if (/\bmlflow\s+(?:server|ui)\b/.test(line)) result.add(abs);
    }
    return result;
}

function dockerfileServicesOf(
    folder: string,
    compose?: ComposeProject,
): Map<
    string,
    { name: string; args?: Record<string, string>; command?: string[]; entrypoint?: string[] }
> {
    const result = new Map<
        string,
        { name: string; args?: Record<string, string>; command?: string[]; entrypoint?: string[] }
    >();
    for (const service of compose?.services ?? []) {
        if (!service.build) continue;
        const context = path.resolve(compose?.workingDir ?? folder, service.build.context);
        const dockerfile = path.resolve(context, service.build.dockerfile ?? 'Dockerfile');
        result.set(dockerfile, {
            name: service.name,
            args: service.build.args,
            command: service.command,
            entrypoint: service.entrypoint,
        });
    }
    return result;
}

// ---------------------------------------------------------------------------------------------
// The default tracking URI

/**
 * A script that calls MLflow but sets no URI anywhere (itself, a `.env`, a compose service) uses
 * the client's default: `./mlruns` up to 3.6, `sqlite:///mlflow.db` from 3.7 (mlflow-facts §6.1).
 */
function addDefaultUris(
    facts: WorkspaceFacts,
    scripts: Map<string, { calls: MlflowCall[]; setsUri: boolean }>,
): void {
    if (facts.trackingUris.some((u) => u.via === 'dotenv' || u.via === 'compose-environment'))
        return;
    const known = facts.clientVersions.find((v) => v.version)?.version;
    const sqliteDefault = mlflowVersionAtLeast(known, '3.7.0');
    const uri = sqliteDefault ? 'sqlite:///mlflow.db' : './mlruns';
    let added = false;
    for (const [, script] of scripts) {
        if (script.setsUri) continue;
        const first = script.calls.find(
            (c) => c.api.startsWith('mlflow.') || c.api.startsWith('MlflowClient'),
        );
        if (!first) continue;
        added = true;
        facts.trackingUris.push({
            uri,
            file: first.file,
            line: first.line,
            column: first.column,
            cell: first.cell,
            rawLine: first.rawLine,
            rawColumn: first.rawColumn,
            via: 'default',
        });
    }
    if (added && sqliteDefault === undefined) {
        facts.notes?.push(
            'the client MLflow version is unknown, so the default tracking URI is taken as ./mlruns; MLflow 3.7 and later default to sqlite:///mlflow.db',
        );
    }
}

function stripQuotes(value: string): string {
    return value.trim().replace(/^(['"])(.*)\1$/, '$2');
}

function relativeTo(folder: string, abs: string): string {
    return path.relative(folder, abs).split(path.sep).join('/') || '.';
}
