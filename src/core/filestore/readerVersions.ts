// What a FileStore reader of a given MLflow version needs in each `meta.yaml`. Derived from the
// entity constructors each version calls (mlflow-facts.md §4.2, §4.3, §4.6): a key is required
// when the constructor takes it positionally and the store fills no default for it.

/** `[major, minor, patch]` of a version like `2.22.1`, `v3.1.0` or `3.0.0rc1`; undefined if none. */
export function parseMlflowVersion(
    version: string | undefined,
): [number, number, number] | undefined {
    const match = /(\d+)\.(\d+)(?:\.(\d+))?/.exec(version ?? '');
    if (!match) return undefined;
    return [Number(match[1]), Number(match[2]), Number(match[3] ?? 0)];
}

/** True when `version` is at least `minimum`; undefined when `version` is not a version. */
export function mlflowVersionAtLeast(
    version: string | undefined,
    minimum: string,
): boolean | undefined {
    const have = parseMlflowVersion(version);
    const need = parseMlflowVersion(minimum);
    if (!have || !need) return undefined;
    for (let i = 0; i < 3; i++) {
        if ((have[i] as number) !== (need[i] as number))
            return (have[i] as number) > (need[i] as number);
    }
    return true;
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
    if (mlflowVersionAtLeast(serverVersion, RUN_UUID_OPTIONAL_SINCE)) return keys;
    return ['run_uuid', ...keys];
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
    const parsed = parseMlflowVersion(serverVersion);
    if (!parsed) return undefined;
    return requiredRunKeys(serverVersion).includes('run_uuid');
}
