// Which Docker Engine addresses to try, in the order the docker CLI would pick them, so the doctor
// talks to the same engine that `docker compose up` used.

import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

import type { DockerEndpoint } from '../model.js';

/** TLS material for a `tcp://` endpoint, as DOCKER_TLS_VERIFY / DOCKER_CERT_PATH describe it. */
export interface DockerTlsSettings {
    /** Verify the server certificate against `ca.pem`. */
    verify: boolean;
    /** Folder holding `ca.pem`, `cert.pem` and `key.pem`. */
    certPath: string;
}

/** An endpoint to try, with what is needed to dial it; `problem` means it cannot be dialled. */
export interface DockerEndpointCandidate extends DockerEndpoint {
    tls?: DockerTlsSettings;
    /** Why this endpoint cannot be tried at all (unsupported scheme, context not found...). */
    problem?: string;
}

export type ParsedDockerAddress =
    | { scheme: 'unix'; socketPath: string }
    | { scheme: 'tcp'; host: string; port: number }
    | { scheme: 'unsupported'; reason: string };

export interface EndpointResolutionOptions {
    /** The user id whose rootless socket to look for; defaults to the current process's. */
    uid?: number;
    /** Existence test for optional sockets (rootless, Podman); injectable for tests. */
    exists?: (file: string) => boolean;
    /** The platform whose rules apply (`npipe://` only works on Windows). */
    platform?: NodeJS.Platform;
}

const DEFAULT_SOCKET = '/var/run/docker.sock';

/**
 * Every address worth trying, best first: an explicit setting, DOCKER_HOST, the Docker context
 * (DOCKER_CONTEXT or `currentContext`), the default socket, then the rootless and Podman sockets
 * that exist. The first entries are what the docker CLI itself would use; the rest are fallbacks
 * so that "not reachable" can say what else was found on the machine.
 */
export function resolveDockerEndpoints(
    env: Record<string, string | undefined>,
    homeDir: string,
    setting?: string,
    options: EndpointResolutionOptions = {},
): DockerEndpointCandidate[] {
    const exists = options.exists ?? existsSync;
    const platform = options.platform ?? process.platform;
    const uid = options.uid ?? (typeof process.getuid === 'function' ? process.getuid() : 0);
    const candidates: DockerEndpointCandidate[] = [];

    if (setting && setting.trim() !== '') {
        candidates.push(withTls({ source: 'setting', address: setting.trim() }, env, homeDir));
    }

    const dockerHost = env.DOCKER_HOST?.trim();
    if (dockerHost) {
        candidates.push(withTls({ source: 'DOCKER_HOST', address: dockerHost }, env, homeDir));
    } else {
        const fromContext = contextEndpoint(env, homeDir);
        if (fromContext) candidates.push(fromContext);
    }

    candidates.push({ source: 'default', address: `unix://${DEFAULT_SOCKET}` });

    const rootless = [
        env.XDG_RUNTIME_DIR ? path.join(env.XDG_RUNTIME_DIR, 'docker.sock') : undefined,
        `/run/user/${uid}/docker.sock`,
    ];
    for (const socket of rootless) {
        if (socket && exists(socket)) {
            candidates.push({ source: 'rootless', address: `unix://${socket}` });
        }
    }

    const podman = [
        env.XDG_RUNTIME_DIR ? path.join(env.XDG_RUNTIME_DIR, 'podman', 'podman.sock') : undefined,
        '/run/podman/podman.sock',
    ];
    for (const socket of podman) {
        if (socket && exists(socket)) {
            candidates.push({ source: 'podman', address: `unix://${socket}` });
        }
    }

    return dedupe(candidates).map((candidate) => markUnsupported(candidate, platform));
}

/** Splits a docker host address (`unix:///path`, `tcp://host:port`, `host:port`). */
export function parseDockerAddress(address: string): ParsedDockerAddress {
    if (address.startsWith('unix://')) {
        const socketPath = address.slice('unix://'.length) || DEFAULT_SOCKET;
        return { scheme: 'unix', socketPath };
    }
    if (address.startsWith('/')) return { scheme: 'unix', socketPath: address };
    if (address.startsWith('npipe://')) {
        return {
            scheme: 'unsupported',
            reason: 'npipe:// is a Windows named pipe; it cannot be reached from Linux or macOS',
        };
    }
    if (address.startsWith('ssh://')) {
        // Not yet: ssh:// endpoints (docker over SSH) are not dialled; such stacks report Docker as unreachable.
        return { scheme: 'unsupported', reason: 'ssh:// endpoints are not supported yet' };
    }
    if (address.startsWith('fd://')) {
        return { scheme: 'unsupported', reason: 'fd:// is only meaningful to dockerd itself' };
    }

    const withScheme = address.includes('://') ? address : `tcp://${address}`;
    let url: URL;
    try {
        url = new URL(withScheme);
    } catch {
        return { scheme: 'unsupported', reason: `"${address}" is not a valid Docker host address` };
    }
    if (url.protocol !== 'tcp:' && url.protocol !== 'http:' && url.protocol !== 'https:') {
        return { scheme: 'unsupported', reason: `unknown scheme ${url.protocol} in "${address}"` };
    }
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    if (host === '') return { scheme: 'unsupported', reason: `no host in "${address}"` };
    const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 2376 : 2375;
    return { scheme: 'tcp', host, port };
}

/** The folder of the docker CLI's configuration: DOCKER_CONFIG, else `~/.docker`. */
export function dockerConfigDir(env: Record<string, string | undefined>, homeDir: string): string {
    const configured = env.DOCKER_CONFIG?.trim();
    return configured ? configured : path.join(homeDir, '.docker');
}

/** The Docker context's endpoint, or nothing when the default context is in use. */
function contextEndpoint(
    env: Record<string, string | undefined>,
    homeDir: string,
): DockerEndpointCandidate | undefined {
    const configDir = dockerConfigDir(env, homeDir);
    let name = env.DOCKER_CONTEXT?.trim();
    if (!name) {
        const configFile = path.join(configDir, 'config.json');
        if (!existsSync(configFile)) return undefined;
        try {
            const config = JSON.parse(readFileSync(configFile, 'utf8')) as unknown;
            const current =
                config && typeof config === 'object'
                    ? (config as Record<string, unknown>).currentContext
                    : undefined;
            name = typeof current === 'string' ? current.trim() : undefined;
        } catch (error) {
            return {
                source: 'context',
                address: '',
                problem: `${configFile} is not valid JSON (${String(error)}); the docker CLI fails the same way`,
            };
        }
    }
    if (!name || name === 'default') return undefined;

    // The CLI stores a context under the SHA-256 of its name, so any name is a valid folder.
    const hash = createHash('sha256').update(name).digest('hex');
    const metaFile = path.join(configDir, 'contexts', 'meta', hash, 'meta.json');
    if (!existsSync(metaFile)) {
        return {
            source: 'context',
            address: '',
            contextName: name,
            problem: `Docker context "${name}" is selected but ${metaFile} does not exist (docker context ls lists the contexts)`,
        };
    }
    let host: unknown;
    let skipTlsVerify: boolean;
    try {
        const meta = JSON.parse(readFileSync(metaFile, 'utf8')) as {
            Endpoints?: { docker?: { Host?: unknown; SkipTLSVerify?: unknown } };
        };
        host = meta.Endpoints?.docker?.Host;
        skipTlsVerify = meta.Endpoints?.docker?.SkipTLSVerify === true;
    } catch (error) {
        return {
            source: 'context',
            address: '',
            contextName: name,
            problem: `${metaFile} is not valid JSON (${String(error)})`,
        };
    }
    if (typeof host !== 'string' || host === '') {
        return {
            source: 'context',
            address: '',
            contextName: name,
            problem: `Docker context "${name}" has no Endpoints.docker.Host in ${metaFile}`,
        };
    }

    const candidate: DockerEndpointCandidate = {
        source: 'context',
        address: host,
        contextName: name,
    };
    const tlsDir = path.join(configDir, 'contexts', 'tls', hash, 'docker');
    if (existsSync(path.join(tlsDir, 'cert.pem')) || existsSync(path.join(tlsDir, 'ca.pem'))) {
        candidate.tls = { verify: !skipTlsVerify, certPath: tlsDir };
    }
    return candidate;
}

/** DOCKER_TLS_VERIFY and DOCKER_CERT_PATH apply to tcp addresses given by setting or DOCKER_HOST. */
function withTls(
    candidate: DockerEndpointCandidate,
    env: Record<string, string | undefined>,
    homeDir: string,
): DockerEndpointCandidate {
    const parsed = parseDockerAddress(candidate.address);
    if (parsed.scheme !== 'tcp') return candidate;
    // The CLI treats any non-empty DOCKER_TLS_VERIFY as "on"; DOCKER_TLS alone means TLS unverified.
    const verify = (env.DOCKER_TLS_VERIFY ?? '') !== '';
    const tlsWanted = verify || (env.DOCKER_TLS ?? '') !== '' || parsed.port === 2376;
    if (!tlsWanted && !candidate.address.startsWith('https://')) return candidate;
    const certPath = env.DOCKER_CERT_PATH?.trim() || dockerConfigDir(env, homeDir);
    return { ...candidate, tls: { verify, certPath } };
}

function markUnsupported(
    candidate: DockerEndpointCandidate,
    platform: NodeJS.Platform,
): DockerEndpointCandidate {
    if (candidate.problem) return candidate;
    const parsed = parseDockerAddress(candidate.address);
    if (parsed.scheme !== 'unsupported') return candidate;
    if (candidate.address.startsWith('npipe://') && platform === 'win32') {
        // Not yet: Windows named pipes are not dialled; on Windows the doctor reports Docker as unreachable.
        return { ...candidate, problem: 'npipe:// endpoints are not supported yet' };
    }
    return { ...candidate, problem: parsed.reason };
}

function dedupe(candidates: DockerEndpointCandidate[]): DockerEndpointCandidate[] {
    const seen = new Set<string>();
    return candidates.filter((candidate) => {
        if (candidate.address === '') return true;
        const parsed = parseDockerAddress(candidate.address);
        const key =
            parsed.scheme === 'unix'
                ? `unix:${path.normalize(parsed.socketPath)}`
                : parsed.scheme === 'tcp'
                  ? `tcp:${parsed.host}:${parsed.port}`
                  : candidate.address;
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
    });
}
