// Talking to the Docker Engine: finding one that answers, and reading the containers of a compose
// project (state, health, ports, mounts, the tail of their logs) into plain facts.

import Dockerode from 'dockerode';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import {
    isContainerState,
    type ContainerFacts,
    type DockerEndpoint,
    type DockerFacts,
    type PortBinding,
} from '../model.js';
import { DeadlineError, withDeadline } from './deadline.js';
import {
    parseDockerAddress,
    resolveDockerEndpoints,
    type DockerEndpointCandidate,
} from './endpoint.js';
import { logTailLines } from './logs.js';

export interface DockerConnection {
    docker: Dockerode;
    endpoint: DockerEndpoint;
    engineVersion?: string;
    apiVersion?: string;
}

export interface ConnectResult {
    connection?: DockerConnection;
    attempts: DockerFacts['attempts'];
    error?: string;
}

const DEFAULT_TIMEOUT_MS = 5000;

// dockerode passes `abortSignal` through on every call; its type declarations omit it for these.
interface SignalledDocker {
    ping(options: { abortSignal: AbortSignal }): Promise<unknown>;
    version(options: { abortSignal: AbortSignal }): Promise<Dockerode.DockerVersion>;
}

/**
 * Tries each endpoint in turn with `GET /_ping` and returns the first that answers, plus every
 * attempt with what went wrong, so an unreachable Engine can be explained.
 */
export async function connectDocker(
    endpoints: DockerEndpointCandidate[],
    options: { timeoutMs?: number } = {},
): Promise<ConnectResult> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const pinged = await pingFirst(endpoints, timeoutMs);
    if (pinged.connection) await readEngineVersion(pinged.connection, timeoutMs);
    return pinged;
}

/** The first endpoint that answers `GET /_ping`, without asking its version yet. */
async function pingFirst(
    endpoints: DockerEndpointCandidate[],
    timeoutMs: number,
): Promise<ConnectResult> {
    const attempts: DockerFacts['attempts'] = [];

    for (const candidate of endpoints) {
        const endpoint = plainEndpoint(candidate);
        if (candidate.problem) {
            attempts.push({ endpoint, error: candidate.problem });
            continue;
        }
        let docker: Dockerode;
        try {
            docker = new Dockerode(modemOptions(candidate));
        } catch (error) {
            attempts.push({
                endpoint,
                error: `cannot use ${candidate.address}: ${message(error)}`,
            });
            continue;
        }
        try {
            await withDeadline(`ping ${candidate.address}`, timeoutMs, (abortSignal) =>
                (docker as SignalledDocker).ping({ abortSignal }),
            );
        } catch (error) {
            attempts.push({
                endpoint,
                error: describeConnectionError(error, candidate, timeoutMs),
            });
            continue;
        }
        attempts.push({ endpoint });
        return { connection: { docker, endpoint }, attempts };
    }

    const tried = attempts.map((a) => `${a.endpoint.address || a.endpoint.source}: ${a.error}`);
    return {
        attempts,
        error:
            attempts.length === 0
                ? 'no Docker Engine address to try'
                : `no Docker Engine answered (${tried.join('; ')})`,
    };
}

async function readEngineVersion(connection: DockerConnection, timeoutMs: number): Promise<void> {
    try {
        const version = await withDeadline('GET /version', timeoutMs, (abortSignal) =>
            (connection.docker as SignalledDocker).version({ abortSignal }),
        );
        connection.engineVersion = version.Version;
        connection.apiVersion = version.ApiVersion;
    } catch {
        // The ping answered; a missing version only makes the report less specific.
    }
}

/** A connection failure in the user's terms: what was tried, what happened, what to do. */
export function describeConnectionError(
    error: unknown,
    endpoint: DockerEndpoint,
    timeoutMs: number,
): string {
    const parsed = parseDockerAddress(endpoint.address);
    const where = parsed.scheme === 'unix' ? parsed.socketPath : endpoint.address;
    if (error instanceof DeadlineError) {
        return `no answer from ${where} within ${timeoutMs} ms: the Engine is hung or something else listens there`;
    }
    const code = (error as { code?: unknown } | undefined)?.code;
    const statusCode = (error as { statusCode?: unknown } | undefined)?.statusCode;
    switch (code) {
        case 'ENOENT':
            return `no socket at ${where}: the Docker Engine is not running there (start Docker Desktop or the docker service)`;
        case 'EACCES':
        case 'EPERM':
            return `permission denied on ${where}: add your user to the docker group (sudo usermod -aG docker $USER, then log in again) or use rootless Docker`;
        case 'ECONNREFUSED':
            return parsed.scheme === 'unix'
                ? `connection refused on ${where}: the socket file is left over from an Engine that is not running`
                : `connection refused at ${where}: nothing listens on that port`;
        case 'ENOTSOCK':
            return `${where} exists but is not a socket`;
        case 'ECONNRESET':
            return `the connection to ${where} was reset: it may not be a Docker Engine, or it wants TLS`;
        case 'ETIMEDOUT':
            return `connecting to ${where} timed out`;
        case 'ENOTFOUND':
        case 'EAI_AGAIN':
            return `cannot resolve the host of ${where}`;
        default:
            break;
    }
    if (
        typeof code === 'string' &&
        /CERT|SSL|TLS|SELF_SIGNED|VERIFY|ISSUER|SIGNATURE/i.test(code)
    ) {
        return `TLS failed with ${where} (${code}): check DOCKER_CERT_PATH and DOCKER_TLS_VERIFY`;
    }
    if (typeof statusCode === 'number') {
        return `${where} answered HTTP ${statusCode} to /_ping: it is not a Docker Engine API`;
    }
    return `${where}: ${message(error)}`;
}

function modemOptions(candidate: DockerEndpointCandidate): Dockerode.DockerOptions {
    const parsed = parseDockerAddress(candidate.address);
    // Explicit undefineds: docker-modem fills unset options from DOCKER_HOST, which must not win
    // over the endpoint being tried.
    if (parsed.scheme === 'unix') {
        return {
            socketPath: parsed.socketPath,
            host: undefined,
            port: undefined,
            protocol: 'http',
        };
    }
    if (parsed.scheme !== 'tcp') throw new Error(parsed.reason);
    const options: Dockerode.DockerOptions = {
        socketPath: undefined,
        host: parsed.host,
        port: parsed.port,
        protocol: candidate.tls ? 'https' : 'http',
    };
    if (candidate.tls) {
        const read = (file: string): Buffer | undefined => {
            try {
                return readFileSync(path.join(candidate.tls!.certPath, file));
            } catch {
                return undefined;
            }
        };
        const ca = read('ca.pem');
        const cert = read('cert.pem');
        const key = read('key.pem');
        if (candidate.tls.verify && !ca) {
            throw new Error(
                `TLS verification is on but ${path.join(candidate.tls.certPath, 'ca.pem')} cannot be read`,
            );
        }
        if (ca) options.ca = ca;
        if (cert) options.cert = cert;
        if (key) options.key = key;
        if (!candidate.tls.verify) {
            (options as Record<string, unknown>).checkServerIdentity = () => undefined;
        }
    }
    return options;
}

function plainEndpoint(candidate: DockerEndpointCandidate): DockerEndpoint {
    const endpoint: DockerEndpoint = { source: candidate.source, address: candidate.address };
    if (candidate.contextName) endpoint.contextName = candidate.contextName;
    return endpoint;
}

// ---------------------------------------------------------------------------------------------
// Containers

export interface ContainerQuery {
    /** The compose project name. */
    project?: string;
    /** The project folder, to tell apart two projects with the same name. */
    workingDir?: string;
    /** The project's services, to find its containers when the project name differs. */
    serviceNames?: string[];
    timeoutMs?: number;
    /** How many log lines to keep per container. */
    logLines?: number;
}

const PROJECT_LABEL = 'com.docker.compose.project';
const SERVICE_LABEL = 'com.docker.compose.service';
const WORKING_DIR_LABEL = 'com.docker.compose.project.working_dir';
const CONFIG_FILES_LABEL = 'com.docker.compose.project.config_files';
const COMPOSE_VERSION_LABEL = 'com.docker.compose.version';

/**
 * The containers of one compose project, inspected, with the tail of their logs. Containers are
 * matched by the compose project label; when two folders use the same project name, the one whose
 * working_dir label matches `workingDir` wins.
 */
export async function gatherContainers(
    docker: Dockerode,
    query: ContainerQuery,
): Promise<ContainerFacts[]> {
    const timeoutMs = query.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const summaries = await withDeadline('listing containers', timeoutMs, (abortSignal) =>
        docker.listContainers({ all: true, abortSignal }),
    );
    const chosen = selectProjectContainers(summaries, query);

    const facts = await Promise.all(
        chosen.map(async (summary) => {
            const container = docker.getContainer(summary.Id);
            // The log request goes out with the inspect, not after it: only decoding the log
            // stream needs the inspect's answer (whether the container has a TTY).
            const logs = readLogBytes(container, query.logLines ?? 50, timeoutMs);
            let info: Dockerode.ContainerInspectInfo;
            try {
                info = await withDeadline(
                    `inspecting ${summary.Names[0] ?? summary.Id}`,
                    timeoutMs,
                    (abortSignal) => container.inspect({ abortSignal }),
                );
            } catch (error) {
                await logs;
                // Removed between list and inspect: it is no longer part of the stack.
                if ((error as { statusCode?: number }).statusCode === 404) return undefined;
                throw error;
            }
            const fact = containerFacts(info);
            const bytes = await logs;
            fact.logTail = bytes && logTailLines(bytes, !info.Config?.Tty, query.logLines ?? 50);
            return fact;
        }),
    );
    return facts
        .filter((fact): fact is ContainerFacts => fact !== undefined)
        .sort((a, b) => (a.service ?? a.name).localeCompare(b.service ?? b.name));
}

/** The list entries that belong to the project asked about. */
export function selectProjectContainers<
    T extends { Labels: Record<string, string>; Names: string[] },
>(summaries: T[], query: ContainerQuery): T[] {
    const wantedDir = query.workingDir ? normaliseDir(query.workingDir) : undefined;
    const inDir = (summary: T): boolean =>
        wantedDir !== undefined &&
        summary.Labels[WORKING_DIR_LABEL] !== undefined &&
        normaliseDir(summary.Labels[WORKING_DIR_LABEL]) === wantedDir;

    let byProject = query.project
        ? summaries.filter((summary) => summary.Labels[PROJECT_LABEL] === query.project)
        : summaries.filter(
              (summary) => summary.Labels[PROJECT_LABEL] !== undefined && inDir(summary),
          );
    if (query.project && wantedDir !== undefined) {
        const dirs = new Set(byProject.map((summary) => summary.Labels[WORKING_DIR_LABEL]));
        // Only narrow when the name is shared by several folders; a project that was moved keeps
        // its containers (they carry the old folder) and they are still the user's stack.
        if (dirs.size > 1 && byProject.some(inDir)) byProject = byProject.filter(inDir);
    }
    if (byProject.length > 0 || !query.serviceNames || wantedDir === undefined) return byProject;

    // Started under another project name (COMPOSE_PROJECT_NAME in another shell), same folder.
    const services = new Set(query.serviceNames);
    return summaries.filter(
        (summary) =>
            summary.Labels[SERVICE_LABEL] !== undefined &&
            services.has(summary.Labels[SERVICE_LABEL]) &&
            inDir(summary),
    );
}

/** `v1` for docker-compose 1.x, `v2` for the Compose plugin (which numbers itself 2 and up). */
export function composeFlavor(
    name: string,
    labels: Record<string, string>,
): 'v1' | 'v2' | undefined {
    const version = labels[COMPOSE_VERSION_LABEL];
    const major = version ? Number.parseInt(version, 10) : NaN;
    if (Number.isInteger(major)) return major <= 1 ? 'v1' : 'v2';
    const project = labels[PROJECT_LABEL];
    const service = labels[SERVICE_LABEL];
    if (!project || !service) return undefined;
    const bare = name.replace(/^\//, '');
    if (new RegExp(`^${escapeRe(project)}_${escapeRe(service)}_\\d+$`).test(bare)) return 'v1';
    if (new RegExp(`^${escapeRe(project)}-${escapeRe(service)}-\\d+$`).test(bare)) return 'v2';
    return undefined;
}

/** Plain facts from `docker inspect` output. */
export function containerFacts(info: Dockerode.ContainerInspectInfo): ContainerFacts {
    const labels = info.Config?.Labels ?? {};
    const name = (info.Name ?? '').replace(/^\//, '');
    const rawState = info.State?.Status as ContainerFacts['state'] | undefined;
    const state: ContainerFacts['state'] = isContainerState(rawState)
        ? rawState
        : info.State?.Running
          ? 'running'
          : 'dead';

    const facts: ContainerFacts = {
        id: info.Id,
        name,
        image: info.Config?.Image ?? info.Image,
        state,
        restartCount: info.RestartCount ?? 0,
        ports: portBindings(info),
        mounts: (info.Mounts ?? []).map((mount) => {
            const entry: ContainerFacts['mounts'][number] = {
                type: mount.Type,
                source: mount.Source,
                destination: mount.Destination,
                rw: mount.RW,
            };
            if (mount.Name) entry.name = mount.Name;
            return entry;
        }),
        cmd: asStringArray(info.Config?.Cmd),
        entrypoint: asStringArray(info.Config?.Entrypoint),
        env: envRecord(info.Config?.Env ?? []),
        labels,
        networks: Object.entries(info.NetworkSettings?.Networks ?? {}).map(([netName, net]) => {
            const entry: ContainerFacts['networks'][number] = {
                name: netName,
                aliases: asStringArray(net.Aliases),
            };
            if (net.IPAddress) entry.ip = net.IPAddress;
            return entry;
        }),
    };

    const project = labels[PROJECT_LABEL];
    if (project) facts.project = project;
    const service = labels[SERVICE_LABEL];
    if (service) facts.service = service;
    const flavor = composeFlavor(name, labels);
    if (flavor) facts.composeFlavor = flavor;
    if (labels[WORKING_DIR_LABEL]) facts.workingDir = labels[WORKING_DIR_LABEL];
    if (labels[CONFIG_FILES_LABEL]) facts.configFiles = labels[CONFIG_FILES_LABEL].split(',');
    if (state !== 'running' && state !== 'created' && typeof info.State?.ExitCode === 'number') {
        facts.exitCode = info.State.ExitCode;
    }
    if (info.State?.Error) facts.error = info.State.Error;

    const health = info.State?.Health as
        { Status?: string; Log?: { ExitCode?: number; Output?: string }[] } | undefined;
    if (
        health?.Status === 'starting' ||
        health?.Status === 'healthy' ||
        health?.Status === 'unhealthy'
    ) {
        facts.health = health.Status;
        facts.healthLog = (health.Log ?? []).slice(-5).map((entry) => ({
            exitCode: entry.ExitCode ?? -1,
            output: (entry.Output ?? '').trim(),
        }));
    } else {
        facts.health = 'none';
    }
    if (info.State?.StartedAt && !info.State.StartedAt.startsWith('0001-')) {
        facts.startedAt = info.State.StartedAt;
    }
    if (info.State?.FinishedAt && !info.State.FinishedAt.startsWith('0001-')) {
        facts.finishedAt = info.State.FinishedAt;
    }
    if (info.Config?.User) facts.user = info.Config.User;
    return facts;
}

function portBindings(info: Dockerode.ContainerInspectInfo): PortBinding[] {
    const bindings: PortBinding[] = [];
    // A running container reports what was bound; a stopped one only what was asked for.
    const ports =
        info.State?.Running && info.NetworkSettings?.Ports
            ? info.NetworkSettings.Ports
            : ((info.HostConfig?.PortBindings as Record<
                  string,
                  { HostIp?: string; HostPort?: string }[] | null
              >) ?? {});
    for (const [key, hosts] of Object.entries(ports)) {
        const [port, protocol = 'tcp'] = key.split('/');
        for (const host of hosts ?? []) {
            const hostPort = Number(host.HostPort);
            if (!Number.isInteger(hostPort) || hostPort <= 0) continue;
            bindings.push({
                containerPort: Number(port),
                protocol,
                hostIp: host.HostIp ?? '',
                hostPort,
            });
        }
    }
    return bindings;
}

/** The raw tail of a container's log; never rejects. */
async function readLogBytes(
    container: Dockerode.Container,
    lines: number,
    timeoutMs: number,
): Promise<Buffer | undefined> {
    if (lines <= 0) return undefined;
    try {
        const output = await withDeadline('reading container logs', timeoutMs, (abortSignal) =>
            container.logs({ stdout: true, stderr: true, tail: lines, follow: false, abortSignal }),
        );
        return Buffer.isBuffer(output) ? output : Buffer.from(String(output));
    } catch {
        // Some log drivers (none, syslog) cannot be read back; the rest of the facts still stand.
        return undefined;
    }
}

function envRecord(entries: string[]): Record<string, string> {
    const env: Record<string, string> = {};
    for (const entry of entries) {
        const at = entry.indexOf('=');
        if (at <= 0) continue;
        env[entry.slice(0, at)] = entry.slice(at + 1);
    }
    return env;
}

function asStringArray(value: unknown): string[] {
    if (Array.isArray(value))
        return value.filter((item): item is string => typeof item === 'string');
    if (typeof value === 'string') return [value];
    return [];
}

function normaliseDir(dir: string): string {
    const normal = path.normalize(dir);
    return normal.length > 1 ? normal.replace(/[\\/]+$/, '') : normal;
}

function escapeRe(text: string): string {
    return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function message(error: unknown): string {
    return error instanceof Error ? error.message : String(error);
}

// ---------------------------------------------------------------------------------------------
// The entry point

export interface GatherDockerOptions extends ContainerQuery {
    env?: Record<string, string | undefined>;
    homeDir?: string;
    /** The user's explicit Docker host setting, tried first. */
    setting?: string;
    endpoints?: DockerEndpointCandidate[];
}

/** What gathering learned, and the live connection for probes that need it (sync probes). */
export interface DockerSession {
    facts: DockerFacts;
    docker?: Dockerode;
}

/** Connects and gathers, keeping the connection open for further probes. */
export async function openDocker(options: GatherDockerOptions = {}): Promise<DockerSession> {
    const endpoints =
        options.endpoints ??
        resolveDockerEndpoints(
            options.env ?? process.env,
            options.homeDir ?? os.homedir(),
            options.setting,
        );
    // Like the docker CLI: an endpoint the user chose is the only one used. Falling back to the
    // default socket would quietly diagnose a different engine than the one running the stack.
    const chosen = endpoints.filter(
        (e) => e.source === 'setting' || e.source === 'DOCKER_HOST' || e.source === 'context',
    );
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const connected = await pingFirst(chosen.length > 0 ? chosen : endpoints, timeoutMs);
    const facts: DockerFacts = {
        attempts: connected.attempts,
        reachable: connected.connection !== undefined,
        containers: [],
    };
    if (!connected.connection) {
        if (connected.error) facts.error = connected.error;
        return { facts };
    }
    const { connection } = connected;
    const { docker, endpoint } = connection;
    facts.endpoint = endpoint;
    // The version and the container list do not depend on each other.
    const [, containers] = await Promise.all([
        readEngineVersion(connection, timeoutMs),
        gatherContainers(docker, options).then(
            (list) => ({ list }),
            (error: unknown) => ({ error }),
        ),
    ]);
    if (connection.engineVersion) facts.engineVersion = connection.engineVersion;
    if (connection.apiVersion) facts.apiVersion = connection.apiVersion;
    if ('list' in containers) {
        facts.containers = containers.list;
    } else {
        const { error } = containers;
        facts.error =
            error instanceof DeadlineError
                ? `the Engine at ${endpoint.address} answered the ping but not ${error.what} within ${error.timeoutMs} ms`
                : `reading containers from ${endpoint.address} failed: ${message(error)}`;
    }
    return { facts, docker };
}

/** The Docker facts of a stack: the one entry point for gathering. */
export async function gatherDocker(options: GatherDockerOptions = {}): Promise<DockerFacts> {
    return (await openDocker(options)).facts;
}
