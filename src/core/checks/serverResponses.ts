// What the live server answered: refused, reset and timed-out connections are told apart from
// a server that answers 500, from a responder that is not MLflow, and from the 3.5+ Host check.

import type { Finding, HttpObservation, ServerProbe, StackSnapshot } from '../model.js';
import { type Check, makeFinding, nearestComposeLocation } from './check.js';
import { containerOf, logLines } from './stackFacts.js';

function describe(obs: HttpObservation): string {
    const status = obs.status === null ? (obs.error ?? obs.outcome) : `HTTP ${obs.status}`;
    const body = obs.body ? `: ${obs.body.replace(/\s+/g, ' ').slice(0, 200)}` : '';
    return `${obs.request} ${obs.url} → ${status}${body} (${Math.round(obs.durationMs)} ms)`;
}

const TRANSPORT_TITLES: Partial<Record<HttpObservation['outcome'], string>> = {
    refused: 'connection refused: nothing listens there',
    reset: 'the connection is accepted and then dropped',
    timeout: 'no answer before the timeout',
    dns: 'the host name does not resolve',
};

function serverLocation(snapshot: StackSnapshot, service: string | undefined) {
    if (!service) return [];
    const at = nearestComposeLocation(snapshot, `services.${service}`);
    return at ? [at] : [];
}

function transportFinding(snapshot: StackSnapshot, probe: ServerProbe, obs: HttpObservation) {
    const container = containerOf(snapshot, probe.service);
    const evidence = [describe(obs)];
    let why = '';
    if (container) {
        evidence.push(
            `Container ${container.name} is ${container.state}` +
                (container.health && container.health !== 'none'
                    ? ` (health: ${container.health})`
                    : '') +
                (container.restartCount > 0 ? `, restarted ${container.restartCount} times` : '') +
                '.',
        );
        if (container.health === 'starting') {
            why = ' The server is still starting: requests are refused until it listens.';
        } else if (container.state !== 'running') {
            why = ' Its container is not running.';
        } else if (obs.outcome === 'reset') {
            why =
                " Docker's port proxy accepts the connection, but no process in the container " +
                'answers on that port (bound to 127.0.0.1, on another port, or not up yet).';
        }
    } else if (probe.service && snapshot.docker?.reachable) {
        evidence.push(`No container of "${probe.service}" exists.`);
        why = ' The server container was never created.';
    }
    const starting = container?.health === 'starting';
    return makeFinding(`${probe.service ?? probe.baseUrl}:transport`, {
        kind: 'server-unreachable',
        severity: starting ? 'warning' : 'error',
        title: `MLflow server at ${probe.baseUrl}: ${TRANSPORT_TITLES[obs.outcome] ?? obs.outcome}`,
        evidence,
        fix:
            (starting
                ? 'Wait for the healthcheck to pass, and make clients wait for it too (depends_on with condition: service_healthy).'
                : 'Fix what keeps the server from answering (see the findings this one is linked to), then retry.') +
            why,
        locations: serverLocation(snapshot, probe.service),
        service: probe.service,
    });
}

function apiFinding(snapshot: StackSnapshot, probe: ServerProbe, obs: HttpObservation) {
    const service = probe.service;
    const evidence = [describe(obs)];
    if (service) {
        const trace = logLines(snapshot, service, /Error|Exception|Traceback/).slice(-3);
        evidence.push(...trace.map((line) => `Server log: ${line}`));
    }
    if (probe.health?.outcome === 'ok') evidence.push(`GET /health answered OK at the same time.`);
    return makeFinding(`${service ?? probe.baseUrl}:${obs.request}`, {
        kind: 'server-error',
        severity: 'error',
        title: `The server answers ${obs.request} with HTTP ${obs.status}`,
        evidence,
        fix:
            'The server is up but fails on this request. Its log names the exception; the findings ' +
            'linked to this one say what in the store or setup raises it.',
        locations: serverLocation(snapshot, service),
        service,
    });
}

function hostHeaderFinding(snapshot: StackSnapshot, probe: ServerProbe, obs: HttpObservation) {
    return makeFinding(`${probe.service ?? probe.baseUrl}:host-header`, {
        kind: 'host-header',
        severity: 'error',
        title: "The server rejects the request's Host header (MLflow 3.5+ DNS-rebinding check)",
        evidence: [
            describe(obs),
            ...(probe.health?.outcome === 'ok'
                ? ['GET /health answers 200: it is exempt from the check.']
                : []),
        ],
        fix:
            'Add the host name clients use, with its port, to --allowed-hosts (or ' +
            'MLFLOW_SERVER_ALLOWED_HOSTS), for example --allowed-hosts "mlflow:5000,localhost:*".',
        locations: serverLocation(snapshot, probe.service),
        service: probe.service,
    });
}

const CLIENT_REFUSED =
    /Connection refused|ConnectionRefusedError|Failed to establish a new connection|Max retries exceeded/;

/** Clients in containers that already logged a refused connection to the server. */
function clientRefusals(snapshot: StackSnapshot): Finding[] {
    const servers = new Set(snapshot.serverConfigs.map((c) => c.service));
    const findings: Finding[] = [];
    for (const container of snapshot.docker?.containers ?? []) {
        if (!container.service || servers.has(container.service)) continue;
        const lines = (container.logTail ?? []).filter((line) => CLIENT_REFUSED.test(line));
        if (lines.length === 0) continue;
        const exited =
            container.state === 'exited'
                ? ` and exited with code ${container.exitCode ?? '?'}`
                : '';
        findings.push(
            makeFinding(`${container.service}:client-refused`, {
                kind: 'server-unreachable',
                severity: 'error',
                title: `"${container.service}" could not connect to the MLflow server${exited}`,
                evidence: [
                    ...lines
                        .slice(-2)
                        .map((line) => `${container.name} log: ${line.trim().slice(0, 300)}`),
                    ...(container.startedAt
                        ? [`${container.name} started at ${container.startedAt}.`]
                        : []),
                ],
                fix:
                    'The client ran before the server accepted connections. Make it wait for the ' +
                    "server's healthcheck (depends_on with condition: service_healthy), then run it again.",
                locations: serverLocation(snapshot, container.service),
                service: container.service,
            }),
        );
    }
    return findings;
}

export const serverResponsesCheck: Check = {
    name: 'server-responses',
    run(snapshot) {
        const findings: Finding[] = clientRefusals(snapshot);
        for (const probe of snapshot.servers) {
            // Without a /health answer, a failed request to any page says as much (a browser
            // that got "connection reset" on /).
            const health =
                probe.health ??
                probe.other?.find((o) =>
                    ['refused', 'reset', 'timeout', 'dns'].includes(o.outcome),
                );
            if (health && ['refused', 'reset', 'timeout', 'dns'].includes(health.outcome)) {
                findings.push(transportFinding(snapshot, probe, health));
                continue;
            }
            if (health?.outcome === 'tls') {
                findings.push(
                    makeFinding(`${probe.service ?? probe.baseUrl}:tls`, {
                        kind: 'tls-mismatch',
                        severity: 'error',
                        title: `TLS does not match at ${probe.baseUrl}`,
                        evidence: [describe(health)],
                        fix: 'Use http:// for a plain MLflow server, or put a TLS-terminating proxy in front of it and use https:// to the proxy.',
                        locations: serverLocation(snapshot, probe.service),
                        service: probe.service,
                    }),
                );
                continue;
            }
            if (health?.outcome === 'not-mlflow') {
                findings.push(
                    makeFinding(`${probe.service ?? probe.baseUrl}:not-mlflow`, {
                        kind: 'not-mlflow',
                        severity: 'error',
                        title: `Something other than MLflow answers at ${probe.baseUrl}`,
                        evidence: [describe(health)],
                        fix: 'Another program owns this port. Publish the MLflow server on a free port and point clients at it.',
                        locations: serverLocation(snapshot, probe.service),
                        service: probe.service,
                    }),
                );
                continue;
            }
            for (const obs of [probe.experiments, probe.runs, probe.version]) {
                if (!obs || obs.status === null) continue;
                if (obs.status === 403 && /Invalid Host header/i.test(obs.body ?? '')) {
                    findings.push(hostHeaderFinding(snapshot, probe, obs));
                    break;
                }
                if (obs.status === 401) {
                    findings.push(
                        makeFinding(`${probe.service ?? probe.baseUrl}:auth`, {
                            kind: 'auth',
                            severity: 'info',
                            title: `The server at ${probe.baseUrl} requires authentication`,
                            evidence: [describe(obs)],
                            fix: 'Clients need MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD (or a token). Store them as secrets, not in code.',
                            locations: serverLocation(snapshot, probe.service),
                            service: probe.service,
                        }),
                    );
                    break;
                }
                if (obs.status >= 500) findings.push(apiFinding(snapshot, probe, obs));
            }
        }
        return findings;
    },
};
