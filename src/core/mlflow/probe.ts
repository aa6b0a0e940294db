// Probes one MLflow server URL the way the checklist in mlflow-facts.md §7.3 reads: is anything
// answering, what version, can the API list experiments and runs, and (3.x) logged models. Every
// request runs on its own deadline and independent ones run in parallel; the probe never throws,
// because a failed request is itself the evidence a check needs.

import type { HttpObservation, ServerProbe } from '../model.js';
import {
    type Experiment,
    type MlflowAuth,
    MlflowClient,
    maskSecrets,
    type Page,
    type Run,
    settle,
} from './client.js';
import { majorOf } from './versions.js';

export interface ProbeServerOptions {
    /** Deadline for each request, not for the whole probe. */
    timeoutMs: number;
    /** The server's `--static-prefix`, when the compose command or a setting gives one. */
    staticPrefix?: string;
    /** Credentials the user configured; the probe never guesses any. */
    auth?: MlflowAuth;
    /** Send this Host header (`mlflow:5000`) to see what a container client gets. */
    hostHeader?: string;
    /** Why this URL is probed; default `setting`. */
    origin?: ServerProbe['origin'];
    service?: string;
    /** How many runs to fetch across the experiments found. Default 20. */
    maxRuns?: number;
    insecureTls?: boolean;
    log?: (message: string) => void;
    /** Abandons the probe: requests in flight are cancelled and the rest are not sent. */
    signal?: AbortSignal;
}

// Not yet: only the first page is read (100 experiments, `maxRuns` runs); a larger store shows
// a partial list, and artifact URIs of later runs are not compared with the server flags.
const MAX_EXPERIMENTS = 100;

/** Probes `baseUrl` and returns what it observed. Never throws; bad input is an observation. */
export async function probeServer(
    baseUrl: string,
    options: ProbeServerOptions,
): Promise<ServerProbe> {
    const probe: ServerProbe = {
        baseUrl,
        origin: options.origin ?? 'setting',
        ...(options.service ? { service: options.service } : {}),
    };

    let client: MlflowClient;
    try {
        client = new MlflowClient({
            baseUrl,
            timeoutMs: options.timeoutMs,
            ...(options.staticPrefix ? { staticPrefix: options.staticPrefix } : {}),
            ...(options.auth ? { auth: options.auth } : {}),
            ...(options.hostHeader ? { hostHeader: options.hostHeader } : {}),
            ...(options.insecureTls ? { insecureTls: true } : {}),
            ...(options.log ? { log: options.log } : {}),
            ...(options.signal ? { signal: options.signal } : {}),
        });
    } catch (error) {
        probe.health = unusableUrl(baseUrl, error);
        return probe;
    }
    probe.baseUrl = client.baseUrl;

    // /health, /version and the experiment list do not depend on each other.
    const [health, version, experiments] = await Promise.all([
        settle(client.health()),
        settle(client.version()),
        settle(client.searchExperiments({ maxResults: MAX_EXPERIMENTS })),
    ]);
    probe.health = health.observation;
    probe.version = version.observation;
    probe.experiments = experiments.observation;
    if (version.data !== undefined) probe.serverVersion = version.data;
    if (experiments.data) {
        probe.experimentList = experiments.data.items.map(toExperimentEntry);
    }

    // Runs and logged models need the experiment ids. When the list failed (403 Host check,
    // 401) they would fail the same way, so they are not sent: one observation is the evidence.
    const experimentIds = experiments.data?.items.map((item) => item.experiment_id) ?? [];
    if (!experiments.data) return probe;

    const major = probe.serverVersion ? majorOf(probe.serverVersion) : undefined;
    const [runs, loggedModels] = await Promise.all([
        experimentIds.length > 0
            ? settle(
                  client.searchRuns({
                      experimentIds,
                      maxResults: options.maxRuns ?? 20,
                  }),
              )
            : Promise.resolve(undefined),
        // On 2.x the route is an HTML 404 (facts §1.6, §2.6); probing it anyway records that
        // evidence for a 3.x client, and for an unknown version it tells 2.x from 3.x.
        experimentIds.length > 0 || major === undefined || major >= 3
            ? settle(
                  client.searchLoggedModels({
                      experimentIds: experimentIds.length > 0 ? experimentIds : ['0'],
                      maxResults: 10,
                  }),
              )
            : Promise.resolve(undefined),
    ]);
    if (runs) {
        probe.runs = runs.observation;
        if (runs.data) probe.runArtifactUris = runArtifactUris(runs.data);
    }
    if (loggedModels) probe.loggedModels = loggedModels.observation;
    return probe;
}

function toExperimentEntry(experiment: Experiment): {
    id: string;
    name: string;
    artifactLocation: string;
} {
    return {
        id: experiment.experiment_id,
        name: experiment.name,
        artifactLocation: experiment.artifact_location ?? '',
    };
}

function runArtifactUris(page: Page<Run>): { runId: string; artifactUri: string }[] {
    return page.items
        .filter((run) => typeof run.info.artifact_uri === 'string')
        .map((run) => ({ runId: run.info.run_id, artifactUri: run.info.artifact_uri ?? '' }));
}

function unusableUrl(baseUrl: string, error: unknown): HttpObservation {
    return {
        request: 'GET /health',
        url: maskSecrets(baseUrl),
        outcome: 'other',
        status: null,
        error: maskSecrets(
            `not a usable MLflow URL: ${error instanceof Error ? error.message : String(error)}`,
        ),
        durationMs: 0,
    };
}
