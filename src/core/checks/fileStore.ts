// FileStore metadata that makes the server reading it fail: a run written by MLflow 3 under a
// 2.x reader, an empty or broken meta.yaml, a missing key, stray folders in the tracking root.
// Why one file matters so much: the FileStore reads every run's meta.yaml to answer a runs
// search and traps only MissingConfigException, so any other error in one file fails the whole
// listing for that experiment (mlflow-facts.md §4.6).

import path from 'node:path';

import {
    readerNeedsRunUuid,
    readerVersion,
    requiredExperimentKeys,
    requiredRunKeys,
    RUN_UUID_OPTIONAL_SINCE,
} from '../filestore/readerVersions.js';
import type {
    FileStoreSummary,
    Finding,
    FindingLocation,
    FixEdit,
    MetaAnomaly,
    MlflowCall,
    Severity,
    StackSnapshot,
} from '../model.js';
import { compareVersions } from '../mlflow/versions.js';
import type { Check } from './check.js';

/** A server that reads a store, with its version when known. */
interface StoreReader {
    service?: string;
    version?: string;
    /** Where the version was learned (`GET /version`, `compose.yaml services.ui.image`). */
    versionFrom?: string;
}

const NON_FILE_BACKEND = /^(sqlite|postgres|postgresql|mysql|mssql|oracle|https?|databricks)[:+]/;

export const fileStoreCheck: Check = {
    name: 'filestore',
    run(snapshot) {
        return snapshot.fileStores
            .filter((store) => !isArtifactLanding(snapshot, store))
            .flatMap((store) => checkStore(snapshot, store));
    },
};

/**
 * An `mlruns/` tree with no metadata at all that no server mounts and no client opens as its
 * store: it is where a client wrote artifacts for a server whose artifact root is a relative
 * path (the artifact-routing check reports that), not a tracking store anyone reads.
 */
function isArtifactLanding(snapshot: StackSnapshot, store: FileStoreSummary): boolean {
    if (store.mountedBy.length > 0 || (store.experimentLocations?.length ?? 0) > 0) return false;
    if (store.anomalies.some((a) => a.problem !== 'missing-meta')) return false;
    const opened = snapshot.workspace.trackingUris.some(
        (use) => !/^[a-z][a-z0-9+.-]*:\/\//i.test(use.uri),
    );
    return !opened && snapshot.serverConfigs.length > 0;
}

function checkStore(snapshot: StackSnapshot, store: FileStoreSummary): Finding[] {
    const reader = pickReader(readersOf(snapshot, store));
    const findings: Finding[] = [];
    const byExperiment = new Map<string, MetaAnomaly[]>();
    for (const anomaly of store.anomalies) {
        if (anomaly.level !== 'run' || anomaly.count !== undefined) continue;
        const experiment = experimentOf(store, anomaly.file);
        const list = byExperiment.get(experiment) ?? [];
        list.push(anomaly);
        byExperiment.set(experiment, list);
    }

    for (const [experiment, anomalies] of byExperiment) {
        findings.push(...runFindings(store, experiment, anomalies, reader));
    }
    for (const anomaly of store.anomalies) {
        if (anomaly.count !== undefined) continue;
        if (anomaly.level === 'experiment') {
            const finding = experimentFinding(store, anomaly, reader);
            if (finding) findings.push(finding);
        } else if (anomaly.level === 'root') {
            findings.push(...rootFindings(snapshot, store, anomaly));
        }
    }
    return findings;
}

// ---------------------------------------------------------------------------------------------
// Runs

function runFindings(
    store: FileStoreSummary,
    experiment: string,
    anomalies: MetaAnomaly[],
    reader: StoreReader,
): Finding[] {
    const findings: Finding[] = [];
    const withoutUuid = anomalies.filter(
        (a) => a.problem === 'missing-key' && a.key === 'run_uuid',
    );
    if (withoutUuid.length > 0) {
        const finding = runUuidFinding(store, experiment, withoutUuid, reader);
        if (finding) findings.push(finding);
    }

    // Everything else that fails the reader: one finding per file, since each needs its own fix.
    for (const anomaly of anomalies) {
        if (anomaly.key === 'run_uuid' && anomaly.problem === 'missing-key') continue;
        const finding = brokenRunFinding(store, experiment, anomaly, reader);
        if (finding) findings.push(finding);
    }
    return findings;
}

function runUuidFinding(
    store: FileStoreSummary,
    experiment: string,
    anomalies: MetaAnomaly[],
    reader: StoreReader,
): Finding | undefined {
    const needs = readerNeedsRunUuid(reader.version);
    if (needs === false) return undefined;
    const severity: Severity = needs ? 'error' : 'warning';
    const unlisted = store.anomalies.find(
        (a) => a.count !== undefined && a.key === 'run_uuid' && a.level === 'run',
    );
    const first = anomalies[0] as MetaAnomaly;
    const runs = anomalies.length === 1 ? `run ${runIdOf(first.file)}` : `${anomalies.length} runs`;
    const who = describeReader(reader);
    const title = needs
        ? `${who} cannot list experiment ${experiment}: ${runs} lack run_uuid`
        : `${runs} in experiment ${experiment} lack run_uuid; a 2.x server before ${RUN_UUID_OPTIONAL_SINCE} cannot read them`;

    const evidence = [
        ...anomalies.map((a) => `${a.file} has no run_uuid key (runs written by MLflow 3 omit it)`),
        ...(unlisted
            ? [`${unlisted.count} more run meta.yaml files in ${store.root} lack run_uuid`]
            : []),
        needs
            ? `${who} reads this store; its FileStore builds RunInfo(run_uuid, ...) and raises TypeError: RunInfo.__init__() missing 1 required positional argument: 'run_uuid'`
            : `the server reading ${store.root} has no known version; 2.x servers up to 2.22.0 require run_uuid`,
        `the FileStore traps only MissingConfigException while listing runs, so this one error fails the whole runs/search for experiment ${experiment} (HTTP 500, the UI shows the experiment as broken)`,
    ];
    return {
        id: `filestore-corrupt:run-uuid:${store.root}/${experiment}`,
        kind: 'filestore-corrupt',
        severity,
        title,
        evidence,
        fix:
            `Run the reading server at MLflow ${RUN_UUID_OPTIONAL_SINCE} or newer (or at the writer's 3.x version), ` +
            `or stop sharing the store: let clients log over HTTP to one server instead of writing the FileStore directly. ` +
            `As an emergency repair, back up each listed meta.yaml and add \`run_uuid: <run_id>\` (the folder name) next to run_id.`,
        locations: anomalies.map((a) => metaLocation(a, 'run_uuid')),
        edits: anomalies.map((a) => runUuidEdit(a)),
        service: reader.service,
    };
}

/** Inserts `run_uuid: '<id>'` on the line after run_id (or at the top when run_id is missing). */
function runUuidEdit(anomaly: MetaAnomaly): FixEdit {
    const runId = runIdOf(anomaly.file);
    const line = anomaly.line && anomaly.line > 1 ? anomaly.line + 1 : 1;
    return {
        file: anomaly.file,
        range: { file: anomaly.file, line, column: 1, endLine: line, endColumn: 1 },
        // Quoted so an all-digit id stays a string for YAML.
        newText: `run_uuid: '${runId}'\n`,
        label: `Add run_uuid: '${runId}' (backs up meta.yaml first)`,
        backupOf: anomaly.file,
    };
}

/** What every finding about one meta.yaml anomaly shares: its id, kind, place and service. */
function anomalyBase(anomaly: MetaAnomaly, reader: StoreReader) {
    return {
        id: `filestore-corrupt:${anomaly.problem}:${anomaly.key ?? ''}:${anomaly.file}`,
        kind: 'filestore-corrupt' as const,
        locations: [metaLocation(anomaly, anomaly.key)],
        service: reader.service,
    };
}

/** A meta.yaml the reader cannot parse into a mapping, in the words of a title. */
function brokenAs(anomaly: MetaAnomaly): string {
    return anomaly.problem === 'empty' ? 'empty' : 'not a YAML mapping';
}

function unreadableFinding(
    base: ReturnType<typeof anomalyBase>,
    anomaly: MetaAnomaly,
    what: 'file' | 'folder',
): Finding {
    return {
        ...base,
        severity: 'warning',
        title: `${anomaly.file} could not be read`,
        evidence: [anomaly.detail],
        fix: `Check the owner and mode of the ${what}; the server needs to read it too.`,
    };
}

function brokenRunFinding(
    store: FileStoreSummary,
    experiment: string,
    anomaly: MetaAnomaly,
    reader: StoreReader,
): Finding | undefined {
    const who = describeReader(reader);
    const failsListing = `the FileStore traps only MissingConfigException while listing runs, so this one file fails the whole runs/search for experiment ${experiment} (HTTP 500)`;
    const rebuild = `Move the run folder out of the store (into a quarantine folder), or rebuild its meta.yaml: run_id and run_uuid = the folder name (${runIdOf(anomaly.file)}), experiment_id: '${experiment}', lifecycle_stage: active, status, start_time, end_time, user_id. Longer term, use a database backend store.`;
    const base = anomalyBase(anomaly, reader);

    switch (anomaly.problem) {
        case 'empty':
        case 'not-yaml':
        case 'not-a-mapping':
            // Every version reads the file with yaml.safe_load and then indexes the result.
            return {
                ...base,
                severity: 'error',
                title: `${anomaly.file} is ${brokenAs(anomaly)}: experiment ${experiment}'s runs cannot be listed`,
                evidence: [`${anomaly.file}: ${anomaly.detail}`, failsListing],
                fix: rebuild,
            };
        case 'missing-key': {
            const key = anomaly.key ?? '';
            const always = requiredRunKeys().includes(key);
            const byReader = reader.version
                ? requiredRunKeys(reader.version).includes(key)
                : undefined;
            if (byReader === false) return undefined;
            return {
                ...base,
                severity: always || byReader ? 'error' : 'warning',
                title: `${anomaly.file} lacks ${key}: ${reader.version ? who : 'a server'} cannot list experiment ${experiment}`,
                evidence: [
                    `${anomaly.file} has no ${key} key`,
                    always
                        ? `every MLflow version's RunInfo requires ${key}`
                        : `MLflow 3 readers require ${key}${reader.version ? '' : ' (the reader version is unknown)'}`,
                    failsListing,
                ],
                fix: `Back up ${anomaly.file} and add the ${key} key. ${rebuild}`,
            };
        }
        case 'bad-value':
            return {
                ...base,
                severity: 'error',
                title: `${anomaly.file} has an invalid ${anomaly.key}: experiment ${experiment}'s runs cannot be listed`,
                evidence: [`${anomaly.file}: ${anomaly.detail}`, failsListing],
                fix: `Back up ${anomaly.file} and set ${anomaly.key === 'status' ? 'status to a RunStatus number (3 = FINISHED)' : 'lifecycle_stage to active or deleted'}.`,
            };
        case 'id-mismatch':
            return {
                ...base,
                severity: 'warning',
                title: `${anomaly.file} names another ${anomaly.key === 'experiment_id' ? 'experiment' : 'run id'} than its folder`,
                evidence: [
                    `${anomaly.file}: ${anomaly.detail}`,
                    anomaly.key === 'experiment_id'
                        ? 'the FileStore logs "Wrong experiment ID" and leaves the run out of every listing'
                        : 'the run is found by its folder name, but its metadata reports another id',
                ],
                fix: `Back up ${anomaly.file} and set ${anomaly.key} to ${anomaly.key === 'experiment_id' ? `'${experiment}'` : `the folder name (${runIdOf(anomaly.file)})`}, or move the run folder into the experiment it names.`,
            };
        case 'missing-meta':
            return {
                ...base,
                severity: 'info',
                title: `Run folder ${anomaly.file} has no meta.yaml and is hidden`,
                evidence: [
                    anomaly.detail,
                    'the FileStore skips run folders without meta.yaml (logged at debug level)',
                ],
                fix: `Remove ${anomaly.file} or restore its meta.yaml if the run matters.`,
            };
        case 'unreadable':
            return unreadableFinding(base, anomaly, 'file');
        default:
            return undefined;
    }
}

// ---------------------------------------------------------------------------------------------
// Experiments and the root

function experimentFinding(
    store: FileStoreSummary,
    anomaly: MetaAnomaly,
    reader: StoreReader,
): Finding | undefined {
    const experiment = experimentOf(store, anomaly.file);
    const base = anomalyBase(anomaly, reader);
    const restore = `Restore ${store.root}/${experiment}/meta.yaml with experiment_id: '${experiment}', a name, artifact_location (for example file:///mlruns/${experiment} as the server sees it) and lifecycle_stage: active.`;
    const failsListing =
        'listing experiments reads every experiment meta.yaml, and this error is not the MissingConfigException the FileStore skips, so the whole experiments list fails (HTTP 500)';

    switch (anomaly.problem) {
        case 'missing-meta':
            return {
                ...base,
                severity: 'warning',
                title: `Experiment folder ${anomaly.file} has lost its meta.yaml`,
                evidence: [
                    anomaly.detail,
                    `every listing logs "Malformed experiment '${experiment}'" and leaves it out; opening experiment ${experiment} fails with MissingConfigException: Yaml file '.../${experiment}/meta.yaml' does not exist`,
                ],
                fix: `${restore} The run folders inside are intact and reappear once the file is back.`,
            };
        case 'empty':
        case 'not-yaml':
        case 'not-a-mapping':
            return {
                ...base,
                severity: 'error',
                title: `${anomaly.file} is ${brokenAs(anomaly)}: the experiment list fails`,
                evidence: [`${anomaly.file}: ${anomaly.detail}`, failsListing],
                fix: restore,
            };
        case 'missing-key':
        case 'bad-value': {
            const required = requiredExperimentKeys(reader.version).includes(anomaly.key ?? '');
            return {
                ...base,
                severity: required || anomaly.problem === 'bad-value' ? 'error' : 'warning',
                title: `${anomaly.file}: ${anomaly.detail}`,
                evidence: [`${anomaly.file}: ${anomaly.detail}`, failsListing],
                fix: `Back up ${anomaly.file} and ${anomaly.problem === 'bad-value' ? `set ${anomaly.key} to active` : `add ${anomaly.key}`}. ${restore}`,
            };
        }
        case 'id-mismatch':
            return {
                ...base,
                severity: 'warning',
                title: `${anomaly.file} names experiment ${anomaly.detail.match(/"([^"]*)"/)?.[1] ?? '?'} but sits in folder ${experiment}`,
                evidence: [
                    `${anomaly.file}: ${anomaly.detail}`,
                    'the FileStore logs "Experiment ID mismatch" and leaves the experiment out of every listing',
                ],
                fix: `Back up ${anomaly.file} and set experiment_id: '${experiment}'.`,
            };
        case 'unreadable':
            return unreadableFinding(base, anomaly, 'folder');
        default:
            return undefined;
    }
}

function rootFindings(
    snapshot: StackSnapshot,
    store: FileStoreSummary,
    anomaly: MetaAnomaly,
): Finding[] {
    if (anomaly.problem === 'unreadable') {
        return [
            {
                id: `filestore-corrupt:unreadable:${anomaly.file}`,
                kind: 'filestore-corrupt',
                severity: 'warning',
                title: `The tracking store ${store.root} could not be read completely`,
                evidence: [anomaly.detail],
                fix: 'Check that the folder is readable and not on a stalled network mount.',
                locations: [],
            },
        ];
    }
    if (anomaly.problem !== 'foreign-dir') return [];

    const name = path.posix.basename(anomaly.file);
    const foreignId = `filestore-corrupt:foreign-dir:${anomaly.file}`;
    const writers = savesIntoStore(snapshot, store).filter((w) => w.target === name);
    const writerFindings: Finding[] = writers.map(({ call, dest }) => ({
        id: `filestore-corrupt:writes-into-root:${call.file}:${call.line}`,
        kind: 'filestore-corrupt',
        severity: 'warning',
        title: `${call.file} saves a model into the tracking root (${dest})`,
        evidence: [
            `${call.file}:${call.line}: ${call.text.trim()}`,
            `${dest} is inside the tracking root ${store.root}, which the FileStore reads as a list of experiments`,
        ],
        fix: `Point ${call.api} at a path outside the tracking root (not under ${path.posix.dirname(dest)}), or log the model to the run (log_model) or register it instead, and move ${anomaly.file} out of the store.`,
        locations: [callLocation(call, call.api.split('.').pop() ?? call.api)],
        causes: [foreignId],
    }));

    const foreign: Finding = {
        id: foreignId,
        kind: 'filestore-corrupt',
        severity: 'warning',
        title: `${anomaly.file} is not an experiment but sits in the tracking root`,
        evidence: [
            `${anomaly.detail}`,
            `the FileStore treats every top-level folder of ${store.root} as an experiment and logs "Malformed experiment '${name}'. ... Yaml file '.../${name}/meta.yaml' does not exist" on every listing`,
        ],
        fix: `Move ${anomaly.file} out of ${store.root}; keep only experiment folders (with their meta.yaml), .trash and models in the tracking root.`,
        locations: [{ file: anomaly.file, line: 1, column: 1, endLine: 1, endColumn: 1 }],
        causedBy: writerFindings.length > 0 ? writerFindings.map((f) => f.id) : undefined,
    };
    return [foreign, ...writerFindings];
}

/** `save_model` calls whose destination is a folder directly inside the store. */
function savesIntoStore(
    snapshot: StackSnapshot,
    store: FileStoreSummary,
): { call: MlflowCall; dest: string; target: string }[] {
    const roots = new Set<string>([
        ...store.mountedBy.map((m) => m.target.replace(/\/+$/, '')),
        store.root,
        `./${store.root}`,
    ]);
    const result: { call: MlflowCall; dest: string; target: string }[] = [];
    for (const call of snapshot.workspace.calls) {
        if (!/(^|\.)save_model$/.test(call.api)) continue;
        const literal =
            /\(\s*[^,()]*,\s*(?:path\s*=\s*)?[rbuf]?(['"])([^'"]+)\1|path\s*=\s*[rbuf]?(['"])([^'"]+)\3/.exec(
                call.text,
            );
        const dest = literal?.[2] ?? literal?.[4];
        if (!dest) continue;
        const clean = dest.replace(/^file:\/\//, '').replace(/\/+$/, '');
        const parent = path.posix.dirname(path.posix.normalize(clean));
        if (roots.has(parent)) result.push({ call, dest, target: path.posix.basename(clean) });
    }
    return result;
}

// ---------------------------------------------------------------------------------------------
// Which server reads the store

function readersOf(snapshot: StackSnapshot, store: FileStoreSummary): StoreReader[] {
    const mounted = new Set(store.mountedBy.map((m) => m.service));
    const configs = snapshot.serverConfigs.filter(
        (config) =>
            (mounted.size === 0 || mounted.has(config.service)) &&
            !NON_FILE_BACKEND.test(config.backendStoreUri ?? ''),
    );
    const readers: StoreReader[] = configs.map((config) => {
        const probe = snapshot.servers.find((s) => s.service === config.service && s.serverVersion);
        if (probe?.serverVersion) {
            return {
                service: config.service,
                version: probe.serverVersion,
                versionFrom: `GET ${probe.baseUrl}/version`,
            };
        }
        const declared = config.declaredVersion;
        return {
            service: config.service,
            version: declared?.version,
            versionFrom: declared
                ? `${declared.file}${declared.key ? ` ${declared.key}` : ''}`
                : undefined,
        };
    });
    if (readers.length === 0 && mounted.size === 0) {
        // A store in the workspace with no compose server: a server on the host may read it.
        for (const probe of snapshot.servers) {
            if (probe.serverVersion) {
                readers.push({
                    version: probe.serverVersion,
                    versionFrom: `GET ${probe.baseUrl}/version`,
                });
            }
        }
    }
    return readers;
}

/** The reader that fails first: one that needs run_uuid, else the oldest known, else unknown. */
function pickReader(readers: StoreReader[]): StoreReader {
    const known = readers.filter((r) => readerVersion(r.version));
    const failing = known.find((r) => readerNeedsRunUuid(r.version));
    if (failing) return failing;
    const oldest = known.sort((a, b) => compare(a.version, b.version))[0];
    return oldest ?? readers[0] ?? {};
}

/** Orders reader versions; one that is not a version sorts as 0.0.0. */
function compare(a?: string, b?: string): number {
    return compareVersions(readerVersion(a) ?? '0.0.0', readerVersion(b) ?? '0.0.0');
}

function describeReader(reader: StoreReader): string {
    const name = reader.service ? `The ${reader.service} server` : 'The server';
    if (!reader.version) return name;
    return `${name} (MLflow ${reader.version}${reader.versionFrom ? `, from ${reader.versionFrom}` : ''})`;
}

// ---------------------------------------------------------------------------------------------
// Paths

/** The experiment folder name of a file or folder inside the store. */
function experimentOf(store: FileStoreSummary, file: string): string {
    const rest = store.root === '.' ? file : file.slice(store.root.length + 1);
    return rest.split('/')[0] ?? '';
}

/** The run folder name of `<root>/<exp>/<run>/meta.yaml`. */
function runIdOf(file: string): string {
    const parts = file.split('/');
    return (parts.at(-1) === 'meta.yaml' ? parts.at(-2) : parts.at(-1)) ?? '';
}

function metaLocation(anomaly: MetaAnomaly, key?: string): FindingLocation {
    const line = anomaly.line ?? 1;
    return { file: anomaly.file, line, column: 1, endLine: line, endColumn: 1, key };
}

function callLocation(call: MlflowCall, key: string): FindingLocation {
    const line = call.rawLine ?? call.line;
    const column = call.rawColumn ?? call.column;
    return {
        file: call.file,
        line,
        column,
        endLine: line,
        endColumn: column + call.text.trim().length,
        key,
    };
}
