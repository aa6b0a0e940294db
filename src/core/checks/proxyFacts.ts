// Reverse proxies in front of the MLflow server: the nginx configs among the snapshot's files,
// which of their locations pass requests to which server, what Host header they forward, and
// which compose service runs them. Shared by the proxy-path, host-header and TLS checks.

import path from 'node:path';
import type { FindingLocation, ServerConfig, StackSnapshot } from '../model.js';
import {
    looksLikeNginx,
    type NginxDirective,
    type NginxLocation,
    type NginxServer,
    type NginxSite,
    type ProxyPass,
    readNginxSite,
} from '../proxy/nginxConfig.js';
import { composeService } from './stackFacts.js';

export interface ProxyRoute {
    site: NginxSite;
    server: NginxServer;
    location: NginxLocation;
    config: ServerConfig;
    /** The compose service that mounts this config file, when one does. */
    proxyService?: string;
}

// Not yet: Traefik labels, Caddyfiles and Apache configs are not read; only nginx is followed.

/** The nginx configs among the snapshot's files. */
export function nginxSites(snapshot: StackSnapshot): NginxSite[] {
    return Object.entries(snapshot.files ?? {})
        .filter(([file, text]) => /\.conf$|(^|\/)nginx[^/]*$/.test(file) && looksLikeNginx(text))
        .map(([file, text]) => readNginxSite(text, file));
}

/** The server a proxy_pass target reaches: by service, container name or upstream group. */
export function proxyTarget(
    snapshot: StackSnapshot,
    site: NginxSite,
    pass: ProxyPass | undefined,
): ServerConfig | undefined {
    if (!pass || pass.dynamic) return undefined;
    const addresses = site.upstreams[pass.host]
        ? site.upstreams[pass.host]
        : [`${pass.host}${pass.port !== undefined ? `:${pass.port}` : ''}`];
    for (const address of addresses ?? []) {
        const [host = '', portText] = address.split(':');
        const port = portText
            ? Number(portText)
            : site.upstreams[pass.host]
              ? 80
              : (pass.port ?? (pass.scheme === 'https' ? 443 : 80));
        const config = snapshot.serverConfigs.find((c) => {
            const service = composeService(snapshot, c.service);
            const names = [c.service, service?.containerName].filter(Boolean);
            return names.includes(host) && c.port === port;
        });
        if (config) return config;
    }
    return undefined;
}

/** The compose service that mounts `file` (a proxy's config), when one does. */
export function serviceMounting(snapshot: StackSnapshot, file: string): string | undefined {
    const abs = path.resolve(snapshot.folder, file);
    return snapshot.compose?.services.find((s) =>
        s.volumes.some(
            (v) =>
                v.type === 'bind' &&
                v.hostPath !== undefined &&
                (path.resolve(v.hostPath) === abs ||
                    abs.startsWith(path.resolve(v.hostPath) + path.sep)),
        ),
    )?.name;
}

export function proxyRoutes(snapshot: StackSnapshot): ProxyRoute[] {
    const routes: ProxyRoute[] = [];
    for (const site of nginxSites(snapshot)) {
        const proxyService = serviceMounting(snapshot, site.file);
        for (const server of site.servers) {
            for (const location of server.locations) {
                const config = proxyTarget(snapshot, site, location.proxyPass);
                if (config)
                    routes.push({
                        site,
                        server,
                        location,
                        config,
                        ...(proxyService ? { proxyService } : {}),
                    });
            }
        }
    }
    return routes;
}

/** A directive's place, keyed by the text of its first line (how text-file keys are matched). */
export function directiveLocation(
    snapshot: StackSnapshot,
    file: string,
    d: NginxDirective,
): FindingLocation {
    const text = snapshot.files?.[file]?.split(/\r?\n/)[d.line - 1] ?? '';
    const key = text.trim().replace(/\s*\{\s*$/, '');
    return {
        file,
        line: d.line,
        column: d.column,
        endLine: d.line,
        endColumn: text.length + 1,
        key,
    };
}

/** Public names of a server block: `server_name` entries that are not catch-alls or patterns. */
export function publicNames(server: NginxServer): string[] {
    return server.serverNames.filter(
        (n) => n !== '_' && n !== '' && !n.startsWith('~') && !n.includes('*') && n !== 'localhost',
    );
}

/**
 * The Host header MLflow receives through a route, for clients that asked for `clientHost`
 * (the name and port they used): `$host` drops the port, `$http_host` keeps it, nothing set
 * means nginx's default `$proxy_host` (the proxy_pass host, with its port unless it is 80).
 */
export function forwardedHost(route: ProxyRoute, clientHost: string): string | undefined {
    const value = route.location.hostHeader ?? '$proxy_host';
    const pass = route.location.proxyPass;
    if (value === '$proxy_host') {
        if (!pass) return undefined;
        const defaultPort = pass.scheme === 'https' ? 443 : 80;
        return pass.port !== undefined && pass.port !== defaultPort
            ? `${pass.host}:${pass.port}`
            : pass.host;
    }
    if (value === '$server_name') return route.server.serverNames[0] ?? '';
    if (value === '$host') return clientHost.replace(/:\d+$/, '');
    if (value === '$http_host') return clientHost;
    if (value.includes('$')) return undefined;
    return value;
}
