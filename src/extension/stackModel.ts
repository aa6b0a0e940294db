// What the Stack view shows, as plain data: compose projects, their services (including those
// never created), each service's state, ports, mounts, image and MLflow version, and the findings
// that concern it. The tree view only turns these nodes into TreeItems.

import type {
    ComposeService,
    ContainerFacts,
    Finding,
    FindingLocation,
    MountSyncResult,
    StackSnapshot,
} from '../core/model.js';
import type { Report } from '../core/report.js';
import { runsOfFinding } from './explorer/findingRuns.js';

export interface NodeIcon {
    /** A codicon id (`pass`, `error`, `debug-disconnect`). */
    id: string;
    /** A theme colour id (`testing.iconPassed`). */
    color?: string;
}

export interface StackNode {
    /** Stable across refreshes, so the tree keeps what the user expanded. */
    id: string;
    label: string;
    description?: string;
    tooltip?: string;
    icon?: NodeIcon;
    children?: StackNode[];
    expanded?: boolean;
    /**
     * For menus: `project`, `service`, `finding`, `finding-with-run` (a finding that names an
     * MLflow run), `mount`, `state`, `mlflow-server`.
     */
    contextValue?: string;
    service?: string;
    findingId?: string;
    /** Clicking the node opens this place. */
    open?: FindingLocation;
    /** For an `mlflow-server` node: the URL the diagnosis probed, to open in the explorer. */
    serverUrl?: string;
}

export interface ViewState {
    /** The last diagnosis; undefined before the first one. */
    snapshot?: StackSnapshot;
    report?: Report;
    /** Files only: the workspace is untrusted or the user asked so; Docker and HTTP were not asked. */
    offline?: boolean;
    /** The last diagnosis failed outright. */
    error?: string;
}

const ERROR: NodeIcon = { id: 'error', color: 'problemsErrorIcon.foreground' };
const WARNING: NodeIcon = { id: 'warning', color: 'problemsWarningIcon.foreground' };
const INFO: NodeIcon = { id: 'info', color: 'problemsInfoIcon.foreground' };

function severityIcon(severity: Finding['severity']): NodeIcon {
    return severity === 'error' ? ERROR : severity === 'warning' ? WARNING : INFO;
}

/** The view's top level for a state: the projects, or the one node that says why there are none. */
export function buildStackTree(state: ViewState): StackNode[] {
    if (state.error) {
        return [
            {
                id: 'diagnosis-failed',
                label: 'The diagnosis failed',
                description: state.error,
                tooltip: `${state.error}\nSee the "MLOps Stack Doctor" output for details.`,
                icon: ERROR,
            },
        ];
    }
    const { snapshot, report } = state;
    if (!snapshot || !report) return [];
    const nodes: StackNode[] = [];

    const docker = dockerNode(snapshot, state.offline ?? false);
    if (docker) nodes.push(docker);

    if (!snapshot.compose) {
        nodes.push({
            id: 'no-compose',
            label: 'No compose project',
            description: 'no compose.yaml or docker-compose.yml here',
            tooltip: `No compose file was found in ${snapshot.folder} (compose.yaml, compose.yml, docker-compose.yaml, docker-compose.yml, or COMPOSE_FILE).`,
            icon: { id: 'info' },
        });
    }
    if (snapshot.serverConfigs.length === 0 && snapshot.servers.length === 0) {
        nodes.push({
            id: 'no-server',
            label: 'MLflow server not found',
            description: 'no service runs `mlflow server`',
            tooltip:
                'No compose service, Dockerfile or script starts `mlflow server`, and no tracking URI points at a server on this machine. Set "stackDoctor.trackingUri" to probe one.',
            icon: { id: 'question' },
        });
    }

    const findings = report.findings;
    const services = serviceNames(snapshot);
    if (snapshot.compose || services.length > 0) {
        const name = snapshot.compose?.name ?? 'containers';
        const errors = findings.filter((f) => f.severity === 'error').length;
        nodes.push({
            id: `project:${name}`,
            label: name,
            description: `${services.length} service(s), ${findings.length} finding(s)${errors ? `, ${errors} error(s)` : ''}`,
            tooltip: snapshot.compose
                ? `Compose project "${name}" from ${snapshot.compose.files.join(', ')}`
                : undefined,
            icon: { id: 'layers' },
            contextValue: 'project',
            expanded: true,
            children: services.map((service) => serviceNode(snapshot, findings, service)),
        });
    }

    const elsewhere = findings.filter((f) => !f.service || !services.includes(f.service));
    if (elsewhere.length > 0) {
        nodes.push({
            id: 'findings:stack',
            label: 'Findings',
            description: `${elsewhere.length} not tied to one service`,
            icon: { id: 'checklist' },
            expanded: true,
            children: elsewhere.map(findingNode),
        });
    }
    if (findings.length === 0) {
        nodes.push({
            id: 'no-findings',
            label: 'No problems found',
            icon: { id: 'pass', color: 'testing.iconPassed' },
        });
    }
    return nodes;
}

function dockerNode(snapshot: StackSnapshot, offline: boolean): StackNode | undefined {
    if (offline || !snapshot.docker) {
        return {
            id: 'docker-offline',
            label: 'Files only',
            description: 'Docker and MLflow were not asked',
            tooltip: offline
                ? 'Restricted mode or an offline diagnosis: only the workspace files were read. Trust the workspace to ask Docker and the MLflow server.'
                : 'Docker was not asked in this diagnosis.',
            icon: { id: 'file' },
        };
    }
    if (snapshot.docker.reachable) return undefined;
    const attempts = snapshot.docker.attempts.map((attempt, index) => ({
        id: `docker-attempt:${index}`,
        label: attempt.endpoint.address,
        description: `${attempt.endpoint.source}: ${attempt.error ?? 'no answer'}`,
        icon: { id: 'debug-disconnect' },
    }));
    return {
        id: 'docker-unreachable',
        label: 'Docker not reachable',
        description: `tried ${attempts.length} endpoint(s)`,
        tooltip: [
            snapshot.docker.error ?? 'No Docker Engine answered.',
            ...snapshot.docker.attempts.map(
                (a) => `${a.endpoint.address} (${a.endpoint.source}): ${a.error ?? 'no answer'}`,
            ),
            'Start Docker, or set "stackDoctor.docker.host" to the Engine to use.',
        ].join('\n'),
        icon: ERROR,
        expanded: true,
        children: attempts,
    };
}

/** Compose services in file order, then containers of the project that no compose file names. */
function serviceNames(snapshot: StackSnapshot): string[] {
    const names = (snapshot.compose?.services ?? []).map((s) => s.name);
    for (const container of snapshot.docker?.containers ?? []) {
        const name = container.service ?? container.name;
        if (!names.includes(name)) names.push(name);
    }
    return names;
}

function containerOf(snapshot: StackSnapshot, service: string): ContainerFacts | undefined {
    const containers = (snapshot.docker?.containers ?? []).filter(
        (c) => (c.service ?? c.name) === service,
    );
    return containers.find((c) => c.state === 'running') ?? containers[0];
}

/** "running, healthy", "exited (1)", "not created": the service's state in a few words. */
export function describeState(
    container: ContainerFacts | undefined,
    docker: 'answered' | 'not-asked' | 'unreachable',
): { text: string; icon: NodeIcon } {
    if (docker === 'not-asked') {
        return { text: 'state unknown (files only)', icon: { id: 'circle-outline' } };
    }
    if (docker === 'unreachable') {
        return { text: 'state unknown (Docker not reachable)', icon: { id: 'circle-outline' } };
    }
    if (!container) return { text: 'not created', icon: { id: 'circle-slash' } };
    const restarts = container.restartCount > 0 ? `, ${container.restartCount} restart(s)` : '';
    if (container.state === 'running') {
        const health =
            container.health && container.health !== 'none' ? `, ${container.health}` : '';
        const icon =
            container.health === 'unhealthy'
                ? ERROR
                : container.health === 'starting'
                  ? { id: 'loading~spin' }
                  : { id: 'pass', color: 'testing.iconPassed' };
        return { text: `running${health}${restarts}`, icon };
    }
    if (container.state === 'exited' || container.state === 'dead') {
        const code = container.exitCode !== undefined ? ` (${container.exitCode})` : '';
        return {
            text: `${container.state}${code}${restarts}`,
            icon: container.exitCode === 0 ? { id: 'circle-outline' } : ERROR,
        };
    }
    if (container.state === 'restarting') return { text: `restarting${restarts}`, icon: WARNING };
    return { text: container.state, icon: { id: 'circle-outline' } };
}

function serviceNode(snapshot: StackSnapshot, findings: Finding[], name: string): StackNode {
    const composed = snapshot.compose?.services.find((s) => s.name === name);
    const container = containerOf(snapshot, name);
    const state = describeState(
        container,
        !snapshot.docker ? 'not-asked' : snapshot.docker.reachable ? 'answered' : 'unreachable',
    );
    const own = findings.filter((f) => f.service === name);
    const worst = own.find((f) => f.severity === 'error') ?? own[0];
    const children: StackNode[] = [
        {
            id: `service:${name}:state`,
            label: 'State',
            description: state.text,
            tooltip: container?.error,
            icon: state.icon,
            contextValue: 'state',
            service: name,
        },
        ...portNodes(name, composed, container),
        ...mountNodes(snapshot, name, composed, container),
    ];
    const image = container?.image ?? composed?.image;
    if (image || composed?.build) {
        children.push({
            id: `service:${name}:image`,
            label: 'Image',
            description: image ?? `built from ${composed?.build?.context}`,
            icon: { id: 'package' },
        });
    }
    const mlflow = mlflowNode(snapshot, name);
    if (mlflow) children.push(mlflow);
    children.push(...own.map(findingNode));

    const range = snapshot.compose?.ranges[`services.${name}`];
    return {
        id: `service:${name}`,
        label: name,
        description: `${state.text}${own.length > 0 ? ` · ${own.length} finding(s)` : ''}`,
        icon: worst ? severityIcon(worst.severity) : state.icon,
        contextValue: container ? 'service' : 'service-not-created',
        service: name,
        expanded: own.length > 0,
        open: range ? { ...range, key: `services.${name}` } : undefined,
        children,
    };
}

function portNodes(
    service: string,
    composed: ComposeService | undefined,
    container: ContainerFacts | undefined,
): StackNode[] {
    if (container?.state === 'running') {
        return container.ports.map((p) => ({
            id: `service:${service}:port:${p.hostIp}:${p.hostPort}:${p.containerPort}/${p.protocol}`,
            label: 'Port',
            description: `${p.hostIp && p.hostIp !== '0.0.0.0' ? `${p.hostIp}:` : ''}${p.hostPort} → ${p.containerPort}/${p.protocol}`,
            tooltip: 'published on the host → inside the container',
            icon: { id: 'plug' },
        }));
    }
    return (composed?.ports ?? []).map((p) => ({
        id: `service:${service}:port:${p.key}`,
        label: 'Port',
        description: `${p.published ? `${p.hostIp ? `${p.hostIp}:` : ''}${p.published}` : 'not published'} → ${p.target}/${p.protocol}`,
        tooltip: 'as the compose file publishes it; the container is not running',
        icon: { id: 'plug' },
    }));
}

function mountNodes(
    snapshot: StackSnapshot,
    service: string,
    composed: ComposeService | undefined,
    container: ContainerFacts | undefined,
): StackNode[] {
    const probes = snapshot.syncProbes.filter((p) => p.service === service);
    const verdict = (destination: string): MountSyncResult | undefined =>
        probes.find((p) => p.destination === destination);
    const mounts =
        container?.mounts
            .filter((m) => m.type === 'bind' || m.type === 'volume')
            .map((m) => ({
                source: m.type === 'volume' ? (m.name ?? m.source) : m.source,
                target: m.destination,
                bind: m.type === 'bind',
                readOnly: !m.rw,
            })) ??
        (composed?.volumes ?? [])
            .filter((v) => v.type === 'bind' || v.type === 'volume')
            .map((v) => ({
                source: v.source ?? v.hostPath ?? '',
                target: v.target,
                bind: v.type === 'bind',
                readOnly: v.readOnly,
            }));
    return mounts.map((m) => {
        const probe = m.bind ? verdict(m.target) : undefined;
        const last = probe ? probe.verdict : m.bind ? 'not probed' : 'named volume';
        return {
            id: `service:${service}:mount:${m.target}`,
            label: 'Mount',
            description: `${m.source} ↔ ${m.target}${m.readOnly ? ' (ro)' : ''} · ${last}`,
            tooltip: probe?.evidence.join('\n'),
            icon:
                probe && probe.verdict !== 'in-sync' && probe.verdict !== 'skipped'
                    ? WARNING
                    : { id: 'folder' },
            contextValue: m.bind ? 'mount' : undefined,
            service,
        };
    });
}

function mlflowNode(snapshot: StackSnapshot, service: string): StackNode | undefined {
    const config = snapshot.serverConfigs.find((c) => c.service === service);
    const probe = snapshot.servers.find((s) => s.service === service);
    if (!config && !probe) return undefined;
    if (probe?.serverVersion) {
        return {
            id: `service:${service}:mlflow`,
            label: 'MLflow server',
            description: `${probe.serverVersion} at ${probe.baseUrl}`,
            icon: { id: 'beaker' },
            contextValue: 'mlflow-server',
            service,
            serverUrl: probe.baseUrl,
        };
    }
    const declared = config?.declaredVersion?.version;
    const reached = probe
        ? `not answering at ${probe.baseUrl} (${probe.health?.outcome ?? 'not asked'})`
        : 'not probed';
    return {
        id: `service:${service}:mlflow`,
        label: 'MLflow server',
        description: `${declared ? `${declared} declared, ` : ''}${reached}`,
        icon: { id: 'beaker' },
        contextValue: 'mlflow-server',
        service,
        ...(probe ? { serverUrl: probe.baseUrl } : {}),
    };
}

function findingNode(finding: Finding): StackNode {
    return {
        id: `finding:${finding.id}`,
        label: finding.title,
        description: `${finding.rootCause ? 'root cause · ' : ''}${finding.kind}`,
        tooltip: [
            finding.title,
            ...finding.evidence.map((e) => `· ${e}`),
            `Fix: ${finding.fix}`,
        ].join('\n'),
        icon: severityIcon(finding.severity),
        contextValue: runsOfFinding(finding).length > 0 ? 'finding-with-run' : 'finding',
        findingId: finding.id,
        service: finding.service,
        open: finding.locations[0],
    };
}
