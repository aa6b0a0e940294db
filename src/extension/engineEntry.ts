// The engine as the extension uses it, bundled on its own into dist/engine.js. The host bundle
// requires it only when the first diagnosis runs, so dockerode, axios and yaml stay out of
// activation. No `vscode` here: this is the engine's surface, not the editor's.

import type Dockerode from 'dockerode';

import { gatherSnapshot, runChecks, type DiagnoseOptions } from '../core/diagnose.js';
import { openDocker } from '../core/docker/engine.js';
import { watchEvents, type ContainerEvent } from '../core/docker/events.js';
import { MountSyncProbe } from '../core/docker/mountSync.js';
import type { DockerFacts, MountSyncResult, StackSnapshot } from '../core/model.js';
import { makeReport, renderMarkdown, type Report } from '../core/report.js';

export { renderMarkdown, runChecks, makeReport };

// The explorer's engine: the MLflow client, the view-model service and the artifact reader.
export { MlflowClient, MlflowRequestError, maskSecrets } from '../core/mlflow/client.js';
export { ExplorerError, ExplorerService, toErrorInfo } from '../core/explorer/explorerService.js';
export {
    ArtifactReader,
    ArtifactTooLargeError,
    ArtifactUnavailableError,
    placesFromSnapshot,
} from '../core/artifacts/artifactReader.js';
export { ArtifactPathError, normaliseArtifactPath } from '../core/artifacts/artifactPath.js';
export type { ContainerEvent, DiagnoseOptions, Report };

/** One diagnosis: what was gathered and what the checks concluded from it. */
export interface Diagnosis {
    snapshot: StackSnapshot;
    report: Report;
}

export async function diagnoseStack(options: DiagnoseOptions): Promise<Diagnosis> {
    const snapshot = await gatherSnapshot(options);
    options.progress?.('running checks');
    return { snapshot, report: makeReport(snapshot, runChecks(snapshot)) };
}

/** Runs the checks again over a snapshot that live updates changed. */
export function recheck(snapshot: StackSnapshot): Diagnosis {
    return { snapshot, report: makeReport(snapshot, runChecks(snapshot)) };
}

export interface DockerTarget {
    dockerHost?: string;
    env?: Record<string, string | undefined>;
    project?: string;
    workingDir?: string;
    serviceNames?: string[];
    timeoutMs?: number;
}

/** A live subscription to the project's container events. */
export interface EventWatch {
    /** Where the events come from (`unix:///var/run/docker.sock`). */
    address?: string;
    /** What the containers looked like when the subscription began. */
    facts: DockerFacts;
    dispose(): void;
}

/** What every Docker call of the extension passes: the stack's target, as one options object. */
function dockerOptions(target: DockerTarget) {
    return {
        env: target.env,
        setting: target.dockerHost,
        project: target.project,
        workingDir: target.workingDir,
        serviceNames: target.serviceNames,
        timeoutMs: target.timeoutMs,
    };
}

/**
 * Connects the way gathering does and subscribes to start, die and health_status events of the
 * project's containers. Resolves without a subscription (`dispose` does nothing) when no Engine
 * answers, with the attempts in `facts`.
 */
export async function watchContainerEvents(
    target: DockerTarget,
    onEvent: (event: ContainerEvent) => void,
    onError: (error: Error) => void,
): Promise<EventWatch> {
    const session = await openDocker({ ...dockerOptions(target), logLines: 0 });
    if (!session.docker) return { facts: session.facts, dispose: () => undefined };
    const subscription = await watchEvents(session.docker, { project: target.project }, onEvent, {
        timeoutMs: target.timeoutMs,
        onError,
    });
    return {
        address: session.facts.endpoint?.address,
        facts: session.facts,
        dispose: () => subscription.dispose(),
    };
}

/** A Docker client the way gathering connects, for reading artifacts out of a container. */
export async function openDockerClient(target: DockerTarget): Promise<Dockerode | undefined> {
    const session = await openDocker({ ...dockerOptions(target), logLines: 0 });
    return session.docker;
}

/** The containers of the project as they are now, for a container the last snapshot lacks. */
export async function readContainers(target: DockerTarget): Promise<DockerFacts> {
    const session = await openDocker(dockerOptions(target));
    return session.facts;
}

/**
 * Runs the bind-mount sync probe again on the snapshot's running containers with bind mounts
 * and re-checks, so its verdicts are fresh without gathering everything else again.
 */
export async function reprobeMounts(
    snapshot: StackSnapshot,
    target: DockerTarget & { allowWrites: boolean; allowExec: boolean },
): Promise<Diagnosis> {
    const session = await openDocker({ ...dockerOptions(target), logLines: 0 });
    const results: MountSyncResult[] = [];
    if (session.docker) {
        for (const container of session.facts.containers) {
            if (container.state !== 'running') continue;
            if (!container.mounts.some((m) => m.type === 'bind')) continue;
            results.push(...(await probeOne(session.docker, container.id, target, container)));
        }
    }
    const next: StackSnapshot = {
        ...snapshot,
        docker: session.facts,
        syncProbes: results,
        takenAt: new Date().toISOString(),
    };
    return recheck(next);
}

async function probeOne(
    docker: Dockerode,
    id: string,
    target: { allowWrites: boolean; allowExec: boolean; timeoutMs?: number },
    container: DockerFacts['containers'][number],
): Promise<MountSyncResult[]> {
    const probe = new MountSyncProbe(docker, {
        allowWrites: target.allowWrites,
        allowExec: target.allowExec,
        timeoutMs: target.timeoutMs,
        service: container.service,
    });
    try {
        return await probe.probe(id);
    } catch (error) {
        return container.mounts
            .filter((m) => m.type === 'bind')
            .map((m) => ({
                service: container.service,
                container: container.name,
                source: m.source,
                destination: m.destination,
                rw: m.rw,
                verdict: 'error' as const,
                evidence: [error instanceof Error ? error.message : String(error)],
                cleanedUp: true,
            }));
    }
}
