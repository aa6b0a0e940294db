// Gather one snapshot of the stack (all I/O, in parallel, each probe with a timeout), run the
// pure checks over it, and rank what they find into causal chains.

import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type Dockerode from 'dockerode';
import { artifactRoutingCheck } from './checks/artifactRouting.js';
import type { Check } from './checks/check.js';
import { containerStateCheck } from './checks/containerState.js';
import { fileStoreCheck } from './checks/fileStore.js';
import { imageContentsCheck } from './checks/imageContents.js';
import { hostHeaderCheck } from './checks/hostHeader.js';
import { proxyPathCheck } from './checks/proxyPath.js';
import { basicAuthCheck } from './checks/basicAuth.js';
import { tlsMismatchCheck } from './checks/tlsMismatch.js';
import { mountSyncCheck } from './checks/mountSync.js';
import { mountPathsCheck } from './checks/mountPaths.js';
import { mountPermissionsCheck } from './checks/mountPermissions.js';
import { s3ClientConfigCheck } from './checks/s3ClientConfig.js';
import { serverNetworkCheck } from './checks/serverNetwork.js';
import { serverResponsesCheck } from './checks/serverResponses.js';
import { startupOrderCheck } from './checks/startupOrder.js';
import { versionParityCheck } from './checks/versionParity.js';
import { serverFlagsCheck } from './checks/serverFlags.js';
import { composeRenderCheck } from './checks/composeRender.js';
import { composeProblemsCheck, dockerReachabilityCheck } from './checks/gatherProblems.js';
import { adoptCliRendering, renderWithComposeCli } from './compose/composeCli.js';
import { loadComposeProject } from './compose/index.js';
import { openDocker } from './docker/engine.js';
import { maskSecrets } from './docker/logs.js';
import { MountSyncProbe } from './docker/mountSync.js';
import { findFileStores, readFileStore } from './filestore/index.js';
import { probeServer } from './mlflow/probe.js';
import { findServerConfigs, serverConfigFromContainer } from './mlflow/serverConfig.js';
import { findWrittenServerConfigs } from './mlflow/dockerRunConfig.js';
import { readStackFiles } from './workspace/stackFiles.js';
import { isLoopbackHost, parseTrackingUri } from './mlflow/trackingUri.js';
import type {
    ComposeProject,
    ContainerFacts,
    DockerFacts,
    Finding,
    ProbeNote,
    ServerConfig,
    ServerProbe,
    StackSnapshot,
} from './model.js';
import { rankFindings } from './rank.js';
import { applyContext, contextEnv, type RecordedContext } from './recordedFacts.js';
import { makeReport, type Report } from './report.js';
import { loadSnapshot } from './snapshotFile.js';
import { scanWorkspace } from './workspace/index.js';
import { askInterpreter } from './workspace/scanWorkspace.js';

export interface DiagnoseOptions {
    folder: string;
    env?: Record<string, string | undefined>;
    /** Per-probe timeout. */
    timeoutMs?: number;
    /** Sync probes may write sentinel files into bind mounts (removed again). Default true. */
    allowWrites?: boolean;
    /** Read-only commands may run inside containers. Default true. */
    allowExec?: boolean;
    /** Files only: no Docker, no HTTP. */
    offline?: boolean;
    dockerHost?: string;
    trackingUri?: string;
    /** Probe tracking URIs that point at other machines too; off so a scan never leaves the host. */
    probeRemote?: boolean;
    pythonPath?: string;
    /** Run the workspace's Python to ask its MLflow version. Default true; off when untrusted. */
    runInterpreter?: boolean;
    progress?: (message: string) => void;
    /**
     * Recorded live facts (a case's context.json) in place of live probes: files are read, Docker
     * and HTTP are not asked, and Compose interpolation sees only the recorded shell variables.
     */
    context?: RecordedContext;
}

export const CHECKS: Check[] = [
    dockerReachabilityCheck,
    composeProblemsCheck,
    containerStateCheck,
    serverNetworkCheck,
    // Before serverResponses: its host-header finding has the same id and less to say.
    hostHeaderCheck,
    proxyPathCheck,
    basicAuthCheck,
    tlsMismatchCheck,
    serverResponsesCheck,
    startupOrderCheck,
    imageContentsCheck,
    versionParityCheck,
    serverFlagsCheck,
    composeRenderCheck,
    artifactRoutingCheck,
    fileStoreCheck,
    mountSyncCheck,
    mountPathsCheck,
    mountPermissionsCheck,
    s3ClientConfigCheck,
];

const DEFAULT_TIMEOUT_MS = 4000;
/** Text files that fixes may edit are kept in the snapshot up to this size. */
const MAX_KEPT_FILE = 256 * 1024;

async function timed<T>(
    probes: ProbeNote[],
    probe: string,
    work: () => Promise<T>,
): Promise<T | undefined> {
    const started = performance.now();
    try {
        const result = await work();
        probes.push({ probe, status: 'ran', durationMs: Math.round(performance.now() - started) });
        return result;
    } catch (error) {
        probes.push({
            probe,
            status: 'failed',
            detail: error instanceof Error ? error.message : String(error),
            durationMs: Math.round(performance.now() - started),
        });
        return undefined;
    }
}

interface ServerTarget {
    baseUrl: string;
    origin: ServerProbe['origin'];
    service?: string;
    staticPrefix?: string;
}

/** URLs to probe: each server's published ports on loopback, and loopback client URIs. */
function serverTargets(snapshot: StackSnapshot, options: DiagnoseOptions): ServerTarget[] {
    const targets = new Map<
        string,
        { baseUrl: string; origin: ServerProbe['origin']; service?: string; staticPrefix?: string }
    >();
    const add = (t: {
        baseUrl: string;
        origin: ServerProbe['origin'];
        service?: string;
        staticPrefix?: string;
    }) => {
        const key = t.baseUrl.replace(/\/+$/, '');
        if (!targets.has(key)) targets.set(key, { ...t, baseUrl: key });
    };
    for (const config of snapshot.serverConfigs) {
        const container = snapshot.docker?.containers.find(
            (c) => c.service === config.service && c.state === 'running',
        );
        const livePorts = container?.ports.filter((p) => p.containerPort === config.port) ?? [];
        const composePorts =
            snapshot.compose?.services
                .find((s) => s.name === config.service)
                ?.ports.filter((p) => p.target === config.port && p.published !== undefined)
                .map((p) => ({
                    hostIp: p.hostIp ?? '',
                    hostPort: Number(p.published?.split('-')[0]),
                })) ??
            config.written?.ports
                ?.filter((p) => p.containerPort === config.port)
                .map((p) => ({ hostIp: p.hostIp ?? '', hostPort: p.hostPort })) ??
            [];
        // A running container publishes what it publishes; otherwise the compose file says what
        // the port will be, and probing it tells "refused" from "something else answers there".
        const ports = container ? livePorts : composePorts;
        for (const port of ports) {
            if (!Number.isFinite(port.hostPort) || port.hostPort <= 0) continue;
            const ip =
                port.hostIp && port.hostIp !== '0.0.0.0' && port.hostIp !== '::'
                    ? port.hostIp
                    : '127.0.0.1';
            const host = ip.includes(':') ? `[${ip}]` : ip;
            add({
                baseUrl: `http://${host}:${port.hostPort}`,
                origin: 'published-port',
                service: config.service,
                staticPrefix: config.staticPrefix,
            });
            break;
        }
    }
    const uris = snapshot.workspace.trackingUris.map((u) => u.uri);
    if (options.trackingUri) uris.unshift(options.trackingUri);
    for (const uri of uris) {
        const parsed = parseTrackingUri(uri);
        if (parsed.scheme !== 'http' && parsed.scheme !== 'https') continue;
        if (!isLoopbackHost(parsed.host) && !options.probeRemote) continue;
        const host = parsed.host?.includes(':') ? `[${parsed.host}]` : parsed.host;
        const baseUrl = `${parsed.scheme}://${host}:${parsed.port}${parsed.urlPath ?? ''}`;
        // Attribute a loopback URI to the server whose published port it uses.
        const owner = [...targets.values()].find(
            (t) => t.service && new URL(t.baseUrl).port === String(parsed.port),
        );
        if (owner && parsed.scheme === 'http' && !parsed.urlPath) continue;
        add({
            baseUrl,
            origin: uri === options.trackingUri ? 'setting' : 'client-uri',
            service: owner?.service,
        });
    }
    return [...targets.values()];
}

/** Compose files, `.env`, Dockerfiles and the client files that findings point into. */
async function keepEditableFiles(snapshot: StackSnapshot): Promise<void> {
    const wanted = new Set<string>([
        ...(snapshot.compose?.files ?? []),
        ...snapshot.workspace.trackingUris.map((u) => u.file),
        ...snapshot.workspace.calls.map((c) => c.file),
        ...snapshot.workspace.clientVersions.flatMap((v) => (v.file ? [v.file] : [])),
        '.env',
    ]);
    for (const service of snapshot.compose?.services ?? []) {
        if (!service.build) continue;
        const context = path.relative(
            snapshot.folder,
            path.resolve(snapshot.compose?.workingDir ?? snapshot.folder, service.build.context),
        );
        wanted.add(path.join(context, service.build.dockerfile ?? 'Dockerfile'));
    }
    wanted.add('Dockerfile');
    // MLflow Projects and the `docker run` lines a user types hold mount paths too.
    wanted.add('MLproject');
    const top = await fs.readdir(snapshot.folder).catch(() => [] as string[]);
    for (const name of top) if (/\.(sh|ps1|bat|cmd)$/i.test(name)) wanted.add(name);
    const files: Record<string, string> = {};
    await Promise.all(
        [...wanted].map(async (rel) => {
            if (rel.startsWith('..') || path.isAbsolute(rel)) return;
            try {
                const abs = path.join(snapshot.folder, rel);
                const stat = await fs.stat(abs);
                if (!stat.isFile() || stat.size > MAX_KEPT_FILE) return;
                files[rel] = await fs.readFile(abs, 'utf8');
            } catch {
                // Absent files are simply not editable.
            }
        }),
    );
    snapshot.files = files;
}

/** Bind-mount sync probes for each running server container. */
async function probeMounts(
    snapshot: StackSnapshot,
    docker: Dockerode,
    options: DiagnoseOptions,
): Promise<void> {
    const servers = new Set(snapshot.serverConfigs.map((c) => c.service));
    const containers = (snapshot.docker?.containers ?? []).filter(
        (c): c is ContainerFacts & { service: string } =>
            c.service !== undefined &&
            servers.has(c.service) &&
            c.mounts.some((m) => m.type === 'bind'),
    );
    // Containers are probed side by side (each `docker exec` waits on the Engine, not on us);
    // results and notes are kept in container order.
    const notes: ProbeNote[][] = containers.map(() => []);
    const results = await Promise.all(
        containers.map((container, i) => {
            const probe = new MountSyncProbe(docker, {
                allowWrites: options.allowWrites ?? true,
                allowExec: options.allowExec ?? true,
                timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
            });
            return timed(notes[i]!, `mount sync ${container.name}`, () =>
                probe.probeContainer(container),
            );
        }),
    );
    snapshot.probes.push(...notes.flat());
    for (const result of results) if (result) snapshot.syncProbes.push(...result);
}

/**
 * MLflow probes by URL, each started once, as soon as its URL is known: the servers the compose
 * file publishes are asked while Docker is still being read, and whoever needs a URL later gets
 * the same probe. Probes that turn out not to be wanted (the live port differs) are cancelled.
 */
class ServerProbes {
    private readonly runs = new Map<
        string,
        {
            result: Promise<{ probe: ServerProbe; durationMs: number }>;
            controller: AbortController;
            wanted: boolean;
        }
    >();

    constructor(private readonly timeoutMs: number) {}

    start(target: ServerTarget): void {
        this.run(target);
    }

    /** The probe of `target`, labelled with its origin and service. */
    async result(target: ServerTarget): Promise<{ probe: ServerProbe; durationMs: number }> {
        const run = this.run(target);
        run.wanted = true;
        const { probe, durationMs } = await run.result;
        return { probe: { ...probe, origin: target.origin, service: target.service }, durationMs };
    }

    cancelUnwanted(): void {
        for (const run of this.runs.values()) if (!run.wanted) run.controller.abort();
    }

    private run(target: ServerTarget) {
        const key = `${target.baseUrl}\n${target.staticPrefix ?? ''}`;
        let run = this.runs.get(key);
        if (!run) {
            const controller = new AbortController();
            const started = performance.now();
            const result = probeServer(target.baseUrl, {
                timeoutMs: this.timeoutMs,
                staticPrefix: target.staticPrefix,
                signal: controller.signal,
            }).then((probe) => ({ probe, durationMs: Math.round(performance.now() - started) }));
            run = { result, controller, wanted: false };
            this.runs.set(key, run);
        }
        return run;
    }
}

/** Gathering steps in the order their notes are listed (they finish in any order). */
const STEP_ORDER = [
    'compose',
    'compose renderer',
    'stack files',
    'docker',
    'interpreter',
    'workspace',
    'filestore',
    'mlflow ',
    'mount sync',
];

function stepRank(note: ProbeNote): number {
    const rank = STEP_ORDER.findIndex((step) =>
        step.endsWith(' ') ? note.probe.startsWith(step) : note.probe === step,
    );
    return rank < 0 ? STEP_ORDER.length : rank;
}

/**
 * Servers that run in the project's containers but that the compose file does not show as such
 * (the command comes from the image, or the container was started by hand with the labels).
 */
function liveOnlyServerConfigs(
    docker: DockerFacts | undefined,
    known: ServerConfig[],
): ServerConfig[] {
    const described = new Set(known.map((c) => c.service));
    // Not yet: containers started with plain `docker run` (no compose labels) are not gathered,
    // so a stack without a compose file gets only its files checked.
    return (docker?.containers ?? []).flatMap((container) => {
        if (described.has(container.service ?? container.name)) return [];
        const config = serverConfigFromContainer(container);
        return config ? [config] : [];
    });
}

/** `docker compose config` answers fast when it is there; it needs no daemon. */
const COMPOSE_CLI_TIMEOUT_MS = 3000;

/**
 * Renders the project with `docker compose config` too, when the CLI is installed, and takes its
 * argv and environment where ours differ; records which renderer spoke in the probe notes.
 */
async function crossCheckRendering(
    snapshot: StackSnapshot,
    project: ComposeProject,
    env: Record<string, string | undefined>,
    timeoutMs: number,
): Promise<void> {
    const outcome = await renderWithComposeCli(
        snapshot.folder,
        env,
        Math.min(timeoutMs, COMPOSE_CLI_TIMEOUT_MS),
    );
    if (!outcome.ok) {
        snapshot.probes.push({
            probe: 'compose renderer',
            status: outcome.reason === 'unavailable' ? 'skipped' : 'failed',
            detail: `built-in renderer only: ${outcome.detail}`,
        });
        return;
    }
    const differences = adoptCliRendering(project, outcome.rendering);
    snapshot.probes.push({
        probe: 'compose renderer',
        status: 'ran',
        durationMs: outcome.durationMs,
        detail:
            differences.length === 0
                ? 'docker compose config, which agrees with the built-in renderer'
                : `docker compose config for argv and environment (built-in for source ranges); they differ on ${differences
                      .slice(0, 5)
                      .map((d) => `${d.service}.${d.field}`)
                      .join(', ')}`,
    });
}

export async function gatherSnapshot(options: DiagnoseOptions): Promise<StackSnapshot> {
    const folder = path.resolve(options.folder);
    const stat = await fs.stat(folder).catch(() => undefined);
    if (!stat?.isDirectory()) {
        // `stack-doctor frobnicate` lands here too, since a bare word may be a folder.
        const hint = stat
            ? ''
            : ' (the commands are diagnose and snapshot; anything else is taken as a folder)';
        throw new Error(`${folder} is not a folder${hint}`);
    }
    if (options.context) options = { ...options, offline: true };
    const env = options.context ? contextEnv(options.context) : (options.env ?? process.env);
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const progress = options.progress ?? (() => undefined);

    const snapshot: StackSnapshot = {
        schema: 1,
        folder,
        takenAt: new Date().toISOString(),
        composeProblems: [],
        serverConfigs: [],
        servers: [],
        workspace: { trackingUris: [], calls: [], clientVersions: [], unreadable: [] },
        fileStores: [],
        syncProbes: [],
        host: {
            os:
                os.platform() === 'darwin'
                    ? 'macos'
                    : os.platform() === 'win32'
                      ? 'windows'
                      : 'linux',
        },
        probes: [],
    };

    progress('reading compose files');
    const loaded = await timed(snapshot.probes, 'compose', async () =>
        loadComposeProject(folder, { env }),
    );
    if (loaded) {
        snapshot.compose = loaded.project;
        snapshot.composeProblems = loaded.problems;
    }

    // What needs no more than the compose file starts now, side by side: the interpreter, the
    // stack files, Docker, the `docker compose config` cross-check and the MLflow servers the
    // compose file publishes. Starting Python and the CLI cost 100s of ms each; in sequence
    // they were most of a diagnose.
    const online = !options.offline;
    const interpreterStarted = performance.now();
    const interpreter = askInterpreter(folder, {
        timeoutMs,
        pythonPath: options.pythonPath,
        runInterpreter: options.runInterpreter,
    }).then((answer) => {
        if (options.runInterpreter !== false) {
            snapshot.probes.push({
                probe: 'interpreter',
                status: 'ran',
                detail: answer.interpreter,
                durationMs: Math.round(performance.now() - interpreterStarted),
            });
        }
        return answer;
    });
    const stackFilesRead = timed(snapshot.probes, 'stack files', () =>
        readStackFiles(folder, timeoutMs),
    );
    if (online) {
        progress('asking Docker and reading workspace files');
    } else {
        progress('reading workspace files');
    }
    const dockerOpened = online
        ? timed(snapshot.probes, 'docker', () =>
              openDocker({
                  env,
                  setting: options.dockerHost,
                  project: snapshot.compose?.name,
                  workingDir: snapshot.compose?.workingDir,
                  serviceNames: snapshot.compose?.services.map((s) => s.name),
                  timeoutMs,
              }),
          )
        : Promise.resolve(undefined);
    const servers = new ServerProbes(timeoutMs);
    if (online && snapshot.compose) {
        // The compose file's own view (no live ports yet, no rendering cross-check): the URLs
        // are the same ones asked below whenever the stack runs as written.
        const declared = { ...snapshot, serverConfigs: findServerConfigs(snapshot.compose) };
        for (const target of serverTargets(declared, options)) servers.start(target);
    }

    // Recorded contexts carry their own shell; a live run checks against the real renderer.
    if (snapshot.compose && !options.context)
        await crossCheckRendering(snapshot, snapshot.compose, env, timeoutMs);
    if (snapshot.compose) snapshot.serverConfigs = findServerConfigs(snapshot.compose);
    // Dockerfiles, `docker run` scripts and proxy configs: servers started outside compose.
    const stackFiles = (await stackFilesRead) ?? {};
    snapshot.serverConfigs.push(
        ...findWrittenServerConfigs(stackFiles, folder, snapshot.compose).filter(
            (c) => !snapshot.serverConfigs.some((known) => known.service === c.service),
        ),
    );

    const [session, workspace, stores] = await Promise.all([
        dockerOpened,
        timed(snapshot.probes, 'workspace', () =>
            scanWorkspace(folder, {
                compose: snapshot.compose,
                timeoutMs,
                pythonPath: options.pythonPath,
                runInterpreter: options.runInterpreter,
                interpreterAnswer: interpreter,
            }),
        ),
        timed(snapshot.probes, 'filestore', async () => {
            const roots = await findFileStores(folder, snapshot.compose);
            return Promise.all(
                roots.map((root) =>
                    readFileStore(root.path, folder, { mountedBy: root.mountedBy }),
                ),
            );
        }),
    ]);
    if (session) snapshot.docker = session.facts;
    if (workspace) snapshot.workspace = workspace;
    if (stores) snapshot.fileStores = stores;
    snapshot.serverConfigs.push(...liveOnlyServerConfigs(snapshot.docker, snapshot.serverConfigs));

    if (options.context) applyContext(snapshot, options.context);
    const filesKept = keepEditableFiles(snapshot);
    if (online) {
        const targets = serverTargets(snapshot, options);
        if (targets.length > 0)
            progress(`probing MLflow at ${targets.map((t) => t.baseUrl).join(', ')}`);
        const mlflowNotes: ProbeNote[][] = targets.map(() => []);
        const probed = Promise.all(
            targets.map(async (t, i) => {
                const notes = mlflowNotes[i]!;
                const outcome = await timed(notes, `mlflow ${t.baseUrl}`, () => servers.result(t));
                // The probe's own duration: it may have started before this step.
                if (outcome && notes[0]) notes[0].durationMs = outcome.durationMs;
                return outcome?.probe;
            }),
        );
        // Every target above has claimed its probe by now (synchronously, inside the map).
        servers.cancelUnwanted();

        let mounts: Promise<void> = Promise.resolve();
        if (session?.docker && (options.allowExec ?? true)) {
            progress('checking that bind mounts sync between host and container');
            mounts = probeMounts(snapshot, session.docker, options);
        } else if (session?.docker) {
            snapshot.probes.push({
                probe: 'mount sync',
                status: 'skipped',
                detail: 'exec in containers is off',
            });
        }
        const [probes] = await Promise.all([probed, mounts]);
        snapshot.servers = probes.flatMap((p) => (p ? [p] : []));
        snapshot.probes.push(...mlflowNotes.flat());
    } else if (!options.context) {
        snapshot.probes.push({ probe: 'docker', status: 'skipped', detail: 'offline' });
    }

    // Settled already unless the workspace scan failed early; its note must land before sorting.
    await Promise.all([filesKept, interpreter]);
    snapshot.files = { ...stackFiles, ...snapshot.files };
    snapshot.probes = snapshot.probes
        .map((note, i) => ({ note, i }))
        .sort((a, b) => stepRank(a.note) - stepRank(b.note) || a.i - b.i)
        .map(({ note }) => note);
    return snapshot;
}

export function runChecks(snapshot: StackSnapshot): Finding[] {
    const findings: Finding[] = [];
    for (const check of CHECKS) {
        try {
            findings.push(...check.run(snapshot));
        } catch (error) {
            // One broken check must not hide what the others found.
            findings.push({
                id: `probe-failed:check:${check.name}`,
                kind: 'probe-failed',
                severity: 'warning',
                title: `The ${check.name} check failed on this stack`,
                evidence: [error instanceof Error ? (error.stack ?? error.message) : String(error)],
                fix: 'This is a bug in MLOps Stack Doctor; please report it with the snapshot (stack-doctor snapshot).',
                locations: [],
            });
        }
    }
    // Findings quote what was read (URIs, command lines, log lines): whatever a check quoted, a
    // password or token in it never reaches the report.
    return rankFindings(dedupe(findings)).map((f) => ({
        ...f,
        title: maskSecrets(f.title),
        evidence: f.evidence.map(maskSecrets),
        fix: maskSecrets(f.fix),
        locations: f.locations.map((l) => (l.key ? { ...l, key: maskSecrets(l.key) } : l)),
    }));
}

function dedupe(findings: Finding[]): Finding[] {
    const seen = new Map<string, Finding>();
    for (const f of findings) if (!seen.has(f.id)) seen.set(f.id, f);
    return [...seen.values()];
}

export async function diagnose(options: DiagnoseOptions): Promise<Report> {
    const snapshot = await gatherSnapshot(options);
    options.progress?.('running checks');
    return makeReport(snapshot, runChecks(snapshot));
}

/** Diagnoses a snapshot saved by `stack-doctor snapshot`. */
export function diagnoseSnapshot(data: unknown): Report {
    const snapshot = loadSnapshot(data);
    return makeReport(snapshot, runChecks(snapshot));
}
