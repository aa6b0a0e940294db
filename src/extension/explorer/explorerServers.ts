// The servers the explorer can talk to: the ones the last diagnosis probed (published ports,
// client tracking URIs, the setting) plus the `stackDoctor.trackingUri` setting itself. Each gets
// an opaque key, so the webview never holds a URL that might carry credentials.

import { createHash } from 'node:crypto';

import type { StackSnapshot } from '../../core/model.js';

export interface KnownServer {
    key: string;
    /** The tracking URI without credentials, without a trailing slash. */
    url: string;
    /** As written, credentials included: only for the host's own client, never shown or sent. */
    connectUrl: string;
    /** `compose service "mlflow"`, `setting`, `client tracking URI`. */
    origin: string;
    /** The version the diagnosis saw answer, when it did. */
    version?: string;
}

/** A URL without user, password, query or trailing slash; undefined when it is not http(s). */
export function cleanServerUrl(text: string): string | undefined {
    let url: URL;
    try {
        url = new URL(text.trim());
    } catch {
        return undefined;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
    url.username = '';
    url.password = '';
    url.search = '';
    url.hash = '';
    return url.toString().replace(/\/+$/, '');
}

/** Hex, so it passes the protocol's id check and works as a URI authority. */
export function serverKeyOf(cleanUrl: string): string {
    return createHash('sha256').update(`mlflow-server\0${cleanUrl}`).digest('hex').slice(0, 24);
}

function originOf(probe: StackSnapshot['servers'][number]): string {
    if (probe.service) return `compose service "${probe.service}"`;
    switch (probe.origin) {
        case 'published-port':
            return 'published port';
        case 'client-uri':
            return 'client tracking URI';
        case 'setting':
            return 'setting';
        case 'recorded':
            return 'recorded';
    }
}

/**
 * The servers in the order to offer them: the ones that answered the diagnosis first, then the
 * others, then the setting when the diagnosis did not probe it. One entry per URL.
 */
export function explorerServers(
    snapshot: StackSnapshot | undefined,
    trackingUri: string | undefined,
): KnownServer[] {
    const servers: KnownServer[] = [];
    const add = (connectUrl: string, origin: string, version?: string) => {
        const url = cleanServerUrl(connectUrl);
        if (!url || servers.some((s) => s.url === url)) return;
        servers.push({
            key: serverKeyOf(url),
            url,
            connectUrl: connectUrl.trim(),
            origin,
            ...(version ? { version } : {}),
        });
    };
    const probes = [...(snapshot?.servers ?? [])].sort(
        (a, b) => Number(Boolean(b.serverVersion)) - Number(Boolean(a.serverVersion)),
    );
    for (const probe of probes) add(probe.baseUrl, originOf(probe), probe.serverVersion);
    if (trackingUri) add(trackingUri, 'setting');
    return servers;
}
