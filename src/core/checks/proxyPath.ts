// A reverse proxy that serves MLflow under a path: follows the UI's own requests (the page, its
// /static-files scripts, its /ajax-api data) and a REST client's /api calls through nginx's
// location selection and proxy_pass rewriting, and compares what reaches MLflow with what it
// serves for its --static-prefix. /api never carries the prefix through 3.11.1 (§2.1).

import { isAtLeast } from '../mlflow/versions.js';
import { parseTrackingUri } from '../mlflow/trackingUri.js';
import type { Finding, FixEdit, ServerConfig, StackSnapshot } from '../model.js';
import { type NginxLocation, selectLocation, upstreamPath } from '../proxy/nginxConfig.js';
import { replaceOnLine, setServerFlag } from './commandEdits.js';
import { type Check, makeFinding, serverFieldLocation } from './check.js';
import { directiveLocation, type ProxyRoute, proxyRoutes, proxyTarget } from './proxyFacts.js';
import { serverVersionOf } from './versionParity.js';

function describeLocation(location: NginxLocation | undefined): string {
    if (!location) return 'no location (nginx answers 404)';
    const name = `location ${location.modifier ? `${location.modifier} ` : ''}${location.path}`;
    if (location.proxyPass) return `${name} (proxy_pass ${location.proxyPass.raw})`;
    return location.answersItself ? `${name}, which answers by itself` : name;
}

const trimSlash = (p: string) => p.replace(/\/+$/, '');

/** The public path the UI is meant to open at through this route. */
function publicBase(route: ProxyRoute, prefix: string): string {
    const located = trimSlash(route.location.path);
    const pass = route.location.proxyPass;
    // Passing the path unchanged under a broader location: the UI lives at the server's prefix.
    if (pass?.uri === undefined && prefix.startsWith(located) && route.location.modifier !== '=')
        return prefix;
    return located;
}

interface Probe {
    what: string;
    path: string;
    /** What the server must receive for it. */
    expect: string;
}

function uiProbes(base: string, prefix: string, exact: boolean): Probe[] {
    return [
        {
            what: 'the UI page',
            path: exact ? base || '/' : `${base}/`,
            expect: `${prefix}/`,
        },
        {
            what: 'its scripts',
            path: `${base}/static-files/static/js/main.js`,
            expect: `${prefix}/static-files/static/js/main.js`,
        },
        {
            what: 'its data',
            path: `${base}/ajax-api/2.0/mlflow/experiments/search`,
            expect: `${prefix}/ajax-api/2.0/mlflow/experiments/search`,
        },
    ];
}

/** Where a request ends up: MLflow (with the path it receives) or elsewhere. */
function follow(
    snapshot: StackSnapshot,
    route: ProxyRoute,
    path: string,
): { location?: NginxLocation; upstream?: string; reachesServer: boolean } {
    const location = selectLocation(route.server, path);
    const target = location ? proxyTarget(snapshot, route.site, location.proxyPass) : undefined;
    const reachesServer = target?.service === route.config.service;
    return {
        ...(location ? { location } : {}),
        ...(reachesServer && location ? { upstream: upstreamPath(location, path) } : {}),
        reachesServer,
    };
}

/** The /api prefix the server answers REST calls on. */
function apiPrefix(snapshot: StackSnapshot, config: ServerConfig, prefix: string): string[] {
    const version = serverVersionOf(snapshot, config)?.version;
    // #22159 adds the prefix to /api after 3.11.1; until then /api stays at the root.
    if (prefix && version && isAtLeast(version, '3.12.0')) return [`${prefix}/api/`, '/api/'];
    return ['/api/'];
}

function routeEdits(
    snapshot: StackSnapshot,
    route: ProxyRoute,
    base: string,
): FixEdit[] | undefined {
    const { location, config } = route;
    const pass = location.proxyPass;
    if (!pass || !base) return undefined;
    const file = route.site.file;
    const d = location.directive;
    const locEdit = replaceOnLine(
        snapshot,
        file,
        d.line,
        `${location.modifier ? `${location.modifier} ` : ''}${location.path}`,
        `${base}/`,
        `Proxy the whole ${base}/ prefix`,
    );
    const passLine = (snapshot.files?.[file] ?? '')
        .split(/\r?\n/)
        .findIndex((l, i) => i >= d.line - 1 && l.includes(pass.raw));
    const target = `${pass.scheme}://${pass.host}${pass.port !== undefined ? `:${pass.port}` : ''}${base}/`;
    const passEdit =
        passLine >= 0
            ? replaceOnLine(
                  snapshot,
                  file,
                  passLine + 1,
                  pass.raw,
                  target,
                  `Pass ${base}/ unchanged`,
              )
            : undefined;
    const prefixEdit = config.staticPrefix
        ? undefined
        : setServerFlag(snapshot, config, '--static-prefix', base, `Serve MLflow under ${base}`);
    const edits = [locEdit, passEdit, prefixEdit].filter((e): e is FixEdit => e !== undefined);
    // The three only work together; a partial set would trade one broken path for another.
    return edits.length === (config.staticPrefix ? 2 : 3) ? edits : undefined;
}

function routeFinding(snapshot: StackSnapshot, route: ProxyRoute): Finding | undefined {
    const { location, config } = route;
    if (location.modifier === '~' || location.modifier === '~*') return undefined;
    // Locations for one kind of route (/api/, /static-files/) are helpers of a UI location.
    const helper = /\/(api|ajax-api|static-files|get-artifact|graphql|health|version)(\/|$)/;
    if (helper.test(location.path) || helper.test(location.proxyPass?.uri ?? '')) return undefined;
    const prefix = trimSlash(config.staticPrefix ?? '');
    const base = publicBase(route, prefix);
    const exact = location.modifier === '=';
    if (!exact && base === '' && prefix === '') return undefined;

    const broken: string[] = [];
    for (const probe of uiProbes(base, prefix, exact)) {
        const result = follow(snapshot, route, probe.path);
        if (!result.reachesServer) {
            broken.push(
                `${probe.what} (${probe.path}) selects ${describeLocation(result.location)}, not the MLflow server.`,
            );
        } else if (result.upstream !== undefined && result.upstream !== probe.expect) {
            broken.push(
                `${probe.what} (${probe.path}) reaches MLflow as ${result.upstream}, but the server ${prefix ? `(--static-prefix ${prefix})` : '(no --static-prefix)'} serves it at ${probe.expect}.`,
            );
        }
    }

    // REST clients whose tracking URI carries the public path.
    const apiRoots = apiPrefix(snapshot, config, prefix);
    for (const use of snapshot.workspace.trackingUris) {
        const parsed = parseTrackingUri(use.uri);
        if (parsed.scheme !== 'http' && parsed.scheme !== 'https') continue;
        const uriPath = parsed.urlPath ?? '';
        if (uriPath === '' || trimSlash(uriPath) !== base) continue;
        const path = `${uriPath}/api/2.0/mlflow/experiments/search`;
        const result = follow(snapshot, route, path);
        const ok =
            result.reachesServer &&
            result.upstream !== undefined &&
            apiRoots.some((root) => result.upstream?.startsWith(root));
        if (!ok) {
            broken.push(
                `${use.file}:${use.line} uses ${use.uri}, so its REST calls go to ${path}: ${result.reachesServer ? `MLflow receives ${result.upstream ?? 'a rewritten path'}, but serves the REST API at /api/` : `that selects ${describeLocation(result.location)}`}.`,
            );
        }
    }
    if (broken.length === 0) return undefined;

    const at = directiveLocation(snapshot, route.site.file, location.directive);
    const publicPath = base || '/mlflow';
    const upstream = `${location.proxyPass?.scheme ?? 'http'}://${location.proxyPass?.host ?? config.service}:${config.port}`;
    const serverAt = serverFieldLocation(snapshot, config, 'staticPrefix', '--static-prefix');
    const edits = exact || broken.length > 0 ? routeEdits(snapshot, route, base) : undefined;
    return makeFinding(`${route.site.file}:${location.directive.line}`, {
        kind: 'proxy-path',
        severity: 'error',
        title: exact
            ? `nginx "${at.key}" matches only that exact URI: the MLflow UI's scripts and data never reach the server`
            : `nginx "${at.key}" and the server's --static-prefix disagree: the UI${broken.some((b) => b.includes('/api/')) ? ' or the REST API' : ''} breaks behind the proxy`,
        evidence: [
            `${route.site.file}:${location.directive.line}: ${at.key} proxies to the MLflow server "${config.service}".`,
            config.staticPrefix
                ? `The server runs with --static-prefix ${config.staticPrefix}.`
                : 'The server runs without --static-prefix, so it serves the UI at / and its files at /static-files and /ajax-api.',
            ...broken,
        ],
        fix:
            `Serve MLflow under one prefix end to end: start the server with --static-prefix ${publicPath}, proxy the whole prefix with ` +
            `location ${publicPath}/ { proxy_pass ${upstream}${publicPath}/; } (so /static-files and /ajax-api requests under it reach the server unchanged), ` +
            `and route REST clients with location ${publicPath}/api/ { proxy_pass ${upstream}/api/; }, because the REST API does not move under the prefix (through 3.11.1). ` +
            `Clients then use MLFLOW_TRACKING_URI=http://<host>${publicPath}. A trailing slash on proxy_pass replaces the matched location with it; without a path, the request passes unchanged.`,
        locations: serverAt ? [at, serverAt] : [at],
        edits,
        service: config.service,
    });
}

export const proxyPathCheck: Check = {
    name: 'proxy-path',
    run(snapshot) {
        const findings: Finding[] = [];
        const seen = new Set<string>();
        for (const route of proxyRoutes(snapshot)) {
            const finding = routeFinding(snapshot, route);
            if (finding && !seen.has(finding.id)) {
                seen.add(finding.id);
                findings.push(finding);
            }
        }
        return findings;
    },
};
