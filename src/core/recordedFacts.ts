// Recorded live facts (the shared cases' `context.json`, a partial snapshot) put in place of live
// probes: what Docker, the host and the server would have told us, mapped onto the snapshot so
// the same checks run on them.

import type {
    ContainerFacts,
    ContainerMount,
    HttpObservation,
    PortBinding,
    ServerProbe,
    StackSnapshot,
} from './model.js';
import { isContainerState } from './model.js';

export interface RecordedContext {
    hostOS?: 'linux' | 'macos' | 'windows';
    clientRuns?: string;
    serverVersion?: string;
    clientVersion?: string;
    inspect?: Record<string, unknown>;
    http?: {
        request: string;
        host?: string;
        status: number | null;
        body?: string;
        headers?: Record<string, string>;
        error?: string;
    }[];
    logs?: Record<string, string[]>;
    exec?: { where: string; command: string; stdout: string }[];
    hostStat?: { path: string; uid: number; gid: number; mode: string }[];
    containers?: { service: string; state: string; exitCode?: number; health?: string }[];
    hostEnv?: Record<string, string | null>;
}

function fail(what: string): never {
    throw new Error(`context file: ${what}`);
}

const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);

/** Checks the shape of a parsed context file; unknown keys are ignored. */
export function parseContext(data: unknown): RecordedContext {
    if (!isObject(data)) fail('expected a JSON object');
    const c = data as RecordedContext;
    if (c.hostOS !== undefined && !['linux', 'macos', 'windows'].includes(c.hostOS)) {
        fail(`hostOS must be linux, macos or windows, not ${JSON.stringify(c.hostOS)}`);
    }
    for (const key of ['serverVersion', 'clientVersion', 'clientRuns'] as const) {
        if (c[key] !== undefined && typeof c[key] !== 'string') fail(`${key} must be a string`);
    }
    for (const key of ['http', 'exec', 'hostStat', 'containers'] as const) {
        if (c[key] !== undefined && !Array.isArray(c[key])) fail(`${key} must be a list`);
    }
    for (const key of ['logs', 'inspect', 'hostEnv'] as const) {
        if (c[key] !== undefined && !isObject(c[key])) fail(`${key} must be an object`);
    }
    for (const h of c.http ?? []) {
        if (!isObject(h) || typeof h.request !== 'string') fail('every http entry needs a request');
    }
    return c;
}

/** The environment Compose interpolation sees: the recorded shell, nothing of this process. */
export function contextEnv(context: RecordedContext): Record<string, string | undefined> {
    const env: Record<string, string | undefined> = {};
    for (const [name, value] of Object.entries(context.hostEnv ?? {})) {
        if (value !== null) env[name] = value;
    }
    return env;
}

function asStrings(v: unknown): string[] {
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

function envRecord(v: unknown): Record<string, string> {
    const out: Record<string, string> = {};
    for (const entry of asStrings(v)) {
        const eq = entry.indexOf('=');
        if (eq > 0) out[entry.slice(0, eq)] = entry.slice(eq + 1);
    }
    return out;
}

/** A container with nothing known about it yet but its name. */
export function blankContainer(name: string, service: string | undefined): ContainerFacts {
    return {
        id: `recorded:${name}`,
        name,
        image: '',
        ...(service ? { service } : {}),
        state: 'running',
        restartCount: 0,
        ports: [],
        mounts: [],
        cmd: [],
        entrypoint: [],
        env: {},
        labels: {},
        networks: [],
    };
}

/** The service a recorded container name belongs to: by container_name, service or suffix. */
function serviceFor(snapshot: StackSnapshot, name: string): string | undefined {
    const services = snapshot.compose?.services ?? [];
    const exact = services.find((s) => s.containerName === name || s.name === name);
    if (exact) return exact.name;
    const project = snapshot.compose?.name;
    return services.find(
        (s) => name === `${project}-${s.name}-1` || name === `${project}_${s.name}_1`,
    )?.name;
}

function containerFromInspect(
    snapshot: StackSnapshot,
    inspect: Record<string, unknown>,
): ContainerFacts {
    const name = (typeof inspect.Name === 'string' ? inspect.Name : 'recorded').replace(/^\//, '');
    const service = serviceFor(snapshot, name) ?? snapshot.serverConfigs[0]?.service;
    const c = blankContainer(name, service);
    const config = isObject(inspect.Config) ? inspect.Config : {};
    const host = isObject(inspect.HostConfig) ? inspect.HostConfig : {};
    const state = isObject(inspect.State) ? inspect.State : {};
    c.cmd = asStrings(config.Cmd);
    c.entrypoint = asStrings(config.Entrypoint);
    c.env = envRecord(config.Env);
    if (typeof config.Image === 'string') c.image = config.Image;
    if (typeof config.User === 'string' && config.User !== '') c.user = config.User;
    if (isContainerState(state.Status)) {
        c.state = state.Status;
    }
    if (typeof state.ExitCode === 'number') c.exitCode = state.ExitCode;
    const bindings = isObject(host.PortBindings) ? host.PortBindings : {};
    c.ports = Object.entries(bindings).flatMap(([spec, list]): PortBinding[] => {
        const [port, protocol] = spec.split('/');
        return (Array.isArray(list) ? list : []).filter(isObject).map((b) => ({
            containerPort: Number(port),
            protocol: protocol ?? 'tcp',
            hostIp: typeof b.HostIp === 'string' ? b.HostIp : '',
            hostPort: Number(b.HostPort),
        }));
    });
    const mounts = Array.isArray(inspect.Mounts) ? inspect.Mounts : [];
    c.mounts = mounts.filter(isObject).map((m): ContainerMount => ({
        type: typeof m.Type === 'string' ? m.Type : 'bind',
        source: typeof m.Source === 'string' ? m.Source : '',
        destination: typeof m.Destination === 'string' ? m.Destination : '',
        rw: m.RW !== false,
    }));
    return c;
}

/** `GET /health`, `POST /api/2.0/mlflow/runs/search`, or a full URL: method, url and path. */
function splitRequest(request: string): { method: string; url: string; path: string } {
    const [method = 'GET', target = '/'] = request.trim().split(/\s+/, 2);
    try {
        const url = new URL(target);
        return { method, url: url.href, path: url.pathname };
    } catch {
        return { method, url: `recorded:${target}`, path: target };
    }
}

function outcomeOf(h: NonNullable<RecordedContext['http']>[number]): HttpObservation['outcome'] {
    if (h.status !== null) return h.status >= 400 ? 'http-error' : 'ok';
    const error = h.error ?? '';
    if (/refused/i.test(error)) return 'refused';
    if (/reset|hang up|Recv failure|empty reply/i.test(error)) return 'reset';
    if (/timed? ?out/i.test(error)) return 'timeout';
    if (/resolve|ENOTFOUND|getaddrinfo/i.test(error)) return 'dns';
    if (/SSL|TLS|wrong version number/i.test(error)) return 'tls';
    return 'other';
}

function attachHttp(probe: ServerProbe, h: NonNullable<RecordedContext['http']>[number]) {
    const { method, url, path } = splitRequest(h.request);
    const obs: HttpObservation = {
        request: `${method} ${path}`,
        url,
        outcome: outcomeOf(h),
        status: h.status,
        durationMs: 0,
        ...(h.body !== undefined ? { body: h.body } : {}),
        ...(h.error !== undefined ? { error: h.error } : {}),
        ...(h.headers ? { headers: h.headers } : {}),
    };
    if (h.host) obs.headers = { ...obs.headers, host: h.host };
    if (/\/health$/.test(path)) probe.health = obs;
    else if (/\/version$/.test(path)) probe.version = obs;
    else if (/experiments\/search/.test(path)) probe.experiments = obs;
    else if (/runs\/search/.test(path)) probe.runs = obs;
    else if (/logged-models/.test(path)) probe.loggedModels = obs;
    else probe.other = [...(probe.other ?? []), obs];
    if (probe.version?.status === 200 && probe.version.body && !probe.serverVersion) {
        probe.serverVersion = probe.version.body.trim();
    }
}

/** Puts the recorded facts into a snapshot gathered from the files only. */
export function applyContext(snapshot: StackSnapshot, context: RecordedContext): void {
    if (context.hostOS) snapshot.host.os = context.hostOS;
    if (context.clientRuns) snapshot.host.clientRuns = context.clientRuns;
    if (context.clientVersion) {
        snapshot.workspace.clientVersions.push({
            version: context.clientVersion,
            source: 'recorded',
        });
    }

    const containers: ContainerFacts[] = [];
    const byName = (name: string) => {
        let c = containers.find((x) => x.name === name || x.service === name);
        if (!c) {
            c = blankContainer(name, serviceFor(snapshot, name));
            containers.push(c);
        }
        return c;
    };
    if (context.inspect) containers.push(containerFromInspect(snapshot, context.inspect));
    for (const recorded of context.containers ?? []) {
        const c = byName(recorded.service);
        c.service = recorded.service;
        if (isContainerState(recorded.state)) c.state = recorded.state;
        if (recorded.exitCode !== undefined) c.exitCode = recorded.exitCode;
        if (recorded.health) c.health = recorded.health as ContainerFacts['health'];
    }
    const commandLogs: Record<string, string[]> = {};
    for (const [name, lines] of Object.entries(context.logs ?? {})) {
        // Logs of a container or service go with it; logs of a command (`mlflow run`) stay apart.
        const known =
            containers.some((c) => c.name === name || c.service === name) ||
            serviceFor(snapshot, name);
        if (known) byName(name).logTail = lines;
        else commandLogs[name] = lines;
    }
    if (containers.length > 0) {
        snapshot.docker = { reachable: true, attempts: [], containers, recorded: true };
    }

    const server = snapshot.serverConfigs[0]?.service;
    if (context.serverVersion || (context.http?.length ?? 0) > 0) {
        const config = snapshot.serverConfigs[0];
        const probe: ServerProbe = {
            // What a client of the recorded stack would have used; only for reading the report.
            baseUrl: config ? `http://${config.service}:${config.port}` : 'the recorded server',
            origin: 'recorded',
            ...(server ? { service: server } : {}),
            ...(context.serverVersion ? { serverVersion: context.serverVersion } : {}),
        };
        for (const h of context.http ?? []) attachHttp(probe, h);
        snapshot.servers.push(probe);
    }
    snapshot.recorded = {
        commandLogs,
        exec: context.exec ?? [],
        hostStat: context.hostStat ?? [],
    };
    snapshot.probes.push({ probe: 'recorded context', status: 'ran' });
}
