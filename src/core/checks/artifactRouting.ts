// Where artifacts go. The client does artifact I/O itself against whatever `artifact_uri` the
// server hands it, so a plain path there makes a remote client write to its own disk (silently,
// when it may), and a client that opens the store by path bypasses the server altogether.

import path from 'node:path';
import type { Finding, FindingLocation, ServerConfig, StackSnapshot } from '../model.js';
import { parseVersion } from '../mlflow/versions.js';
import {
    isLocalArtifactUri,
    isLoopbackHost,
    parseTrackingUri,
    resolveStorePath,
} from '../mlflow/trackingUri.js';
import { replaceOnKeyLine, replaceOnLine } from './commandEdits.js';
import { type Check, makeFinding, nearestComposeLocation, serverFieldLocation } from './check.js';
import {
    clientPlacement,
    composeService,
    describeUse,
    publishedPorts,
    uriLocation,
} from './stackFacts.js';
import { hostPathSeenInside } from './mountPaths.js';
import { serverVersionOf } from './versionParity.js';

function flagLocation(snapshot: StackSnapshot, config: ServerConfig, key: string | undefined) {
    const at = key ? nearestComposeLocation(snapshot, key) : serverFieldLocation(snapshot, config);
    return at ? [at] : [];
}

/** Does MLflow serve artifacts for this config? The default flipped to on in 2.0. */
function servesArtifacts(snapshot: StackSnapshot, config: ServerConfig): boolean {
    if (config.serveArtifacts !== undefined) return config.serveArtifacts;
    const version = serverVersionOf(snapshot, config)?.version;
    const major = version ? parseVersion(version)?.major : undefined;
    return major === undefined || major >= 2;
}

function isRemoteStore(uri: string | undefined): boolean {
    return uri !== undefined && !isLocalArtifactUri(uri) && !/^mlflow-artifacts:/.test(uri);
}

/**
 * The artifact root new experiments get, as MLflow resolves it: the explicit flag, else the
 * proxied `mlflow-artifacts:/` when serving, else the backend path for a local backend.
 */
function effectiveArtifactRoot(
    snapshot: StackSnapshot,
    config: ServerConfig,
): { uri: string; from: 'flag' | 'backend' } | undefined {
    if (config.defaultArtifactRoot) return { uri: config.defaultArtifactRoot, from: 'flag' };
    if (servesArtifacts(snapshot, config)) return undefined;
    const backend = config.backendStoreUri ?? './mlruns';
    return isLocalArtifactUri(backend) ? { uri: backend, from: 'backend' } : undefined;
}

/** True when every client shares the server's mount at the same path, which makes paths work. */
function clientsShareMount(snapshot: StackSnapshot, config: ServerConfig, root: string): boolean {
    const server = composeService(snapshot, config.service);
    const rootPath = parseTrackingUri(root).path ?? root;
    const mount = server?.volumes.find((v) => rootPath.startsWith(v.target));
    if (!mount) return false;
    const clientServices = new Set(
        snapshot.workspace.trackingUris.flatMap((use) => {
            const where = clientPlacement(snapshot, use);
            return where.where === 'container' ? [where.service] : ['<host>'];
        }),
    );
    clientServices.delete(config.service);
    if (clientServices.size === 0 || clientServices.has('<host>')) return false;
    return [...clientServices].every((name) =>
        composeService(snapshot, name)?.volumes.some(
            (v) => v.target === mount.target && v.source === mount.source,
        ),
    );
}

function localRootFinding(snapshot: StackSnapshot, config: ServerConfig): Finding | undefined {
    const root = effectiveArtifactRoot(snapshot, config);
    if (!root || !isLocalArtifactUri(root.uri)) return undefined;
    if (clientsShareMount(snapshot, config, root.uri)) return undefined;

    const relative = /^(file:)?\.{1,2}\//.test(root.uri) || !/^(file:)?\//.test(root.uri);
    const evidence = [
        root.from === 'flag'
            ? `--default-artifact-root is ${root.uri}, a path on the server's own filesystem.`
            : `Artifact serving is off and no --default-artifact-root is given, so artifacts go to the backend path ${root.uri}.`,
        "The MLflow client writes artifacts itself to the run's artifact_uri: for a path, on the client's own disk.",
    ];
    if (relative) {
        evidence.push(
            `${root.uri} is relative: the server records it resolved against its own working directory, which means nothing to the client.`,
        );
    }
    // A host path given to a server in a container: the server's own name for that folder is
    // the mount target, and that is what --artifacts-destination needs.
    const hostView = hostPathSeenInside(snapshot, config.service, root.uri);
    if (hostView) {
        evidence.push(
            `${hostView.hostPath} is a host path: inside "${config.service}" the folder is mounted at ${hostView.target}, so the server knows it as ${hostView.containerPath}.`,
        );
    }
    const destination = hostView?.containerPath ?? parseTrackingUri(root.uri).path ?? root.uri;
    // Renaming the flag keeps its value and its place: the path becomes where the server itself
    // stores proxied artifacts, and new experiments get mlflow-artifacts:/.
    const serveEdit = hostView
        ? replaceOnKeyLine(
              snapshot,
              config.keys.defaultArtifactRoot ?? `services.${config.service}.command`,
              `--default-artifact-root ${root.uri}`,
              `--artifacts-destination ${destination}`,
              `Serve artifacts through the server (--artifacts-destination ${destination})`,
          )
        : root.from === 'flag'
          ? replaceOnKeyLine(
                snapshot,
                config.keys.defaultArtifactRoot ?? `services.${config.service}.command`,
                '--default-artifact-root',
                '--artifacts-destination',
                'Serve artifacts through the server (--artifacts-destination)',
            )
          : undefined;
    return makeFinding(`${config.service}:local-artifact-root`, {
        kind: 'artifact-routing',
        severity: 'error',
        title: `Clients write artifacts to their own disk: the artifact root ${root.uri} is a local path`,
        evidence,
        fix:
            `Let the server store artifacts and proxy them: replace --default-artifact-root ${root.uri} with ` +
            `--serve-artifacts --artifacts-destination ${destination} (the new default root is mlflow-artifacts:/), ` +
            `then create a new experiment; existing experiments keep their old location. Until then a client on ` +
            `the host creates ${destination} on its own machine: it fails with "Read-only file system" (macOS) or ` +
            `"Permission denied", or silently succeeds as root, and the server's UI never sees the files.`,
        locations: flagLocation(
            snapshot,
            config,
            config.keys.defaultArtifactRoot ?? config.keys.backendStoreUri,
        ),
        edits: serveEdit ? [serveEdit] : undefined,
        service: config.service,
    });
}

function proxyWithoutDestination(
    snapshot: StackSnapshot,
    config: ServerConfig,
): Finding | undefined {
    if (!servesArtifacts(snapshot, config) || config.artifactsDestination) return undefined;
    if (config.defaultArtifactRoot && isRemoteStore(config.defaultArtifactRoot)) return undefined;
    const service = composeService(snapshot, config.service);
    const backendLocal = isLocalArtifactUri(config.backendStoreUri ?? './mlruns');
    // A file backend keeps artifacts beside it only when serving is off; when serving, they go
    // to ./mlartifacts in the server's working directory, which no volume holds here.
    const persisted = service?.volumes.some((v) => v.target.includes('mlartifacts'));
    if (persisted) return undefined;
    const hasObjectStore = (snapshot.compose?.services ?? []).some((s) =>
        /minio|localstack|s3/i.test(`${s.image ?? ''} ${s.name}`),
    );
    if (!hasObjectStore && backendLocal) return undefined;
    return makeFinding(`${config.service}:no-destination`, {
        kind: 'artifact-routing',
        severity: 'warning',
        title: 'The server proxies artifacts but has no --artifacts-destination',
        evidence: [
            `"${config.service}" serves artifacts and gives no --artifacts-destination, so they go to ./mlartifacts inside the container.`,
            'No volume holds that folder: the artifacts are lost when the container is recreated.',
            ...(hasObjectStore
                ? ['An object store runs in this stack, but the server does not use it.']
                : []),
        ],
        fix: hasObjectStore
            ? 'Add --artifacts-destination s3://<bucket>/ (with MLFLOW_S3_ENDPOINT_URL and credentials on the server only).'
            : 'Add --artifacts-destination pointing at a mounted volume, for example /mlartifacts with a volume there.',
        locations: flagLocation(snapshot, config, undefined),
        service: config.service,
    });
}

/**
 * Experiments keep the artifact location they were created with: compare each recorded one
 * (FileStore meta.yaml, or the live experiment list) with what the server does now.
 */
function experimentLocationFindings(
    snapshot: StackSnapshot,
    config: ServerConfig,
    localRoot: boolean,
): Finding[] {
    const recorded = [
        ...snapshot.fileStores
            .filter((store) => store.mountedBy.some((m) => m.service === config.service))
            .flatMap((store) => store.experimentLocations ?? []),
        ...snapshot.servers
            .filter((p) => p.service === config.service)
            .flatMap((p) =>
                (p.experimentList ?? []).map((e) => ({
                    id: e.id,
                    name: e.name,
                    file: undefined,
                    artifactLocation: e.artifactLocation,
                    line: undefined,
                })),
            ),
    ];
    const serving = servesArtifacts(snapshot, config);
    const findings: Finding[] = [];
    const seen = new Set<string>();
    for (const exp of recorded) {
        const location = exp.artifactLocation;
        if (!location || seen.has(exp.id)) continue;
        seen.add(exp.id);
        const line = exp.line ?? 1;
        const at: FindingLocation[] = exp.file
            ? [
                  {
                      file: exp.file,
                      line,
                      column: 1,
                      endLine: line,
                      endColumn: 1,
                      key: 'artifact_location',
                  },
              ]
            : flagLocation(snapshot, config, undefined);
        const where = exp.file
            ? `${exp.file} records artifact_location: ${location}`
            : `The server lists experiment ${exp.id} with artifact_location ${location}`;
        const subject = exp.file ?? `${config.service}:experiment:${exp.id}`;

        if (isLocalArtifactUri(location)) {
            if (!localRoot && clientsShareMount(snapshot, config, location)) continue;
            // With no client in sight nothing writes to the old location.
            if (!localRoot && snapshot.workspace.trackingUris.length === 0) continue;
            findings.push(
                makeFinding(`${subject}:artifact_location`, {
                    kind: 'artifact-routing',
                    severity: 'warning',
                    title: localRoot
                        ? `Experiment ${exp.name ?? exp.id} stores artifacts at ${location}, a local path`
                        : `Experiment ${exp.name ?? exp.id} still stores artifacts at ${location}, from before the server's current flags`,
                    evidence: [
                        where,
                        ...(localRoot
                            ? []
                            : [
                                  `"${config.service}" now ${serving ? 'serves artifacts' : `uses ${config.defaultArtifactRoot ?? 'another root'}`}, but that only applies to new experiments.`,
                              ]),
                        'Runs in it get artifact URIs under that path, and each client writes them to its own disk.',
                    ],
                    fix:
                        'Changing the server flags does not move existing experiments: after switching to ' +
                        '--serve-artifacts, create a new experiment (or move the runs) so clients get an mlflow-artifacts:/ location.',
                    locations: at,
                    service: config.service,
                }),
            );
        } else if (/^mlflow-artifacts:/i.test(location) && !serving) {
            findings.push(
                makeFinding(`${subject}:artifact_location:no-serve`, {
                    kind: 'artifact-routing',
                    severity: 'error',
                    title: `Experiment ${exp.name ?? exp.id} uses ${location}, but the server does not serve artifacts`,
                    evidence: [
                        where,
                        `"${config.service}" runs with artifact serving off, so every mlflow-artifacts request gets a 503 ("Endpoint ... disabled due to the mlflow server running with --no-serve-artifacts").`,
                    ],
                    fix: 'Turn serving back on (--serve-artifacts, the default since 2.0) with --artifacts-destination where the artifacts are stored.',
                    locations: at,
                    service: config.service,
                }),
            );
        }
    }
    return findings;
}

/** Roots that name the proxy while proxying is off, and a destination that is then ignored. */
function servingContradictions(snapshot: StackSnapshot, config: ServerConfig): Finding[] {
    if (servesArtifacts(snapshot, config)) return [];
    const findings: Finding[] = [];
    const root = config.defaultArtifactRoot;
    if (root && /^mlflow-artifacts:/i.test(root)) {
        findings.push(
            makeFinding(`${config.service}:proxy-root-without-serving`, {
                kind: 'artifact-routing',
                severity: 'error',
                title: `--default-artifact-root ${root} needs artifact serving, which is off`,
                evidence: [
                    `"${config.service}" gives new runs ${root} URIs, which clients send to the server's /api/2.0/mlflow-artifacts routes.`,
                    'Artifact serving is off, so those routes answer 503: every artifact upload and download fails.',
                ],
                fix: 'Replace --no-serve-artifacts with --serve-artifacts and give --artifacts-destination the folder or bucket where the server stores artifacts.',
                locations: flagLocation(
                    snapshot,
                    config,
                    config.keys.serveArtifacts ?? config.keys.defaultArtifactRoot,
                ),
                edits: [
                    replaceOnKeyLine(
                        snapshot,
                        config.keys.serveArtifacts ?? `services.${config.service}.command`,
                        '--no-serve-artifacts',
                        '--serve-artifacts',
                        'Turn artifact serving on',
                    ),
                ].filter((e): e is NonNullable<typeof e> => e !== undefined),
                service: config.service,
            }),
        );
    }
    if (config.artifactsDestination && !config.artifactsOnly) {
        findings.push(
            makeFinding(`${config.service}:destination-ignored`, {
                kind: 'artifact-routing',
                severity: 'warning',
                title: `--artifacts-destination ${config.artifactsDestination} is ignored: artifact serving is off`,
                evidence: [
                    `"${config.service}" gives --artifacts-destination ${config.artifactsDestination} but does not serve artifacts.`,
                    `New experiments get ${config.defaultArtifactRoot ?? 'the backend path (or ./mlruns)'} instead, and clients write there themselves.`,
                ],
                fix: 'Drop --no-serve-artifacts (serving is the default since 2.0) so the destination is used, or remove the destination.',
                locations: flagLocation(snapshot, config, config.keys.artifactsDestination),
                service: config.service,
            }),
        );
    }
    return findings;
}

/**
 * A tracking server whose root is another server's proxy URL (`http://artifacts:5500/api/2.0/
 * mlflow-artifacts/artifacts`): clients open that URL themselves, so it has to be an artifact
 * route of a serving server and resolvable from every client.
 */
function httpArtifactRoot(snapshot: StackSnapshot, config: ServerConfig): Finding[] {
    const root = config.defaultArtifactRoot;
    const parsed = root ? parseTrackingUri(root) : undefined;
    if (!root || !parsed || (parsed.scheme !== 'http' && parsed.scheme !== 'https')) return [];
    const target = snapshot.serverConfigs.find(
        (c) =>
            c.service === parsed.host ||
            composeService(snapshot, c.service)?.containerName === parsed.host,
    );
    const problems: string[] = [];
    let severity: 'error' | 'warning' = 'error';
    if (target && !/\/api\/2\.0\/mlflow-artifacts\/artifacts(\/|$)/.test(parsed.urlPath ?? '')) {
        problems.push(
            `${root} names the MLflow server "${target.service}" but not its artifact routes: clients PUT files under the URL as given, and MLflow serves artifacts only under /api/2.0/mlflow-artifacts/artifacts.`,
        );
    }
    if (target && !servesArtifacts(snapshot, target)) {
        problems.push(
            `"${target.service}" does not serve artifacts (--no-serve-artifacts), so its artifact routes answer 503.`,
        );
    }
    const placements = snapshot.workspace.trackingUris
        .filter((u) => /^https?:/i.test(u.uri))
        .map((u) => ({ use: u, where: clientPlacement(snapshot, u) }));
    const isService = (snapshot.compose?.services ?? []).some(
        (s) => s.name === parsed.host || s.containerName === parsed.host,
    );
    const hostClients = placements.filter((p) => p.where.where === 'host');
    if (isService && hostClients.length > 0) {
        problems.push(
            `${parsed.host} is a compose service name, which ${describeUse(hostClients[0]!.use)} on the host cannot resolve: its artifact uploads fail with a name-resolution error.`,
        );
    }
    const containerClients = placements.filter((p) => p.where.where === 'container');
    if (isLoopbackHost(parsed.host) && containerClients.length > 0) {
        problems.push(
            `${parsed.host} inside a client container is that container itself, so clients in containers cannot reach ${root}.`,
        );
    }
    if (problems.length === 0) return [];
    if (!target && !isLoopbackHost(parsed.host)) severity = 'warning';
    return [
        makeFinding(`${config.service}:http-artifact-root`, {
            kind: 'artifact-routing',
            severity,
            title: `Clients cannot use the artifact root ${root}`,
            evidence: [
                `"${config.service}" gives new experiments ${root}; every client opens that URL itself for artifact I/O.`,
                ...problems,
            ],
            fix:
                'Point --default-artifact-root at a serving MLflow server by an address every client can reach ' +
                '(http://<host>:<published port>/api/2.0/mlflow-artifacts/artifacts), with that server running ' +
                '--artifacts-only --artifacts-destination <storage>. Simpler: let the tracking server proxy artifacts itself ' +
                '(--serve-artifacts --artifacts-destination <storage>, no --default-artifact-root).',
            locations: flagLocation(snapshot, config, config.keys.defaultArtifactRoot),
            service: config.service,
        }),
    ];
}

/** Clients whose tracking URI is an `--artifacts-only` server: its tracking routes answer 503. */
function trackingAtArtifactsOnly(snapshot: StackSnapshot): Finding[] {
    const findings: Finding[] = [];
    for (const config of snapshot.serverConfigs.filter((c) => c.artifactsOnly)) {
        const ports = new Set(publishedPorts(snapshot, config).map((p) => p.hostPort));
        for (const use of snapshot.workspace.trackingUris) {
            const parsed = parseTrackingUri(use.uri);
            if (parsed.scheme !== 'http' && parsed.scheme !== 'https') continue;
            const byName = parsed.host === config.service && parsed.port === config.port;
            const byPort =
                isLoopbackHost(parsed.host) && parsed.port !== undefined && ports.has(parsed.port);
            if (!byName && !byPort) continue;
            findings.push(
                makeFinding(`${use.file}:${use.line}:artifacts-only`, {
                    kind: 'artifact-routing',
                    severity: 'error',
                    title: `${use.file} uses the artifacts-only server "${config.service}" as its tracking server`,
                    evidence: [
                        `${describeUse(use)} sets the tracking URI ${use.uri}.`,
                        `"${config.service}" runs with --artifacts-only: its tracking routes (experiments, runs) answer 503.`,
                    ],
                    fix: "Point the client's tracking URI at the tracking server; only that server's --default-artifact-root should name the artifacts server.",
                    locations: [uriLocation(snapshot, use)],
                    service: config.service,
                }),
            );
        }
    }
    return findings;
}

/** A host client that opens the server's own store by path: two writers, no server in between. */
function clientsBypassingServer(snapshot: StackSnapshot): Finding[] {
    const findings: Finding[] = [];
    for (const use of snapshot.workspace.trackingUris) {
        const parsed = parseTrackingUri(use.uri);
        if (parsed.scheme !== 'file' && parsed.scheme !== 'path') continue;
        const placement = clientPlacement(snapshot, use);
        if (placement.where !== 'host') continue;
        const clientDir = path.dirname(path.resolve(snapshot.folder, use.file));
        const storePath = resolveStorePath(
            parsed,
            use.via === 'default' ? snapshot.folder : clientDir,
        );
        if (!storePath) continue;
        for (const config of snapshot.serverConfigs) {
            const mount = composeService(snapshot, config.service)?.volumes.find(
                (v) => v.type === 'bind' && v.hostPath && samePath(v.hostPath, storePath),
            );
            if (!mount) continue;
            const port = publishedPorts(snapshot, config)[0]?.hostPort ?? config.port;
            const httpUri = `http://localhost:${port}`;
            const edit =
                use.via === 'default'
                    ? undefined
                    : replaceOnLine(
                          snapshot,
                          use.file,
                          use.rawLine ?? use.line,
                          use.uri,
                          httpUri,
                          `Use the server's HTTP URI ${httpUri}`,
                      );
            findings.push(
                makeFinding(`${use.file}:${use.line}:bypass`, {
                    kind: 'artifact-routing',
                    severity: 'error',
                    title: `${use.file} writes the server's store directly (${use.uri}) instead of talking to the server`,
                    evidence: [
                        use.via === 'default'
                            ? `${use.file} sets no tracking URI, so MLflow uses the local store ${storePath}.`
                            : `${describeUse(use)} sets the tracking URI ${use.uri} → ${storePath}.`,
                        `"${config.service}" serves that folder: ${mount.source} is mounted at ${mount.target}.`,
                        'Two programs now write one store: the client with its own MLflow version and paths, the server with its own.',
                    ],
                    fix:
                        `Point the client at the server over HTTP (${httpUri}) and let only the server write ` +
                        `${mount.source}: records then carry the server's format, and artifacts go through the server.`,
                    locations: [uriLocation(snapshot, use)],
                    edits: edit ? [edit] : undefined,
                    service: config.service,
                }),
            );
        }
    }
    return findings;
}

function samePath(a: string, b: string): boolean {
    const norm = (p: string) => path.resolve(p).replace(/\/+$/, '');
    return norm(a) === norm(b);
}

export const artifactRoutingCheck: Check = {
    name: 'artifact-routing',
    run(snapshot) {
        const findings: Finding[] = [];
        for (const config of snapshot.serverConfigs) {
            const local = localRootFinding(snapshot, config);
            if (local) findings.push(local);
            const proxy = proxyWithoutDestination(snapshot, config);
            if (proxy) findings.push(proxy);
            findings.push(...experimentLocationFindings(snapshot, config, local !== undefined));
            findings.push(...servingContradictions(snapshot, config));
            findings.push(...httpArtifactRoot(snapshot, config));
        }
        findings.push(...clientsBypassingServer(snapshot));
        findings.push(...trackingAtArtifactsOnly(snapshot));
        return findings;
    },
};
