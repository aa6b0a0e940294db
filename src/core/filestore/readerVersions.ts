// What a FileStore reader of a given MLflow version needs in each `meta.yaml`. Derived from the
// entity constructors each version calls (mlflow-facts.md §4.2, §4.3, §4.6): a key is required
// when the constructor takes it positionally and the store fills no default for it.

import {
    isAtLeast,
    parseVersion,
    serverRequiresRunUuid,
    type MlflowVersion,
} from '../mlflow/versions.js';

/**
 * The `major.minor[.patch]` found anywhere in `version` (`2.22.1`, `v3.1.0`, `mlflow:v2.9.2-py3`),
 * pre-release and build suffixes dropped: what a reader's code paths depend on.
 */
export function readerVersion(version: string | undefined): MlflowVersion | undefined {
    const match = /\d+\.\d+(?:\.\d+)?/.exec(version ?? '');
    return match ? parseVersion(match[0]) : undefined;
}

/** `[major, minor, patch]` of a version like `2.22.1`, `v3.1.0` or `3.0.0rc1`; undefined if none. */
export function parseMlflowVersion(
    version: string | undefined,
): [number, number, number] | undefined {
    const parsed = readerVersion(version);
    return parsed && [parsed.major, parsed.minor, parsed.patch];
}

/** True when `version` is at least `minimum`; undefined when `version` is not a version. */
export function mlflowVersionAtLeast(
    version: string | undefined,
    minimum: string,
): boolean | undefined {
    const have = readerVersion(version);
    const need = readerVersion(minimum);
    if (!have || !need) return undefined;
    return isAtLeast(have, need.raw);
}

/**
 * The first release whose 2.x FileStore reads runs written by MLflow 3 (no `run_uuid`): #16030.
 */
export const RUN_UUID_OPTIONAL_SINCE = '2.22.1';

/**
 * Keys a run `meta.yaml` must hold for a server of `serverVersion` to list the run. A missing
 * `status` reads as RUNNING and a missing `lifecycle_stage` as active, so neither is required.
 * With no version, the keys every version needs.
 */
export function requiredRunKeys(serverVersion?: string): string[] {
    const keys = ['experiment_id', 'user_id', 'start_time', 'end_time'];
    const major = parseMlflowVersion(serverVersion)?.[0];
    if (major === undefined) return keys;
    if (major >= 3) return ['run_id', ...keys];
    // 1.x and 2.x `RunInfo(run_uuid, experiment_id, ...)`; run_id falls back to run_uuid.
    return readerNeedsRunUuid(serverVersion) ? ['run_uuid', ...keys] : keys;
}

/**
 * Keys an experiment `meta.yaml` must hold: `Experiment(experiment_id, name, artifact_location,
 * lifecycle_stage, ...)` in every version since 1.x; the time fields are optional.
 */
export function requiredExperimentKeys(_serverVersion?: string): string[] {
    return ['experiment_id', 'name', 'artifact_location', 'lifecycle_stage'];
}

/** Experiment subfolders that are not runs, by the reader's version (§4.1). */
export function reservedExperimentFolders(serverVersion?: string): string[] {
    const major = parseMlflowVersion(serverVersion)?.[0];
    if (major !== undefined && major < 3) {
        return mlflowVersionAtLeast(serverVersion, '2.13.0')
            ? ['tags', 'datasets', 'traces']
            : ['tags', 'datasets'];
    }
    return ['tags', 'datasets', 'traces', 'models'];
}

/** Whether a reader of this version fails on a run without `run_uuid`; undefined if unknown. */
export function readerNeedsRunUuid(serverVersion?: string): boolean | undefined {
    const parsed = readerVersion(serverVersion);
    return parsed && serverRequiresRunUuid(parsed);
}
