// The reference renderer: `docker compose config --format json`, where the CLI is installed. It
// needs no daemon, so it runs offline too; when it is missing, slow or fails, the built-in
// renderer stands alone. The comparison names the fields where the two renderings differ, in
// the terms of our ComposeService, so a difference can be reported or fixed.

import { execFile } from 'node:child_process';
import path from 'node:path';
import type { ComposeProject, ComposeService } from '../model.js';

/** The parts of one service in `docker compose config --format json` that we compare. */
export interface CliService {
    image?: string;
    command?: string[] | null;
    entrypoint?: string[] | null;
    environment?: Record<string, string | null>;
    ports?: { target: number; published?: string; host_ip?: string; protocol?: string }[];
    volumes?: { type: string; source?: string; target: string; read_only?: boolean }[];
    depends_on?: Record<string, { condition?: string }>;
    healthcheck?: { test?: string[]; disable?: boolean };
    user?: string;
    network_mode?: string;
}

export interface CliRendering {
    name?: string;
    services: Record<string, CliService>;
}

export type CliOutcome =
    | { ok: true; rendering: CliRendering; durationMs: number }
    | { ok: false; reason: 'unavailable' | 'failed' | 'timeout'; detail: string };

/**
 * Runs `docker compose config --format json` in `folder` with exactly `env` (plus PATH and HOME,
 * which the CLI needs to find its plugin). Never throws; a missing CLI is `unavailable`.
 */
export function renderWithComposeCli(
    folder: string,
    env: Record<string, string | undefined>,
    timeoutMs: number,
): Promise<CliOutcome> {
    const started = Date.now();
    const childEnv: Record<string, string> = {};
    for (const [k, v] of Object.entries(env)) if (v !== undefined) childEnv[k] = v;
    for (const k of ['PATH', 'HOME', 'DOCKER_CONFIG'] as const) {
        const v = process.env[k];
        if (childEnv[k] === undefined && v !== undefined) childEnv[k] = v;
    }
    return new Promise((resolve) => {
        execFile(
            'docker',
            ['compose', 'config', '--format', 'json', '--no-interpolate=false'],
            {
                cwd: path.resolve(folder),
                env: childEnv,
                timeout: timeoutMs,
                killSignal: 'SIGKILL',
                maxBuffer: 8 * 1024 * 1024,
                windowsHide: true,
            },
            (error, stdout, stderr) => {
                const durationMs = Date.now() - started;
                if (error) {
                    const code = (error as NodeJS.ErrnoException).code;
                    if (
                        code === 'ENOENT' ||
                        /is not a docker command|unknown command/i.test(stderr)
                    )
                        return resolve({
                            ok: false,
                            reason: 'unavailable',
                            detail: 'the docker compose CLI is not installed',
                        });
                    if (error.killed || error.signal === 'SIGKILL')
                        return resolve({
                            ok: false,
                            reason: 'timeout',
                            detail: `docker compose config gave no answer within ${timeoutMs} ms`,
                        });
                    return resolve({
                        ok: false,
                        reason: 'failed',
                        detail: (stderr || error.message).trim().slice(0, 500),
                    });
                }
                try {
                    const parsed = JSON.parse(stdout) as CliRendering;
                    resolve({
                        ok: true,
                        rendering: { name: parsed.name, services: parsed.services ?? {} },
                        durationMs,
                    });
                } catch (e) {
                    resolve({
                        ok: false,
                        reason: 'failed',
                        detail: `docker compose config printed no JSON: ${(e as Error).message}`,
                    });
                }
            },
        );
    });
}

export interface RenderDifference {
    service: string;
    field: string;
    ours: string;
    cli: string;
}

const show = (v: unknown) => JSON.stringify(v ?? null);

function portsOf(ports: ComposeService['ports']): string[] {
    return ports
        .map((p) => `${p.hostIp ?? ''}|${p.published ?? ''}|${p.target}/${p.protocol}`)
        .sort();
}

function cliPortsOf(ports: CliService['ports']): string[] {
    return (ports ?? [])
        .map((p) => `${p.host_ip ?? ''}|${p.published ?? ''}|${p.target}/${p.protocol ?? 'tcp'}`)
        .sort();
}

function volumesOf(service: ComposeService): string[] {
    return service.volumes
        .map(
            (v) =>
                `${v.type}|${(v.type === 'bind' ? v.hostPath : v.source) ?? ''}|${v.target}|${v.readOnly}`,
        )
        .sort();
}

function cliVolumesOf(volumes: CliService['volumes']): string[] {
    return (volumes ?? [])
        .map((v) => `${v.type}|${v.source ?? ''}|${v.target}|${v.read_only === true}`)
        .sort();
}

/** The healthcheck test as Compose prints it: `NONE` for a disabled one. */
function healthOf(service: ComposeService): string[] | undefined {
    if (!service.healthcheck) return undefined;
    if (service.healthcheck.disable) return ['NONE'];
    return service.healthcheck.test;
}

function cliHealthOf(service: CliService): string[] | undefined {
    if (!service.healthcheck) return undefined;
    if (service.healthcheck.disable) return ['NONE'];
    return service.healthcheck.test;
}

/**
 * Where our rendering and the CLI's differ, field by field: image, command and entrypoint argv,
 * environment, ports, volumes, depends_on conditions, healthcheck test, user and network_mode.
 */
export function compareRenderings(
    ours: ComposeProject,
    rendered: CliRendering,
): RenderDifference[] {
    const differences: RenderDifference[] = [];
    const cli = unescapeDollars(rendered);
    const names = new Set([...ours.services.map((s) => s.name), ...Object.keys(cli.services)]);
    for (const name of [...names].sort()) {
        const mine = ours.services.find((s) => s.name === name);
        const theirs = cli.services[name];
        if (!mine || !theirs) {
            differences.push({
                service: name,
                field: 'service',
                ours: mine ? 'present' : 'absent',
                cli: theirs ? 'present' : 'absent',
            });
            continue;
        }
        const pairs: [string, unknown, unknown][] = [
            ['image', mine.image, theirs.image],
            ['command', mine.command, theirs.command ?? undefined],
            ['entrypoint', mine.entrypoint, theirs.entrypoint ?? undefined],
            ['environment', sortKeys(mine.environment), sortKeys(theirs.environment ?? {})],
            ['ports', portsOf(mine.ports), cliPortsOf(theirs.ports)],
            ['volumes', volumesOf(mine), cliVolumesOf(theirs.volumes)],
            [
                'depends_on',
                mine.dependsOn.map((d) => `${d.service}:${d.condition}`).sort(),
                Object.entries(theirs.depends_on ?? {})
                    .map(([s, d]) => `${s}:${d.condition ?? 'service_started'}`)
                    .sort(),
            ],
            ['healthcheck.test', healthOf(mine), cliHealthOf(theirs)],
            ['user', mine.user, theirs.user],
            ['network_mode', mine.networkMode, theirs.network_mode],
        ];
        for (const [field, a, b] of pairs) {
            if (show(a) !== show(b))
                differences.push({ service: name, field, ours: show(a), cli: show(b) });
        }
    }
    return differences;
}

function sortKeys(record: Record<string, string | null>): Record<string, string | null> {
    return Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b)));
}

/**
 * `docker compose config` prints a compose file, so it writes every `$` that reaches the
 * container as `$$`; undone here to compare with what the container gets.
 */
function unescapeDollars<T>(value: T): T {
    if (typeof value === 'string') return value.replace(/\$\$/g, '$') as T;
    if (Array.isArray(value)) return value.map(unescapeDollars) as T;
    if (value && typeof value === 'object')
        return Object.fromEntries(
            Object.entries(value).map(([k, v]) => [k, unescapeDollars(v)]),
        ) as T;
    return value;
}

/**
 * Takes the CLI's word for the fields a container is started with (image, command, entrypoint,
 * environment, user, network_mode) where the two renderings differ, keeping our source ranges.
 * Returns every difference found, adopted or not.
 */
export function adoptCliRendering(
    project: ComposeProject,
    rendered: CliRendering,
): RenderDifference[] {
    const differences = compareRenderings(project, rendered);
    const cli = unescapeDollars(rendered);
    for (const service of project.services) {
        const theirs = cli.services[service.name];
        if (!theirs) continue;
        const differs = (field: string) =>
            differences.some((d) => d.service === service.name && d.field === field);
        if (differs('image')) service.image = theirs.image;
        if (differs('command')) service.command = theirs.command ?? undefined;
        if (differs('entrypoint')) service.entrypoint = theirs.entrypoint ?? undefined;
        if (differs('environment')) service.environment = { ...(theirs.environment ?? {}) };
        if (differs('user')) service.user = theirs.user;
        if (differs('network_mode')) service.networkMode = theirs.network_mode;
    }
    // Not yet: ports, volumes, depends_on and healthchecks stay as we rendered them when the CLI
    // disagrees; the difference is only recorded.
    return differences;
}
