import path from 'node:path';

export type TrackingUriScheme = 'http' | 'https' | 'file' | 'path' | 'database' | 'other';

export interface ParsedTrackingUri {
    scheme: TrackingUriScheme;
    raw: string;
    host?: string;
    port?: number;
    /** For `file:` and plain paths: the path as written (may be relative). */
    path?: string;
    /** URL path after the host, for http(s) (a reverse-proxy sub-path or static prefix). */
    urlPath?: string;
}

const DATABASE_SCHEMES = /^(sqlite|postgresql|postgres|mysql|mssql|oracle)(\+\w+)?:/i;

/** What kind of store a tracking URI names, the way the MLflow client decides it. */
export function parseTrackingUri(raw: string): ParsedTrackingUri {
    const uri = raw.trim();
    if (/^https?:\/\//i.test(uri)) {
        try {
            const url = new URL(uri);
            const scheme = url.protocol === 'https:' ? 'https' : 'http';
            const port = url.port ? Number(url.port) : scheme === 'https' ? 443 : 80;
            return {
                scheme,
                raw,
                host: url.hostname.replace(/^\[|\]$/g, ''),
                port,
                urlPath: url.pathname.replace(/\/+$/, ''),
            };
        } catch {
            return { scheme: 'other', raw };
        }
    }
    if (/^file:/i.test(uri)) {
        // `file:./mlruns`, `file:///abs/mlruns` and `file://localhost/abs` all occur in the wild.
        const rest = uri.replace(/^file:(\/\/(localhost)?)?/i, '');
        return { scheme: 'file', raw, path: rest === '' ? '.' : rest };
    }
    if (DATABASE_SCHEMES.test(uri)) return { scheme: 'database', raw };
    if (/^[a-z][a-z0-9+.-]*:/i.test(uri) && !/^[a-z]:[\\/]/i.test(uri)) {
        return { scheme: 'other', raw };
    }
    return { scheme: 'path', raw, path: uri };
}

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '::1', '0:0:0:0:0:0:0:1']);

export function isLoopbackHost(host: string | undefined): boolean {
    if (host === undefined) return false;
    const h = host.toLowerCase().replace(/^\[|\]$/g, '');
    return LOOPBACK_NAMES.has(h) || /^127\./.test(h) || h.endsWith('.localhost');
}

/** True when a server bound to this address is reachable only from inside its own container. */
export function isLoopbackBind(host: string | undefined): boolean {
    return host === undefined || isLoopbackHost(host);
}

/** The absolute local path a `file:` or path URI resolves to for a client in `cwd`. */
export function resolveStorePath(parsed: ParsedTrackingUri, cwd: string): string | undefined {
    if (parsed.path === undefined) return undefined;
    if (/^[a-z]:[\\/]/i.test(parsed.path)) return parsed.path;
    return path.resolve(cwd, parsed.path);
}

/** A plain path or `file:` URI: a client that gets it does the file I/O on its own disk. */
export function isLocalArtifactUri(uri: string): boolean {
    const parsed = parseTrackingUri(uri);
    return parsed.scheme === 'file' || parsed.scheme === 'path';
}
