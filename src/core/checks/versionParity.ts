// Client and server MLflow versions, and what a mismatch between them breaks. The server's
// version is what it answers on /version when it runs, else what its image tag or pip pin says;
// a client's is what is installed where it runs (the workspace interpreter, or a container as a
// recorded command printed it), else what the files pin for that place. Code is judged against
// the client that runs it: APIs the installed version removed, has not got yet, or changed.

import type {
    Finding,
    FindingLocation,
    FixEdit,
    MlflowCall,
    ServerConfig,
    StackSnapshot,
} from '../model.js';
import {
    apiVerdict,
    compareVersions,
    compatibility,
    fileStoreSupport,
    logModelReturnsModelsUri,
    newestMlflowForPython,
    parseVersion,
} from '../mlflow/versions.js';
import { lexPython, matchingParen, splitArguments } from '../workspace/pythonSource.js';
import { type Check, makeFinding, nearestComposeLocation } from './check.js';
import {
    clientForCall,
    describeSource,
    isComposeFile,
    type PlacedClient,
    placedClients,
} from './clientPlaces.js';
import { replaceOnKeyLine, replaceOnLine } from './commandEdits.js';
import {
    composeService,
    containerOf,
    probesOf,
    serviceBuildingFile,
    uriLocation,
} from './stackFacts.js';

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
        ? declared.key && declared.key.startsWith('services.')
            ? nearestComposeLocation(snapshot, declared.key)
            : declared.line !== undefined
              ? {
                    file: declared.file,
                    line: declared.line,
                    column: 1,
                    endLine: declared.line,
                    endColumn: 1,
                    ...(declared.key ? { key: declared.key } : {}),
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

// A requirement for mlflow on a line: `mlflow`, `mlflow[extras]>=2,<3`, `mlflow-skinny==2.9.2`,
// but not `ghcr.io/mlflow/mlflow:v2` or `MLFLOW_TRACKING_URI`.
const REQUIREMENT_ON_LINE =
    /(?<![\w.\-/:@])(mlflow(?:-skinny)?)(\[[^\]]*\])?((?:\s*(?:===|==|>=|<=|~=|!=|>|<|=)\s*[\w.*+!-]+)(?:\s*,\s*(?:===|==|>=|<=|~=|!=|>|<)\s*[\w.*+!-]+)*)?(?![\w\-/:.])/;

function lineText(snapshot: StackSnapshot, file: string, line: number): string {
    return snapshot.files?.[file]?.split(/\r?\n/)[line - 1] ?? '';
}

/** The most specific compose key written on a line of a compose file. */
function composeKeyOnLine(snapshot: StackSnapshot, file: string, line: number, under: string) {
    let best: string | undefined;
    for (const [key, r] of Object.entries(snapshot.compose?.ranges ?? {})) {
        if (r.file !== file || !key.startsWith(under) || r.line > line || r.endLine < line)
            continue;
        if (!best || key.length > best.length) best = key;
    }
    return best;
}

/** Where a client's version is written down, or its service when nothing is. */
function clientLocation(
    snapshot: StackSnapshot,
    client: PlacedClient,
): FindingLocation | undefined {
    const pin = client.pin ?? (client.source.file ? client.source : undefined);
    if (pin?.file && pin.line !== undefined) {
        const line = pin.rawLine ?? pin.line;
        const text = lineText(snapshot, pin.file, line);
        const match = REQUIREMENT_ON_LINE.exec(text);
        const column = match ? match.index + 1 : 1;
        const endColumn = match ? column + match[0].length : text.length + 1;
        const key =
            isComposeFile(snapshot, pin.file) && client.service
                ? composeKeyOnLine(snapshot, pin.file, line, `services.${client.service}.`)
                : 'mlflow';
        return { file: pin.file, line, column, endLine: line, endColumn, key };
    }
    return client.service
        ? nearestComposeLocation(snapshot, `services.${client.service}`)
        : undefined;
}

/** An edit pinning the client's requirement line to `version`. */
function pinEdit(snapshot: StackSnapshot, client: PlacedClient, version: string) {
    const pin = client.pin;
    if (!pin?.file || pin.line === undefined) return undefined;
    const line = pin.rawLine ?? pin.line;
    const match = REQUIREMENT_ON_LINE.exec(lineText(snapshot, pin.file, line));
    if (!match) return undefined;
    const pinned = `${match[1] ?? 'mlflow'}${match[2] ?? ''}==${version}`;
    if (match[0] === pinned) return undefined;
    return replaceOnLine(snapshot, pin.file, line, match[0], pinned, `Pin the client to ${pinned}`);
}

/** An edit moving the server's image tag or pip pin to `version`. */
function serverPinEdit(
    snapshot: StackSnapshot,
    config: ServerConfig,
    version: string,
): FixEdit | undefined {
    const declared = config.declaredVersion;
    if (!declared) return undefined;
    const label = `Run the server at MLflow ${version}`;
    if (declared.key === `services.${config.service}.image`) {
        const image = composeService(snapshot, config.service)?.image;
        if (!image) return undefined;
        const colon = image.lastIndexOf(':');
        const tag = image.slice(colon + 1);
        if (colon < 0 || !tag.includes(declared.version)) return undefined;
        const next = `${image.slice(0, colon + 1)}${tag.replace(declared.version, version)}`;
        return replaceOnKeyLine(snapshot, declared.key, image, next, label);
    }
    if (declared.line === undefined) return undefined;
    const text = lineText(snapshot, declared.file, declared.line);
    for (const from of [`mlflow==${declared.version}`, `:v${declared.version}`]) {
        if (text.includes(from))
            return replaceOnLine(
                snapshot,
                declared.file,
                declared.line,
                from,
                from.replace(declared.version, version),
                label,
            );
    }
    return undefined;
}

function placeName(client: PlacedClient): string {
    return client.service ? `the "${client.service}" container` : 'the host';
}

function pairFinding(
    snapshot: StackSnapshot,
    config: ServerConfig,
    server: KnownServerVersion,
    client: PlacedClient,
): Finding | undefined {
    const verdict = compatibility(client.version, server.version);
    if (verdict.severity === 'info') return undefined;
    const newerClient = compareVersions(client.version, server.version) > 0;
    const evidence = [
        `Server: ${server.how}.`,
        `Client in ${placeName(client)}: ${describeSource(client.source)}.`,
        ...(client.pin && client.pin !== client.source
            ? [`Its requirement: ${describeSource(client.pin)}.`]
            : []),
        ...verdict.details.map((d) => `${d.message} (${d.source})`),
    ];

    // Why the client is that old: pip cannot install a newer major on the image's Python.
    const serverMajor = parseVersion(server.version)?.major ?? 0;
    const limit = client.python ? newestMlflowForPython(client.python) : undefined;
    const pythonBound = limit && limit.major < serverMajor ? limit : undefined;
    if (pythonBound && client.python) {
        evidence.push(
            `${placeName(client)} runs Python ${client.python}; MLflow ${limit?.major === 1 ? '2.0' : 'newer releases'} ` +
                `and later need Python ${pythonBound.needs}+ (${pythonBound.source}), so pip can only install ` +
                `MLflow ${pythonBound.major}.x there and a loose \`mlflow\` requirement resolves to ${client.version}.`,
        );
    }

    const pinTo = `mlflow==${server.version}`;
    const where = client.pin?.file ? ` in ${client.pin.file}` : '';
    const steps: string[] = [];
    if (pythonBound) {
        steps.push(
            `Use an image for ${placeName(client)} with Python ${pythonBound.needs} or newer (for example a \`-python3.10\` tag of the same image)`,
        );
    }
    steps.push(`pin the client to the server's version, ${pinTo}${where}`);
    let fix = steps.join(', then ');
    fix = fix.charAt(0).toUpperCase() + fix.slice(1);
    if (newerClient) {
        fix +=
            `; or upgrade the server to the client's version ${client.version} ` +
            `(for example ghcr.io/mlflow/mlflow:v${client.version})`;
    }
    fix += '. Both sides at the same version is what MLflow supports best.';

    const edits = [
        pinEdit(snapshot, client, server.version),
        newerClient ? serverPinEdit(snapshot, config, client.version) : undefined,
    ].filter((e): e is FixEdit => e !== undefined);
    const at = [server.location, clientLocation(snapshot, client)].filter(
        (l): l is FindingLocation => l !== undefined,
    );
    return makeFinding(`${config.service}:${client.service ?? 'host'}:${client.version}`, {
        kind: 'version-mismatch',
        severity: verdict.severity,
        title: `MLflow ${client.version} client${client.service ? ` in "${client.service}"` : ''} against a ${server.version} server ("${config.service}")`,
        evidence,
        fix,
        locations: at,
        ...(edits.length > 0 ? { edits } : {}),
        service: client.service ?? config.service,
    });
}

// ---------------------------------------------------------------------------------------------
// Code against the client that runs it

interface CallShape {
    keywords: string[];
    /** The positional arguments' source text. */
    positional: string[];
}

/** The keyword and positional arguments of a call, read from its file (or its line). */
function callShape(snapshot: StackSnapshot, call: MlflowCall): CallShape {
    const whole = call.file.endsWith('.py') ? snapshot.files?.[call.file] : undefined;
    const text = whole ?? call.text;
    let offset = call.column - 1;
    if (whole !== undefined) {
        const lines = whole.split('\n');
        offset += lines.slice(0, call.line - 1).reduce((n, l) => n + l.length + 1, 0);
    }
    const lexed = lexPython(text);
    const head = /^[\w. \t]*\(/.exec(lexed.code.slice(offset));
    if (!head) return { keywords: [], positional: [] };
    const open = offset + head[0].length - 1;
    const close = matchingParen(lexed.code, open);
    // A call cut off at the end of its line (notebooks give one line) is read as far as it goes.
    const end = close < 0 ? lexed.code.length : close;
    const args = splitArguments(lexed.code, open, end, lexed.text);
    const keywords: string[] = [];
    const positional: string[] = [];
    for (const [s, e] of args) {
        const kw = /^\s*([A-Za-z_]\w*)\s*=(?!=)/.exec(lexed.code.slice(s, e));
        if (kw) keywords.push(kw[1] as string);
        else positional.push(lexed.text.slice(s, e).trim());
    }
    return { keywords, positional };
}

function callLocation(snapshot: StackSnapshot, call: MlflowCall, name: string): FindingLocation {
    const line = call.rawLine ?? call.line;
    const text = call.cell !== undefined ? lineText(snapshot, call.file, line) : call.text;
    // The key is the expression as written (`run.info.run_uuid`), which the line contains.
    const written = new RegExp(`[\\w.]*\\b${name}\\b`).exec(text);
    const column = written ? written.index + 1 : (call.rawColumn ?? call.column);
    const key = written?.[0] ?? name;
    return { file: call.file, line, column, endLine: line, endColumn: column + key.length, key };
}

function describeCall(call: MlflowCall): string {
    const where =
        call.cell !== undefined
            ? `${call.file} (cell ${call.cell + 1}, line ${call.line})`
            : `${call.file}:${call.line}`;
    return `${where}: ${call.text.trim()}`;
}

/** Names of variables assigned from a `log_model` call in a file (`info = ...log_model(`). */
function logModelResults(calls: MlflowCall[], file: string): Set<string> {
    const names = new Set<string>();
    for (const c of calls) {
        if (c.file !== file || !/(^|\.)log_model$/.test(c.api)) continue;
        const m = /^\s*([A-Za-z_]\w*)\s*=/.exec(c.text);
        if (m) names.add(m[1] as string);
    }
    return names;
}

/** `get_underlying_uri`/`get_artifact_uri` used the 2.x way, on a client whose models moved. */
function modelsUriUse(
    snapshot: StackSnapshot,
    call: MlflowCall,
    client: PlacedClient,
    shape: CallShape,
): Finding | undefined {
    if (!logModelReturnsModelsUri(client.version)) return undefined;
    const calls = snapshot.workspace.calls;
    const name = call.api.slice(call.api.lastIndexOf('.') + 1);
    const common = {
        kind: 'version-mismatch' as const,
        locations: [callLocation(snapshot, call, name)],
        ...(client.service ? { service: client.service } : {}),
    };
    if (name === 'get_underlying_uri') {
        const argument = shape.positional[0] ?? '';
        const results = logModelResults(calls, call.file);
        const fromLogModel =
            /models:\//.test(argument) ||
            [...results].some((v) => new RegExp(`^${v}\\.model_uri$`).test(argument));
        return makeFinding(`${call.file}:${call.line}:${name}`, {
            ...common,
            severity: fromLogModel ? 'error' : 'warning',
            title: fromLogModel
                ? `${call.file}:${call.line} passes a models:/ URI to get_underlying_uri, which only takes runs:/ URIs`
                : `${call.file}:${call.line} resolves a runs:/ URI, where MLflow ${client.version} keeps no models`,
            evidence: [
                describeCall(call),
                `Client in ${placeName(client)}: ${describeSource(client.source)}.`,
                `From MLflow 3, log_model returns a ModelInfo whose model_uri is models:/m-<id> (the logged model), not runs:/<run_id>/<path> (facts §3.4, §7.2).`,
                fromLogModel
                    ? `RunsArtifactRepository.get_underlying_uri(${argument}) raises \`Not a proper runs:/ URI: models:/m-<id>\`.`
                    : `The model's files are under <experiment>/models/<model_id>/artifacts, not in the run's artifacts.`,
            ],
            fix:
                'Use the logged model directly: mlflow.artifacts.download_artifacts(info.model_uri) or ' +
                'mlflow.pyfunc.load_model(info.model_uri) take the models:/ URI; ' +
                'info.artifact_path and mlflow.get_logged_model(info.model_id).artifact_location give where it is stored. ' +
                'Or pin the client below 3 (mlflow<3) to keep runs:/ model URIs.',
        });
    }
    if (call.api === 'mlflow.get_artifact_uri' && logModelResults(calls, call.file).size > 0) {
        return makeFinding(`${call.file}:${call.line}:${name}`, {
            ...common,
            severity: 'warning',
            title: `${call.file}:${call.line} looks for a model under the run's artifacts, where MLflow ${client.version} no longer puts it`,
            evidence: [
                describeCall(call),
                `Client in ${placeName(client)}: ${describeSource(client.source)}.`,
                'MLflow 3 stores a logged model under the logged model (models:/m-<id>), not in the run artifact root that get_artifact_uri returns (facts §3.4).',
            ],
            fix: 'Use the ModelInfo that log_model returns: info.model_uri (models:/m-<id>) with mlflow.artifacts.download_artifacts or mlflow.pyfunc.load_model.',
        });
    }
    return undefined;
}

function apiFindings(snapshot: StackSnapshot, clients: PlacedClient[]): Finding[] {
    const findings: Finding[] = [];
    for (const call of snapshot.workspace.calls) {
        const client = clientForCall(snapshot, clients, call);
        if (!client) continue;
        const shape = callShape(snapshot, call);
        const special = modelsUriUse(snapshot, call, client, shape);
        if (special) {
            findings.push(special);
            continue;
        }
        const verdict = apiVerdict(client.version, call.api, shape.keywords);
        if (!verdict) continue;
        const { rule, status } = verdict;
        const name = rule.keyword ?? call.api.slice(call.api.lastIndexOf('.') + 1);
        const what = rule.keyword ? `${call.api.split('.').pop()}(${rule.keyword}=...)` : name;
        const title =
            status === 'removed'
                ? `${call.file}:${call.line} uses ${what}, which MLflow ${rule.removedIn} removed (the client has ${client.version})`
                : status === 'missing'
                  ? `${call.file}:${call.line} uses ${what}, which the installed MLflow ${client.version} does not have yet (since ${rule.since})`
                  : `${call.file}:${call.line} uses ${what}, deprecated since MLflow ${rule.deprecatedIn}`;
        findings.push(
            makeFinding(`${call.file}:${call.line}:${name}`, {
                kind: 'version-mismatch',
                severity: status === 'deprecated' ? 'info' : 'error',
                title,
                evidence: [
                    describeCall(call),
                    `Client in ${placeName(client)}: ${describeSource(client.source)}.`,
                    `${status === 'deprecated' ? 'It warns' : 'It fails with'}: ${rule.symptom} (${rule.source}).`,
                ],
                fix:
                    `Use ${rule.instead} instead.` +
                    (status === 'missing'
                        ? ` Or upgrade the client to MLflow ${rule.since} or later.`
                        : ''),
                locations: [callLocation(snapshot, call, name)],
                ...(client.service ? { service: client.service } : {}),
            }),
        );
    }
    return findings;
}

// The quotes may be escaped: notebooks keep their code as JSON strings.
const ALLOW_FILE_STORE =
    /MLFLOW_ALLOW_FILE_STORE\\?["']?\s*(?:\]\s*)?(?:=|,|:)\s*\\?["']?(?:1|true)\b/i;

/**
 * Whether the client opts back into the file store: in its own code (`os.environ[...] = "true"`,
 * `setdefault`, `%env`), in a `.env` file of the workspace, or in the shell that runs the checks.
 */
function optsIntoFileStore(snapshot: StackSnapshot, file: string): boolean {
    if (ALLOW_FILE_STORE.test(snapshot.files?.[file] ?? '')) return true;
    const dotenvs = Object.entries(snapshot.files ?? {}).filter(([name]) =>
        /(^|\/)\.env$/.test(name),
    );
    if (dotenvs.some(([, text]) => ALLOW_FILE_STORE.test(text))) return true;
    return /^(1|true)$/i.test(snapshot.compose?.variables.MLFLOW_ALLOW_FILE_STORE?.value ?? '');
}

/** A client of 3.6+ that opens a file store itself: deprecated, and refused from 3.13. */
function clientFileStores(snapshot: StackSnapshot, clients: PlacedClient[]): Finding[] {
    const findings: Finding[] = [];
    for (const use of snapshot.workspace.trackingUris) {
        if (use.via === 'default' || /^[a-z][\w+.-]*:\/\//i.test(use.uri.replace(/^file:/i, '')))
            continue;
        if (!/^(?:file:|\.{0,2}\/|[A-Za-z]:[\\/]|[\w.-]+(?:\/|$))/.test(use.uri)) continue;
        const place = use.service ?? serviceBuildingFile(snapshot, use.file);
        const client =
            clients.find((c) => c.service === place) ??
            (clients.length === 1 ? clients[0] : undefined);
        if (!client) continue;
        const support = fileStoreSupport(client.version);
        if (support === 'supported') continue;
        const env = place ? composeService(snapshot, place)?.environment : undefined;
        if (
            support === 'refused' &&
            (/^(1|true)$/i.test(env?.MLFLOW_ALLOW_FILE_STORE ?? '') ||
                optsIntoFileStore(snapshot, use.file))
        )
            continue;
        findings.push(
            makeFinding(`${use.file}:${use.line}:file-store`, {
                kind: 'version-mismatch',
                severity: support === 'refused' ? 'error' : 'warning',
                title:
                    support === 'refused'
                        ? `The MLflow ${client.version} client refuses the file store ${use.uri} unless MLFLOW_ALLOW_FILE_STORE=true`
                        : `The MLflow ${client.version} client uses the deprecated file store ${use.uri}`,
                evidence: [
                    `${use.file}:${use.line} sets the tracking URI to ${use.uri}.`,
                    `Client in ${placeName(client)}: ${describeSource(client.source)}.`,
                    support === 'refused'
                        ? "From 3.13 creating a FileStore fails with `The filesystem tracking backend (e.g., './mlruns') is no longer supported` (facts §4.7, §7.2)."
                        : 'From 3.6 a FileStore logs a FutureWarning that the file backend is deprecated (facts §4.7).',
                ],
                fix:
                    'Log through the tracking server (an http:// URI) or a database (sqlite:///mlflow.db); ' +
                    '`mlflow migrate-filestore` (3.10+) copies an existing ./mlruns into a database' +
                    (support === 'refused'
                        ? '; MLFLOW_ALLOW_FILE_STORE=true keeps the file store for now.'
                        : '.'),
                locations: [uriLocation(snapshot, use)],
                ...(client.service ? { service: client.service } : {}),
            }),
        );
    }
    return findings;
}

export const versionParityCheck: Check = {
    name: 'version-parity',
    run(snapshot) {
        const findings: Finding[] = [];
        const clients = placedClients(snapshot);
        for (const config of snapshot.serverConfigs) {
            const server = serverVersionOf(snapshot, config);
            if (!server) continue;
            for (const client of clients) {
                // A server is its own client only for `mlflow` commands run inside it.
                if (client.service === config.service) continue;
                const finding = pairFinding(snapshot, config, server, client);
                if (finding) findings.push(finding);
            }
        }
        // Not yet: a loose pin with no installed version known (`mlflow>=3` and nothing
        // recorded) is not compared with the server, though its allowed majors could be.
        findings.push(...apiFindings(snapshot, clients), ...clientFileStores(snapshot, clients));
        return findings;
    },
};
