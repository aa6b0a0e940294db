// Where artifacts go. The client does artifact I/O itself against whatever `artifact_uri` the
// server hands it, so a plain path there makes a remote client write to its own disk (silently,
// when it may), and a client that opens the store by path bypasses the server altogether.

import path from 'node:path';
import type { Finding, FindingLocation, ServerConfig, StackSnapshot } from '../model.js';
import { parseVersion } from '../mlflow/versions.js';
import { isLocalArtifactUri, parseTrackingUri, resolveStorePath } from '../mlflow/trackingUri.js';
import { replaceOnKeyLine, replaceOnLine } from './commandEdits.js';
import { type Check, makeFinding, nearestComposeLocation } from './check.js';
import {
    clientPlacement,
    composeService,
    describeUse,
    publishedPorts,
    uriLocation,
} from './stackFacts.js';
import { serverVersionOf } from './versionParity.js';

function flagLocation(snapshot: StackSnapshot, config: ServerConfig, key: string | undefined) {
    const at = nearestComposeLocation(snapshot, key ?? `services.${config.service}.command`);
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
    const destination = parseTrackingUri(root.uri).path ?? root.uri;
    // Renaming the flag keeps its value and its place: the path becomes where the server itself
    // stores proxied artifacts, and new experiments get mlflow-artifacts:/.
    const serveEdit =
        root.from === 'flag'
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

/** Experiments recorded with a local artifact location keep it after the flags change. */
function localExperimentLocations(snapshot: StackSnapshot, config: ServerConfig): Finding[] {
    const findings: Finding[] = [];
    for (const store of snapshot.fileStores) {
        if (!store.mountedBy.some((m) => m.service === config.service)) continue;
        for (const exp of store.experimentLocations ?? []) {
            if (!exp.artifactLocation || !isLocalArtifactUri(exp.artifactLocation)) continue;
            const line = exp.line ?? 1;
            const at: FindingLocation = {
                file: exp.file,
                line,
                column: 1,
                endLine: line,
                endColumn: 1,
                key: 'artifact_location',
            };
            findings.push(
                makeFinding(`${exp.file}:artifact_location`, {
                    kind: 'artifact-routing',
                    severity: 'warning',
                    title: `Experiment ${exp.name ?? exp.id} stores artifacts at ${exp.artifactLocation}, a local path`,
                    evidence: [`${exp.file} records artifact_location: ${exp.artifactLocation}`],
                    fix:
                        'Changing the server flags does not move existing experiments: after switching to ' +
                        '--serve-artifacts, create a new experiment (or move the runs) so clients get an mlflow-artifacts:/ location.',
                    locations: [at],
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
            if (local) findings.push(...localExperimentLocations(snapshot, config));
        }
        findings.push(...clientsBypassingServer(snapshot));
        return findings;
    },
};
