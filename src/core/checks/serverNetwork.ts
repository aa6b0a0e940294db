// How clients reach the server: the address it binds inside its container, the ports it
// publishes, and the host names clients use. Read from the rendered compose file and, where the
// stack runs, from the live container.

import type { Finding, FindingLocation, ServerConfig, StackSnapshot } from '../model.js';
import { isLoopbackBind, isLoopbackHost, parseTrackingUri } from '../mlflow/trackingUri.js';
import { replaceOnLine, setServerFlag, replaceOnKeyLine } from './commandEdits.js';
import { type Check, makeFinding, nearestComposeLocation, serverFieldLocation } from './check.js';
import {
    clientPlacement,
    composeService,
    containerOf,
    logLines,
    publishedPorts,
    renderedCommand,
    serverServices,
    describeUse,
    uriLocation,
} from './stackFacts.js';

const LISTEN_LINE =
    /(Listening at|Uvicorn running on|Running on):?\s+https?:\/\/([^\s:/]+|\[[^\]]+\]):(\d+)/;

function hostKeyLocation(snapshot: StackSnapshot, config: ServerConfig): FindingLocation[] {
    const at = serverFieldLocation(snapshot, config, 'host', '--host');
    return at ? [at] : [];
}

function bindingFinding(snapshot: StackSnapshot, config: ServerConfig): Finding | undefined {
    const listening = logLines(snapshot, config.service, LISTEN_LINE);
    const liveHost =
        listening.length > 0 ? LISTEN_LINE.exec(listening.at(-1) ?? '')?.[2] : undefined;
    const host = liveHost ?? config.host;
    if (!isLoopbackBind(host)) return undefined;

    const evidence: string[] = [];
    const command = renderedCommand(snapshot, config.service);
    if (command) evidence.push(`The server's command renders to: ${command}`);
    if (config.host === undefined) {
        evidence.push(
            'It gives no --host (nor MLFLOW_HOST), and MLflow binds 127.0.0.1 by default.',
        );
    } else {
        evidence.push(`It binds --host ${config.host}.`);
    }
    if (listening.length > 0) evidence.push(`Container log: ${listening.at(-1)}`);
    const viaEnv = config.keys.host?.includes('.environment.');
    const edit = viaEnv
        ? replaceOnKeyLine(
              snapshot,
              config.keys.host ?? '',
              config.host ?? '',
              '0.0.0.0',
              'Bind the server to 0.0.0.0',
          )
        : setServerFlag(
              snapshot,
              config,
              '--host',
              '0.0.0.0',
              'Add --host 0.0.0.0 to the server command',
              ['-h'],
          );

    return makeFinding(config.service, {
        kind: 'server-binding',
        severity: 'error',
        title: `The MLflow server in "${config.service}" listens on ${host ?? '127.0.0.1'} inside its container`,
        evidence,
        fix:
            `Start the server with --host 0.0.0.0 (or MLFLOW_HOST=0.0.0.0). A server bound to ` +
            `${host ?? '127.0.0.1'} inside a container answers only that container: published ports ` +
            `and other containers get "connection reset" or "connection refused".`,
        locations: hostKeyLocation(snapshot, config),
        edits: edit ? [edit] : undefined,
        service: config.service,
    });
}

/** Uses of the tracking URI by clients on the host, with their parsed form. */
function hostClients(snapshot: StackSnapshot) {
    return snapshot.workspace.trackingUris
        .filter((use) => clientPlacement(snapshot, use).where === 'host')
        .map((use) => ({ use, parsed: parseTrackingUri(use.uri) }))
        .filter(({ parsed }) => parsed.scheme === 'http' || parsed.scheme === 'https');
}

function portFindings(snapshot: StackSnapshot, config: ServerConfig): Finding[] {
    const findings: Finding[] = [];
    const published = publishedPorts(snapshot, config);
    const service = composeService(snapshot, config.service);
    const clients = hostClients(snapshot).filter(({ parsed }) => isLoopbackHost(parsed.host));
    const hostNeedsPort = clients.length > 0 || snapshot.host.clientRuns === 'host';

    if (published.length === 0 && hostNeedsPort) {
        const other = (service?.ports ?? []).filter((p) => p.published !== undefined);
        const evidence = [
            `The server listens on port ${config.port} in its container.`,
            other.length > 0
                ? `"${config.service}" publishes ${other.map((p) => `${p.published}->${p.target}`).join(', ')}, none to ${config.port}.`
                : `"${config.service}" publishes no port.`,
            ...clients.map(({ use }) => `${describeUse(use)} uses ${use.uri} from the host.`),
        ];
        const at =
            nearestComposeLocation(snapshot, other[0]?.key ?? `services.${config.service}.ports`) ??
            nearestComposeLocation(snapshot, `services.${config.service}`);
        findings.push(
            makeFinding(`${config.service}:unpublished`, {
                kind: 'port-mapping',
                severity: 'error',
                title: `The server's port ${config.port} is not published to the host`,
                evidence,
                fix: `Publish it: ports: ["${config.port}:${config.port}"] on "${config.service}", and point host clients at http://localhost:${config.port}.`,
                locations: at ? [at] : [],
                service: config.service,
            }),
        );
        return findings;
    }

    const hostPorts = new Set(published.map((p) => p.hostPort));
    for (const { use, parsed } of clients) {
        if (parsed.port === undefined || hostPorts.size === 0 || hostPorts.has(parsed.port))
            continue;
        // Another service may legitimately own that port (a proxy in front of the server).
        const owner = (snapshot.compose?.services ?? []).find((s) =>
            s.ports.some((p) => Number(p.published) === parsed.port),
        );
        if (owner && owner.name !== config.service) continue;
        const want = [...hostPorts][0] ?? config.port;
        const edit = replaceOnLine(
            snapshot,
            use.file,
            use.rawLine ?? use.line,
            `:${parsed.port}`,
            `:${want}`,
            `Use port ${want}`,
        );
        findings.push(
            makeFinding(`${use.file}:${use.line}`, {
                kind: 'port-mapping',
                severity: 'error',
                title: `${use.file} uses port ${parsed.port}, but the server is published on ${[...hostPorts].join(', ')}`,
                evidence: [
                    `${describeUse(use)} sets the tracking URI ${use.uri}.`,
                    `"${config.service}" maps host port ${[...hostPorts].join(', ')} to the server's port ${config.port}.`,
                ],
                fix: `Use http://localhost:${want} in ${use.file}.`,
                locations: [uriLocation(snapshot, use)],
                edits: edit ? [edit] : undefined,
                service: config.service,
            }),
        );
    }
    return findings;
}

/** Two services that publish the same host port cannot both start. */
function portCollisions(snapshot: StackSnapshot): Finding[] {
    const byPort = new Map<string, { service: string; key: string }[]>();
    for (const service of snapshot.compose?.services ?? []) {
        for (const port of service.ports) {
            if (port.published === undefined) continue;
            const id = `${port.hostIp ?? '0.0.0.0'}:${port.published}/${port.protocol}`;
            byPort.set(id, [...(byPort.get(id) ?? []), { service: service.name, key: port.key }]);
        }
    }
    const findings: Finding[] = [];
    for (const [id, users] of byPort) {
        if (users.length < 2) continue;
        const at = users.flatMap((u) => nearestComposeLocation(snapshot, u.key) ?? []);
        findings.push(
            makeFinding(`collision:${id}`, {
                kind: 'port-mapping',
                severity: 'error',
                title: `Host port ${id} is published by ${users.map((u) => `"${u.service}"`).join(' and ')}`,
                evidence: users.map((u) => `${u.key} publishes ${id}`),
                fix: 'Give each service its own host port; only one of them can bind it.',
                locations: at,
                service: users[0]?.service,
            }),
        );
    }
    return findings;
}

/** Clients in containers that use localhost for a server in another container. */
function loopbackClients(snapshot: StackSnapshot): Finding[] {
    const servers = serverServices(snapshot);
    const server = snapshot.serverConfigs[0];
    const findings: Finding[] = [];
    for (const use of snapshot.workspace.trackingUris) {
        const placement = clientPlacement(snapshot, use);
        if (placement.where !== 'container' || servers.has(placement.service)) continue;
        const parsed = parseTrackingUri(use.uri);
        if (!isLoopbackHost(parsed.host)) continue;
        const client = composeService(snapshot, placement.service);
        if (client?.networkMode === 'host') continue;

        const target = server ? `${server.service}:${server.port}` : '<server service>:5000';
        const from = `${parsed.host}${parsed.port !== undefined ? `:${parsed.port}` : ''}`;
        const edit = replaceOnLine(
            snapshot,
            use.file,
            use.rawLine ?? use.line,
            from,
            target,
            `Use http://${target}`,
        );
        findings.push(
            makeFinding(`${placement.service}:${use.file}:${use.line}`, {
                kind: 'client-loopback-in-container',
                severity: 'error',
                title: `"${placement.service}" runs in a container but uses ${use.uri}`,
                evidence: [
                    `${describeUse(use)} sets the tracking URI ${use.uri}.`,
                    `That code runs in the "${placement.service}" container, where ${parsed.host} is the container itself.`,
                ],
                fix: `Inside the compose network, use the server's service name: http://${target}.`,
                locations: [uriLocation(snapshot, use)],
                edits: edit ? [edit] : undefined,
                service: placement.service,
            }),
        );
    }
    return findings;
}

/** A host client that uses a compose service name, which only resolves inside the network. */
function serviceNameFromHost(snapshot: StackSnapshot): Finding[] {
    const names = new Set((snapshot.compose?.services ?? []).map((s) => s.name));
    const findings: Finding[] = [];
    for (const { use, parsed } of hostClients(snapshot)) {
        if (!parsed.host || !names.has(parsed.host)) continue;
        const config = snapshot.serverConfigs.find((c) => c.service === parsed.host);
        const port = config ? publishedPorts(snapshot, config)[0]?.hostPort : undefined;
        const target = `localhost:${port ?? parsed.port ?? 5000}`;
        const edit = replaceOnLine(
            snapshot,
            use.file,
            use.rawLine ?? use.line,
            `${parsed.host}${parsed.port !== undefined ? `:${parsed.port}` : ''}`,
            target,
            `Use http://${target}`,
        );
        findings.push(
            makeFinding(`${use.file}:${use.line}`, {
                kind: 'server-unreachable',
                severity: 'error',
                title: `${use.file} runs on the host but uses the service name "${parsed.host}"`,
                evidence: [
                    `${describeUse(use)} sets the tracking URI ${use.uri}.`,
                    `"${parsed.host}" is a compose service; its name resolves only inside the compose network.`,
                ],
                fix: `From the host, use the published port: http://${target}.`,
                locations: [uriLocation(snapshot, use)],
                edits: edit ? [edit] : undefined,
                service: parsed.host,
            }),
        );
    }
    return findings;
}

export const serverNetworkCheck: Check = {
    name: 'server-network',
    run(snapshot) {
        const findings: Finding[] = [];
        for (const config of snapshot.serverConfigs) {
            const binding = bindingFinding(snapshot, config);
            if (binding) findings.push(binding);
            findings.push(...portFindings(snapshot, config));
        }
        findings.push(...portCollisions(snapshot), ...loopbackClients(snapshot));
        findings.push(...serviceNameFromHost(snapshot));
        // A live container whose process listens elsewhere than the command says.
        for (const config of snapshot.serverConfigs) {
            const container = containerOf(snapshot, config.service);
            const line = logLines(snapshot, config.service, LISTEN_LINE).at(-1);
            const port = line ? Number(LISTEN_LINE.exec(line)?.[3]) : undefined;
            if (!container || port === undefined || port === config.port) continue;
            findings.push(
                makeFinding(`${config.service}:listen-port`, {
                    kind: 'port-mapping',
                    severity: 'error',
                    title: `The server in "${config.service}" listens on ${port}, not ${config.port}`,
                    evidence: [`Container log: ${line}`],
                    fix: `Publish container port ${port}, or start the server with --port ${config.port}.`,
                    locations: hostKeyLocation(snapshot, config),
                    service: config.service,
                }),
            );
        }
        return findings;
    },
};
