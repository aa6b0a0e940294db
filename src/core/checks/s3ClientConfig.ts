// Clients that upload artifacts to an object store themselves. A server that hands out `s3://`
// artifact locations (an explicit `--default-artifact-root s3://...`, with or without proxying)
// makes every client open the bucket with its own boto3: each one needs the endpoint (for MinIO,
// an address reachable from where that client runs) and credentials. The server's own settings
// do not help them.

import path from 'node:path';
import { parseTrackingUri } from '../mlflow/trackingUri.js';
import { parseVersion } from '../mlflow/versions.js';
import type {
    ComposeService,
    FindingLocation,
    Finding,
    FixEdit,
    ServerConfig,
    StackSnapshot,
} from '../model.js';
import { replaceOnKeyLine } from './commandEdits.js';
import { type Check, locateText, makeFinding, nearestComposeLocation } from './check.js';
import { composeService, containerOf, serverServices } from './stackFacts.js';
import { serverVersionOf } from './versionParity.js';

const ENDPOINT = 'MLFLOW_S3_ENDPOINT_URL';
const KEY_ID = 'AWS_ACCESS_KEY_ID';
const SECRET = 'AWS_SECRET_ACCESS_KEY';
const S3_VARIABLES = [
    ENDPOINT,
    KEY_ID,
    SECRET,
    'AWS_PROFILE',
    'AWS_SHARED_CREDENTIALS_FILE',
    'AWS_SESSION_TOKEN',
] as const;
type S3Variable = (typeof S3_VARIABLES)[number];

/** Calls that upload artifacts (models are artifacts too). */
const ARTIFACT_CALL =
    /(^|\.)(log_artifacts?|log_model|log_figure|log_dict|log_text|log_image|log_table|log_input|autolog|save_model|log_model_artifacts)$/;

const OBJECT_STORE_IMAGE = /(^|\/)(minio|localstack|seaweedfs|rustfs|garage|ceph)\b|s3mock|zenko/i;

/** What a client has of the S3 settings, and where each was found. */
interface S3Settings {
    found: Map<S3Variable, { where: string; value?: string; location?: FindingLocation }>;
    credentialsFile?: string;
}

interface Client {
    /** A compose service, or a script that runs on the host (or another machine). */
    kind: 'service' | 'host';
    name: string;
    service?: ComposeService;
    scripts: string[];
    trackingUri?: string;
    uploads: string[];
}

interface ObjectStore {
    service?: ComposeService;
    /** The endpoint the server uses (its MLFLOW_S3_ENDPOINT_URL). */
    serverEndpoint?: string;
    containerPort: number;
    publishedPort?: number;
}

/** The `s3://` root clients get from this server, when they write to the bucket themselves. */
function clientWrittenS3Root(config: ServerConfig): string | undefined {
    const root = config.defaultArtifactRoot;
    return root && /^s3a?:\/\//i.test(root) ? root : undefined;
}

function objectStoreOf(snapshot: StackSnapshot, config: ServerConfig): ObjectStore | undefined {
    const server = composeService(snapshot, config.service);
    const serverEndpoint =
        server?.environment[ENDPOINT] ??
        containerOf(snapshot, config.service)?.env[ENDPOINT] ??
        undefined;
    const endpoint = serverEndpoint ? safeUrl(serverEndpoint) : undefined;
    const services = snapshot.compose?.services ?? [];
    const service =
        services.find((s) => endpoint && s.name === endpoint.hostname) ??
        services.find(
            (s) =>
                OBJECT_STORE_IMAGE.test(s.image ?? '') &&
                !/minio\/mc\b/.test(s.image ?? '') &&
                !serverServices(snapshot).has(s.name),
        );
    if (!serverEndpoint && !service) return undefined;
    const containerPort =
        (endpoint?.port ? Number(endpoint.port) : undefined) ??
        (/localstack/i.test(service?.image ?? '') ? 4566 : 9000);
    const published = service?.ports.find((p) => p.target === containerPort && p.published);
    const publishedPort = published ? Number(published.published?.split('-')[0]) : undefined;
    return {
        service,
        serverEndpoint: serverEndpoint ?? undefined,
        containerPort,
        publishedPort: Number.isFinite(publishedPort) ? publishedPort : undefined,
    };
}

function safeUrl(text: string): URL | undefined {
    try {
        return new URL(text);
    } catch {
        return undefined;
    }
}

// ---------------------------------------------------------------------------------------------
// Clients and what they set

/** Python text of a script or notebook (cells joined), for reading its settings. */
function pythonText(file: string, raw: string): string {
    if (!file.endsWith('.ipynb')) return raw;
    try {
        const notebook = JSON.parse(raw) as { cells?: { source?: string | string[] }[] };
        return (notebook.cells ?? [])
            .map((c) => (Array.isArray(c.source) ? c.source.join('') : (c.source ?? '')))
            .join('\n');
    } catch {
        return raw;
    }
}

/** `os.environ["X"] = "v"`, `os.environ.setdefault("X", "v")`, `os.putenv`, `%env X=v`. */
function settingsInScript(snapshot: StackSnapshot, file: string, into: S3Settings): void {
    const raw = snapshot.files?.[file];
    if (raw === undefined) return;
    const text = pythonText(file, raw);
    for (const name of S3_VARIABLES) {
        const patterns = [
            new RegExp(`environ\\s*\\[\\s*["']${name}["']\\s*\\]\\s*=(?!=)\\s*(.*)`),
            new RegExp(
                `environ\\s*\\.\\s*(?:setdefault|update)\\s*\\(\\s*["']${name}["']\\s*,\\s*(.*)`,
            ),
            new RegExp(`putenv\\s*\\(\\s*["']${name}["']\\s*,\\s*(.*)`),
            new RegExp(`%(?:env|set_env)\\s+${name}\\s*[=\\s]\\s*(\\S+)`),
            new RegExp(`\\b${name}\\s*=\\s*["']([^"']+)["']\\s*[,)]`),
        ];
        for (const pattern of patterns) {
            const m = pattern.exec(text);
            if (!m) continue;
            const literal = /^\s*["']([^"']*)["']/.exec(m[1] ?? '')?.[1] ?? m[1]?.trim();
            into.found.set(name, {
                where: file,
                value: literal,
                location: locateText(snapshot, file, name),
            });
            break;
        }
    }
    // python-dotenv loads .env into the process: what the compose .env holds then counts too.
    if (/\bload_dotenv\s*\(/.test(text)) {
        const dotenv = snapshot.files?.['.env'] ?? '';
        for (const line of dotenv.split(/\r?\n/)) {
            const m = /^\s*(?:export\s+)?([A-Z_][A-Z0-9_]*)\s*=\s*(.*)$/.exec(line);
            const name = m?.[1] as S3Variable | undefined;
            if (
                name &&
                (S3_VARIABLES as readonly string[]).includes(name) &&
                !into.found.has(name)
            ) {
                into.found.set(name, { where: '.env (load_dotenv)', value: m?.[2]?.trim() });
            }
        }
    }
}

function settingsOf(snapshot: StackSnapshot, client: Client): S3Settings {
    const settings: S3Settings = { found: new Map() };
    if (client.service) {
        const env = {
            ...(containerOf(snapshot, client.service.name)?.env ?? {}),
            ...client.service.environment,
        };
        for (const name of S3_VARIABLES) {
            const value = env[name];
            if (value !== undefined && value !== null && value !== '') {
                settings.found.set(name, { where: `"${client.service.name}" environment`, value });
            }
        }
        const aws = client.service.volumes.find((v) => /\/\.aws\/?$/.test(v.target));
        if (aws) settings.credentialsFile = `${aws.source ?? 'a volume'} mounted at ${aws.target}`;
    } else {
        // The host shell, as far as the snapshot saw it.
        for (const [name, variable] of Object.entries(snapshot.compose?.variables ?? {})) {
            if (variable.from !== 'environment') continue;
            if ((S3_VARIABLES as readonly string[]).includes(name) && variable.value !== '') {
                settings.found.set(name as S3Variable, {
                    where: 'the shell',
                    value: variable.value,
                });
            }
        }
    }
    for (const script of client.scripts) settingsInScript(snapshot, script, settings);
    return settings;
}

/** Is `file` (relative to the folder) inside this service's build context or a bind mount? */
function serviceRuns(snapshot: StackSnapshot, service: ComposeService, file: string): boolean {
    const base = snapshot.compose?.workingDir ?? snapshot.folder;
    const folders = [
        ...(service.build ? [path.resolve(base, service.build.context)] : []),
        ...service.volumes.flatMap((v) => (v.type === 'bind' && v.hostPath ? [v.hostPath] : [])),
    ];
    const abs = path.resolve(snapshot.folder, file);
    return folders.some((dir) => abs.startsWith(dir.endsWith(path.sep) ? dir : dir + path.sep));
}

function clientsOf(snapshot: StackSnapshot, store: ObjectStore | undefined): Client[] {
    const servers = serverServices(snapshot);
    const scripts = new Map<string, string[]>();
    for (const call of snapshot.workspace.calls) {
        const list = scripts.get(call.file) ?? [];
        list.push(call.api);
        scripts.set(call.file, list);
    }
    const recorded = snapshot.host.clientRuns?.startsWith('container:')
        ? snapshot.host.clientRuns.slice('container:'.length)
        : undefined;

    const clients: Client[] = [];
    const placed = new Set<string>();
    for (const service of snapshot.compose?.services ?? []) {
        if (servers.has(service.name) || service === store?.service) continue;
        const runs = [...scripts.keys()].filter(
            (f) => serviceRuns(snapshot, service, f) || recorded === service.name,
        );
        const uri = service.environment.MLFLOW_TRACKING_URI ?? undefined;
        if (!uri && runs.length === 0) continue;
        runs.forEach((f) => placed.add(f));
        clients.push({
            kind: 'service',
            name: service.name,
            service,
            scripts: runs,
            trackingUri: uri ?? scriptUri(snapshot, runs),
            uploads: runs.flatMap((f) =>
                (scripts.get(f) ?? []).filter((a) => ARTIFACT_CALL.test(a)),
            ),
        });
    }
    for (const [file, apis] of scripts) {
        if (placed.has(file)) continue;
        clients.push({
            kind: 'host',
            name: file,
            scripts: [file],
            trackingUri: scriptUri(snapshot, [file]),
            uploads: apis.filter((a) => ARTIFACT_CALL.test(a)),
        });
    }
    return clients;
}

function scriptUri(snapshot: StackSnapshot, files: string[]): string | undefined {
    return snapshot.workspace.trackingUris.find(
        (u) => files.includes(u.file) && u.via !== 'default',
    )?.uri;
}

/** Does this client's tracking URI name this server (its service name or one of its ports)? */
function talksTo(snapshot: StackSnapshot, client: Client, config: ServerConfig): boolean {
    if (!client.trackingUri) return false;
    const parsed = parseTrackingUri(client.trackingUri);
    if (parsed.scheme !== 'http' && parsed.scheme !== 'https') return false;
    if (snapshot.serverConfigs.length === 1) return true;
    const service = composeService(snapshot, config.service);
    const ports = new Set([
        config.port,
        ...(service?.ports ?? []).map((p) => Number(p.published?.split('-')[0])),
    ]);
    return (
        parsed.host === config.service ||
        parsed.host === service?.containerName ||
        (parsed.port !== undefined && ports.has(parsed.port))
    );
}

// ---------------------------------------------------------------------------------------------
// The finding

/** The endpoint this client should use, from where it runs. */
function endpointFor(
    snapshot: StackSnapshot,
    client: Client,
    store: ObjectStore,
): string | undefined {
    if (client.kind === 'service') {
        const server = store.serverEndpoint ? safeUrl(store.serverEndpoint) : undefined;
        if (server && !isLoopback(server.hostname)) return store.serverEndpoint;
        return store.service ? `http://${store.service.name}:${store.containerPort}` : undefined;
    }
    if (store.publishedPort === undefined) return undefined;
    const tracking = client.trackingUri ? parseTrackingUri(client.trackingUri) : undefined;
    const remoteHost =
        snapshot.host.clientRuns === 'remote' && tracking?.host && !isLoopback(tracking.host)
            ? tracking.host
            : undefined;
    return `http://${remoteHost ?? 'localhost'}:${store.publishedPort}`;
}

function isLoopback(host: string): boolean {
    return /^(localhost|127\.|\[?::1\]?$|0\.0\.0\.0$)/i.test(host);
}

/** The client-side problem with its endpoint value, when it has one. */
function endpointProblem(
    snapshot: StackSnapshot,
    client: Client,
    value: string,
): string | undefined {
    const url = safeUrl(value);
    if (!url) return `${ENDPOINT} is ${value}, which is not a URL`;
    if (client.kind === 'service' && isLoopback(url.hostname)) {
        return `${ENDPOINT} is ${value}, but inside the "${client.name}" container ${url.hostname} is that container itself, not the object store`;
    }
    const services = snapshot.compose?.services ?? [];
    const named = services.find((s) => s.name === url.hostname || s.containerName === url.hostname);
    if (client.kind === 'host' && named) {
        return `${ENDPOINT} is ${value}, but the name ${url.hostname} resolves only inside the compose network, not on ${snapshot.host.clientRuns === 'remote' ? 'the client machine' : 'the host'}`;
    }
    if (
        client.kind === 'host' &&
        snapshot.host.clientRuns === 'remote' &&
        isLoopback(url.hostname)
    ) {
        return `${ENDPOINT} is ${value}, but the client runs on another machine, where ${url.hostname} is that machine itself`;
    }
    return undefined;
}

function proxyEdits(snapshot: StackSnapshot, config: ServerConfig): FixEdit[] {
    const key = config.keys.defaultArtifactRoot ?? `services.${config.service}.command`;
    const major = parseVersion(serverVersionOf(snapshot, config)?.version ?? '')?.major;
    // Before 2.0 serving was off by default, so the flag has to be given as well.
    const newFlag =
        major !== undefined && major < 2 && config.serveArtifacts === undefined
            ? '--serve-artifacts --artifacts-destination'
            : '--artifacts-destination';
    const rename = replaceOnKeyLine(
        snapshot,
        key,
        '--default-artifact-root',
        newFlag,
        'Proxy artifacts through the server (--artifacts-destination)',
    );
    if (!rename) return [];
    const edits = [rename];
    if (config.serveArtifacts === false) {
        const serve = replaceOnKeyLine(
            snapshot,
            config.keys.serveArtifacts ?? `services.${config.service}.command`,
            '--no-serve-artifacts',
            '--serve-artifacts',
            'Turn artifact proxying on',
        );
        if (!serve) return [];
        edits.push(serve);
    }
    return edits;
}

function clientLocation(
    snapshot: StackSnapshot,
    client: Client,
    settings: S3Settings,
): FindingLocation[] {
    if (client.service) {
        const at = nearestComposeLocation(snapshot, `services.${client.service.name}.environment`);
        return at ? [at] : [];
    }
    const file = client.scripts[0] ?? client.name;
    const setting = [...settings.found.values()].find((s) => s.location?.file === file)?.location;
    if (setting) return [setting];
    const use = snapshot.workspace.trackingUris.find((u) => u.file === file && u.via !== 'default');
    const line = use ? (use.rawLine ?? use.line) : 1;
    return [{ file, line, column: 1, endLine: line, endColumn: 1 }];
}

function clientFinding(
    snapshot: StackSnapshot,
    config: ServerConfig,
    root: string,
    store: ObjectStore | undefined,
    client: Client,
): Finding | undefined {
    const settings = settingsOf(snapshot, client);
    const problems: string[] = [];
    const needs: string[] = [];

    // A wrong value is a mistake whatever the client does; a missing one matters once it uploads.
    let misconfigured = false;
    const endpoint = settings.found.get(ENDPOINT);
    const wanted = store ? endpointFor(snapshot, client, store) : undefined;
    if (store && !endpoint) {
        problems.push(
            `${client.kind === 'service' ? `"${client.name}"` : client.name} sets no ${ENDPOINT}, so boto3 sends its uploads to Amazon S3, which does not know these keys or bucket (InvalidAccessKeyId, or NoSuchBucket).`,
        );
        needs.push(
            `${ENDPOINT}=${wanted ?? '<an address of the object store reachable from this client>'}`,
        );
    } else if (store && endpoint?.value) {
        const wrong = endpointProblem(snapshot, client, endpoint.value);
        if (wrong) {
            misconfigured = true;
            problems.push(`${wrong} (set in ${endpoint.where}).`);
            needs.push(`${ENDPOINT}=${wanted ?? '<an address reachable from this client>'}`);
        }
    }

    const hasKeys = settings.found.has(KEY_ID) && settings.found.has(SECRET);
    const hasProfile =
        settings.found.has('AWS_PROFILE') || settings.found.has('AWS_SHARED_CREDENTIALS_FILE');
    const credentialsMissing = !hasKeys && !hasProfile && !settings.credentialsFile;
    if (credentialsMissing) {
        const partial = [KEY_ID, SECRET].filter((n) => settings.found.has(n as S3Variable));
        problems.push(
            partial.length > 0
                ? `Only ${partial.join(', ')} is set; boto3 needs both ${KEY_ID} and ${SECRET}.`
                : client.kind === 'service'
                  ? `"${client.name}" has no AWS credentials (${KEY_ID}/${SECRET}, AWS_PROFILE or a mounted ~/.aws), so boto3 fails with NoCredentialsError.`
                  : `${client.name} sets no AWS credentials; unless ~/.aws/credentials or the shell provides them, boto3 fails with NoCredentialsError.`,
        );
        needs.push(`${KEY_ID} and ${SECRET} (the keys the server uses)`);
    }
    if (problems.length === 0) return undefined;

    const certain =
        misconfigured ||
        (client.uploads.length > 0 &&
            (needs.some((n) => n.startsWith(ENDPOINT)) || client.kind === 'service'));
    const serving = config.serveArtifacts !== false;
    const who = client.kind === 'service' ? `"${client.name}"` : client.name;
    const set = [...settings.found.keys()];
    const evidence = [
        `"${config.service}" gives new experiments the artifact root ${root}${serving ? ' (an explicit --default-artifact-root wins over proxying)' : ' and does not proxy artifacts'}: runs get s3:// artifact URIs and each client uploads to the bucket itself.`,
        ...(store?.serverEndpoint
            ? [
                  `The server has ${ENDPOINT}=${store.serverEndpoint} and its own credentials; they help only the server.`,
              ]
            : []),
        client.kind === 'service'
            ? `${who} talks to the server (MLFLOW_TRACKING_URI=${client.trackingUri ?? '?'})${client.scripts.length > 0 ? ` and runs ${client.scripts.join(', ')}` : ''}.`
            : `${who} talks to the server at ${client.trackingUri ?? '?'} from ${snapshot.host.clientRuns === 'remote' ? 'another machine' : 'the host'}.`,
        ...(client.uploads.length > 0
            ? [`It uploads artifacts: ${[...new Set(client.uploads)].join(', ')}.`]
            : []),
        // Names only: the values of credentials never go into a finding.
        set.length > 0
            ? `S3 settings it has: ${set.map((n) => (n === ENDPOINT ? `${n}=${settings.found.get(n)?.value ?? '?'}` : `${n} (value not shown)`)).join(', ')}.`
            : 'It has none of the S3 settings.',
        ...problems,
    ];
    const flag =
        config.serveArtifacts === false ? ' and --no-serve-artifacts with --serve-artifacts' : '';
    return makeFinding(`${config.service}:${client.name}`, {
        kind: 's3-client-config',
        severity: certain ? 'error' : 'warning',
        title: `${who} writes artifacts straight to ${root} but lacks ${needs.map((n) => n.split(/[= ]/)[0]).join(' and ')}`,
        evidence,
        fix:
            `Better: let the server proxy artifacts, so clients need no S3 settings at all: replace --default-artifact-root ${root} ` +
            `with --artifacts-destination ${root}${flag}, keep ${ENDPOINT} and the keys on the server only, and create a new ` +
            `experiment (existing experiments keep their s3:// location). Or give ${who} ${needs.join(' and ')}` +
            (client.kind === 'service'
                ? ' in its environment: from inside a container the object store is its service name, not localhost.'
                : `: from ${snapshot.host.clientRuns === 'remote' ? 'another machine' : 'the host'} use the object store's published port, not the compose service name.`),
        locations: clientLocation(snapshot, client, settings),
        edits: proxyEdits(snapshot, config),
        ...(client.service ? { service: client.service.name } : {}),
    });
}

export const s3ClientConfigCheck: Check = {
    name: 's3-client-config',
    run(snapshot) {
        const findings: Finding[] = [];
        for (const config of snapshot.serverConfigs) {
            const root = clientWrittenS3Root(config);
            if (!root) continue;
            const store = objectStoreOf(snapshot, config);
            for (const client of clientsOf(snapshot, store)) {
                if (!talksTo(snapshot, client, config)) continue;
                const finding = clientFinding(snapshot, config, root, store, client);
                if (finding) findings.push(finding);
            }
        }
        // Not yet: experiments whose recorded location is s3:// while the server now proxies
        // (their clients still need S3 settings) are not checked; FileStore experiment locations
        // and the live experiment list would tell.
        return findings;
    },
};
