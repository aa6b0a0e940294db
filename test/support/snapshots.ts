// Small, readable snapshots for check tests: start from an empty stack and add what the test is
// about, instead of repeating whole snapshots in every test.

import type {
    ComposeProject,
    ComposeService,
    ContainerFacts,
    HttpObservation,
    ServerConfig,
    ServerProbe,
    SourceRange,
    StackSnapshot,
    TrackingUriUse,
} from '../../src/core/model.js';
import { blankContainer } from '../../src/core/recordedFacts.js';

export function emptySnapshot(folder = '/work/proj'): StackSnapshot {
    return {
        schema: 1,
        folder,
        takenAt: '2026-12-03T00:00:00.000Z',
        composeProblems: [],
        serverConfigs: [],
        servers: [],
        workspace: { trackingUris: [], calls: [], clientVersions: [], unreadable: [] },
        fileStores: [],
        syncProbes: [],
        host: { os: 'linux' },
        probes: [],
        files: {},
    };
}

export function range(
    line: number,
    column = 5,
    endColumn = 40,
    file = 'compose.yaml',
): SourceRange {
    return { file, line, column, endLine: line, endColumn };
}

export function service(name: string, extra: Partial<ComposeService> = {}): ComposeService {
    return {
        name,
        environment: {},
        envFiles: [],
        ports: [],
        expose: [],
        volumes: [],
        dependsOn: [],
        networks: [],
        profiles: [],
        ...extra,
    };
}

export function composeProject(
    workingDir: string,
    services: ComposeService[],
    extra: Partial<ComposeProject> = {},
): ComposeProject {
    return {
        name: 'proj',
        workingDir,
        files: ['compose.yaml'],
        services,
        variables: {},
        ranges: {},
        problems: [],
        ...extra,
    };
}

export function withCompose(
    snapshot: StackSnapshot,
    services: ComposeService[],
    ranges: Record<string, SourceRange> = {},
    text?: string,
): StackSnapshot {
    snapshot.compose = composeProject(snapshot.folder, services, { ranges });
    if (text !== undefined) snapshot.files = { ...snapshot.files, 'compose.yaml': text };
    return snapshot;
}

export function serverConfig(extra: Partial<ServerConfig> = {}): ServerConfig {
    return { service: 'mlflow', host: '0.0.0.0', port: 5000, keys: {}, ...extra };
}

export function container(service: string, extra: Partial<ContainerFacts> = {}): ContainerFacts {
    return {
        ...blankContainer(`proj-${service}-1`, service),
        id: `${service}-id`,
        image: 'ghcr.io/mlflow/mlflow:v2.22.0',
        project: 'proj',
        composeFlavor: 'v2',
        ...extra,
    };
}

export function observation(
    request: string,
    outcome: HttpObservation['outcome'],
    status: number | null,
    extra: Partial<HttpObservation> = {},
): HttpObservation {
    return {
        request,
        url: `http://127.0.0.1:5000${request.split(' ')[1] ?? ''}`,
        outcome,
        status,
        durationMs: 3,
        ...extra,
    };
}

/** A `mlflow.set_tracking_uri(uri)` call at `line`:`column` of `file`. */
export function trackingUri(
    uri: string,
    line: number,
    column: number,
    extra: Partial<TrackingUriUse> = {},
): TrackingUriUse {
    return { uri, file: 'train.py', line, column, via: 'set_tracking_uri', ...extra };
}

export function probe(extra: Partial<ServerProbe> = {}): ServerProbe {
    return {
        baseUrl: 'http://127.0.0.1:5000',
        origin: 'published-port',
        service: 'mlflow',
        ...extra,
    };
}
