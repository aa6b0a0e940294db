// MLflow 3.5+ rejects requests whose Host header is not on its allow-list (DNS-rebinding
// protection, mlflow-facts.md §5.3). Worked out from the files: the list the server runs with
// (`--allowed-hosts`, MLFLOW_SERVER_ALLOWED_HOSTS, or the built-in defaults), matched exactly
// like MLflow does against the Host each client sends (a service name with its port from
// another container, a public name forwarded by a reverse proxy, localhost through a published
// port), confirmed by recorded or live 403 answers and the server's log.

import { parseTrackingUri } from '../mlflow/trackingUri.js';
import { isAtLeast, isBefore } from '../mlflow/versions.js';
import type { Finding, FixEdit, HttpObservation, ServerConfig, StackSnapshot } from '../model.js';
import { setServerFlag, replaceOnKeyLine } from './commandEdits.js';
import { type Check, makeFinding, serverFieldLocation } from './check.js';
import { forwardedHost, proxyRoutes, publicNames } from './proxyFacts.js';
import {
    clientPlacement,
    composeService,
    describeUse,
    logLines,
    probesOf,
    publishedPorts,
    renderedCommand,
} from './stackFacts.js';
import { serverVersionOf } from './versionParity.js';

const INVALID_HOST = /Invalid Host header/i;
const REJECTED_LOG = /Rejected request with invalid Host header:\s*(\S+)/;

/** MLflow's defaults: loopback names with and without a port, and private address ranges. */
export const DEFAULT_ALLOWED_HOSTS: string[] = [
    'localhost',
    '127.0.0.1',
    '[::1]',
    '0.0.0.0',
    'localhost:*',
    '127.0.0.1:*',
    '[[]::1]:*',
    '0.0.0.0:*',
    '192.168.*',
    '10.*',
    ...Array.from({ length: 16 }, (_, i) => `172.${16 + i}.*`),
    'fc00:*',
    'fd00:*',
];

/** Python's fnmatch on a POSIX host: `*`, `?`, `[seq]`, `[!seq]`, case-sensitive. */
export function fnmatch(name: string, pattern: string): boolean {
    let re = '';
    for (let i = 0; i < pattern.length; i++) {
        const ch = pattern[i] ?? '';
        if (ch === '*') re += '.*';
        else if (ch === '?') re += '.';
        else if (ch === '[') {
            const end = pattern.indexOf(']', i + 2);
            if (end < 0) {
                re += '\\[';
                continue;
            }
            let body = pattern.slice(i + 1, end);
            const negate = body.startsWith('!');
            if (negate) body = body.slice(1);
            re += `[${negate ? '^' : ''}${body.replace(/[\\\]^]/g, '\\$&')}]`;
            i = end;
        } else re += ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    }
    return new RegExp(`^${re}$`, 's').test(name);
}

/** `is_allowed_host_header`: `*` allows all; entries with `*` are fnmatch patterns, others exact. */
export function isAllowedHost(allowed: string[], host: string): boolean {
    if (!host) return false;
    if (allowed.includes('*')) return true;
    return allowed.some((entry) => (entry.includes('*') ? fnmatch(host, entry) : host === entry));
}

/** A Host some client sends, and who sends it. */
interface HostUse {
    host: string;
    who: string;
}

/** The Host header an HTTP client library sends for a URI: the port only when not the default. */
function hostOfUri(uri: string): string | undefined {
    const parsed = parseTrackingUri(uri);
    if ((parsed.scheme !== 'http' && parsed.scheme !== 'https') || !parsed.host) return undefined;
    const host = parsed.host.includes(':') ? `[${parsed.host}]` : parsed.host;
    const defaultPort = parsed.scheme === 'https' ? 443 : 80;
    return parsed.port !== undefined && parsed.port !== defaultPort
        ? `${host}:${parsed.port}`
        : host;
}

/** Every Host header the files say reaches this server, with who sends it. */
function hostsSent(snapshot: StackSnapshot, config: ServerConfig): HostUse[] {
    const uses: HostUse[] = [];
    const service = composeService(snapshot, config.service);
    const names = new Set([config.service, service?.containerName].filter(Boolean));
    const published = publishedPorts(snapshot, config);
    const routes = proxyRoutes(snapshot).filter((r) => r.config.service === config.service);
    const proxied = new Set(
        routes.flatMap((r) => [
            ...publicNames(r.server),
            ...(r.proxyService ? [r.proxyService] : []),
        ]),
    );

    for (const use of snapshot.workspace.trackingUris) {
        const host = hostOfUri(use.uri);
        const parsed = parseTrackingUri(use.uri);
        if (!host || !parsed.host) continue;
        const placement = clientPlacement(snapshot, use);
        if (placement.where === 'container' && placement.service === config.service) continue;
        const where =
            placement.where === 'container'
                ? `"${placement.service}" (${describeUse(use)})`
                : describeUse(use);
        if (names.has(parsed.host) && parsed.port === config.port) {
            uses.push({ host, who: `${where} uses ${use.uri}` });
        } else if (
            placement.where === 'host' &&
            !proxied.has(parsed.host) &&
            published.some((p) => p.hostPort === parsed.port)
        ) {
            uses.push({ host, who: `${where} uses ${use.uri} through the published port` });
        }
    }

    // What a reverse proxy forwards: for each name clients use to reach it.
    for (const route of routes) {
        const clientNames = new Set(publicNames(route.server));
        for (const use of snapshot.workspace.trackingUris) {
            const parsed = parseTrackingUri(use.uri);
            if (parsed.host && (clientNames.has(parsed.host) || parsed.host === route.proxyService))
                clientNames.add(hostOfUri(use.uri) ?? parsed.host);
        }
        if (clientNames.size === 0) clientNames.add('localhost');
        const setting = route.location.hostHeader ?? 'nginx default ($proxy_host)';
        for (const name of clientNames) {
            const host = forwardedHost(route, name);
            if (!host) continue;
            uses.push({
                host,
                who: `the proxy in ${route.site.file} (proxy_set_header Host ${setting}) for requests to ${name}`,
            });
        }
    }

    // A browser or client on the host through a published port.
    if (snapshot.host.clientRuns !== 'remote') {
        for (const port of published) {
            uses.push({
                host: `localhost:${port.hostPort}`,
                who: `a browser or client on the host at http://localhost:${port.hostPort}`,
            });
        }
    }
    const seen = new Set<string>();
    return uses.filter((u) =>
        seen.has(u.host + u.who) ? false : (seen.add(u.host + u.who), true),
    );
}

/** Recorded or live answers with the Host check's 403 body. */
function rejectedAnswers(snapshot: StackSnapshot, config: ServerConfig): HttpObservation[] {
    return probesOf(snapshot, config.service).flatMap((p) =>
        [p.health, p.version, p.experiments, p.runs, p.loggedModels, ...(p.other ?? [])].filter(
            (o): o is HttpObservation =>
                o !== undefined && o.status === 403 && INVALID_HOST.test(o.body ?? ''),
        ),
    );
}

function middlewareDisabled(snapshot: StackSnapshot, config: ServerConfig): boolean {
    const command = renderedCommand(snapshot, config.service) ?? '';
    const env = composeService(snapshot, config.service)?.environment ?? {};
    return (
        /--disable-security-middleware\b/.test(command) ||
        /^(1|true|yes)$/i.test(env.MLFLOW_SERVER_DISABLE_SECURITY_MIDDLEWARE ?? '')
    );
}

/** The allow-list that admits every host in `needed`, keeping what is already listed. */
function suggestedList(config: ServerConfig, needed: string[]): string[] {
    const out = [...(config.allowedHosts ?? [])];
    const add = (entry: string) => {
        if (!out.includes(entry)) out.push(entry);
    };
    for (const host of needed) {
        const name = host.replace(/:\d+$/, '');
        add(name);
        add(`${name}:*`);
    }
    // Passing the flag replaces the defaults: keep the loopback names a browser on the host uses.
    for (const entry of ['localhost', 'localhost:*', '127.0.0.1', '127.0.0.1:*']) add(entry);
    return out;
}

/** An edit that sets the allow-list where it is written, or adds the flag to the command. */
function listEdit(
    snapshot: StackSnapshot,
    config: ServerConfig,
    list: string,
): FixEdit | undefined {
    const label = `Allow the hosts clients send (--allowed-hosts ${list})`;
    const key = config.keys.allowedHosts;
    const service = composeService(snapshot, config.service);
    if (key?.includes('.environment.')) {
        const current = service?.environment.MLFLOW_SERVER_ALLOWED_HOSTS;
        return current ? replaceOnKeyLine(snapshot, key, current, list, label) : undefined;
    }
    const command = [...(service?.entrypoint ?? []), ...(service?.command ?? [])];
    // Inside a `sh -c` script the quoting is the script's; leave that edit to the user.
    if (command.some((w) => /\bmlflow\b.*\bserver\b/.test(w) && /\s/.test(w))) return undefined;
    const exec = (service?.commandForm ?? config.written?.form) === 'exec';
    const value = exec ? list : `"${list}"`;
    if (key) {
        const range = snapshot.compose?.ranges[key];
        const text = range ? snapshot.files?.[range.file] : undefined;
        if (range && text !== undefined) {
            const lines = text
                .split(/\r?\n/)
                .slice(range.line - 1, range.endLine)
                .join('\n');
            const m = /--allowed-hosts(?:=|\s+)("[^"]*"|'[^']*'|[^\s"',\]]+)/.exec(lines);
            if (m?.[1]) {
                const old = m[0];
                const replaced = old.slice(0, old.length - m[1].length) + value;
                return replaceOnKeyLine(snapshot, key, old, replaced, label);
            }
        }
        return undefined;
    }
    return setServerFlag(snapshot, config, '--allowed-hosts', value, label);
}

function hostHeaderFinding(snapshot: StackSnapshot, config: ServerConfig): Finding | undefined {
    const known = serverVersionOf(snapshot, config);
    if (known && isBefore(known.version, '3.5.0')) return undefined;
    if (middlewareDisabled(snapshot, config)) return undefined;
    const allowed = config.allowedHosts ?? DEFAULT_ALLOWED_HOSTS;

    const answers = rejectedAnswers(snapshot, config);
    const logged = logLines(snapshot, config.service, REJECTED_LOG);
    const uses = hostsSent(snapshot, config).filter((u) => !isAllowedHost(allowed, u.host));
    // Only a version known to check, or the server's own answers, make this more than a guess.
    const proven = answers.length > 0 || logged.length > 0;
    if (!proven && !(known && isAtLeast(known.version, '3.5.0'))) return undefined;

    const rejected = new Set(uses.map((u) => u.host));
    for (const line of logged) {
        const host = REJECTED_LOG.exec(line)?.[1];
        if (host) rejected.add(host);
    }
    for (const answer of answers) {
        const host = answer.headers?.host;
        if (host && !isAllowedHost(allowed, host)) rejected.add(host);
    }
    if (rejected.size === 0) return undefined;

    const listText = config.allowedHosts
        ? `--allowed-hosts is ${config.allowedHosts.join(',')}, which replaces MLflow's defaults.`
        : 'No --allowed-hosts (nor MLFLOW_SERVER_ALLOWED_HOSTS) is given: only the defaults apply (localhost, 127.0.0.1, [::1], 0.0.0.0 with any port, and private 10.*, 172.16-31.*, 192.168.* addresses).';
    const evidence = [
        known
            ? `The server runs MLflow ${known.version} (${known.how}), which checks the Host header of every request since 3.5.0.`
            : 'The server answers with the 3.5+ Host check.',
        listText,
        'An entry without * must equal the whole Host value, port included; entries with * are matched as patterns.',
        ...uses.map((u) => `${u.who}: it sends Host: ${u.host}, which no entry admits.`),
        ...answers
            .slice(0, 3)
            .map(
                (a) =>
                    `${a.request}${a.headers?.host ? ` with Host: ${a.headers.host}` : ''} → HTTP 403 "${(a.body ?? '').trim().slice(0, 80)}"`,
            ),
        ...logged.slice(-2).map((line) => `Server log: ${line.trim()}`),
    ];
    const health = probesOf(snapshot, config.service).find((p) => p.health?.status === 200);
    const healthcheck =
        composeService(snapshot, config.service)?.healthcheck?.test?.join(' ') ?? '';
    if (health || /\/(health|version)\b/.test(healthcheck)) {
        evidence.push(
            '/health and /version skip the Host check, so a passing healthcheck or probe there says nothing about API requests.',
        );
    }

    const list = suggestedList(config, [...rejected]).join(',');
    const proxiedPublic = uses.some((u) => u.who.startsWith('the proxy'));
    const edit = listEdit(snapshot, config, list);
    return makeFinding(`${config.service}:host-header`, {
        kind: 'host-header',
        severity: 'error',
        title: `The server rejects the Host header ${[...rejected].join(', ')} (MLflow 3.5+ allowed-hosts check)`,
        evidence,
        fix:
            `Start the server with --allowed-hosts "${list}" (or set MLFLOW_SERVER_ALLOWED_HOSTS to the same list). ` +
            'List each name clients use both bare and with :* for its port; a service name such as ' +
            `${config.service}:${config.port} is never among the defaults, and giving the flag drops the defaults, so keep localhost in it.` +
            (proxiedPublic
                ? ' Browser writes from that public origin also need --cors-allowed-origins; a 403 "Cross-origin request blocked" is that check, "Invalid Host header" is this one.'
                : ''),
        locations: (() => {
            const at = serverFieldLocation(snapshot, config, 'allowedHosts', '--allowed-hosts');
            return at ? [at] : [];
        })(),
        edits: edit ? [edit] : undefined,
        service: config.service,
    });
}

export const hostHeaderCheck: Check = {
    name: 'host-header',
    run(snapshot) {
        return snapshot.serverConfigs.flatMap(
            (config) => hostHeaderFinding(snapshot, config) ?? [],
        );
    },
};
