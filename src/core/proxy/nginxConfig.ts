// Enough of nginx's configuration language to follow a request through a reverse proxy in front
// of MLflow: directives with their lines (comments, quoted strings and nested blocks handled),
// `server` blocks with their `listen`, `server_name` and `location`s, `upstream` groups, and the
// two rules that decide what MLflow receives: which location a URI selects and how `proxy_pass`
// rewrites the path.

export interface NginxDirective {
    name: string;
    args: string[];
    /** 1-based position of the directive's name. */
    line: number;
    column: number;
    /** Where its `;` or closing `}` is. */
    endLine: number;
    endColumn: number;
    children?: NginxDirective[];
}

export interface NginxParse {
    directives: NginxDirective[];
    /** Unbalanced braces or an unterminated string, with the line. */
    errors: string[];
}

interface Token {
    text: string;
    kind: 'word' | '{' | '}' | ';';
    line: number;
    column: number;
}

function tokenize(text: string, errors: string[]): Token[] {
    const tokens: Token[] = [];
    let line = 1;
    let column = 1;
    let i = 0;
    const advance = (ch: string) => {
        if (ch === '\n') {
            line++;
            column = 1;
        } else column++;
        i++;
    };
    while (i < text.length) {
        const ch = text[i] ?? '';
        if (/\s/.test(ch)) {
            advance(ch);
            continue;
        }
        if (ch === '#') {
            while (i < text.length && text[i] !== '\n') advance(text[i] ?? '');
            continue;
        }
        if (ch === '{' || ch === '}' || ch === ';') {
            tokens.push({ text: ch, kind: ch, line, column });
            advance(ch);
            continue;
        }
        const start = { line, column };
        let word = '';
        if (ch === '"' || ch === "'") {
            const quote = ch;
            advance(ch);
            while (i < text.length && text[i] !== quote) {
                if (text[i] === '\\' && i + 1 < text.length) {
                    advance('\\');
                }
                word += text[i] ?? '';
                advance(text[i] ?? '');
            }
            if (i >= text.length) errors.push(`line ${start.line}: unterminated string`);
            else advance(quote);
        } else {
            while (i < text.length && !/[\s{};]/.test(text[i] ?? '')) {
                // `#` starts a comment only at the start of a word.
                if (text[i] === '\\' && i + 1 < text.length) advance('\\');
                word += text[i] ?? '';
                advance(text[i] ?? '');
            }
        }
        tokens.push({ text: word, kind: 'word', ...start });
    }
    return tokens;
}

/** Parses nginx configuration text into directives; never throws. */
export function parseNginxConfig(text: string): NginxParse {
    const errors: string[] = [];
    const tokens = tokenize(text, errors);
    let at = 0;
    const block = (depth: number): NginxDirective[] => {
        const out: NginxDirective[] = [];
        let current: NginxDirective | undefined;
        while (at < tokens.length) {
            const token = tokens[at++] as Token;
            if (token.kind === 'word') {
                if (!current) {
                    current = {
                        name: token.text,
                        args: [],
                        line: token.line,
                        column: token.column,
                        endLine: token.line,
                        endColumn: token.column + token.text.length,
                    };
                } else current.args.push(token.text);
                continue;
            }
            if (token.kind === ';') {
                if (current) {
                    current.endLine = token.line;
                    current.endColumn = token.column + 1;
                    out.push(current);
                }
                current = undefined;
                continue;
            }
            if (token.kind === '{') {
                const owner: NginxDirective = current ?? {
                    name: '',
                    args: [],
                    line: token.line,
                    column: token.column,
                    endLine: token.line,
                    endColumn: token.column,
                };
                owner.children = block(depth + 1);
                const close = tokens[at - 1];
                owner.endLine = close?.line ?? owner.line;
                owner.endColumn = (close?.column ?? owner.column) + 1;
                out.push(owner);
                current = undefined;
                continue;
            }
            // `}`
            if (depth === 0) errors.push(`line ${token.line}: unexpected "}"`);
            if (current) errors.push(`line ${current.line}: "${current.name}" lacks its ";"`);
            return out;
        }
        if (depth > 0) errors.push('the file ends inside a block (a "}" is missing)');
        if (current) errors.push(`line ${current.line}: "${current.name}" lacks its ";"`);
        return out;
    };
    return { directives: block(0), errors };
}

// ---------------------------------------------------------------------------------------------

export interface ProxyPass {
    raw: string;
    scheme: string;
    host: string;
    port?: number;
    /** The URI part after host[:port]; undefined when proxy_pass names only the host. */
    uri?: string;
    /** Contains `$variables`: the target is decided per request. */
    dynamic: boolean;
}

export interface NginxLocation {
    modifier: '' | '=' | '^~' | '~' | '~*';
    path: string;
    proxyPass?: ProxyPass;
    /** The `proxy_set_header Host` value in effect (its own, or the server's). */
    hostHeader?: string;
    /** `return` or `root`/`alias`: answered by nginx itself. */
    answersItself: boolean;
    directive: NginxDirective;
}

export interface NginxServer {
    file: string;
    listen: { port: number; ssl: boolean; raw: string }[];
    serverNames: string[];
    locations: NginxLocation[];
    directive: NginxDirective;
}

export interface NginxSite {
    file: string;
    servers: NginxServer[];
    /** `upstream` name → its `server` addresses. */
    upstreams: Record<string, string[]>;
    errors: string[];
}

export function parseProxyPass(raw: string): ProxyPass | undefined {
    const m = /^([a-z]+):\/\/(\[[^\]]+\]|[^/:]+)(?::(\d+))?(\/.*)?$/i.exec(raw);
    if (!m) return undefined;
    return {
        raw,
        scheme: (m[1] ?? '').toLowerCase(),
        host: m[2] ?? '',
        ...(m[3] ? { port: Number(m[3]) } : {}),
        ...(m[4] !== undefined ? { uri: m[4] } : {}),
        dynamic: raw.includes('$'),
    };
}

function hostHeaderOf(directives: NginxDirective[]): string | undefined {
    const set = directives.filter(
        (d) => d.name === 'proxy_set_header' && (d.args[0] ?? '').toLowerCase() === 'host',
    );
    return set.at(-1)?.args[1];
}

function parseListen(args: string[]): { port: number; ssl: boolean; raw: string } {
    const address = args[0] ?? '80';
    const port = Number(/(?:^|:)(\d+)$/.exec(address)?.[1] ?? 80);
    return {
        port,
        ssl: args.includes('ssl') || (args.includes('http2') && port === 443),
        raw: args.join(' '),
    };
}

function serverOf(file: string, d: NginxDirective, inheritedHost: string | undefined): NginxServer {
    const children = d.children ?? [];
    const serverHost = hostHeaderOf(children) ?? inheritedHost;
    const locations: NginxLocation[] = [];
    const addLocations = (list: NginxDirective[], host: string | undefined) => {
        for (const loc of list) {
            if (loc.name !== 'location') continue;
            const [first = '', second] = loc.args;
            const hasModifier = ['=', '^~', '~', '~*'].includes(first);
            const inner = loc.children ?? [];
            const pass = inner.find((c) => c.name === 'proxy_pass')?.args[0];
            const ownHost = hostHeaderOf(inner) ?? host;
            locations.push({
                modifier: hasModifier ? (first as NginxLocation['modifier']) : '',
                path: hasModifier ? (second ?? '') : first,
                ...(pass ? { proxyPass: parseProxyPass(pass) } : {}),
                ...(ownHost !== undefined ? { hostHeader: ownHost } : {}),
                answersItself: inner.some((c) => ['return', 'root', 'alias'].includes(c.name)),
                directive: loc,
            });
            // Not yet: nested locations are selected as if they were siblings of their parent.
            addLocations(inner, ownHost);
        }
    };
    addLocations(children, serverHost);
    const listen = children.filter((c) => c.name === 'listen').map((c) => parseListen(c.args));
    return {
        file,
        listen: listen.length > 0 ? listen : [{ port: 80, ssl: false, raw: '80' }],
        serverNames: children.filter((c) => c.name === 'server_name').flatMap((c) => c.args),
        locations,
        directive: d,
    };
}

/** The `server` blocks and `upstream` groups of one nginx config file. */
export function readNginxSite(text: string, file: string): NginxSite {
    const { directives, errors } = parseNginxConfig(text);
    const site: NginxSite = { file, servers: [], upstreams: {}, errors };
    const walk = (list: NginxDirective[], inheritedHost: string | undefined) => {
        for (const d of list) {
            if (d.name === 'server' && d.children) {
                site.servers.push(serverOf(file, d, inheritedHost));
            } else if (d.name === 'upstream' && d.children && d.args[0]) {
                site.upstreams[d.args[0]] = d.children
                    .filter((c) => c.name === 'server')
                    .map((c) => c.args[0] ?? '');
            } else if (d.name === 'http' && d.children) {
                walk(d.children, hostHeaderOf(d.children) ?? inheritedHost);
            }
        }
    };
    // Not yet: `include` is not followed, so locations in included files are seen only when
    // that file is itself among the workspace's configs.
    walk(directives, undefined);
    return site;
}

/** True when the text looks like nginx configuration rather than another `.conf` format. */
export function looksLikeNginx(text: string): boolean {
    return (
        /^\s*(server|location|upstream|http)\b[^;{]*\{/m.test(text) &&
        /proxy_pass|listen/.test(text)
    );
}

// ---------------------------------------------------------------------------------------------
// Request routing

function regexOf(location: NginxLocation): RegExp | undefined {
    try {
        return new RegExp(location.path, location.modifier === '~*' ? 'i' : '');
    } catch {
        return undefined;
    }
}

/** The location nginx selects for a request URI (path only), by nginx's matching order. */
export function selectLocation(server: NginxServer, uri: string): NginxLocation | undefined {
    const exact = server.locations.find((l) => l.modifier === '=' && l.path === uri);
    if (exact) return exact;
    let longest: NginxLocation | undefined;
    for (const l of server.locations) {
        if ((l.modifier === '' || l.modifier === '^~') && uri.startsWith(l.path)) {
            if (!longest || l.path.length > longest.path.length) longest = l;
        }
    }
    if (longest?.modifier === '^~') return longest;
    const regex = server.locations.find(
        (l) => (l.modifier === '~' || l.modifier === '~*') && regexOf(l)?.test(uri),
    );
    return regex ?? longest;
}

/**
 * The path the upstream receives for `uri` through `location`: with a URI part, proxy_pass
 * replaces the part the location matched; without one, the request path passes unchanged.
 * Undefined when nginx decides it per request (variables, regex locations with a URI part).
 */
export function upstreamPath(location: NginxLocation, uri: string): string | undefined {
    const pass = location.proxyPass;
    if (!pass || pass.dynamic) return undefined;
    if (pass.uri === undefined) return uri;
    if (location.modifier === '~' || location.modifier === '~*') return undefined;
    return pass.uri + uri.slice(location.path.length);
}
