// Findings about the containers themselves: a service that was never created, that exited,
// restarts in a loop, is unhealthy or still starting. Log lines with an obvious meaning are named;
// deeper causes (a missing driver, a start-up race) are left to the checks of those families.

import type { ComposeService, ContainerFacts, Finding, StackSnapshot } from '../model.js';
import { composeLocation, makeFinding, nearestComposeLocation, type Check } from './check.js';

/** A log line that says plainly what went wrong. */
interface LogHint {
    pattern: RegExp;
    cause: (match: RegExpMatchArray) => string;
}

const LOG_HINTS: LogHint[] = [
    {
        pattern: /No module named '([^']+)'/,
        cause: (m) => `the image lacks the Python package "${m[1] ?? ''}"; install it in the image`,
    },
    {
        pattern: /address already in use|Errno 98/i,
        cause: () => 'the port the server listens on is already taken inside the container',
    },
    {
        pattern:
            /SQLAlchemy engine could not be created|Can't connect to MySQL server|could not connect to server|connection to server at .* failed|Connection refused/i,
        cause: () =>
            'a service it connects to (the MLflow server, a database or an object store) was not accepting connections yet',
    },
    {
        pattern: /PermissionError|Permission denied/i,
        cause: () =>
            'it was denied access to a file or folder (often a bind mount owned by another uid)',
    },
    {
        pattern: /exec format error/i,
        cause: () => 'the image was built for another CPU architecture',
    },
    {
        pattern: /executable file not found|: not found$|command not found/i,
        cause: () => 'the command or entrypoint names a program the image does not have',
    },
    {
        pattern: /No such option: (--[\w-]+)|no such option: (--[\w-]+)/i,
        cause: (m) =>
            `the installed MLflow does not know the option ${m[1] ?? m[2] ?? ''}; it was added in a later version`,
    },
    {
        pattern: /Can't locate revision|alembic.*(revision|migration)/i,
        cause: () =>
            'the database was migrated by a newer MLflow than the one running (or needs `mlflow db upgrade`)',
    },
    {
        pattern: /Error initializing backend store/i,
        cause: () => 'the server could not open its backend store (see the lines around it)',
    },
];

const EXIT_CODE_MEANINGS: Record<number, string> = {
    126: 'the command exists but cannot be executed',
    127: 'the command was not found in the image',
    137: 'it was killed (SIGKILL): out of memory, or docker kill / a stop that timed out',
    139: 'it crashed with a segmentation fault',
    143: 'it was stopped with SIGTERM',
};

export const containerStateCheck: Check = {
    name: 'container-state',
    run(snapshot: StackSnapshot): Finding[] {
        const compose = snapshot.compose;
        const docker = snapshot.docker;
        if (!compose || !docker?.reachable) return [];

        const containers = docker.containers.filter((c) => c.service !== undefined);
        const active = compose.services.filter((service) => profileActive(snapshot, service));
        if (containers.length === 0) {
            return active.length === 0 ? [] : [stackNotCreated(snapshot, active)];
        }

        const findings: Finding[] = [];
        const idByService = new Map<string, string>();
        for (const service of active) {
            const own = containers.filter((c) => c.service === service.name);
            const finding =
                own.length === 0
                    ? neverCreated(snapshot, service)
                    : stateFinding(snapshot, service, pickContainer(own));
            if (finding) {
                findings.push(finding);
                idByService.set(service.name, finding.id);
            }
        }
        linkDependencies(active, findings, idByService);
        return findings;
    },
};

function stackNotCreated(snapshot: StackSnapshot, services: ComposeService[]): Finding {
    const project = snapshot.compose?.name ?? 'the project';
    const location = nearestComposeLocation(snapshot, 'services');
    return makeFinding(`project:${project}`, {
        kind: 'container-state',
        severity: 'warning',
        title: `No container of the compose project "${project}" exists: the stack is not up`,
        evidence: [
            `The Docker Engine lists no container labelled com.docker.compose.project=${project}.`,
            `Services in the compose file: ${services.map((s) => s.name).join(', ')}.`,
        ],
        fix: `Start the stack from ${snapshot.compose?.workingDir ?? 'the project folder'}: \`docker compose up -d\`. If it was started under another project name (-p or COMPOSE_PROJECT_NAME), use the same name here.`,
        locations: location ? [location] : [],
    });
}

function neverCreated(snapshot: StackSnapshot, service: ComposeService): Finding {
    return makeFinding(service.name, {
        kind: 'container-state',
        severity: 'warning',
        title: `Service ${service.name} has no container: it was never created`,
        evidence: [
            `No container carries com.docker.compose.service=${service.name}, while other services of the project have one.`,
        ],
        fix: `Create and start it: \`docker compose up -d ${service.name}\`; if that fails, its output says why.`,
        locations: serviceLocation(snapshot, service.name),
        service: service.name,
    });
}

function stateFinding(
    snapshot: StackSnapshot,
    service: ComposeService,
    container: ContainerFacts,
): Finding | undefined {
    const name = service.name;
    // Traceback markers (^^^^, ~~~~) and blank lines carry nothing a reader needs.
    const logLines = (container.logTail ?? [])
        .filter((line) => !/^\s*[\^~\s]*$/.test(line))
        .slice(-6);
    const hints = logHints(container.logTail ?? []);
    const basics = [`container ${container.name} is ${container.state}`];
    if (container.error) basics.push(`Docker reports: ${container.error}`);
    const logEvidence = logLines.map((line) => `log: ${line}`);
    const hintEvidence = hints.map((h) => `${h.line} → ${h.cause}`);
    const causeText =
        hints.length > 0 ? ` The log says ${hints.map((h) => h.cause).join('; ')}.` : '';
    const logsCommand = `\`docker compose logs ${name}\``;

    switch (container.state) {
        case 'restarting':
            return makeFinding(name, {
                kind: 'container-state',
                severity: 'error',
                title:
                    `${name} is restarting in a loop` +
                    (container.restartCount > 0
                        ? ` (restarted ${container.restartCount} times)`
                        : ''),
                evidence: [
                    ...basics,
                    `restart count ${container.restartCount}`,
                    ...(container.exitCode !== undefined
                        ? [`last exit code ${container.exitCode}`]
                        : []),
                    ...hintEvidence,
                    ...logEvidence,
                ],
                fix: `Its process keeps exiting and the restart policy starts it again.${causeText} Read ${logsCommand} for the first error.`,
                locations: serviceLocation(snapshot, name),
                service: name,
            });
        case 'exited':
        case 'dead': {
            const code = container.exitCode;
            if (container.state === 'exited' && code === 0 && !isServer(snapshot, name)) {
                // A one-shot job (bucket creation, migrations) that finished is doing its job.
                return undefined;
            }
            const meaning = code !== undefined ? EXIT_CODE_MEANINGS[code] : undefined;
            return makeFinding(name, {
                kind: 'container-state',
                severity: 'error',
                title:
                    container.state === 'dead'
                        ? `${name} is dead: Docker could not stop or remove it cleanly`
                        : `${name} exited with code ${code ?? 'unknown'}`,
                evidence: [
                    ...basics,
                    ...(code !== undefined
                        ? [`exit code ${code}${meaning ? `: ${meaning}` : ''}`]
                        : []),
                    ...(container.finishedAt ? [`finished at ${container.finishedAt}`] : []),
                    ...hintEvidence,
                    ...(logEvidence.length > 0 ? logEvidence : ['the container logged nothing']),
                ],
                fix:
                    code === 0
                        ? `The server process ended on its own; check that the command runs the server in the foreground. ${logsCommand}`
                        : `${causeText.trim() || `Read ${logsCommand} for the error.`} Fix that, then start it again: \`docker compose up -d ${name}\`.`,
                locations: serviceLocation(snapshot, name),
                service: name,
            });
        }
        case 'created':
            return makeFinding(name, {
                kind: 'container-state',
                severity: 'warning',
                title: `${name} was created but never started`,
                evidence: basics,
                fix: `Compose creates containers before starting them; one that stays "created" usually waits for a dependency that never became ready. Start it with \`docker compose up -d ${name}\` and watch its dependencies.`,
                locations: serviceLocation(snapshot, name),
                service: name,
            });
        case 'paused':
            return makeFinding(name, {
                kind: 'container-state',
                severity: 'warning',
                title: `${name} is paused`,
                evidence: basics,
                fix: `Resume it: \`docker compose unpause ${name}\`.`,
                locations: serviceLocation(snapshot, name),
                service: name,
            });
        default:
            break;
    }

    if (container.health === 'unhealthy') {
        const last = container.healthLog?.at(-1);
        return makeFinding(name, {
            kind: 'container-state',
            severity: 'error',
            title: `${name} is running but its healthcheck fails`,
            evidence: [
                ...basics.map((b) => `${b}, health unhealthy`),
                ...(container.healthLog ?? [])
                    .slice(-3)
                    .map(
                        (entry) =>
                            `healthcheck exit ${entry.exitCode}: ${entry.output || '(no output)'}`,
                    ),
                ...hintEvidence,
            ],
            fix:
                `The healthcheck command fails${last ? ` (last output: ${truncate(last.output, 160) || 'none'})` : ''}. ` +
                `Check that it probes the address the server listens on and that the tool it uses (curl, wget, python) exists in the image; services that wait for service_healthy will not start until it passes.`,
            locations: healthLocation(snapshot, name),
            service: name,
        });
    }
    if (container.restartCount > 0 && hints.length > 0) {
        return makeFinding(name, {
            kind: 'container-state',
            severity: 'warning',
            title: `${name} is running now but restarted ${container.restartCount} times`,
            evidence: [...basics, `restart count ${container.restartCount}`, ...hintEvidence],
            fix: `It failed before the restart policy got it going.${causeText} ${logsCommand} shows the earlier attempts.`,
            locations: serviceLocation(snapshot, name),
            service: name,
        });
    }
    if (container.health === 'starting') {
        return makeFinding(name, {
            kind: 'container-state',
            severity: 'info',
            title: `${name} is still starting (healthcheck not passed yet)`,
            evidence: [...basics, 'health starting'],
            fix: 'Wait for the healthcheck to pass, then diagnose again; services that depend on it with service_healthy are held back until then.',
            locations: healthLocation(snapshot, name),
            service: name,
        });
    }
    return undefined;
}

/** A dependent stuck behind a failed dependency is explained by it. */
function linkDependencies(
    services: ComposeService[],
    findings: Finding[],
    idByService: Map<string, string>,
): void {
    const byId = new Map(findings.map((f) => [f.id, f]));
    for (const service of services) {
        const dependentId = idByService.get(service.name);
        if (!dependentId) continue;
        const dependent = byId.get(dependentId);
        if (!dependent || dependent.severity === 'info') continue;
        for (const dependency of service.dependsOn) {
            const causeId = idByService.get(dependency.service);
            const cause = causeId ? byId.get(causeId) : undefined;
            if (!cause || cause.severity === 'info' || cause.id === dependent.id) continue;
            dependent.causedBy = [...new Set([...(dependent.causedBy ?? []), cause.id])];
            cause.causes = [...new Set([...(cause.causes ?? []), dependent.id])];
        }
    }
}

/** The log lines (newest last) that match a known cause, one per cause. */
export function logHints(lines: string[]): { line: string; cause: string }[] {
    const found: { line: string; cause: string }[] = [];
    const used = new Set<LogHint>();
    for (const line of lines) {
        for (const hint of LOG_HINTS) {
            if (used.has(hint)) continue;
            const match = line.match(hint.pattern);
            if (!match) continue;
            used.add(hint);
            found.push({ line: truncate(line.trim(), 200), cause: hint.cause(match) });
        }
    }
    return found;
}

/** With replicas or leftovers, the worst state speaks for the service. */
function pickContainer(containers: ContainerFacts[]): ContainerFacts {
    const rank = (c: ContainerFacts): number =>
        c.state === 'restarting'
            ? 0
            : c.state === 'exited' || c.state === 'dead'
              ? c.exitCode === 0
                  ? 3
                  : 1
              : c.health === 'unhealthy'
                ? 2
                : 4;
    return (
        [...containers].sort((a, b) => rank(a) - rank(b))[0] ?? (containers[0] as ContainerFacts)
    );
}

function profileActive(snapshot: StackSnapshot, service: ComposeService): boolean {
    if (service.profiles.length === 0) return true;
    const selected = (snapshot.compose?.variables.COMPOSE_PROFILES?.value ?? '')
        .split(',')
        .map((p) => p.trim());
    return service.profiles.some((p) => selected.includes(p) || selected.includes('*'));
}

function isServer(snapshot: StackSnapshot, service: string): boolean {
    return snapshot.serverConfigs.some((c) => c.service === service);
}

function serviceLocation(snapshot: StackSnapshot, service: string) {
    const location =
        composeLocation(snapshot, `services.${service}`) ??
        nearestComposeLocation(snapshot, `services.${service}`);
    return location ? [location] : [];
}

function healthLocation(snapshot: StackSnapshot, service: string) {
    const location = composeLocation(snapshot, `services.${service}.healthcheck`);
    return location ? [location] : serviceLocation(snapshot, service);
}

function truncate(text: string, max: number): string {
    return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
