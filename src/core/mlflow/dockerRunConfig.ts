// MLflow servers that no compose file describes: a Dockerfile whose CMD or ENTRYPOINT starts
// `mlflow server` / `mlflow ui`, and `docker run ... <image> [mlflow server ...]` lines in shell
// scripts (`run.sh`), with the ports they publish. Each becomes a ServerConfig whose `written`
// field says where its command is, so findings can point at the Dockerfile or the script line.

import path from 'node:path';
import { scriptCommands, shellSplit } from '../compose/shellSplit.js';
import type { ComposeProject, ServerConfig, SourceRange, WrittenServerCommand } from '../model.js';
import { dockerfilePackages, scriptPipPackages } from './imagePackages.js';
import {
    instructionsOf,
    parseImageReference,
    parseServerCommand,
    isMlflowImage,
    readDockerfileFacts,
    serverConfigFromCommand,
    versionFromTag,
} from './serverConfig.js';

export interface PublishedPort {
    hostIp?: string;
    hostPort: number;
    containerPort: number;
    protocol: string;
}

/** One `docker run` as written in a script. */
export interface DockerRunLine {
    image: string;
    name?: string;
    ports: PublishedPort[];
    env: Record<string, string>;
    volumes: string[];
    network?: string;
    entrypoint?: string;
    /** The words after the image: the command, replacing the image's CMD. */
    args: string[];
    /** Packages `pip install`ed earlier in the same shell command line. */
    pipPackages: string[];
    range: SourceRange;
    /** The text of the command's first line, trimmed. */
    key: string;
}

/** One `docker build -t <tag> [-f <file>] <context>` as written in a script. */
export interface DockerBuildLine {
    tags: string[];
    /** The Dockerfile, relative to the diagnosed folder. */
    dockerfile: string;
}

/** `docker run` options that take a value (the others are flags such as -d, --rm, -it). */
const RUN_VALUE_OPTIONS = new Set([
    '-p',
    '--publish',
    '-e',
    '--env',
    '--env-file',
    '-v',
    '--volume',
    '--mount',
    '--name',
    '--network',
    '--net',
    '-w',
    '--workdir',
    '-u',
    '--user',
    '--entrypoint',
    '--restart',
    '-l',
    '--label',
    '--add-host',
    '--platform',
    '-m',
    '--memory',
    '--cpus',
    '--gpus',
    '-h',
    '--hostname',
    '--pull',
    '--log-driver',
    '--log-opt',
    '--shm-size',
    '--ulimit',
    '--cap-add',
    '--cap-drop',
    '--device',
    '--dns',
    '--expose',
    '--health-cmd',
    '--health-interval',
    '--health-retries',
    '--health-timeout',
    '--health-start-period',
    '--ip',
    '--link',
    '--network-alias',
    '--stop-signal',
    '--tmpfs',
    '--volumes-from',
    '--cidfile',
    '--runtime',
    '--security-opt',
    '--sysctl',
    '--memory-swap',
    '--pid',
    '--ipc',
    '--uts',
    '--userns',
    '--group-add',
    '--init-path',
    '--isolation',
    '--stop-timeout',
    '--cgroupns',
    '--attach',
    '-a',
]);

/** `-p [ip:][host:]container[/proto]`; a port range publishes its first port here. */
export function parsePublish(spec: string): PublishedPort | undefined {
    const [mapping = '', protocol = 'tcp'] = spec.split('/');
    const ipv6 = /^\[([^\]]+)\]:(.*)$/.exec(mapping);
    const parts = ipv6 ? [ipv6[1] ?? '', ...(ipv6[2] ?? '').split(':')] : mapping.split(':');
    const first = (s: string | undefined) => Number((s ?? '').split('-')[0]);
    if (parts.length === 1) return undefined; // `-p 5000`: a random host port.
    const containerPort = first(parts.at(-1));
    const hostPort = first(parts.at(-2));
    const hostIp = parts.length >= 3 ? parts[0] : undefined;
    if (!Number.isFinite(containerPort) || !Number.isFinite(hostPort) || hostPort <= 0)
        return undefined;
    return { ...(hostIp ? { hostIp } : {}), hostPort, containerPort, protocol };
}

interface LogicalLine {
    text: string;
    line: number;
    endLine: number;
    endColumn: number;
    first: string;
}

/** Script lines with backslash continuations joined and comment lines dropped. */
function logicalLines(text: string): LogicalLine[] {
    const lines = text.split(/\r?\n/);
    const out: LogicalLine[] = [];
    for (let i = 0; i < lines.length; i++) {
        const first = lines[i] ?? '';
        if (/^\s*(#|$)/.test(first)) continue;
        const start = i;
        let body = first;
        while (/\\\s*$/.test(body) && i + 1 < lines.length) {
            i++;
            body = body.replace(/\\\s*$/, ' ') + (lines[i] ?? '');
        }
        out.push({
            text: body,
            line: start + 1,
            endLine: i + 1,
            endColumn: (lines[i] ?? '').length + 1,
            first: first.trim().replace(/\s*\\$/, ''),
        });
    }
    return out;
}

function dockerSubcommand(argv: string[], verb: 'run' | 'build'): number | undefined {
    const at = argv.findIndex((w) => /^(docker|podman)$/.test(w.slice(w.lastIndexOf('/') + 1)));
    if (at < 0) return undefined;
    let i = at + 1;
    if (argv[i] === 'container' || argv[i] === 'image' || argv[i] === 'buildx') i++;
    return argv[i] === verb ? i + 1 : undefined;
}

function parseRun(
    argv: string[],
    from: number,
): Omit<DockerRunLine, 'range' | 'key' | 'pipPackages'> | undefined {
    const run: Omit<DockerRunLine, 'range' | 'key' | 'pipPackages' | 'image'> = {
        ports: [],
        env: {},
        volumes: [],
        args: [],
    };
    for (let i = from; i < argv.length; i++) {
        const word = argv[i] ?? '';
        if (word === '--') continue;
        if (!word.startsWith('-') || word === '-') {
            return { ...run, image: word, args: argv.slice(i + 1) };
        }
        const eq = word.indexOf('=');
        let name = word.startsWith('--') && eq > 0 ? word.slice(0, eq) : word;
        let value = word.startsWith('--') && eq > 0 ? word.slice(eq + 1) : undefined;
        if (!word.startsWith('--') && word.length > 2 && RUN_VALUE_OPTIONS.has(word.slice(0, 2))) {
            name = word.slice(0, 2);
            value = word.slice(2);
        }
        if (!RUN_VALUE_OPTIONS.has(name)) continue;
        if (value === undefined) {
            value = argv[i + 1] ?? '';
            i++;
        }
        if (name === '-p' || name === '--publish') {
            const port = parsePublish(value);
            if (port) run.ports.push(port);
        } else if (name === '-e' || name === '--env') {
            const at = value.indexOf('=');
            if (at > 0) run.env[value.slice(0, at)] = value.slice(at + 1);
        } else if (name === '-v' || name === '--volume') run.volumes.push(value);
        else if (name === '--name') run.name = value;
        else if (name === '--network' || name === '--net') run.network = value;
        else if (name === '--entrypoint') run.entrypoint = value;
        // Not yet: `--env-file` is not read, so server options set only there are missed.
    }
    return undefined;
}

/** The `docker run` lines of a shell script. */
export function parseDockerRunLines(text: string): DockerRunLine[] {
    const out: DockerRunLine[] = [];
    for (const logical of logicalLines(text)) {
        const commands = scriptCommands(logical.text).map((c) => c.map(unquoteWord));
        const before: string[] = [];
        for (const argv of commands) {
            const from = dockerSubcommand(argv, 'run');
            if (from === undefined) {
                before.push(...scriptPipPackages(argv.join(' ')));
                continue;
            }
            const run = parseRun(argv, from);
            if (!run) continue;
            out.push({
                ...run,
                pipPackages: [...before],
                range: {
                    file: '',
                    line: logical.line,
                    column: 1,
                    endLine: logical.endLine,
                    endColumn: logical.endColumn,
                },
                key: logical.first,
            });
        }
    }
    return out;
}

/** scriptCommands keeps quotes on its words; a second split removes them as the shell would. */
function unquoteWord(word: string): string {
    return /["'\\]/.test(word) ? shellSplit(word).join(' ') : word;
}

/** The `docker build` lines of a shell script, with their Dockerfiles relative to `scriptDir`. */
export function parseDockerBuildLines(text: string, scriptDir: string): DockerBuildLine[] {
    const out: DockerBuildLine[] = [];
    for (const logical of logicalLines(text)) {
        for (const raw of scriptCommands(logical.text)) {
            const argv = raw.map(unquoteWord);
            const from = dockerSubcommand(argv, 'build');
            if (from === undefined) continue;
            const tags: string[] = [];
            let file: string | undefined;
            let context = '.';
            for (let i = from; i < argv.length; i++) {
                const word = argv[i] ?? '';
                if (word === '-t' || word === '--tag') tags.push(argv[++i] ?? '');
                else if (word.startsWith('--tag=')) tags.push(word.slice(6));
                else if (word === '-f' || word === '--file') file = argv[++i];
                else if (word.startsWith('--file=')) file = word.slice(7);
                else if (
                    /^--(build-arg|target|platform|label|network|progress|secret|ssh|cache-from|cache-to|output)$/.test(
                        word,
                    ) ||
                    word === '-o'
                )
                    i++;
                else if (!word.startsWith('-')) context = word;
            }
            const contextDir = path.posix.join(scriptDir, context);
            const dockerfile = file
                ? path.posix.join(scriptDir, file)
                : path.posix.join(contextDir, 'Dockerfile');
            out.push({ tags, dockerfile: path.posix.normalize(dockerfile) });
        }
    }
    return out;
}

/** The range and form of the final stage's CMD or ENTRYPOINT instruction. */
function instructionRange(
    text: string,
    file: string,
    name: 'CMD' | 'ENTRYPOINT',
): (SourceRange & { form: 'exec' | 'shell' }) | undefined {
    let found: { line: number; args: string } | undefined;
    for (const ins of instructionsOf(text)) {
        if (ins.name === 'FROM') found = undefined;
        if (ins.name === name) found = ins;
        if (name === 'CMD' && ins.name === 'ENTRYPOINT') found = undefined;
    }
    if (!found) return undefined;
    const lines = text.split(/\r?\n/);
    let end = found.line;
    while (/\\\s*$/.test(lines[end - 1] ?? '') && end < lines.length) end++;
    return {
        file,
        line: found.line,
        column: 1,
        endLine: end,
        endColumn: (lines[end - 1] ?? '').length + 1,
        form: found.args.trim().startsWith('[') ? 'exec' : 'shell',
    };
}

interface DockerfileServer {
    argv: string[];
    written: WrittenServerCommand;
    version?: { version: string; key: string; line: number };
}

/**
 * The server a Dockerfile starts by itself, with `args` (a `docker run` command) replacing its
 * CMD as Docker does, or undefined when the resulting command is not an MLflow server.
 */
function dockerfileServer(
    text: string,
    file: string,
    args: string[] = [],
    entrypointOverride?: string,
): DockerfileServer | undefined {
    const facts = readDockerfileFacts(text, file);
    const entrypoint =
        entrypointOverride !== undefined ? [entrypointOverride] : (facts.entrypoint ?? []);
    const command = args.length > 0 ? args : entrypointOverride ? [] : (facts.cmd ?? []);
    const argv = [...entrypoint, ...command];
    if (!parseServerCommand(argv)) return undefined;

    // Point at the instruction that holds the options: the ENTRYPOINT when it starts the server
    // by itself, else the CMD that completes it.
    const name =
        entrypointOverride === undefined && parseServerCommand(facts.entrypoint ?? [])
            ? 'ENTRYPOINT'
            : facts.cmd && args.length === 0
              ? 'CMD'
              : 'ENTRYPOINT';
    const range = instructionRange(text, file, name);
    if (!range) return undefined;
    const packages = dockerfilePackages(text);
    const written: WrittenServerCommand = {
        ...range,
        key: name,
        image: packages.base,
        pipPackages: packages.added,
    };
    const server: DockerfileServer = { argv, written };
    if (facts.version)
        server.version = {
            version: facts.version.version,
            key: facts.version.instruction,
            line: facts.version.line,
        };
    return server;
}

export interface WrittenFiles {
    /** Relative path → text: Dockerfiles and shell scripts of the workspace. */
    [file: string]: string;
}

const isDockerfile = (file: string) => /(^|\/)(Dockerfile[^/]*|[^/]+\.Dockerfile)$/i.test(file);
const isScript = (file: string) => /\.(sh|bash)$/.test(file);

/** Dockerfiles that a compose service builds: compose already describes what they run. */
function composeDockerfiles(compose: ComposeProject | undefined, folder: string): Set<string> {
    const out = new Set<string>();
    for (const service of compose?.services ?? []) {
        if (!service.build) continue;
        const context = path.resolve(compose?.workingDir ?? folder, service.build.context);
        const file = path.resolve(context, service.build.dockerfile ?? 'Dockerfile');
        out.add(path.relative(folder, file).split(path.sep).join('/'));
    }
    return out;
}

/**
 * The MLflow servers started by the workspace's Dockerfiles and `docker run` lines, leaving out
 * what the compose project already describes.
 */
export function findWrittenServerConfigs(
    files: WrittenFiles,
    folder: string,
    compose?: ComposeProject,
): ServerConfig[] {
    const fromCompose = composeDockerfiles(compose, folder);
    const composeNames = new Set(
        (compose?.services ?? []).flatMap((s) => [s.name, s.containerName ?? s.name]),
    );
    const configs: ServerConfig[] = [];
    const started = new Set<string>();

    const builds = Object.entries(files)
        .filter(([file]) => isScript(file))
        .flatMap(([file, text]) => parseDockerBuildLines(text, path.posix.dirname(file)));
    const dockerfileOfImage = (image: string): string | undefined => {
        const build = builds.find((b) =>
            b.tags.some((t) => t === image || t === `${image}:latest` || `${t}:latest` === image),
        );
        return build && files[build.dockerfile] !== undefined ? build.dockerfile : undefined;
    };

    for (const [file, text] of Object.entries(files)) {
        if (!isScript(file)) continue;
        for (const run of parseDockerRunLines(text)) {
            const service =
                run.name ?? parseImageReference(run.image).repository.split('/').pop() ?? run.image;
            if (composeNames.has(service)) continue;
            const at = { ...run.range, file };
            const dockerfile = dockerfileOfImage(run.image);
            let config: ServerConfig | undefined;
            if (dockerfile && !fromCompose.has(dockerfile)) {
                const server = dockerfileServer(
                    files[dockerfile] ?? '',
                    dockerfile,
                    run.args,
                    run.entrypoint,
                );
                if (!server) continue;
                started.add(dockerfile);
                config = serverConfigFromCommand(service, server.argv, run.env);
                if (!config) continue;
                // Words after the image replace the Dockerfile's CMD: then the script says it.
                config.written =
                    run.args.length > 0
                        ? { ...at, key: run.key, form: 'shell', image: run.image }
                        : { ...server.written, runAt: { ...at, key: run.key } };
                config.written.pipPackages = [...(server.written.pipPackages ?? [])];
                config.written.image = server.written.image;
                if (server.version)
                    config.declaredVersion = {
                        version: server.version.version,
                        file: dockerfile,
                        key: server.version.key,
                        line: server.version.line,
                    };
            } else {
                const entry = run.entrypoint !== undefined ? [run.entrypoint] : [];
                let argv = [...entry, ...run.args];
                if (
                    !parseServerCommand(argv) &&
                    isMlflowImage(run.image) &&
                    run.args[0]?.startsWith('-')
                ) {
                    argv = ['mlflow', 'server', ...run.args];
                }
                if (!parseServerCommand(argv)) continue;
                config = serverConfigFromCommand(service, argv, run.env);
                if (!config) continue;
                config.written = {
                    ...at,
                    key: run.key,
                    form: 'shell',
                    image: run.image,
                    pipPackages: [...run.pipPackages, ...scriptPipPackages(run.args.join(' '))],
                };
                const version = isMlflowImage(run.image)
                    ? versionFromTag(parseImageReference(run.image).tag)
                    : undefined;
                if (version)
                    config.declaredVersion = { version, file, line: run.range.line, key: run.key };
            }
            if (run.ports.length > 0) config.written.ports = run.ports;
            configs.push(config);
        }
    }

    // A Dockerfile that starts a server though no script runs it: named by its folder.
    for (const [file, text] of Object.entries(files)) {
        if (!isDockerfile(file) || fromCompose.has(file) || started.has(file)) continue;
        const server = dockerfileServer(text, file);
        if (!server) continue;
        const dir = path.posix.dirname(file);
        const service = dir === '.' ? path.basename(folder) : path.posix.basename(dir);
        if (composeNames.has(service)) continue;
        const config = serverConfigFromCommand(service, server.argv, {});
        if (!config) continue;
        config.written = server.written;
        if (server.version)
            config.declaredVersion = {
                version: server.version.version,
                file,
                key: server.version.key,
                line: server.version.line,
            };
        configs.push(config);
    }
    return configs;
}
