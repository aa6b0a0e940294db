// The server's command line against the MLflow version that runs it: options that version does
// not have (click exits with `Error: no such option`), option combinations it refuses, and the
// tracking-store defaults and deprecations that changed across 3.x (facts §4.7, §5).

import path from 'node:path';
import type { Finding, FindingLocation, ServerConfig, StackSnapshot } from '../model.js';
import { scriptCommands } from '../compose/shellSplit.js';
import { readDockerfileFacts } from '../mlflow/serverConfig.js';
import {
    compareVersions,
    defaultsToSqlite,
    fileStoreSupport,
    flagAvailable,
    flagSince,
    flagSource,
    hasMigrateFilestore,
    isAtLeast,
    parseVersion,
} from '../mlflow/versions.js';
import {
    type Check,
    composeLocation,
    locateText,
    makeFinding,
    nearestComposeLocation,
} from './check.js';
import { composeService, containerOf } from './stackFacts.js';
import { serverVersionOf } from './versionParity.js';

/** One way the stack starts a server: its argv, its version, and where the words are written. */
interface ServerLaunch {
    service?: string;
    /** The words after `mlflow server` (inside a `sh -c` script, that command's words). */
    options: string[];
    command: string;
    version: string;
    versionHow: string;
    locate(flag: string, index: number): FindingLocation | undefined;
    config?: ServerConfig;
}

const SHELLS = /^(?:.*\/)?(?:sh|bash|ash|dash|zsh)$/;

/** The options of an `mlflow server|ui` invocation in argv, also inside `sh -c "..."`. */
export function serverOptions(
    argv: string[],
): { options: string[]; at: number; inScript: boolean } | undefined {
    const direct = (words: string[]) => {
        for (let i = 0; i < words.length; i++) {
            const word = (words[i] ?? '').replace(/^.*\//, '');
            const sub = (n: number) => ['server', 'ui'].includes(words[i + n] ?? '');
            if (word === 'mlflow' && sub(1)) return i + 2;
            if (/^python[\d.]*$/.test(word) && words[i + 1] === '-m' && words[i + 2] === 'mlflow')
                if (sub(3)) return i + 4;
        }
        return undefined;
    };
    const shell = argv.findIndex((w) => SHELLS.test(w));
    if (shell >= 0) {
        const c = argv.findIndex((w, i) => i > shell && /^-[a-z]*c[a-z]*$/.test(w));
        const script = c >= 0 ? argv[c + 1] : undefined;
        if (script !== undefined) {
            for (const words of scriptCommands(script)) {
                const from = direct(words);
                if (from !== undefined)
                    return { options: words.slice(from), at: c + 1, inScript: true };
            }
            return undefined;
        }
    }
    const from = direct(argv);
    return from === undefined
        ? undefined
        : { options: argv.slice(from), at: from, inScript: false };
}

/** A location for text inside a compose node's range, narrowed to the text itself. */
function textInRange(
    snapshot: StackSnapshot,
    key: string,
    needle: string,
): FindingLocation | undefined {
    const range = snapshot.compose?.ranges[key];
    if (!range) return undefined;
    const found = locateText(snapshot, range.file, needle, range.line);
    if (found && found.line <= range.endLine) return { ...found, key };
    return { ...range, key };
}

function composeLaunch(snapshot: StackSnapshot, config: ServerConfig): ServerLaunch | undefined {
    const server = serverVersionOf(snapshot, config);
    const service = composeService(snapshot, config.service);
    if (!server || !service) return undefined;
    const dockerfile = dockerfileOf(snapshot, service.build);
    const entrypoint = service.entrypoint ?? dockerfile?.facts.entrypoint ?? [];
    const command = service.command ?? (service.entrypoint ? [] : (dockerfile?.facts.cmd ?? []));
    const argv = [...entrypoint, ...command];
    let found = serverOptions(argv);
    // An MLflow image whose entrypoint is the server, given only options.
    if (!found && command[0]?.startsWith('-'))
        found = { options: command, at: entrypoint.length, inScript: false };
    if (!found) return undefined;
    const fromCompose = service.command !== undefined || service.entrypoint !== undefined;
    const base = `services.${config.service}`;
    const { at, inScript } = found;
    return {
        service: config.service,
        options: found.options,
        command: argv.join(' '),
        version: server.version,
        versionHow: server.how,
        config,
        locate(flag, index) {
            if (!fromCompose && dockerfile)
                return instructionLocation(snapshot, dockerfile.file, flag);
            const argvIndex = at + index;
            const inEntrypoint = !inScript && argvIndex < entrypoint.length;
            const field = inEntrypoint ? 'entrypoint' : 'command';
            const form = inEntrypoint ? service.entrypointForm : service.commandForm;
            const offset = inEntrypoint ? argvIndex : argvIndex - entrypoint.length;
            if (form === 'exec' && !inScript) {
                const item = composeLocation(snapshot, `${base}.${field}.${offset}`);
                if (item) return item;
            }
            return textInRange(snapshot, `${base}.${field}`, flag);
        },
    };
}

function dockerfileOf(
    snapshot: StackSnapshot,
    build: { context: string; dockerfile?: string; args?: Record<string, string> } | undefined,
) {
    if (!build) return undefined;
    const context = path.relative(
        snapshot.folder,
        path.resolve(snapshot.compose?.workingDir ?? snapshot.folder, build.context),
    );
    const file = path.posix.join(
        context.split(path.sep).join('/'),
        build.dockerfile ?? 'Dockerfile',
    );
    const text = snapshot.files?.[file];
    return text === undefined
        ? undefined
        : { file, facts: readDockerfileFacts(text, file, build.args ?? {}) };
}

/** The flag on the last CMD or ENTRYPOINT line that has it. */
function instructionLocation(
    snapshot: StackSnapshot,
    file: string,
    flag: string,
): FindingLocation | undefined {
    const lines = (snapshot.files?.[file] ?? '').split(/\r?\n/);
    for (let i = lines.length - 1; i >= 0; i--) {
        const m = /^\s*(CMD|ENTRYPOINT)\b/i.exec(lines[i] ?? '');
        if (!m) continue;
        const found = locateText(snapshot, file, flag, i + 1);
        if (found) return { ...found, key: (m[1] as string).toUpperCase() };
    }
    return undefined;
}

/** Dockerfiles that start a server and that no compose service builds (a `docker run` stack). */
function dockerfileLaunches(snapshot: StackSnapshot): ServerLaunch[] {
    const built = new Set(
        (snapshot.compose?.services ?? []).flatMap((s) => {
            const d = dockerfileOf(snapshot, s.build);
            return d ? [d.file] : [];
        }),
    );
    const launches: ServerLaunch[] = [];
    for (const [file, text] of Object.entries(snapshot.files ?? {})) {
        if (!/(^|\/)(Dockerfile[\w.-]*|[\w.-]+\.Dockerfile)$/.test(file) || built.has(file))
            continue;
        const facts = readDockerfileFacts(text, file);
        const argv = [...(facts.entrypoint ?? []), ...(facts.cmd ?? [])];
        const found = serverOptions(argv);
        if (!found || !facts.version) continue;
        launches.push({
            options: found.options,
            command: argv.join(' '),
            version: facts.version.version,
            versionHow: `${file}:${facts.version.line} (${facts.version.instruction}) installs MLflow ${facts.version.version}`,
            locate: (flag) => instructionLocation(snapshot, file, flag),
        });
    }
    return launches;
}

/** `Error: no such option: --backend-store-uri` lines, from containers and recorded commands. */
function noSuchOptionLines(snapshot: StackSnapshot, service: string | undefined): string[] {
    const logs = [
        ...(service ? (containerOf(snapshot, service)?.logTail ?? []) : []),
        ...(service ? [] : Object.values(snapshot.recorded?.commandLogs ?? {}).flat()),
        ...(service ? [] : (snapshot.docker?.containers ?? []).flatMap((c) => c.logTail ?? [])),
    ];
    return logs.filter((l) => /no such option:?\s+-/i.test(l));
}

/** The options as written (`--flag`, `--flag=value`), with their index. */
function optionWords(options: string[]): { flag: string; index: number }[] {
    return options.flatMap((word, index) =>
        /^--[a-z][\w-]*/i.test(word) ? [{ flag: word.replace(/=.*$/, ''), index }] : [],
    );
}

function missingFlags(snapshot: StackSnapshot, launch: ServerLaunch): Finding[] {
    const findings: Finding[] = [];
    const words = optionWords(launch.options);
    const observed = noSuchOptionLines(snapshot, launch.service);
    const seen = new Set<string>();
    // The first release that has every flag of this command, for the fix.
    const floor = words
        .map((w) => flagSince(w.flag))
        .filter((v): v is string => v !== undefined)
        .reduce((a, b) => (compareVersions(a, b) >= 0 ? a : b), '0.0.0');
    for (const { flag, index } of words) {
        if (seen.has(flag)) continue;
        // The flag is as written in the compose file, so it may hold regex syntax.
        const literal = flag.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        const named = new RegExp(`no such option:?\\s+${literal}(?![\\w-])`, 'i');
        const log = observed.find((l) => named.test(l));
        const available = parseVersion(launch.version)
            ? flagAvailable(launch.version, flag)
            : undefined;
        if (available !== false && !log) continue;
        seen.add(flag);
        const since = flagSince(flag);
        const source = flagSource(flag);
        const subject = launch.service ?? 'dockerfile';
        findings.push(
            makeFinding(`${subject}:flag:${flag}`, {
                kind: 'version-mismatch',
                severity: 'error',
                title: `MLflow ${launch.version} has no ${flag} option, which the server command uses`,
                evidence: [
                    `Server version: ${launch.versionHow}.`,
                    `Command: ${launch.command}`,
                    ...(available === false
                        ? [
                              `${flag} ${since ? `first appeared in MLflow ${since}` : 'is not an option of this version'} (${source ?? 'flag table'}).`,
                          ]
                        : []),
                    ...(log ? [`The server exited with: ${log.trim()}`] : []),
                ],
                fix:
                    `Upgrade the pinned MLflow to a release that has ${flag}` +
                    (compareVersions(floor, '0.0.0') > 0
                        ? ` and every other option in this command (${floor} or later; any current 2.x or 3.x release has them)`
                        : ' (any current 2.x or 3.x release)') +
                    `, or drop ${flag} from the command. \`docker run --rm <image> mlflow server --help\` lists what the image accepts.`,
                locations: [launch.locate(flag, index)].filter(
                    (l): l is FindingLocation => l !== undefined,
                ),
                ...(launch.service ? { service: launch.service } : {}),
            }),
        );
    }
    return findings;
}

const SECURITY_FLAGS = [
    '--allowed-hosts',
    '--cors-allowed-origins',
    '--disable-security-middleware',
    '--x-frame-options',
];
const SERVER_OPTS = ['--gunicorn-opts', '--waitress-opts', '--uvicorn-opts'];

/** Option combinations `mlflow server` refuses with a UsageError (facts §5.2, §5.3). */
function refusedCombinations(launch: ServerLaunch): Finding[] {
    if (!parseVersion(launch.version)) return [];
    const words = optionWords(launch.options);
    const has = (flag: string) => words.find((w) => w.flag === flag);
    const findings: Finding[] = [];
    const opts = SERVER_OPTS.filter(has);
    const subject = launch.service ?? 'dockerfile';
    const at = (flag: string) =>
        [launch.locate(flag, has(flag)?.index ?? 0)].filter(
            (l): l is FindingLocation => l !== undefined,
        );
    if (isAtLeast(launch.version, '3.3.0') && opts.length > 1) {
        findings.push(
            makeFinding(`${subject}:server-opts`, {
                kind: 'version-mismatch',
                severity: 'error',
                title: `The server command gives ${opts.join(' and ')}; MLflow ${launch.version} accepts only one`,
                evidence: [
                    `Server version: ${launch.versionHow}.`,
                    `Command: ${launch.command}`,
                    'From 3.3 the server runs uvicorn unless --gunicorn-opts or --waitress-opts is given, and it refuses more than one of the three (facts §5.2).',
                ],
                fix: 'Keep one: --uvicorn-opts for the default uvicorn server, or --gunicorn-opts alone for gunicorn.',
                locations: at(opts[1] as string),
                ...(launch.service ? { service: launch.service } : {}),
            }),
        );
    }
    const security = SECURITY_FLAGS.filter(has);
    const flaskServer = opts.find((o) => o !== '--uvicorn-opts');
    if (isAtLeast(launch.version, '3.5.0') && flaskServer && security.length > 0) {
        findings.push(
            makeFinding(`${subject}:security-with-${flaskServer}`, {
                kind: 'version-mismatch',
                severity: 'error',
                title: `${security.join(', ')} cannot be combined with ${flaskServer} on MLflow ${launch.version}`,
                evidence: [
                    `Server version: ${launch.versionHow}.`,
                    `Command: ${launch.command}`,
                    `Security options on the command line together with ${flaskServer} are a UsageError: they are uvicorn-only (facts §5.3).`,
                ],
                fix:
                    `Drop ${flaskServer} (uvicorn is the default from 3.3), or set the security options through ` +
                    'their environment variables (MLFLOW_SERVER_ALLOWED_HOSTS, MLFLOW_SERVER_CORS_ALLOWED_ORIGINS), which the Flask app also reads.',
                locations: at(security[0] as string),
                ...(launch.service ? { service: launch.service } : {}),
            }),
        );
    }
    return findings;
}

const FILE_BACKEND = /^(?:file:|\.{0,2}\/|[A-Za-z]:[\\/]|[\w.-]+(?:\/|$))/;

function isFileBackend(uri: string): boolean {
    return !/^[a-z][\w+.-]*:\/\//i.test(uri.replace(/^file:/i, '')) && FILE_BACKEND.test(uri);
}

const truthy = (v: string | null | undefined) => /^(1|true|yes|on)$/i.test(v ?? '');

/** 3.6+ deprecates the file backend and 3.13 refuses it without MLFLOW_ALLOW_FILE_STORE. */
function fileBackendSupport(snapshot: StackSnapshot, launch: ServerLaunch): Finding | undefined {
    const config = launch.config;
    if (!config || !parseVersion(launch.version)) return undefined;
    const explicit = config.backendStoreUri;
    // Up to 3.6 a server without --backend-store-uri uses ./mlruns (facts §5.1).
    const backend = explicit ?? (defaultsToSqlite(launch.version) ? undefined : './mlruns');
    if (backend === undefined || !isFileBackend(backend)) return undefined;
    const support = fileStoreSupport(launch.version);
    if (support === 'supported') return undefined;
    const service = composeService(snapshot, config.service);
    const allowed =
        truthy(service?.environment.MLFLOW_ALLOW_FILE_STORE) ||
        truthy(containerOf(snapshot, config.service)?.env.MLFLOW_ALLOW_FILE_STORE);
    if (support === 'refused' && allowed) return undefined;
    const location =
        (config.keys.backendStoreUri &&
            nearestComposeLocation(snapshot, config.keys.backendStoreUri)) ||
        launch.locate('--backend-store-uri', 0) ||
        nearestComposeLocation(snapshot, `services.${config.service}.command`);
    const migrate = hasMigrateFilestore(launch.version)
        ? '`mlflow migrate-filestore` (3.10+; `mlflow migrate-filestore --help` gives its arguments)'
        : 'an MLflow 3.10+ `mlflow migrate-filestore`';
    const uri = explicit ?? `${backend} (the default, no --backend-store-uri given)`;
    return makeFinding(`${config.service}:file-backend`, {
        kind: 'version-mismatch',
        severity: support === 'refused' ? 'error' : 'warning',
        title:
            support === 'refused'
                ? `MLflow ${launch.version} refuses the file tracking backend ${backend} unless MLFLOW_ALLOW_FILE_STORE=true`
                : `MLflow ${launch.version} deprecates the file tracking backend ${backend}`,
        evidence: [
            `Server version: ${launch.versionHow}.`,
            `Backend store: ${uri}.`,
            support === 'refused'
                ? "From 3.13 the server stops with `The filesystem tracking backend (e.g., './mlruns') is no longer supported` unless MLFLOW_ALLOW_FILE_STORE=true (facts §4.7, #22773)."
                : 'From 3.6 a file backend logs a FutureWarning that it is deprecated; 3.13 refuses it (facts §4.7, #18524).',
        ],
        fix:
            `Move the tracking data into a database with ${migrate}, then start the server with ` +
            '--backend-store-uri sqlite:////mlflow/mlflow.db on a volume mounted at /mlflow' +
            (support === 'refused'
                ? `; to keep ${backend} for now, set MLFLOW_ALLOW_FILE_STORE=true in the "${config.service}" environment.`
                : '.'),
        locations: location ? [location] : [],
        service: config.service,
    });
}

/** 3.7+ without a backend writes `mlflow.db` into the working directory; is that kept? */
function unkeptDefaultDatabase(snapshot: StackSnapshot, launch: ServerLaunch): Finding | undefined {
    const config = launch.config;
    if (!config || config.backendStoreUri !== undefined || !parseVersion(launch.version)) return;
    if (!defaultsToSqlite(launch.version)) return undefined;
    const service = composeService(snapshot, config.service);
    if (!service) return undefined;
    const workingDir = service.workingDir ?? containerOf(snapshot, config.service)?.workingDir;
    const holds = (target: string) =>
        workingDir !== undefined &&
        (workingDir === target || workingDir.startsWith(`${target.replace(/\/+$/, '')}/`));
    // Without a known working directory, only a service with no volume at all is surely unkept.
    const kept =
        workingDir === undefined
            ? service.volumes.length > 0
            : service.volumes.some((v) => holds(v.target));
    if (kept) return undefined;
    const where = workingDir ?? 'its working directory';
    return makeFinding(`${config.service}:default-sqlite`, {
        kind: 'artifact-routing',
        severity: 'warning',
        title: `MLflow ${launch.version} keeps its runs in ${where}/mlflow.db, which no volume holds`,
        evidence: [
            `Server version: ${launch.versionHow}.`,
            `Command: ${launch.command} (no --backend-store-uri, no MLFLOW_BACKEND_STORE_URI).`,
            'From 3.7 the server defaults to sqlite:///mlflow.db relative to its working directory, unless ./mlruns already holds experiments (facts §4.7, #18497).',
            workingDir === undefined
                ? `"${config.service}" mounts no volume at all.`
                : `No volume of "${config.service}" is mounted at ${workingDir} or above it.`,
        ],
        fix:
            'Give the store explicitly and keep it on a volume: --backend-store-uri sqlite:////mlflow/mlflow.db ' +
            'with a volume at /mlflow. Runs in the default database vanish when the container is recreated, and a ' +
            'UI or client pointed at ./mlruns sees none of them.',
        locations: [nearestComposeLocation(snapshot, `services.${config.service}.command`)].filter(
            (l): l is FindingLocation => l !== undefined,
        ),
        service: config.service,
    });
}

export const serverFlagsCheck: Check = {
    name: 'server-flags',
    run(snapshot) {
        const launches = [
            ...snapshot.serverConfigs.flatMap((c) => composeLaunch(snapshot, c) ?? []),
            ...dockerfileLaunches(snapshot),
        ];
        const findings: Finding[] = [];
        for (const launch of launches) {
            findings.push(...missingFlags(snapshot, launch), ...refusedCombinations(launch));
            const backend = fileBackendSupport(snapshot, launch);
            if (backend) findings.push(backend);
            const sqlite = unkeptDefaultDatabase(snapshot, launch);
            if (sqlite) findings.push(sqlite);
        }
        return findings;
    },
};
