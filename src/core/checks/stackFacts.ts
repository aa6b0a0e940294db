// Cross-source lookups that several checks share: which service is the server, where a client
// runs, and how a host client reaches the server. Pure functions of the snapshot.

import type {
    ComposeService,
    FindingLocation,
    ContainerFacts,
    ServerConfig,
    ServerProbe,
    StackSnapshot,
    TrackingUriUse,
} from '../model.js';
import path from 'node:path';

export function composeService(
    snapshot: StackSnapshot,
    name: string | undefined,
): ComposeService | undefined {
    if (name === undefined) return undefined;
    return snapshot.compose?.services.find((s) => s.name === name);
}

export function containerOf(
    snapshot: StackSnapshot,
    service: string | undefined,
): ContainerFacts | undefined {
    if (service === undefined) return undefined;
    const matches = snapshot.docker?.containers.filter((c) => c.service === service) ?? [];
    // With several replicas or leftovers, the running one speaks for the service.
    return matches.find((c) => c.state === 'running') ?? matches[0];
}

export function probesOf(snapshot: StackSnapshot, service: string): ServerProbe[] {
    return snapshot.servers.filter((p) => p.service === service);
}

/** The server configs, or the one whose service a client's URI names. */
export function serverServices(snapshot: StackSnapshot): Set<string> {
    return new Set(snapshot.serverConfigs.map((c) => c.service));
}

/** Where a tracking URI use runs: inside a compose service's container, or on the host. */
export function clientPlacement(
    snapshot: StackSnapshot,
    use: TrackingUriUse,
): { where: 'container'; service: string } | { where: 'host' } {
    if (use.service) return { where: 'container', service: use.service };
    const recorded = snapshot.host.clientRuns;
    if (recorded?.startsWith('container:')) {
        return { where: 'container', service: recorded.slice('container:'.length) };
    }
    if (recorded === 'host' || recorded === 'remote') return { where: 'host' };
    const service = serviceBuildingFile(snapshot, use.file);
    return service ? { where: 'container', service } : { where: 'host' };
}

/**
 * The non-server service whose build context holds `file`, when exactly one does: a script
 * next to a client's Dockerfile is most likely copied into that image and run there.
 */
export function serviceBuildingFile(snapshot: StackSnapshot, file: string): string | undefined {
    const servers = serverServices(snapshot);
    const candidates = (snapshot.compose?.services ?? []).filter((s) => {
        if (!s.build || servers.has(s.name)) return false;
        const context = path.relative(
            snapshot.folder,
            path.resolve(snapshot.compose?.workingDir ?? snapshot.folder, s.build.context),
        );
        return context === '' || (!context.startsWith('..') && file.startsWith(context + '/'));
    });
    return candidates.length === 1 ? candidates[0]?.name : undefined;
}

/** Host ports that reach `config`'s server port, from the live container or the compose file. */
export function publishedPorts(
    snapshot: StackSnapshot,
    config: ServerConfig,
): { hostPort: number; hostIp?: string; from: 'container' | 'compose' | 'script'; key?: string }[] {
    const container = containerOf(snapshot, config.service);
    if (container && container.state === 'running' && container.ports.length > 0) {
        return container.ports
            .filter((p) => p.containerPort === config.port)
            .map((p) => ({
                hostPort: p.hostPort,
                hostIp: p.hostIp || undefined,
                from: 'container',
            }));
    }
    const service = composeService(snapshot, config.service);
    if (!service && config.written?.ports) {
        // A server started by a `docker run -p` line in a script.
        return config.written.ports
            .filter((p) => p.containerPort === config.port)
            .map((p) => ({ hostPort: p.hostPort, hostIp: p.hostIp, from: 'script' as const }));
    }
    return (service?.ports ?? [])
        .filter((p) => p.target === config.port && p.published !== undefined)
        .flatMap((p) => {
            const first = Number((p.published ?? '').split('-')[0]);
            return Number.isFinite(first) && first > 0
                ? [{ hostPort: first, hostIp: p.hostIp, from: 'compose' as const, key: p.key }]
                : [];
        });
}

/** The compose key of a server's command, where its flags are written. */
export function commandKey(config: ServerConfig): string {
    return `services.${config.service}.command`;
}

/** The server command as one line, for evidence. */
export function renderedCommand(snapshot: StackSnapshot, service: string): string | undefined {
    const composed = composeService(snapshot, service);
    const argv = [...(composed?.entrypoint ?? []), ...(composed?.command ?? [])];
    if (argv.length > 0) return argv.join(' ');
    const container = containerOf(snapshot, service);
    if (container) return [...container.entrypoint, ...container.cmd].join(' ');
    return undefined;
}

/** Log lines of a service's container that match, newest last. */
export function logLines(snapshot: StackSnapshot, service: string, pattern: RegExp): string[] {
    return (containerOf(snapshot, service)?.logTail ?? []).filter((line) => pattern.test(line));
}

/**
 * Where a tracking URI is written, as a location in the file itself: for a notebook the line of
 * the raw `.ipynb` (what an editor opening the file shows), narrowed to the URI's own text.
 */
export function uriLocation(snapshot: StackSnapshot, use: TrackingUriUse): FindingLocation {
    const line = use.rawLine ?? use.line;
    const text = snapshot.files?.[use.file]?.split('\n')[line - 1];
    const at = text?.indexOf(use.uri) ?? -1;
    const column = at >= 0 ? at + 1 : (use.rawColumn ?? use.column);
    return {
        file: use.file,
        line,
        column,
        endLine: line,
        endColumn: column + use.uri.length,
        key: use.via === 'compose-environment' ? undefined : use.uri,
    };
}

/** "notebooks/train.ipynb cell 2, line 7" or "train.py:7", for evidence. */
export function describeUse(use: TrackingUriUse): string {
    return use.cell !== undefined
        ? `${use.file} (cell ${use.cell + 1}, line ${use.line})`
        : `${use.file}:${use.line}`;
}
