// Reads a FileStore tree (`mlruns/`) the way MLflow's FileStore walks it when it lists
// experiments and runs, and records every `meta.yaml` that some reader version would choke on.
// Only meta files are read (not metrics, params or tags), with bounded parallelism, so a store
// with 10k runs reads in a fraction of a second.

import {
    closeSync,
    constants,
    openSync,
    promises as fs,
    readFileSync,
    readSync,
    type Dirent,
} from 'node:fs';
import path from 'node:path';

import type { FileStoreSummary, MetaAnomaly } from '../model.js';
import { parseMetaYaml, type MetaParse, type MetaScalar } from './metaYaml.js';
import { requiredExperimentKeys } from './readerVersions.js';

export interface ReadFileStoreOptions {
    mountedBy?: FileStoreSummary['mountedBy'];
    /** Stop reading after this long and report what was not read. */
    timeoutMs?: number;
    /** Parallel file reads. */
    concurrency?: number;
    /** Anomalies of one problem and key listed one by one before the rest are counted. */
    listedPerProblem?: number;
}

const DEFAULT_TIMEOUT_MS = 20_000;
const DEFAULT_CONCURRENCY = 8;
/** Run metas read between two yields to the event loop. */
const BATCH = 256;
/** How long the first read may take before the store is declared unresponsive. */
const PROBE_TIMEOUT_MS = 3_000;
const DEFAULT_LISTED = 50;
const META = 'meta.yaml';
const SEP_META = `${path.sep}${META}`;
/**
 * Non-blocking open: a FIFO named meta.yaml would otherwise block the synchronous run reads (and
 * the whole event loop, deadline included) until something writes to it. It now reads as empty.
 */
const READ_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

/** Root folders the tracking FileStore does not treat as experiments. */
const ROOT_NON_EXPERIMENTS = new Set(['.trash', 'models']);
/** Experiment subfolders that are not runs in any version (3.x `models` is counted apart). */
const EXPERIMENT_NON_RUNS = new Set(['tags', 'datasets', 'traces']);
/** Keys some supported reader requires in a run's meta.yaml; run_uuid is handled apart. */
const RUN_KEYS_ALWAYS = ['experiment_id', 'user_id', 'start_time', 'end_time'];
const LIFECYCLE_STAGES = new Set(['active', 'deleted']);
/** RunStatus enum values (RUNNING..KILLED); anything else fails `RunStatus.to_string`. */
const RUN_STATUSES = new Set([1, 2, 3, 4, 5]);
/** Run ids MLflow generates: uuid4 hex. */
const RUN_ID_SHAPE = /^[0-9a-f]{32}$/;

/** Reads and validates the store at `rootAbs`; paths in the result are relative to `folder`. */
export async function readFileStore(
    rootAbs: string,
    folder: string,
    options: ReadFileStoreOptions = {},
): Promise<FileStoreSummary> {
    const reader = new StoreReader(rootAbs, folder, options);
    await reader.read();
    return reader.summary();
}

class StoreReader {
    private readonly rootRel: string;
    private readonly deadline: number;
    private readonly limit: number;
    private readonly listed: number;
    private experiments = 0;
    private runs = 0;
    private runsWithoutRunUuid = 0;
    private loggedModelDirs = 0;
    private notRead = 0;
    private readonly experimentLocations: NonNullable<FileStoreSummary['experimentLocations']> = [];
    private readonly anomalies: MetaAnomaly[] = [];
    private readonly buffer = Buffer.allocUnsafe(64 * 1024);
    /**
     * `[experiment, run, experiment folder + separator]` folders listed and waiting for their
     * meta.yaml to be read; the prefix saves a path.join per run.
     */
    private readonly pendingRuns: [string, string, string][] = [];
    /** Per `level|problem|key`: how many were listed and how many more were only counted. */
    private readonly groups = new Map<
        string,
        { listed: number; more: number; sample: MetaAnomaly }
    >();

    constructor(
        private readonly rootAbs: string,
        folder: string,
        private readonly options: ReadFileStoreOptions,
    ) {
        this.rootRel = path.relative(folder, rootAbs).split(path.sep).join('/') || '.';
        this.deadline = Date.now() + (options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
        this.limit = options.concurrency ?? DEFAULT_CONCURRENCY;
        this.listed = options.listedPerProblem ?? DEFAULT_LISTED;
    }

    async read(): Promise<void> {
        const entries = await this.listDir(this.rootAbs, this.rootRel, 'root');
        if (!entries) return;

        const candidates: string[] = [];
        for (const entry of entries) {
            if (ROOT_NON_EXPERIMENTS.has(entry.name)) continue;
            // Not yet: deleted experiments under `.trash` are not validated, so a corrupt run in
            // a deleted experiment is only found once the experiment is restored.
            if (await this.isDirectory(entry, path.join(this.rootAbs, entry.name))) {
                candidates.push(entry.name);
            }
        }

        // Experiments first (their folder listings), then every run's meta.yaml through one pool,
        // so the bound holds across experiments of very different sizes.
        const work = async (): Promise<void> => {
            const experiments = Math.min(this.limit, 8);
            await mapBounded(candidates, experiments, (name) => this.readExperiment(name));
            await this.readRuns();
        };
        const timedOut = await withDeadline(work(), this.deadline - Date.now());
        if (timedOut) {
            this.add({
                file: this.rootRel,
                problem: 'unreadable',
                level: 'root',
                detail: `stopped reading after ${this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS} ms; the counts cover only what was read`,
            });
        } else if (this.notRead > 0) {
            this.add({
                file: this.rootRel,
                problem: 'unreadable',
                level: 'root',
                detail: `${this.notRead} meta.yaml files were not read before the deadline`,
            });
        }
    }

    summary(): FileStoreSummary {
        const anomalies = [...this.anomalies];
        for (const group of this.groups.values()) {
            if (group.more === 0) continue;
            const { sample } = group;
            anomalies.push({
                file: this.rootRel,
                problem: sample.problem,
                key: sample.key,
                level: sample.level,
                count: group.more,
                detail: `${group.more} more ${sample.level} meta.yaml files have the same problem (${sample.problem}${sample.key ? ` ${sample.key}` : ''})`,
            });
        }
        return {
            root: this.rootRel,
            experiments: this.experiments,
            runs: this.runs,
            runsWithoutRunUuid: this.runsWithoutRunUuid,
            loggedModelDirs: this.loggedModelDirs,
            anomalies,
            mountedBy: this.options.mountedBy ?? [],
            experimentLocations: [...this.experimentLocations].sort((x, y) =>
                x.id.localeCompare(y.id, 'en', { numeric: true }),
            ),
        };
    }

    private async readExperiment(name: string): Promise<void> {
        const dirAbs = path.join(this.rootAbs, name);
        const dirRel = `${this.rootRel}/${name}`;
        const [meta, entries] = await Promise.all([
            this.readMeta(path.join(dirAbs, META)),
            this.listDir(dirAbs, dirRel, 'experiment'),
        ]);
        if (!entries) return;

        const runDirs: string[] = [];
        let modelsDir = false;
        for (const entry of entries) {
            if (EXPERIMENT_NON_RUNS.has(entry.name)) continue;
            if (
                !entry.isDirectory() &&
                !(await this.isDirectory(entry, path.join(dirAbs, entry.name)))
            ) {
                continue;
            }
            if (entry.name === 'models') modelsDir = true;
            else runDirs.push(entry.name);
        }

        if (meta === 'missing') {
            this.reportExperimentWithoutMeta(name, dirRel, entries, runDirs);
            if (!looksLikeExperiment(name, runDirs)) return;
        } else if (meta !== 'unreadable') {
            this.experiments++;
            this.checkExperimentMeta(name, `${dirRel}/${META}`, meta);
        }

        const prefix = dirAbs + path.sep;
        for (const run of runDirs) this.pendingRuns.push([name, run, prefix]);
        if (modelsDir) await this.countLoggedModels(path.join(dirAbs, 'models'));
    }

    private reportExperimentWithoutMeta(
        name: string,
        dirRel: string,
        entries: Dirent[],
        runDirs: string[],
    ): void {
        if (looksLikeExperiment(name, runDirs)) {
            this.add({
                file: dirRel,
                problem: 'missing-meta',
                level: 'experiment',
                line: 1,
                detail: `experiment folder ${name} has no meta.yaml (experiment_id, name, artifact_location, lifecycle_stage); it holds ${runDirs.length} run folder(s)`,
            });
            return;
        }
        const files = entries.map((entry) => entry.name);
        const looksLikeModel = files.includes('MLmodel');
        this.add({
            file: dirRel,
            problem: 'foreign-dir',
            level: 'root',
            detail: `${name} is not an experiment (no meta.yaml)${looksLikeModel ? '; it holds an MLmodel, so it looks like a saved model' : ''}`,
        });
    }

    private checkExperimentMeta(name: string, file: string, meta: MetaParse): void {
        if (meta.kind !== 'mapping') {
            this.reportUnparsed(file, meta, 'experiment');
            return;
        }
        const { values, lines } = meta;
        // Where the experiment's artifacts go, as recorded when it was created: server flags
        // changed later do not rewrite it, so routing checks compare it with the current flags.
        const location = values.artifact_location;
        this.experimentLocations.push({
            id: name,
            ...(typeof values.name === 'string' ? { name: values.name } : {}),
            file,
            ...(typeof location === 'string'
                ? { artifactLocation: location, line: lines.artifact_location ?? 1 }
                : {}),
        });
        for (const key of requiredExperimentKeys()) {
            if (!(key in values) || values[key] === null) {
                this.add({
                    file,
                    problem: 'missing-key',
                    key,
                    level: 'experiment',
                    line: 1,
                    detail: `no ${key}`,
                });
            }
        }
        const stage = values.lifecycle_stage;
        if (stage !== undefined && stage !== null && !LIFECYCLE_STAGES.has(scalarText(stage))) {
            this.add({
                file,
                problem: 'bad-value',
                key: 'lifecycle_stage',
                level: 'experiment',
                line: lines.lifecycle_stage ?? 1,
                detail: `lifecycle_stage is ${JSON.stringify(stage)}, not active or deleted`,
            });
        }
        const id = values.experiment_id;
        if (id !== undefined && id !== null && scalarText(id) !== name) {
            this.add({
                file,
                problem: 'id-mismatch',
                key: 'experiment_id',
                level: 'experiment',
                line: lines.experiment_id ?? 1,
                detail: `experiment_id is ${JSON.stringify(id)} but the folder is ${name}`,
            });
        }
    }

    /**
     * Run metas are read synchronously in small batches, yielding between batches: on a small
     * machine libuv's thread pool makes 10k async reads 5-10x slower than plain reads of these
     * tiny files. One async read with a timeout first makes sure the disk answers at all.
     */
    private async readRuns(): Promise<void> {
        const first = this.pendingRuns[0];
        if (!first) return;
        const probeAbs = first[2] + first[1] + SEP_META;
        const answered = await withDeadline(
            fs.readFile(probeAbs, { flag: READ_FLAGS }).then(
                () => undefined,
                () => undefined,
            ),
            Math.min(PROBE_TIMEOUT_MS, this.deadline - Date.now()),
        );
        if (answered) {
            this.notRead += this.pendingRuns.length;
            return;
        }

        for (let start = 0; start < this.pendingRuns.length; start += BATCH) {
            if (Date.now() > this.deadline) {
                this.notRead += this.pendingRuns.length - start;
                return;
            }
            const end = Math.min(start + BATCH, this.pendingRuns.length);
            for (let i = start; i < end; i++) {
                const [experiment, run, prefix] = this.pendingRuns[i] as [string, string, string];
                this.readRun(experiment, run, prefix + run + SEP_META);
            }
            await new Promise<void>((resolve) => setImmediate(resolve));
        }
    }

    /** The store-relative name of a run's meta.yaml, built only when something is reported. */
    private runFile(experiment: string, run: string): string {
        return `${this.rootRel}/${experiment}/${run}/${META}`;
    }

    private readRun(experiment: string, run: string, fileAbs: string): void {
        const meta = this.readMetaNow(fileAbs);
        this.runs++;
        if (meta === 'unreadable') return;
        if (meta === 'missing') {
            this.add({
                file: `${this.rootRel}/${experiment}/${run}`,
                problem: 'missing-meta',
                level: 'run',
                detail: `run folder ${run} has no meta.yaml; readers skip it`,
            });
            return;
        }
        if (meta.kind !== 'mapping') {
            this.reportUnparsed(this.runFile(experiment, run), meta, 'run');
            return;
        }

        const { values, lines } = meta;
        for (const key of RUN_KEYS_ALWAYS) {
            if (!(key in values)) {
                this.add({
                    file: this.runFile(experiment, run),
                    problem: 'missing-key',
                    key,
                    level: 'run',
                    line: 1,
                    detail: `no ${key}`,
                });
            }
        }
        if (!('run_id' in values)) {
            this.add({
                file: this.runFile(experiment, run),
                problem: 'missing-key',
                key: 'run_id',
                level: 'run',
                line: 1,
                detail: 'no run_id; 3.x readers need it',
            });
        }
        if (!('run_uuid' in values)) {
            this.runsWithoutRunUuid++;
            // The line of run_id: the fix inserts run_uuid next to it.
            this.add({
                file: this.runFile(experiment, run),
                problem: 'missing-key',
                key: 'run_uuid',
                level: 'run',
                line: lines.run_id ?? 1,
                detail: 'no run_uuid: written by MLflow 3',
            });
        }

        this.checkRunValues(experiment, run, values, lines);
    }

    private checkRunValues(
        experiment: string,
        run: string,
        values: Record<string, MetaScalar>,
        lines: Record<string, number>,
    ): void {
        const stage = values.lifecycle_stage;
        if (stage !== undefined && stage !== null && !LIFECYCLE_STAGES.has(scalarText(stage))) {
            this.add({
                file: this.runFile(experiment, run),
                problem: 'bad-value',
                key: 'lifecycle_stage',
                level: 'run',
                line: lines.lifecycle_stage ?? 1,
                detail: `lifecycle_stage is ${JSON.stringify(stage)}, not active or deleted`,
            });
        }
        const status = values.status;
        if (status !== undefined && !(typeof status === 'number' && RUN_STATUSES.has(status))) {
            this.add({
                file: this.runFile(experiment, run),
                problem: 'bad-value',
                key: 'status',
                level: 'run',
                line: lines.status ?? 1,
                detail: `status is ${JSON.stringify(status)}, not a RunStatus number 1-5`,
            });
        }
        const experimentId = values.experiment_id;
        if (
            experimentId !== undefined &&
            experimentId !== null &&
            scalarText(experimentId) !== experiment
        ) {
            this.add({
                file: this.runFile(experiment, run),
                problem: 'id-mismatch',
                key: 'experiment_id',
                level: 'run',
                line: lines.experiment_id ?? 1,
                detail: `experiment_id is ${JSON.stringify(experimentId)} but the run sits in experiment ${experiment}; listings skip it`,
            });
        }
        for (const key of ['run_id', 'run_uuid']) {
            const id = values[key];
            if (id !== undefined && id !== null && scalarText(id) !== run) {
                this.add({
                    file: this.runFile(experiment, run),
                    problem: 'id-mismatch',
                    key,
                    level: 'run',
                    line: lines[key] ?? 1,
                    detail: `${key} is ${JSON.stringify(id)} but the folder is ${run}`,
                });
            }
        }
    }

    private reportUnparsed(file: string, meta: MetaParse, level: MetaAnomaly['level']): void {
        if (meta.kind === 'empty') {
            this.add({ file, problem: 'empty', level, line: 1, detail: 'meta.yaml is empty' });
        } else if (meta.kind === 'not-yaml') {
            this.add({
                file,
                problem: 'not-yaml',
                level,
                line: meta.line,
                detail: `not YAML: ${meta.message}`,
            });
        } else if (meta.kind === 'not-a-mapping') {
            this.add({
                file,
                problem: 'not-a-mapping',
                level,
                line: 1,
                detail: `meta.yaml holds ${meta.found}, not a mapping`,
            });
        }
    }

    private async countLoggedModels(modelsAbs: string): Promise<void> {
        try {
            const entries = await fs.readdir(modelsAbs, { withFileTypes: true });
            this.loggedModelDirs += entries.filter((entry) => !entry.isFile()).length;
        } catch {
            // An unreadable models/ folder only changes a count; the runs are what matter.
        }
    }

    /** The parsed meta file, `missing` when it does not exist, `unreadable` (already reported). */
    private async readMeta(fileAbs: string): Promise<MetaParse | 'missing' | 'unreadable'> {
        let text: string;
        try {
            text = await fs.readFile(fileAbs, { encoding: 'utf8', flag: READ_FLAGS });
        } catch (error) {
            return this.unreadableMeta(fileAbs, error);
        }
        return parseMetaYaml(text);
    }

    private readMetaNow(fileAbs: string): MetaParse | 'missing' | 'unreadable' {
        let text: string;
        try {
            // One open/read/close into a reused buffer; readFileSync adds an fstat per file.
            const fd = openSync(fileAbs, READ_FLAGS);
            let size: number;
            try {
                size = readSync(fd, this.buffer, 0, this.buffer.length, 0);
            } finally {
                closeSync(fd);
            }
            text =
                size < this.buffer.length
                    ? this.buffer.toString('utf8', 0, size)
                    : readFileSync(fileAbs, 'utf8');
        } catch (error) {
            return this.unreadableMeta(fileAbs, error);
        }
        return parseMetaYaml(text);
    }

    private unreadableMeta(fileAbs: string, error: unknown): 'missing' | 'unreadable' {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') return 'missing';
        const rel = path.relative(this.rootAbs, fileAbs).split(path.sep).join('/');
        this.add({
            file: `${this.rootRel}/${rel}`,
            problem: 'unreadable',
            level: rel.split('/').length > 2 ? 'run' : 'experiment',
            detail: `could not read: ${code ?? String(error)}`,
        });
        return 'unreadable';
    }

    private async listDir(
        dirAbs: string,
        dirRel: string,
        level: MetaAnomaly['level'],
    ): Promise<Dirent[] | undefined> {
        try {
            return await fs.readdir(dirAbs, { withFileTypes: true });
        } catch (error) {
            const code = (error as NodeJS.ErrnoException).code;
            this.add({
                file: dirRel,
                problem: 'unreadable',
                level,
                detail: `could not list the folder: ${code ?? String(error)}`,
            });
            return undefined;
        }
    }

    private async isDirectory(entry: Dirent, abs: string): Promise<boolean> {
        if (entry.isDirectory()) return true;
        if (!entry.isSymbolicLink() && entry.isFile()) return false;
        try {
            return (await fs.stat(abs)).isDirectory();
        } catch {
            return false;
        }
    }

    private add(anomaly: MetaAnomaly): void {
        const groupKey = `${anomaly.level}|${anomaly.problem}|${anomaly.key ?? ''}`;
        let group = this.groups.get(groupKey);
        if (!group) {
            group = { listed: 0, more: 0, sample: anomaly };
            this.groups.set(groupKey, group);
        }
        if (group.listed < this.listed) {
            group.listed++;
            this.anomalies.push(anomaly);
        } else {
            group.more++;
        }
    }
}

/**
 * A root folder without meta.yaml is a broken experiment when its name is an experiment id or it
 * holds run folders; anything else (a saved model, a notebook checkpoint folder) is foreign.
 */
function looksLikeExperiment(name: string, runDirs: string[]): boolean {
    return /^\d+$/.test(name) || runDirs.some((run) => RUN_ID_SHAPE.test(run));
}

async function mapBounded<T>(
    items: T[],
    limit: number,
    fn: (item: T) => Promise<void>,
): Promise<void> {
    let next = 0;
    const worker = async (): Promise<void> => {
        while (next < items.length) {
            const item = items[next++] as T;
            await fn(item);
        }
    };
    await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** Resolves true when `work` is still running after `ms`; reads in flight are left to finish. */
async function withDeadline(work: Promise<void>, ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), Math.max(0, ms));
    });
    try {
        return await Promise.race([work.then(() => false), expired]);
    } finally {
        clearTimeout(timer);
    }
}

/** A scalar as PyYAML's `str()` of it would compare; collections never equal an id. */
function scalarText(value: MetaScalar): string {
    return typeof value === 'object' ? JSON.stringify(value) : String(value);
}
