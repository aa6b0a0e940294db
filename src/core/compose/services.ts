// Reading one merged service node into a ComposeService: short and long syntax of ports,
// volumes and depends_on, list and map environments, healthchecks and the command's form.

import type {
    ComposeDependency,
    ComposeHealthcheck,
    ComposePort,
    ComposeProblem,
    ComposeService,
    ComposeVolume,
    DependsOnCondition,
} from '../model.js';
import { shellWords } from './shellSplit.js';
import type { TreeMap, TreeNode } from './tree.js';
import { isFilePath, parseShortVolume, resolveBindSource } from './volumes.js';

export interface ServiceContext {
    /** Absolute folder relative paths resolve against. */
    projectDir: string;
    home?: string;
    problems: ComposeProblem[];
    /** Reads an env_file; undefined when it does not exist or cannot be read. */
    readEnvFile: (absolutePath: string) => Record<string, string> | undefined;
    /** Makes an absolute path relative to the diagnosed folder, for reporting. */
    display: (absolutePath: string) => string;
    /** The shell's and `.env`'s value of a variable, for `environment:` entries without one. */
    lookup?: (name: string) => string | undefined;
}

const CONDITIONS = new Set<DependsOnCondition>([
    'service_started',
    'service_healthy',
    'service_completed_successfully',
]);

function scalarText(node: TreeNode | undefined): string | undefined {
    if (node?.kind !== 'scalar' || node.value === null) return undefined;
    return String(node.value);
}

function schema(ctx: ServiceContext, node: TreeNode, key: string, message: string): void {
    ctx.problems.push({ type: 'schema', message, range: node.range, key });
}

export function readService(name: string, node: TreeNode, ctx: ServiceContext): ComposeService {
    const key = `services.${name}`;
    const service: ComposeService = {
        name,
        environment: {},
        envFiles: [],
        ports: [],
        expose: [],
        volumes: [],
        dependsOn: [],
        networks: [],
        profiles: [],
    };
    if (node.kind !== 'map') {
        if (node.kind !== 'scalar' || node.value !== null) {
            schema(ctx, node, key, `service "${name}" must be a mapping`);
        }
        return service;
    }
    const get = (k: string): TreeNode | undefined => node.entries.get(k);

    service.image = scalarText(get('image'));
    readBuild(service, get('build'), `${key}.build`, ctx);
    readCommand(service, 'command', get('command'), `${key}.command`, ctx);
    readCommand(service, 'entrypoint', get('entrypoint'), `${key}.entrypoint`, ctx);
    readEnvironment(service, node, key, ctx);
    service.ports = readPorts(get('ports'), `${key}.ports`, ctx);
    service.expose = readExpose(get('expose'));
    service.volumes = readVolumes(get('volumes'), `${key}.volumes`, ctx);
    service.dependsOn = readDependsOn(get('depends_on'), `${key}.depends_on`, ctx);
    service.healthcheck = readHealthcheck(get('healthcheck'));
    service.user = scalarText(get('user'));
    service.networkMode = scalarText(get('network_mode'));
    const networks = get('networks');
    service.networks = networks?.kind === 'map' ? [...networks.entries.keys()] : [];
    service.containerName = scalarText(get('container_name'));
    service.restart = scalarText(get('restart'));
    const profiles = get('profiles');
    service.profiles =
        profiles?.kind === 'seq'
            ? profiles.items.map(scalarText).filter((p) => p !== undefined)
            : [];
    service.workingDir = scalarText(get('working_dir'));
    return dropUndefined(service);
}

function dropUndefined(service: ComposeService): ComposeService {
    for (const k of Object.keys(service) as (keyof ComposeService)[]) {
        if (service[k] === undefined) delete service[k];
    }
    return service;
}

function readBuild(
    service: ComposeService,
    node: TreeNode | undefined,
    key: string,
    ctx: ServiceContext,
): void {
    if (!node) return;
    if (node.kind === 'scalar') {
        if (node.value !== null) service.build = { context: String(node.value) };
        return;
    }
    if (node.kind !== 'map') {
        schema(ctx, node, key, 'build must be a path or a mapping');
        return;
    }
    const build: NonNullable<ComposeService['build']> = {
        context: scalarText(node.entries.get('context')) ?? '.',
    };
    const dockerfile = scalarText(node.entries.get('dockerfile'));
    if (dockerfile !== undefined) build.dockerfile = dockerfile;
    const args = node.entries.get('args');
    if (args?.kind === 'map') {
        build.args = {};
        for (const [name, value] of args.entries) {
            const text = scalarText(value);
            if (text !== undefined) build.args[name] = text;
        }
    }
    service.build = build;
}

function readCommand(
    service: ComposeService,
    field: 'command' | 'entrypoint',
    node: TreeNode | undefined,
    key: string,
    ctx: ServiceContext,
): void {
    if (!node || (node.kind === 'scalar' && node.value === null)) return;
    let argv: string[];
    let form: 'shell' | 'exec';
    if (node.kind === 'scalar') {
        const split = shellWords(String(node.value));
        if (split.unterminated) {
            schema(ctx, node, key, `${field} has an unterminated ${split.unterminated} quote`);
        }
        argv = split.words;
        form = 'shell';
    } else if (node.kind === 'seq') {
        argv = node.items.map((item) => scalarText(item) ?? '');
        form = 'exec';
    } else {
        schema(ctx, node, key, `${field} must be a string or a list`);
        return;
    }
    if (field === 'command') {
        service.command = argv;
        service.commandForm = form;
    } else {
        service.entrypoint = argv;
        service.entrypointForm = form;
    }
}

function readEnvironment(
    service: ComposeService,
    node: TreeMap,
    key: string,
    ctx: ServiceContext,
): void {
    // env_file first: `environment:` overrides it, as in Compose.
    const envFile = node.entries.get('env_file');
    const items: TreeNode[] =
        envFile === undefined ? [] : envFile.kind === 'seq' ? envFile.items : [envFile];
    items.forEach((item, index) => {
        const itemKey = envFile?.kind === 'seq' ? `${key}.env_file.${index}` : `${key}.env_file`;
        let file: string | undefined;
        let required = true;
        if (item.kind === 'map') {
            file = scalarText(item.entries.get('path'));
            const req = item.entries.get('required');
            if (req?.kind === 'scalar' && (req.value === false || req.value === 'false'))
                required = false;
        } else {
            file = scalarText(item);
        }
        if (file === undefined) {
            schema(ctx, item, itemKey, 'env_file entry has no path');
            return;
        }
        const absolute = resolveBindSource(file, ctx.projectDir, ctx.home);
        const values = ctx.readEnvFile(absolute);
        service.envFiles.push(ctx.display(absolute));
        if (values === undefined) {
            if (required) schema(ctx, item, itemKey, `env file ${ctx.display(absolute)} not found`);
            return;
        }
        Object.assign(service.environment, values);
    });

    const environment = node.entries.get('environment');
    if (!environment) return;
    if (environment.kind !== 'map') {
        schema(ctx, environment, `${key}.environment`, 'environment must be a list or a mapping');
        return;
    }
    for (const [name, value] of environment.entries) {
        // `- NAME` without a value passes the variable from where Compose runs, `.env` included
        // (what `docker compose config` prints); unset there, the container does not get it.
        service.environment[name] =
            value.kind === 'scalar' && value.value !== null
                ? String(value.value)
                : (ctx.lookup?.(name) ?? null);
    }
}

function readPorts(node: TreeNode | undefined, key: string, ctx: ServiceContext): ComposePort[] {
    if (!node) return [];
    if (node.kind !== 'seq') {
        schema(ctx, node, key, 'ports must be a list');
        return [];
    }
    const ports: ComposePort[] = [];
    node.items.forEach((item, index) => {
        const itemKey = `${key}.${index}`;
        if (item.kind === 'map') {
            const target = Number(scalarText(item.entries.get('target')));
            if (!Number.isInteger(target)) {
                schema(ctx, item, itemKey, 'a long-syntax port needs a numeric target');
                return;
            }
            const port: ComposePort = {
                target,
                protocol: protocolOf(scalarText(item.entries.get('protocol'))),
                key: itemKey,
            };
            const published = scalarText(item.entries.get('published'));
            if (published !== undefined && published !== '') port.published = published;
            const hostIp = scalarText(item.entries.get('host_ip'));
            if (hostIp !== undefined) port.hostIp = hostIp;
            ports.push(port);
            return;
        }
        const text = scalarText(item);
        const parsed = text === undefined ? undefined : parseShortPort(text, itemKey);
        if (!parsed) {
            schema(ctx, item, itemKey, `cannot read port "${text ?? ''}"`);
            return;
        }
        ports.push(...parsed);
    });
    return ports;
}

function protocolOf(text: string | undefined): ComposePort['protocol'] {
    return text === 'udp' || text === 'sctp' ? text : 'tcp';
}

function parseRange(text: string): [number, number] | undefined {
    const m = /^(\d+)(?:-(\d+))?$/.exec(text);
    if (!m) return undefined;
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    return to >= from && to <= 65535 ? [from, to] : undefined;
}

/** `[[host_ip:]published:]target[/protocol]`, ranges expanded to one entry per container port. */
export function parseShortPort(spec: string, key: string): ComposePort[] | undefined {
    let text = spec.trim();
    let protocol: ComposePort['protocol'] = 'tcp';
    const slash = text.lastIndexOf('/');
    if (slash >= 0) {
        protocol = protocolOf(text.slice(slash + 1));
        text = text.slice(0, slash);
    }
    const lastColon = text.lastIndexOf(':');
    const targetText = text.slice(lastColon + 1);
    const head = lastColon < 0 ? undefined : text.slice(0, lastColon);
    let hostIp: string | undefined;
    let published: string | undefined;
    if (head !== undefined) {
        const ipSplit = head.lastIndexOf(':');
        if (ipSplit >= 0) {
            hostIp = head.slice(0, ipSplit).replace(/^\[|\]$/g, '');
            published = head.slice(ipSplit + 1);
        } else {
            published = head;
        }
        if (published === '') published = undefined;
    }
    const targets = parseRange(targetText);
    if (!targets) return undefined;
    const publishedRange = published === undefined ? undefined : parseRange(published);
    if (published !== undefined && !publishedRange) return undefined;

    const count = targets[1] - targets[0] + 1;
    const ports: ComposePort[] = [];
    for (let i = 0; i < count; i++) {
        const port: ComposePort = { target: targets[0] + i, protocol, key };
        if (publishedRange) {
            const pubCount = publishedRange[1] - publishedRange[0] + 1;
            // Equal-sized ranges pair up; otherwise Docker picks from the published range.
            port.published = pubCount === count ? String(publishedRange[0] + i) : published;
        }
        if (hostIp !== undefined && hostIp !== '') port.hostIp = hostIp;
        ports.push(port);
    }
    return ports;
}

function readExpose(node: TreeNode | undefined): number[] {
    if (node?.kind !== 'seq') return [];
    const out: number[] = [];
    for (const item of node.items) {
        const range = parseRange((scalarText(item) ?? '').replace(/\/\w+$/, ''));
        if (range) for (let p = range[0]; p <= range[1]; p++) out.push(p);
    }
    return out;
}

function readVolumes(
    node: TreeNode | undefined,
    key: string,
    ctx: ServiceContext,
): ComposeVolume[] {
    if (!node) return [];
    if (node.kind !== 'seq') {
        schema(ctx, node, key, 'volumes must be a list');
        return [];
    }
    const volumes: ComposeVolume[] = [];
    node.items.forEach((item, index) => {
        const itemKey = `${key}.${index}`;
        if (item.kind === 'map') {
            const target = scalarText(item.entries.get('target'));
            const source = scalarText(item.entries.get('source'));
            if (target === undefined) {
                schema(ctx, item, itemKey, 'a long-syntax volume needs a target');
                return;
            }
            const typeText = scalarText(item.entries.get('type'));
            const type = isVolumeType(typeText)
                ? typeText
                : source && isFilePath(source)
                  ? 'bind'
                  : 'volume';
            const readOnly = item.entries.get('read_only');
            const volume: ComposeVolume = {
                type,
                target,
                readOnly:
                    readOnly?.kind === 'scalar' &&
                    (readOnly.value === true || readOnly.value === 'true'),
                key: itemKey,
            };
            if (source !== undefined) volume.source = source;
            if (type === 'bind' && source !== undefined) {
                volume.hostPath = resolveBindSource(source, ctx.projectDir, ctx.home);
            }
            volumes.push(volume);
            return;
        }
        const text = scalarText(item);
        const parsed = text === undefined ? undefined : parseShortVolume(text);
        if (!parsed || parsed.error || parsed.target === undefined) {
            schema(
                ctx,
                item,
                itemKey,
                `cannot read volume "${text ?? ''}": ${parsed?.error ?? 'no target'}`,
            );
            return;
        }
        const volume: ComposeVolume = {
            type: parsed.type,
            target: parsed.target,
            readOnly: parsed.readOnly,
            key: itemKey,
        };
        if (parsed.source !== undefined) volume.source = parsed.source;
        if (parsed.type === 'bind' && parsed.source !== undefined) {
            volume.hostPath = resolveBindSource(parsed.source, ctx.projectDir, ctx.home);
        }
        volumes.push(volume);
    });
    return volumes;
}

function isVolumeType(text: string | undefined): text is ComposeVolume['type'] {
    return ['bind', 'volume', 'tmpfs', 'npipe', 'cluster', 'image'].includes(text ?? '');
}

function readDependsOn(
    node: TreeNode | undefined,
    key: string,
    ctx: ServiceContext,
): ComposeDependency[] {
    if (!node) return [];
    if (node.kind !== 'map') {
        schema(ctx, node, key, 'depends_on must be a list or a mapping');
        return [];
    }
    const deps: ComposeDependency[] = [];
    for (const [service, value] of node.entries) {
        const entryKey = `${key}.${service}`;
        let condition: DependsOnCondition = 'service_started';
        if (value.kind === 'map') {
            const written = scalarText(value.entries.get('condition'));
            if (written !== undefined) {
                if (CONDITIONS.has(written as DependsOnCondition)) {
                    condition = written as DependsOnCondition;
                } else {
                    schema(
                        ctx,
                        value,
                        `${entryKey}.condition`,
                        `unknown depends_on condition "${written}"`,
                    );
                }
            }
        }
        const dep: ComposeDependency = { service, condition, key: entryKey };
        dep.syntax = value.fromList ? 'short' : 'long';
        deps.push(dep);
    }
    return deps;
}

function readHealthcheck(node: TreeNode | undefined): ComposeHealthcheck | undefined {
    if (node?.kind !== 'map') return undefined;
    const get = (k: string): TreeNode | undefined => node.entries.get(k);
    const health: ComposeHealthcheck = { disable: false };
    const test = get('test');
    if (test?.kind === 'scalar' && test.value !== null)
        health.test = ['CMD-SHELL', String(test.value)];
    if (test?.kind === 'seq') health.test = test.items.map((i) => scalarText(i) ?? '');
    const disable = get('disable');
    if (disable?.kind === 'scalar' && (disable.value === true || disable.value === 'true'))
        health.disable = true;
    if (health.test?.[0] === 'NONE') health.disable = true;
    const interval = scalarText(get('interval'));
    if (interval !== undefined) health.interval = interval;
    const timeout = scalarText(get('timeout'));
    if (timeout !== undefined) health.timeout = timeout;
    const retries = Number(scalarText(get('retries')));
    if (scalarText(get('retries')) !== undefined && Number.isFinite(retries))
        health.retries = retries;
    const startPeriod = scalarText(get('start_period'));
    if (startPeriod !== undefined) health.startPeriod = startPeriod;
    return health;
}
