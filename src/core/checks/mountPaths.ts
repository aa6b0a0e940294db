// Bind-mount paths that cannot work, read from the files: Windows and WSL paths where Docker
// needs the other kind (compose volumes, MLproject `docker_env` volumes, `docker run -v` lines),
// MLflow Projects' artifact mount on Windows, one store mounted at different container paths
// while its records hold absolute paths, and a host path given to a server in a container.

import path from 'node:path';
import { parseShortVolume } from '../compose/volumes.js';
import { parseTrackingUri } from '../mlflow/trackingUri.js';
import type {
    ComposeVolume,
    Finding,
    FindingLocation,
    ServerConfig,
    Severity,
    StackSnapshot,
} from '../model.js';
import { readMlproject, type MlprojectFile } from '../workspace/mlproject.js';
import { type Check, composeLocation, locateText, makeFinding } from './check.js';
import { composeService, containerOf } from './stackFacts.js';

export type HostPathStyle =
    | 'windows-drive'
    | 'windows-unc'
    | 'wsl-drive'
    | 'docker-desktop-host'
    | 'git-bash-drive'
    | 'posix'
    | 'relative';

/** What kind of path a bind source or target is, as the shells and Docker on each OS read it. */
export function hostPathStyle(p: string): HostPathStyle {
    if (/^[a-z]:([\\/]|$)/i.test(p)) return 'windows-drive';
    if (p.startsWith('\\\\')) return 'windows-unc';
    if (/^\/mnt\/[a-z](\/|$)/i.test(p)) return 'wsl-drive';
    if (/^\/run\/desktop\/mnt\/host\/[a-z](\/|$)/i.test(p)) return 'docker-desktop-host';
    if (/^\/\/[a-z]\//i.test(p)) return 'git-bash-drive';
    return p.startsWith('/') ? 'posix' : 'relative';
}

/** `C:\Users\u\proj` → `/mnt/c/Users/u/proj`, the same folder as WSL sees it. */
export function wslPathOf(windowsPath: string): string | undefined {
    const m = /^([a-z]):[\\/]?(.*)$/i.exec(windowsPath);
    if (!m) return undefined;
    const rest = (m[2] ?? '').replace(/\\/g, '/').replace(/\/+$/, '');
    return `/mnt/${(m[1] ?? '').toLowerCase()}${rest ? `/${rest}` : ''}`;
}

interface PathProblem {
    severity: Severity;
    why: string;
    fix: string;
}

/** Why a container-side mount path is invalid, if it is. */
function targetProblem(target: string): PathProblem | undefined {
    const style = hostPathStyle(target);
    if (style === 'windows-drive' || style === 'windows-unc' || target.includes('\\')) {
        return {
            severity: 'error',
            why:
                `the container path ${target} is a Windows path, but the container is Linux: Docker reads the ` +
                `":" after the drive letter as the start of the mount mode ("invalid mode" / "invalid volume specification")`,
            fix: 'Mount at a Linux path inside the container, for example /data or /mlruns.',
        };
    }
    if (style === 'relative') {
        return {
            severity: 'error',
            why: `the container path ${target} is relative; Docker needs an absolute container path`,
            fix: `Mount at an absolute container path (/${target.replace(/^\.\//, '')}).`,
        };
    }
    return undefined;
}

/** Why a host-side bind source will not name the intended folder on `os`, if it will not. */
function sourceProblem(source: string, os: StackSnapshot['host']['os']): PathProblem | undefined {
    const style = hostPathStyle(source);
    if ((style === 'windows-drive' || style === 'windows-unc') && os !== 'windows') {
        const wsl = wslPathOf(source);
        return {
            severity: 'error',
            why: `${source} is a Windows path, but Docker runs on ${os === 'macos' ? 'macOS' : 'Linux'} here: the folder does not exist there`,
            fix:
                `Use a relative path (./<folder>) so the file works everywhere` +
                (wsl ? `, or from WSL the same folder as ${wsl}` : '') +
                '.',
        };
    }
    if (style === 'wsl-drive' && os === 'windows') {
        return {
            severity: 'warning',
            why:
                `${source} is how WSL sees a Windows drive; run from PowerShell or cmd, Docker Desktop does not ` +
                `translate it and mounts an empty folder instead. Even from WSL, bind mounts of /mnt/<drive> are slow and miss file changes`,
            fix: 'Use a relative path (./<folder>) or keep the project in the WSL filesystem (~/proj) and run docker from WSL.',
        };
    }
    if (style === 'docker-desktop-host') {
        return {
            severity: os === 'windows' ? 'info' : 'warning',
            why: `${source} is Docker Desktop's internal view of a Windows drive: it exists only inside Docker Desktop's VM with the WSL 2 backend`,
            fix: 'Use a relative path (./<folder>) or the Windows path (C:\\...) instead.',
        };
    }
    if (style === 'git-bash-drive') {
        return {
            severity: 'warning',
            why: `${source} is Git Bash's spelling of a Windows drive; Compose, PowerShell and WSL do not translate it`,
            fix: 'Use a relative path (./<folder>) or the Windows path (C:/...) instead.',
        };
    }
    if (os !== 'windows' && style === 'relative' && source.includes('\\')) {
        return {
            severity: 'warning',
            why: `${source} uses backslashes, which are not path separators on ${os === 'macos' ? 'macOS' : 'Linux'}: Docker mounts a folder with a backslash in its name`,
            fix: `Write it with forward slashes: ${source.replace(/\\/g, '/')}.`,
        };
    }
    return undefined;
}

function problemsOf(
    source: string | undefined,
    target: string | undefined,
    os: StackSnapshot['host']['os'],
): PathProblem[] {
    return [
        ...(target !== undefined ? [targetProblem(target)] : []),
        ...(source !== undefined ? [sourceProblem(source, os)] : []),
    ].filter((p): p is PathProblem => p !== undefined);
}

function worst(problems: PathProblem[]): Severity {
    const order: Severity[] = ['error', 'warning', 'info'];
    return order.find((s) => problems.some((p) => p.severity === s)) ?? 'info';
}

// ---------------------------------------------------------------------------------------------
// Compose volumes

function composeVolumeFindings(snapshot: StackSnapshot): Finding[] {
    const findings: Finding[] = [];
    for (const service of snapshot.compose?.services ?? []) {
        for (const volume of service.volumes) {
            const source = volume.type === 'bind' ? volume.source : undefined;
            const problems = problemsOf(source, volume.target, snapshot.host.os);
            if (problems.length === 0) continue;
            const at = composeLocation(snapshot, volume.key);
            findings.push(
                makeFinding(volume.key, {
                    kind: 'mount-path',
                    severity: worst(problems),
                    title: `The volume ${source ? `${source}:` : ''}${volume.target} of "${service.name}" does not work on ${hostName(snapshot.host.os)}`,
                    evidence: [
                        `${at?.file ?? 'the compose file'} mounts ${source ?? 'a volume'} at ${volume.target} in "${service.name}".`,
                        ...problems.map((p) => `${capitalize(p.why)}.`),
                    ],
                    fix: problems.map((p) => p.fix).join(' '),
                    locations: at ? [at] : [],
                    service: service.name,
                }),
            );
        }
    }
    return findings;
}

// ---------------------------------------------------------------------------------------------
// MLflow Projects

/** The `-v` and `--mount type=bind` volumes of `docker run` lines in a text. */
export function dockerRunVolumes(
    text: string,
): { spec: string; source?: string; target?: string }[] {
    const found: { spec: string; source?: string; target?: string }[] = [];
    for (const line of text.split(/\r?\n/)) {
        const at = line.search(/\bdocker(?:\.exe)?\s+(?:container\s+)?(?:run|create)\b/);
        if (at < 0) continue;
        // Split on blanks but keep backslashes: these lines are often Windows commands.
        const words = line.slice(at).match(/"[^"]*"|'[^']*'|\S+/g) ?? [];
        const unquote = (w: string) => w.replace(/^(["'])(.*)\1$/, '$2');
        for (let i = 0; i < words.length; i++) {
            const word = unquote(words[i] ?? '');
            let spec: string | undefined;
            if (word === '-v' || word === '--volume') spec = unquote(words[++i] ?? '');
            else if (/^--volume=/.test(word)) spec = word.slice('--volume='.length);
            else if (/^-v\S/.test(word)) spec = word.slice(2);
            if (spec !== undefined) {
                const parsed = parseShortVolume(spec);
                found.push({ spec, source: parsed.source, target: parsed.target });
                continue;
            }
            const mount =
                word === '--mount' ? unquote(words[++i] ?? '') : /^--mount=(.*)$/.exec(word)?.[1];
            if (mount !== undefined) {
                const fields = new Map(
                    mount.split(',').map((kv) => {
                        const eq = kv.indexOf('=');
                        return [kv.slice(0, eq).trim(), kv.slice(eq + 1).trim()] as [
                            string,
                            string,
                        ];
                    }),
                );
                if ((fields.get('type') ?? 'volume') !== 'bind') continue;
                found.push({
                    spec: mount,
                    source: fields.get('source') ?? fields.get('src'),
                    target: fields.get('target') ?? fields.get('destination') ?? fields.get('dst'),
                });
            }
        }
    }
    return found;
}

function mlprojectOf(snapshot: StackSnapshot): MlprojectFile | undefined {
    const text = snapshot.files?.MLproject;
    return text === undefined ? undefined : readMlproject(text, 'MLproject');
}

function mlprojectLocation(project: MlprojectFile, key: string): FindingLocation | undefined {
    const range = project.ranges[key];
    return range ? { ...range, key } : undefined;
}

/** The host shell's MLFLOW_TRACKING_URI, where the snapshot knows it. */
function hostTrackingUri(snapshot: StackSnapshot): string | undefined {
    const variable = snapshot.compose?.variables.MLFLOW_TRACKING_URI;
    if (variable?.from === 'environment') return variable.value;
    return undefined;
}

/**
 * `mlflow run` with `docker_env` and a local tracking store mounts the run's artifact folder at
 * the same path in the container (`-v <dir>:<dir>`). On Windows that path starts with a drive
 * letter, which is not a Linux path, and Docker reads its colon as the mount mode.
 */
function projectFindings(snapshot: StackSnapshot): Finding[] {
    const project = mlprojectOf(snapshot);
    if (!project?.dockerEnv) return [];
    const findings: Finding[] = [];
    const os = snapshot.host.os;

    for (const volume of project.dockerEnv.volumes) {
        const parsed = parseShortVolume(volume.spec);
        const problems = problemsOf(
            parsed.type === 'bind' ? parsed.source : undefined,
            parsed.target,
            os,
        );
        if (problems.length === 0) continue;
        const at = mlprojectLocation(project, volume.key);
        findings.push(
            makeFinding(`MLproject:${volume.key}`, {
                kind: 'mount-path',
                severity: worst(problems),
                title: `The docker_env volume ${volume.spec} in MLproject does not work on ${hostName(os)}`,
                evidence: [
                    `MLproject docker_env.volumes lists ${volume.spec}.`,
                    ...problems.map((p) => `${capitalize(p.why)}.`),
                ],
                fix: problems.map((p) => p.fix).join(' '),
                locations: at ? [at] : [],
            }),
        );
    }

    // What `mlflow run` did, when its output was recorded.
    const runLines = Object.entries(snapshot.recorded?.commandLogs ?? {}).flatMap(
        ([, lines]) => lines,
    );
    const badMounts = runLines
        .flatMap((line) =>
            dockerRunVolumes(line.replace(/^.*?Running command '/, '').replace(/' in run .*$/, '')),
        )
        .filter((v) => v.target !== undefined && targetProblem(v.target));
    const daemonErrors = runLines.filter((l) => /invalid (mode|volume specification)/i.test(l));
    const windowsStore = snapshot.fileStores.some((store) =>
        (store.experimentLocations ?? []).some((e) =>
            /^(file:\/{0,3})?[a-z]:[\\/]/i.test(e.artifactLocation ?? ''),
        ),
    );
    const uri = hostTrackingUri(snapshot);
    const remoteTracking = uri !== undefined && /^https?:/i.test(uri);
    if (os === 'windows' && !remoteTracking) {
        const observed = badMounts.length > 0 || daemonErrors.length > 0 || windowsStore;
        const at = mlprojectLocation(project, 'docker_env');
        findings.push(
            makeFinding('MLproject:docker_env:windows-artifact-mount', {
                kind: 'mount-path',
                severity: observed ? 'error' : 'warning',
                title: 'mlflow run with docker_env on Windows mounts the artifact folder at a Windows path inside the container',
                evidence: [
                    'MLproject uses docker_env, and no HTTP tracking server is set for `mlflow run` (the local ./mlruns store is used).',
                    "With a local store, MLflow Projects mounts each run's artifact folder at the same path in the container: `-v C:\\...\\artifacts:C:\\...\\artifacts`.",
                    'On Windows that container path starts with a drive letter; Docker reads the colon as the mount mode and refuses the volume.',
                    ...badMounts
                        .slice(0, 2)
                        .map(
                            (v) =>
                                `The recorded docker run mounts ${v.source ?? '?'} at ${v.target}.`,
                        ),
                    ...daemonErrors.slice(0, 1).map((l) => `Docker answered: ${l.trim()}`),
                    ...(windowsStore
                        ? [
                              'The store records Windows artifact locations (file:///C:/...): it was written by `mlflow run` on Windows. That is normal, not corruption.',
                          ]
                        : []),
                ],
                fix:
                    'Run the project against a tracking server so no artifact folder is bind-mounted: start one ' +
                    '(`mlflow server --host 0.0.0.0 --port 5000`) and set `MLFLOW_TRACKING_URI=http://host.docker.internal:5000` ' +
                    'in the shell that runs `mlflow run`. Or run `mlflow run` inside WSL 2 from the Linux filesystem (~/proj), where the paths are Linux paths.',
                locations: at ? [at] : [],
            }),
        );
    }
    return findings;
}

/** `docker run -v` lines in the shell scripts a user keeps beside the project. */
function scriptFindings(snapshot: StackSnapshot): Finding[] {
    const findings: Finding[] = [];
    for (const [file, text] of Object.entries(snapshot.files ?? {})) {
        if (!/\.(sh|ps1|bat|cmd)$/i.test(file)) continue;
        for (const volume of dockerRunVolumes(text)) {
            const problems = problemsOf(volume.source, volume.target, snapshot.host.os);
            if (problems.length === 0) continue;
            const at = locateText(snapshot, file, volume.spec);
            findings.push(
                makeFinding(`${file}:${volume.spec}`, {
                    kind: 'mount-path',
                    severity: worst(problems),
                    title: `The docker run volume ${volume.spec} in ${file} does not work on ${hostName(snapshot.host.os)}`,
                    evidence: [
                        `${file}${at ? `:${at.line}` : ''} runs docker with -v ${volume.spec}.`,
                        ...problems.map((p) => `${capitalize(p.why)}.`),
                    ],
                    fix: problems.map((p) => p.fix).join(' '),
                    locations: at ? [at] : [],
                }),
            );
        }
    }
    return findings;
}

// ---------------------------------------------------------------------------------------------
// One folder, several container paths

const trim = (p: string) => (p.length > 1 ? p.replace(/[\\/]+$/, '') : p);

function isUnder(p: string, base: string): boolean {
    const a = trim(p);
    const b = trim(base);
    return a === b || a.startsWith(b === '/' ? '/' : `${b}/`);
}

/** The absolute path a local artifact URI or path names, when it is absolute. */
function absolutePathOf(uri: string | undefined): string | undefined {
    if (!uri) return undefined;
    const parsed = parseTrackingUri(uri);
    if (parsed.scheme !== 'file' && parsed.scheme !== 'path') return undefined;
    const p = parsed.path ?? '';
    return p.startsWith('/') ? trim(p) : undefined;
}

/**
 * Where a host folder is inside `service`'s container: the target of the bind that holds it
 * (from the compose file, else the live container), with the rest of the path appended.
 */
export function containerPathOf(
    snapshot: StackSnapshot,
    service: string,
    hostPath: string,
): { containerPath: string; source: string; target: string; key?: string } | undefined {
    const binds: { source: string; target: string; key?: string }[] = [
        ...(composeService(snapshot, service)?.volumes ?? [])
            .filter(
                (v): v is ComposeVolume & { hostPath: string } => v.type === 'bind' && !!v.hostPath,
            )
            .map((v) => ({ source: v.hostPath, target: v.target, key: v.key })),
        ...(containerOf(snapshot, service)?.mounts ?? [])
            .filter((m) => m.type === 'bind')
            .map((m) => ({ source: m.source, target: m.destination })),
    ];
    for (const bind of binds) {
        if (!isUnder(hostPath, bind.source)) continue;
        const rest = path.posix.relative(trim(bind.source), trim(hostPath));
        return {
            containerPath: rest ? path.posix.join(bind.target, rest) : trim(bind.target),
            ...bind,
        };
    }
    return undefined;
}

/**
 * For an absolute path a service is configured with that no mount of its container holds but a
 * bind source does: the host folder and what the container calls it. Undefined otherwise.
 */
export function hostPathSeenInside(
    snapshot: StackSnapshot,
    service: string,
    uri: string | undefined,
):
    | { hostPath: string; containerPath: string; source: string; target: string; key?: string }
    | undefined {
    const root = absolutePathOf(uri);
    if (!root) return undefined;
    if (mountTargets(snapshot, service).some((t) => isUnder(root, t))) return undefined;
    const inside = containerPathOf(snapshot, service, root);
    return inside ? { hostPath: root, ...inside } : undefined;
}

function mountTargets(snapshot: StackSnapshot, service: string): string[] {
    return [
        ...(composeService(snapshot, service)?.volumes ?? []).map((v) => v.target),
        ...(containerOf(snapshot, service)?.mounts ?? []).map((m) => m.destination),
    ];
}

/** A server in a container given a host path as its artifact root (a path only the host has). */
function hostPathRoots(snapshot: StackSnapshot, config: ServerConfig): Finding[] {
    const findings: Finding[] = [];
    const roots: { flag: string; uri?: string }[] = [
        { flag: '--default-artifact-root', uri: config.defaultArtifactRoot },
        { flag: '--artifacts-destination', uri: config.artifactsDestination },
    ];
    for (const { flag, uri } of roots) {
        const inside = hostPathSeenInside(snapshot, config.service, uri);
        if (!inside) continue;
        const root = inside.hostPath;
        const at =
            (inside.key ? composeLocation(snapshot, inside.key) : undefined) ??
            composeLocation(snapshot, `services.${config.service}`);
        findings.push(
            makeFinding(`${config.service}:${flag}:host-path`, {
                kind: 'mount-path',
                severity: 'warning',
                title: `${flag} ${root} is a host path; inside "${config.service}" that folder is ${inside.containerPath}`,
                evidence: [
                    `"${config.service}" runs in a container with ${flag} ${uri}.`,
                    `${inside.source} is mounted at ${inside.target}, so the container knows the folder as ${inside.containerPath}; ${root} does not exist inside it.`,
                    'Host clients write artifacts under the host path, and the server (and its UI) looks for them at a path it does not have.',
                ],
                fix:
                    `Give the server its own view of the folder: --artifacts-destination ${inside.containerPath} with artifact proxying on, ` +
                    `so clients stream artifacts over HTTP. Or mount the folder at the identical path (${inside.source}:${inside.source}) ` +
                    'so both sides mean the same folder by the same path.',
                locations: at ? [{ ...at, key: at.key ?? `services.${config.service}` }] : [],
                service: config.service,
            }),
        );
    }
    return findings;
}

/**
 * One host folder mounted at different container paths by different services, while something
 * records absolute paths under one of them: the other containers cannot open those paths.
 */
function divergentMountTargets(snapshot: StackSnapshot): Finding[] {
    const byHost = new Map<string, { service: string; volume: ComposeVolume }[]>();
    for (const service of snapshot.compose?.services ?? []) {
        for (const volume of service.volumes) {
            if (volume.type !== 'bind' || !volume.hostPath) continue;
            const list = byHost.get(trim(volume.hostPath)) ?? [];
            list.push({ service: service.name, volume });
            byHost.set(trim(volume.hostPath), list);
        }
    }
    const recordedPaths = [
        ...snapshot.fileStores.flatMap((s) =>
            (s.experimentLocations ?? []).map((e) => ({
                path: absolutePathOf(e.artifactLocation),
                what: `${e.file} records artifact_location ${e.artifactLocation}`,
            })),
        ),
        ...snapshot.serverConfigs.flatMap((c) =>
            [c.defaultArtifactRoot, c.backendStoreUri].map((uri) => ({
                path: absolutePathOf(uri),
                what: `"${c.service}" is configured with ${uri}`,
            })),
        ),
        ...snapshot.servers.flatMap((p) =>
            (p.runArtifactUris ?? []).map((r) => ({
                path: absolutePathOf(r.artifactUri),
                what: `run ${r.runId} has artifact_uri ${r.artifactUri}`,
            })),
        ),
    ].filter((r): r is { path: string; what: string } => r.path !== undefined);

    const findings: Finding[] = [];
    for (const [hostPath, mounts] of byHost) {
        const targets = new Set(mounts.map((m) => trim(m.volume.target)));
        if (targets.size < 2) continue;
        for (const target of targets) {
            const evidence = recordedPaths.filter((r) => isUnder(r.path, target));
            if (evidence.length === 0) continue;
            const writers = mounts.filter((m) => trim(m.volume.target) === target);
            const others = mounts.filter((m) => trim(m.volume.target) !== target);
            const locations = others
                .map((m) => composeLocation(snapshot, m.volume.key))
                .filter((l): l is FindingLocation => l !== undefined);
            findings.push(
                makeFinding(`${hostPath}:${target}`, {
                    kind: 'mount-path',
                    severity: 'warning',
                    title: `${hostPath} is mounted at ${target} in ${names(writers)} but at ${[...new Set(others.map((m) => m.volume.target))].join(', ')} in ${names(others)}`,
                    evidence: [
                        ...mounts.map(
                            (m) =>
                                `"${m.service}" mounts ${m.volume.source ?? hostPath} at ${m.volume.target}.`,
                        ),
                        ...evidence
                            .slice(0, 3)
                            .map(
                                (r) =>
                                    `${capitalize(r.what)}: an absolute path as ${target} sees it.`,
                            ),
                        `In ${names(others)} those paths do not exist, so artifacts recorded there cannot be read or listed.`,
                    ],
                    fix:
                        `Mount ${hostPath} at the same container path (${target}) in every service, or serve artifacts through ` +
                        'the tracking server (--artifacts-destination) so records hold mlflow-artifacts:/ URIs instead of paths.',
                    locations,
                    service: others[0]?.service,
                }),
            );
        }
    }
    return findings;
}

function names(mounts: { service: string }[]): string {
    return [...new Set(mounts.map((m) => `"${m.service}"`))].join(', ');
}

function hostName(os: StackSnapshot['host']['os']): string {
    return os === 'windows' ? 'Windows' : os === 'macos' ? 'macOS' : 'Linux';
}

function capitalize(text: string): string {
    return text.charAt(0).toUpperCase() + text.slice(1);
}

export const mountPathsCheck: Check = {
    name: 'mount-paths',
    run(snapshot) {
        return [
            ...composeVolumeFindings(snapshot),
            ...projectFindings(snapshot),
            ...scriptFindings(snapshot),
            ...snapshot.serverConfigs.flatMap((c) => hostPathRoots(snapshot, c)),
            ...divergentMountTargets(snapshot),
        ];
    },
};
