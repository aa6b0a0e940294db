// Where each MLflow client runs and which version it has there: the host's interpreter, or a
// compose service's container (what `python -c "import mlflow; ..."` printed inside it, the pins
// in its image's Dockerfile and requirements, `_PIP_ADDITIONAL_REQUIREMENTS`). A version is only
// compared with code and servers that run in the same place.

import path from 'node:path';
import type { ClientVersion, MlflowCall, StackSnapshot } from '../model.js';
import { parseVersion } from '../mlflow/versions.js';
import { serviceBuildingFile } from './stackFacts.js';

/** One place a client runs, with the version it has there. */
export interface PlacedClient {
    version: string;
    /** The compose service whose container runs it; undefined for the host. */
    service?: string;
    /** The best-attested source of the version. */
    source: ClientVersion;
    /** A requirement line for the same place that can be edited to pin the version. */
    pin?: ClientVersion;
    /** The Python version seen in the same place (`Python 3.7.16`), when recorded. */
    python?: string;
}

const SOURCE_TRUST: Record<ClientVersion['source'], number> = {
    interpreter: 5,
    recorded: 4,
    lock: 3,
    requirements: 2,
    pyproject: 2,
    dockerfile: 1,
};

/** The compose service a recorded `where` (`container:airflow`, a container name) names. */
export function serviceNamed(snapshot: StackSnapshot, where: string): string | undefined {
    if (!where.startsWith('container:')) return undefined;
    const name = where.slice('container:'.length);
    const services = snapshot.compose?.services ?? [];
    const project = snapshot.compose?.name;
    const found = services.find(
        (s) =>
            s.name === name ||
            s.containerName === name ||
            name === `${project}-${s.name}-1` ||
            name === `${project}_${s.name}_1`,
    );
    return found?.name ?? snapshot.docker?.containers.find((c) => c.name === name)?.service ?? name;
}

const MLFLOW_VERSION_COMMAND =
    /mlflow\.__version__|mlflow\s+--version|pip3?\s+show\s+mlflow|version\(\s*["']mlflow/;
const PYTHON_VERSION_COMMAND = /python[\d.]*\s+(?:--version|-V)\b|sys\.version/;

/** Recorded command outputs that tell an MLflow version, as client versions of their place. */
export function recordedClientVersions(snapshot: StackSnapshot): ClientVersion[] {
    const found: ClientVersion[] = [];
    for (const exec of snapshot.recorded?.exec ?? []) {
        if (!MLFLOW_VERSION_COMMAND.test(exec.command)) continue;
        const version = /(\d+\.\d+(?:\.\d+)?(?:[.\w+-]*)?)/.exec(exec.stdout)?.[1];
        if (!version || !parseVersion(version)) continue;
        const service = serviceNamed(snapshot, exec.where);
        found.push({
            version,
            source: 'recorded',
            interpreter: `\`${exec.command}\` in ${exec.where}`,
            ...(service ? { service } : {}),
        });
    }
    return found;
}

/** The Python version recorded for a place, from `python --version` and the like. */
export function recordedPython(
    snapshot: StackSnapshot,
    service: string | undefined,
): string | undefined {
    for (const exec of snapshot.recorded?.exec ?? []) {
        if (!PYTHON_VERSION_COMMAND.test(exec.command)) continue;
        if (serviceNamed(snapshot, exec.where) !== service) continue;
        const m = /Python\s+(\d+\.\d+(?:\.\d+)?)/i.exec(exec.stdout);
        if (m) return m[1];
    }
    return undefined;
}

/** The service a recorded client (`clientRuns: container:<name>`) runs in. */
function recordedClientService(snapshot: StackSnapshot): string | undefined {
    const runs = snapshot.host.clientRuns;
    return runs?.startsWith('container:') ? serviceNamed(snapshot, runs) : undefined;
}

/** The place a client version belongs to: its service, or the host (undefined). */
function placeOf(snapshot: StackSnapshot, v: ClientVersion): string | undefined {
    if (v.service) return v.service;
    if (v.source === 'interpreter') return undefined;
    if (v.source === 'recorded') return recordedClientService(snapshot);
    // A requirements file in one client image's build context is installed into that image.
    if (v.file) {
        const owner = serviceBuildingFile(snapshot, v.file);
        if (owner) return owner;
        // Not yet: a requirements file copied into several images is taken as the host's.
    }
    return recordedClientService(snapshot);
}

/** Every client version, with the recorded ones mapped to their place. */
function allVersions(snapshot: StackSnapshot): { v: ClientVersion; place?: string }[] {
    return [...snapshot.workspace.clientVersions, ...recordedClientVersions(snapshot)].map((v) => ({
        v,
        place: placeOf(snapshot, v),
    }));
}

const isEditablePin = (v: ClientVersion) =>
    v.source !== 'interpreter' && v.source !== 'recorded' && v.source !== 'lock' && !!v.file;

/**
 * The clients worth comparing: per place, the best-attested version (several when equally
 * trusted sources disagree), with the place's editable pin and recorded Python.
 */
export function placedClients(snapshot: StackSnapshot): PlacedClient[] {
    const byPlace = new Map<string, { v: ClientVersion; place?: string }[]>();
    for (const entry of allVersions(snapshot)) {
        const key = entry.place ?? '';
        byPlace.set(key, [...(byPlace.get(key) ?? []), entry]);
    }
    const clients: PlacedClient[] = [];
    for (const [key, entries] of byPlace) {
        const service = key === '' ? undefined : key;
        const known = entries.filter((e) => e.v.version && parseVersion(e.v.version));
        if (known.length === 0) continue;
        // What is installed outranks what the files ask for.
        const top = Math.max(...known.map((e) => SOURCE_TRUST[e.v.source]));
        const best = new Map<string, ClientVersion>();
        for (const { v } of known) {
            if (SOURCE_TRUST[v.source] !== top || !v.version) continue;
            const seen = best.get(v.version);
            // Between equals, the one that says more (a service, a file) speaks.
            if (!seen || (!seen.service && v.service) || (!seen.file && v.file))
                best.set(v.version, v);
        }
        const pins = entries.filter((e) => isEditablePin(e.v)).map((e) => e.v);
        const python = recordedPython(snapshot, service);
        for (const [version, source] of best) {
            const pin = pins.find((p) => p.version === version) ?? pins[0];
            clients.push({
                version,
                ...(service ? { service } : {}),
                source,
                ...(pin ? { pin } : {}),
                ...(python ? { python } : {}),
            });
        }
    }
    return clients;
}

/** The client version that runs a call: its file's service, else the host, else the only one. */
export function clientForCall(
    snapshot: StackSnapshot,
    clients: PlacedClient[],
    call: MlflowCall,
): PlacedClient | undefined {
    const service =
        serviceBuildingFile(snapshot, call.file) ??
        serviceMountingFile(snapshot, call.file) ??
        recordedClientService(snapshot);
    const here = clients.find((c) => c.service === service);
    if (here) return here;
    const host = clients.find((c) => c.service === undefined);
    if (host && service === undefined) return host;
    const versions = new Set(clients.map((c) => c.version));
    return versions.size === 1 ? clients[0] : undefined;
}

/** The one non-server service that bind-mounts the folder holding `file` (`./dags:/opt/dags`). */
function serviceMountingFile(snapshot: StackSnapshot, file: string): string | undefined {
    const servers = new Set(snapshot.serverConfigs.map((c) => c.service));
    const abs = path.resolve(snapshot.folder, file);
    const owners = (snapshot.compose?.services ?? []).filter(
        (s) =>
            !servers.has(s.name) &&
            s.volumes.some(
                (v) =>
                    v.type === 'bind' &&
                    v.hostPath !== undefined &&
                    (abs === v.hostPath || abs.startsWith(v.hostPath + path.sep)),
            ),
    );
    return owners.length === 1 ? owners[0]?.name : undefined;
}

/** `requirements.txt:2`, `compose.yaml:17`, for evidence. */
export function describeSource(v: ClientVersion): string {
    if (v.source === 'interpreter')
        return `${v.interpreter ?? 'the workspace interpreter'} has mlflow ${v.version}`;
    if (v.source === 'recorded')
        return v.interpreter
            ? `${v.interpreter} printed ${v.version}`
            : `the client has mlflow ${v.version} installed`;
    const where = `${v.file ?? 'a requirement'}${v.line !== undefined ? `:${v.line}` : ''}`;
    return `${where} pins ${v.spec ?? v.version}`;
}

/** Whether a file path is one of the project's compose files. */
export function isComposeFile(snapshot: StackSnapshot, file: string): boolean {
    const norm = (p: string) => path.posix.normalize(p.split(path.sep).join('/'));
    return (snapshot.compose?.files ?? []).some((f) => norm(f) === norm(file));
}
