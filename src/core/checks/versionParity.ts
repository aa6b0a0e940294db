// Client and server MLflow versions, and what a mismatch between them breaks. The server's
// version is what it answers on /version when it runs, else what its image tag or pip pin says;
// the client's is what the workspace interpreter has installed, else what the files pin.

import type {
    ClientVersion,
    Finding,
    FindingLocation,
    ServerConfig,
    StackSnapshot,
} from '../model.js';
import { compatibility, parseVersion } from '../mlflow/versions.js';
import { type Check, makeFinding, nearestComposeLocation } from './check.js';
import { containerOf, probesOf } from './stackFacts.js';

interface KnownServerVersion {
    version: string;
    how: string;
    location?: FindingLocation;
}

const IMAGE_TAG_VERSION = /:v?(\d+\.\d+\.\d+(?:\.?(?:dev|rc)\d+)?)(?:-[\w.]+)?$/;

export function serverVersionOf(
    snapshot: StackSnapshot,
    config: ServerConfig,
): KnownServerVersion | undefined {
    const declared = config.declaredVersion;
    const declaredAt = declared
        ? declared.key
            ? nearestComposeLocation(snapshot, declared.key)
            : declared.line !== undefined
              ? {
                    file: declared.file,
                    line: declared.line,
                    column: 1,
                    endLine: declared.line,
                    endColumn: 1,
                }
              : undefined
        : undefined;
    const live = probesOf(snapshot, config.service).find((p) => p.serverVersion)?.serverVersion;
    if (live) {
        return {
            version: live,
            how: `GET /version answered ${live}`,
            location:
                declaredAt ?? nearestComposeLocation(snapshot, `services.${config.service}.image`),
        };
    }
    const image = containerOf(snapshot, config.service)?.image;
    const fromImage = image ? IMAGE_TAG_VERSION.exec(image)?.[1] : undefined;
    if (declared) {
        return {
            version: declared.version,
            how: `${declared.file}${declared.key ? ` (${declared.key})` : ''} pins ${declared.version}`,
            location: declaredAt,
        };
    }
    if (fromImage && image) {
        return { version: fromImage, how: `the running image is ${image}` };
    }
    return undefined;
}

const SOURCE_TRUST: Record<ClientVersion['source'], number> = {
    interpreter: 5,
    recorded: 4,
    lock: 3,
    requirements: 2,
    pyproject: 2,
    dockerfile: 1,
};

/** The client versions worth comparing: the best-attested one per distinct version. */
function clientVersions(snapshot: StackSnapshot): ClientVersion[] {
    const best = new Map<string, ClientVersion>();
    for (const v of snapshot.workspace.clientVersions) {
        if (!v.version) continue;
        const seen = best.get(v.version);
        if (!seen || SOURCE_TRUST[v.source] > SOURCE_TRUST[seen.source]) best.set(v.version, v);
    }
    const all = [...best.values()];
    // The interpreter that actually runs the code outranks pins that disagree with it.
    const top = Math.max(...all.map((v) => SOURCE_TRUST[v.source]));
    return top >= SOURCE_TRUST.interpreter ? all.filter((v) => v.source === 'interpreter') : all;
}

function clientLocation(snapshot: StackSnapshot, v: ClientVersion): FindingLocation | undefined {
    if (!v.file || v.line === undefined) return undefined;
    const line = v.rawLine ?? v.line;
    const text = snapshot.files?.[v.file]?.split('\n')[line - 1] ?? '';
    const at = v.spec ? text.indexOf(v.spec) : -1;
    const column = at >= 0 ? at + 1 : 1;
    const length = at >= 0 && v.spec ? v.spec.length : text.length;
    return { file: v.file, line, column, endLine: line, endColumn: column + length, key: 'mlflow' };
}

function describeClient(v: ClientVersion): string {
    if (v.source === 'interpreter')
        return `${v.interpreter ?? 'the workspace interpreter'} has mlflow ${v.version}`;
    if (v.source === 'recorded') return `the client has mlflow ${v.version} installed`;
    return `${v.file ?? 'a requirement'}${v.line !== undefined ? `:${v.line}` : ''} pins ${v.spec ?? v.version}`;
}

function runUuidUses(snapshot: StackSnapshot, client: ClientVersion): Finding[] {
    const major = parseVersion(client.version ?? '')?.major;
    if (major === undefined || major < 3) return [];
    return snapshot.workspace.calls
        .filter((call) => /\.run_uuid\b/.test(call.text))
        .map((call) =>
            makeFinding(`${call.file}:${call.line}:run_uuid`, {
                kind: 'version-mismatch',
                severity: 'error',
                title: `${call.file}:${call.line} reads run.info.run_uuid, which MLflow 3 removed`,
                evidence: [
                    `${call.file}:${call.line}: ${call.text.trim()}`,
                    describeClient(client),
                ],
                fix: 'Use run.info.run_id instead (the same value); MLflow 3 raises AttributeError on run_uuid.',
                locations: [
                    {
                        file: call.file,
                        line: call.line,
                        column: call.column,
                        endLine: call.line,
                        endColumn: call.column + call.text.trim().length,
                        key: 'run.info.run_uuid',
                    },
                ],
            }),
        );
}

export const versionParityCheck: Check = {
    name: 'version-parity',
    run(snapshot) {
        const findings: Finding[] = [];
        const clients = clientVersions(snapshot);
        for (const config of snapshot.serverConfigs) {
            const server = serverVersionOf(snapshot, config);
            if (!server) continue;
            for (const client of clients) {
                if (!client.version) continue;
                const verdict = compatibility(client.version, server.version);
                if (verdict.severity === 'info') continue;
                const at = [server.location, clientLocation(snapshot, client)].filter(
                    (l): l is FindingLocation => l !== undefined,
                );
                findings.push(
                    makeFinding(`${config.service}:${client.version}`, {
                        kind: 'version-mismatch',
                        severity: verdict.severity,
                        title: `MLflow ${client.version} client against a ${server.version} server ("${config.service}")`,
                        evidence: [
                            `Server: ${server.how}.`,
                            `Client: ${describeClient(client)}.`,
                            ...verdict.problems,
                        ],
                        fix:
                            `Run the same MLflow version on both sides: upgrade the server image to ` +
                            `${client.version} (for example ghcr.io/mlflow/mlflow:v${client.version}), or pin the client ` +
                            `to mlflow==${server.version}.`,
                        locations: at,
                        service: config.service,
                    }),
                );
            }
        }
        for (const client of clients) findings.push(...runUuidUses(snapshot, client));
        return findings;
    },
};
