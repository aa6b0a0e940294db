// The engine's data model: what gathering learns about a stack (a StackSnapshot) and what the
// checks conclude from it (Findings). Everything here is plain data so a snapshot can be saved as
// JSON, attached to a bug report and diagnosed again offline.

export type Severity = 'error' | 'warning' | 'info';

export const SEVERITY_RANK: Record<Severity, number> = { info: 0, warning: 1, error: 2 };

/**
 * The stable vocabulary of finding kinds. The first group is the shared cases' vocabulary; the
 * second extends it for faults the cases do not name.
 */
export const FINDING_KINDS = [
    'server-binding',
    'client-loopback-in-container',
    'port-mapping',
    'startup-order',
    'missing-dependency',
    'compose-render',
    'artifact-routing',
    's3-client-config',
    'version-mismatch',
    'filestore-corrupt',
    'mount-path',
    'mount-permission',
    'host-header',
    'proxy-path',
    'auth',
    'tls-mismatch',
    // Extensions.
    'server-unreachable',
    'server-error',
    'mount-sync',
    'container-state',
    'docker-unreachable',
    'not-mlflow',
    'probe-failed',
] as const;

export type FindingKind = (typeof FINDING_KINDS)[number];

/** A place in a file, 1-based lines and columns, `file` relative to the diagnosed folder. */
export interface SourceRange {
    file: string;
    line: number;
    column: number;
    endLine: number;
    endColumn: number;
}

export interface FindingLocation extends SourceRange {
    /** Dotted YAML path (`services.mlflow.command`), Dockerfile instruction, or text on the line. */
    key?: string;
}

/** A text edit that fixes a finding; applied only when the user accepts it. */
export interface FixEdit {
    file: string;
    /** The range replaced; an empty range inserts. */
    range: SourceRange;
    newText: string;
    /** Shown on the quick fix. */
    label: string;
    /** Files written before the edit applies (a `meta.yaml` backup, for example). */
    backupOf?: string;
}

export interface Finding {
    /** Unique within one report, stable across runs for the same fault on the same subject. */
    id: string;
    kind: FindingKind;
    severity: Severity;
    title: string;
    /** What was measured or read, one fact per line. */
    evidence: string[];
    /** What to change, in words. */
    fix: string;
    locations: FindingLocation[];
    edits?: FixEdit[];
    /** The compose service the finding concerns, when there is one. */
    service?: string;
    /** Ids of findings this one explains (its consequences). */
    causes?: string[];
    /** Ids of findings that explain this one. */
    causedBy?: string[];
    /** Set by ranking: true for a finding nothing else explains. */
    rootCause?: boolean;
}

// ---------------------------------------------------------------------------------------------
// Compose

export interface ComposePort {
    /** Host IP the port is published on; undefined means all interfaces. */
    hostIp?: string;
    /** Published host port, or a range like `5000-5005`; undefined means not published. */
    published?: string;
    target: number;
    protocol: 'tcp' | 'udp' | 'sctp';
    /** The dotted key of this entry (`services.mlflow.ports.0`). */
    key: string;
}

export interface ComposeVolume {
    type: 'bind' | 'volume' | 'tmpfs' | 'npipe' | 'cluster' | 'image';
    /** As written after interpolation: a host path for binds, a volume name for volumes. */
    source?: string;
    /** Absolute host path for binds, resolved against the project folder. */
    hostPath?: string;
    target: string;
    readOnly: boolean;
    key: string;
}

export type DependsOnCondition =
    'service_started' | 'service_healthy' | 'service_completed_successfully';

export interface ComposeDependency {
    service: string;
    condition: DependsOnCondition;
    key: string;
    /** `short` for a list entry (`- db`), `long` for a mapping entry; edits differ between them. */
    syntax?: 'short' | 'long';
}

export interface ComposeHealthcheck {
    /** Normalised to exec form: `['CMD', ...]`, `['CMD-SHELL', '...']` or `['NONE']`. */
    test?: string[];
    disable: boolean;
    interval?: string;
    timeout?: string;
    retries?: number;
    startPeriod?: string;
}

export interface ComposeService {
    name: string;
    image?: string;
    build?: { context: string; dockerfile?: string; args?: Record<string, string> };
    /** The command as Compose will pass it: exec form, shell form split like a POSIX shell. */
    command?: string[];
    commandForm?: 'shell' | 'exec';
    entrypoint?: string[];
    entrypointForm?: 'shell' | 'exec';
    /** `environment:` and `env_file:` merged; null for a variable declared without a value. */
    environment: Record<string, string | null>;
    envFiles: string[];
    ports: ComposePort[];
    expose: number[];
    volumes: ComposeVolume[];
    dependsOn: ComposeDependency[];
    healthcheck?: ComposeHealthcheck;
    user?: string;
    networkMode?: string;
    networks: string[];
    containerName?: string;
    restart?: string;
    profiles: string[];
    workingDir?: string;
}

export interface ComposeProblem {
    /** `parse` for YAML errors, `interpolation` for `${VAR:?err}` and bad syntax, `schema` otherwise. */
    type: 'parse' | 'interpolation' | 'schema';
    message: string;
    range?: SourceRange;
    key?: string;
}

export interface ComposeProject {
    /** The project name Compose would use (COMPOSE_PROJECT_NAME, `name:`, or the folder). */
    name: string;
    /** Absolute folder the project's relative paths resolve against. */
    workingDir: string;
    /** Compose files in merge order, relative to the diagnosed folder. */
    files: string[];
    services: ComposeService[];
    /** Variables that fed interpolation: the process environment and `.env`, with their origin. */
    variables: Record<string, { value: string; from: 'environment' | 'dotenv' }>;
    /** Dotted key → where it was written (the last file that set it wins). */
    ranges: Record<string, SourceRange>;
    problems: ComposeProblem[];
    /** Variables referenced by interpolation but set nowhere; each rendered as empty. */
    missingVariables?: { name: string; key: string }[];
}

// ---------------------------------------------------------------------------------------------
// Docker Engine

export interface DockerEndpoint {
    /** How the address was chosen, in the order the docker CLI would try. */
    source: 'setting' | 'DOCKER_HOST' | 'context' | 'default' | 'rootless' | 'podman';
    address: string;
    contextName?: string;
}

export interface PortBinding {
    containerPort: number;
    protocol: string;
    hostIp: string;
    hostPort: number;
}

export interface ContainerMount {
    type: string;
    source: string;
    destination: string;
    rw: boolean;
    name?: string;
}

/** The states the Engine reports for a container. */
export const CONTAINER_STATES = [
    'created',
    'running',
    'paused',
    'restarting',
    'removing',
    'exited',
    'dead',
] as const;

export type ContainerState = (typeof CONTAINER_STATES)[number];

export function isContainerState(value: unknown): value is ContainerState {
    return (CONTAINER_STATES as readonly unknown[]).includes(value);
}

export interface ContainerFacts {
    id: string;
    name: string;
    image: string;
    project?: string;
    service?: string;
    /** `v1` for docker-compose 1.x names (`project_service_1`), `v2` for the plugin. */
    composeFlavor?: 'v1' | 'v2';
    workingDir?: string;
    configFiles?: string[];
    state: ContainerState;
    exitCode?: number;
    error?: string;
    health?: 'starting' | 'healthy' | 'unhealthy' | 'none';
    /** The last healthcheck outputs, newest last. */
    healthLog?: { exitCode: number; output: string }[];
    restartCount: number;
    startedAt?: string;
    finishedAt?: string;
    ports: PortBinding[];
    mounts: ContainerMount[];
    user?: string;
    cmd: string[];
    entrypoint: string[];
    env: Record<string, string>;
    labels: Record<string, string>;
    networks: { name: string; ip?: string; aliases: string[] }[];
    /** The last lines of the container's log, secrets masked. */
    logTail?: string[];
}

export interface DockerFacts {
    endpoint?: DockerEndpoint;
    /** Every endpoint tried, with what happened, so "not reachable" can say what was tried. */
    attempts: { endpoint: DockerEndpoint; error?: string }[];
    reachable: boolean;
    error?: string;
    engineVersion?: string;
    apiVersion?: string;
    containers: ContainerFacts[];
    /** True when the facts were recorded (a context file), not read from a live engine. */
    recorded?: boolean;
}

export type MountSyncVerdict =
    | 'in-sync'
    | 'stale'
    | 'not-syncing'
    | 'one-way'
    | 'missing-source'
    | 'read-only'
    | 'not-writable'
    | 'skipped'
    | 'error';

export interface MountSyncResult {
    service?: string;
    container: string;
    source: string;
    destination: string;
    rw: boolean;
    verdict: MountSyncVerdict;
    /** A host-side sentinel appeared inside the container (as its processes see it). */
    hostToContainer?: boolean;
    /** A container-side sentinel appeared on the host. */
    containerToHost?: boolean;
    evidence: string[];
    /** True when every sentinel written was removed again. */
    cleanedUp: boolean;
    /** The container user and the owner and mode of the mount's target as seen inside it. */
    access?: { uid: number; gid: number; ownerUid: number; ownerGid: number; mode: string };
}

// ---------------------------------------------------------------------------------------------
// MLflow server

export type HttpOutcome =
    | 'ok'
    | 'refused'
    | 'reset'
    | 'timeout'
    | 'dns'
    | 'tls'
    | 'http-error'
    | 'non-json'
    | 'not-mlflow'
    | 'other';

export interface HttpObservation {
    /** `METHOD path`, as the cases write it. */
    request: string;
    url: string;
    outcome: HttpOutcome;
    status: number | null;
    contentType?: string;
    /** The first few hundred characters of the body, secrets masked. */
    body?: string;
    headers?: Record<string, string>;
    /** Transport error text (`ECONNREFUSED 127.0.0.1:5000`). */
    error?: string;
    durationMs: number;
}

export interface ServerProbe {
    baseUrl: string;
    /** Why this URL was probed. */
    origin: 'published-port' | 'client-uri' | 'setting' | 'recorded';
    service?: string;
    health?: HttpObservation;
    version?: HttpObservation;
    /** `GET /api/2.0/mlflow/experiments/search`. */
    experiments?: HttpObservation;
    /** `POST /api/2.0/mlflow/runs/search` over the experiments found. */
    runs?: HttpObservation;
    /** `GET /api/2.0/mlflow/logged-models/search` or similar 3.x-only routes. */
    loggedModels?: HttpObservation;
    /** Other requests observed (recorded ones the fields above do not name). */
    other?: HttpObservation[];
    serverVersion?: string;
    experimentList?: { id: string; name: string; artifactLocation: string }[];
    runArtifactUris?: { runId: string; artifactUri: string }[];
}

/** The server's configuration, read from its rendered command line and environment. */
export interface ServerConfig {
    service: string;
    host?: string;
    port: number;
    backendStoreUri?: string;
    defaultArtifactRoot?: string;
    artifactsDestination?: string;
    /** undefined when the command does not say and the version default applies. */
    serveArtifacts?: boolean;
    allowedHosts?: string[];
    staticPrefix?: string;
    appName?: string;
    /** `--artifacts-only`: only the artifact routes are served. */
    artifactsOnly?: boolean;
    /** `--gunicorn-opts` as written. */
    gunicornOpts?: string;
    /** Where each value came from, for pointing at the line. */
    keys: Partial<
        Record<
            | 'host'
            | 'port'
            | 'backendStoreUri'
            | 'defaultArtifactRoot'
            | 'artifactsDestination'
            | 'serveArtifacts'
            | 'allowedHosts'
            | 'staticPrefix'
            | 'appName'
            | 'artifactsOnly',
            string
        >
    >;
    /** The image tag's or pip pin's MLflow version, when one is written down. */
    declaredVersion?: { version: string; file: string; key?: string; line?: number };
    /** For a server no compose file describes: where its command is written. */
    written?: WrittenServerCommand;
}

/**
 * A server command written outside compose: a Dockerfile's CMD or ENTRYPOINT, or a `docker run`
 * line in a script. The range covers the whole instruction or command line.
 */
export interface WrittenServerCommand extends SourceRange {
    /** `CMD` or `ENTRYPOINT` for a Dockerfile; for a script, the text of the command's first line. */
    key: string;
    /** `exec` for a JSON-array Dockerfile instruction, `shell` for everything else. */
    form: 'exec' | 'shell';
    /** Ports the `docker run` line publishes (`-p 5000:5000`). */
    ports?: { hostIp?: string; hostPort: number; containerPort: number; protocol: string }[];
    /** The `docker run` line that starts the image, when the command itself is in a Dockerfile. */
    runAt?: SourceRange & { key: string };
    /** The image the `docker run` line starts, or the Dockerfile's base image. */
    image?: string;
    /** Packages `pip install`ed in the Dockerfile or before the server in the same script. */
    pipPackages?: string[];
}

// ---------------------------------------------------------------------------------------------
// Workspace clients

export interface TrackingUriUse {
    uri: string;
    file: string;
    line: number;
    column: number;
    /** How the client sets it. */
    via:
        | 'set_tracking_uri'
        | 'env-assignment'
        | 'dotenv'
        | 'compose-environment'
        | 'default'
        /** `MlflowClient(tracking_uri=...)`. */
        | 'client-argument';
    /** Notebook cell index, for `.ipynb` files. */
    cell?: number;
    /** For notebooks `line`/`column` are within the cell; these are the same place in the raw file. */
    rawLine?: number;
    rawColumn?: number;
    /** The compose service whose container runs this client, if any. */
    service?: string;
}

export interface MlflowCall {
    api: string;
    file: string;
    line: number;
    column: number;
    cell?: number;
    /** For notebooks `line`/`column` are within the cell; these are the same place in the raw file. */
    rawLine?: number;
    rawColumn?: number;
    text: string;
}

export interface ClientVersion {
    version?: string;
    /** The requirement as written (`mlflow>=3`), when it came from a file. */
    spec?: string;
    source: 'interpreter' | 'requirements' | 'lock' | 'pyproject' | 'dockerfile' | 'recorded';
    file?: string;
    line?: number;
    /** The interpreter that reported it. */
    interpreter?: string;
    /** The compose service whose image or environment installs it. */
    service?: string;
    /** For `%pip install` lines in notebooks: the cell, and `line` is within the cell. */
    cell?: number;
    rawLine?: number;
}

export interface WorkspaceFacts {
    trackingUris: TrackingUriUse[];
    calls: MlflowCall[];
    clientVersions: ClientVersion[];
    /** Files that could not be read or parsed, with why. */
    unreadable: { file: string; error: string }[];
    /** What the scan could not settle (an interpreter without MLflow, an unresolved URI). */
    notes?: string[];
}

// ---------------------------------------------------------------------------------------------
// FileStore

export type MetaProblem =
    | 'empty'
    | 'not-yaml'
    | 'not-a-mapping'
    | 'missing-key'
    | 'bad-value'
    | 'missing-meta'
    | 'foreign-dir'
    | 'id-mismatch'
    | 'unreadable';

export interface MetaAnomaly {
    /** Relative to the diagnosed folder. */
    file: string;
    problem: MetaProblem;
    key?: string;
    line?: number;
    detail: string;
    /** `run` or `experiment` meta. */
    level: 'experiment' | 'run' | 'root';
    /**
     * Set on a summary entry that stands for this many further files with the same problem and
     * key; the first ones are listed individually and `file` is then the store root.
     */
    count?: number;
}

export interface FileStoreSummary {
    /** Relative to the diagnosed folder. */
    root: string;
    experiments: number;
    runs: number;
    /** Runs whose meta.yaml lacks `run_uuid`: written by MLflow 3. */
    runsWithoutRunUuid: number;
    /** 3.x logged-model folders (`<exp>/models/`) seen. */
    loggedModelDirs: number;
    anomalies: MetaAnomaly[];
    /** Compose services that mount this tree, by container path. */
    mountedBy: { service: string; target: string; readOnly: boolean }[];
    /** Each experiment's recorded artifact location, where its meta.yaml could be read. */
    experimentLocations?: {
        id: string;
        name?: string;
        file: string;
        artifactLocation?: string;
        line?: number;
    }[];
}

// ---------------------------------------------------------------------------------------------
// The snapshot

export interface ProbeNote {
    probe: string;
    status: 'ran' | 'skipped' | 'failed';
    detail?: string;
    durationMs?: number;
}

export interface StackSnapshot {
    schema: 1;
    /** Absolute path of the diagnosed folder when gathered; relative paths are against it. */
    folder: string;
    takenAt: string;
    compose?: ComposeProject;
    /** Compose files that could not be rendered at all. */
    composeProblems: ComposeProblem[];
    docker?: DockerFacts;
    serverConfigs: ServerConfig[];
    servers: ServerProbe[];
    workspace: WorkspaceFacts;
    fileStores: FileStoreSummary[];
    syncProbes: MountSyncResult[];
    /** Host facts that change the meaning of others. */
    host: { os: 'linux' | 'macos' | 'windows'; clientRuns?: string };
    probes: ProbeNote[];
    /**
     * The text of the small files that fixes may edit (compose files, `.env`, Dockerfiles,
     * scripts), keyed by relative path, so edits can be planned from a saved snapshot too.
     */
    files?: Record<string, string>;
    /** Facts from a context file that have no live counterpart in the snapshot. */
    recorded?: {
        /** Output of commands that are not containers (`mlflow run`, `docker run`). */
        commandLogs: Record<string, string[]>;
        exec: { where: string; command: string; stdout: string }[];
        hostStat: { path: string; uid: number; gid: number; mode: string }[];
    };
}
