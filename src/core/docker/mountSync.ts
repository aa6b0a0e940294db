// Whether a running container and the host still share a bind-mounted folder. A container keeps
// the folder it was started with: if the host folder is renamed and recreated (a `git checkout`,
// a "clean" script, a restore from backup), the container goes on reading and writing the old
// one, and host clients and the server silently diverge. Only a command run inside the container
// shows its processes' view (the archive endpoints resolve the path again on the host side), so
// the probe writes uniquely named sentinels on each side and looks for them from the other.

import type Dockerode from 'dockerode';
import { randomBytes } from 'node:crypto';
import { promises as fs, type Stats } from 'node:fs';
import path from 'node:path';

import type { ContainerFacts, MountSyncResult, MountSyncVerdict } from '../model.js';
import { withDeadline } from './deadline.js';
import { execReadOnly, type ExecResult } from './exec.js';

export interface MountSyncOptions {
    /** false: only read-only checks (existence, inode, ownership); no sentinel is written. */
    allowWrites?: boolean;
    /** false: no command is run inside the container; only the host side is checked. */
    allowExec?: boolean;
    /** Deadline for each step inside the container. */
    timeoutMs?: number;
    /** The compose service, copied into the results. */
    service?: string;
    /** Only these container paths; all bind mounts otherwise. */
    destinations?: string[];
    /**
     * Compare inode numbers of the host folder and the container's view. Valid when the Engine
     * runs on this kernel (Linux); Docker Desktop shares host folders into a VM, where they differ.
     */
    compareInodes?: boolean;
}

export const SENTINEL_PREFIX = '.stack-doctor-sync-';

/** What `stat` says about a path inside the container. */
interface InsideStat {
    ino: number;
    dev: number;
    uid: number;
    gid: number;
    /** Permission bits, octal digits as `stat -c %a` prints them (`755`). */
    mode: string;
    kind: 'directory' | 'file' | 'other';
    size: number;
}

interface InsideIdentity {
    uid: number;
    gid: number;
    groups: number[];
}

type WriteOutcome = { ok: true } | { ok: false; error: string; denied: boolean };

/** A way to look at the container's filesystem through exec: its shell tools, or Python. */
interface InsideView {
    tool: 'sh' | 'python3';
    identity(): Promise<InsideIdentity | undefined>;
    stat(target: string): Promise<InsideStat | 'missing' | undefined>;
    list(dir: string): Promise<string[]>;
    /** The given paths that exist, using nothing but the shell or interpreter itself. */
    existing(paths: string[]): Promise<string[]>;
    read(file: string, maxBytes: number): Promise<string | undefined>;
    write(file: string, content: string): Promise<WriteOutcome>;
    remove(paths: string[]): Promise<void>;
}

class StepError extends Error {}

/** Runs the sync probe on the bind mounts of one container. */
export class MountSyncProbe {
    private readonly allowWrites: boolean;
    private readonly allowExec: boolean;
    private readonly timeoutMs: number;
    private readonly compareInodes: boolean;

    constructor(
        private readonly docker: Dockerode,
        private readonly options: MountSyncOptions = {},
    ) {
        this.allowWrites = options.allowWrites ?? true;
        this.allowExec = options.allowExec ?? true;
        this.timeoutMs = options.timeoutMs ?? 5000;
        this.compareInodes = options.compareInodes ?? process.platform === 'linux';
    }

    /** One result per bind mount of a gathered container, labelled with its compose service. */
    async probeContainer(facts: ContainerFacts): Promise<MountSyncResult[]> {
        return this.probe(facts.id, this.options.service ?? facts.service);
    }

    /** One result per bind mount of the container (id or name). */
    async probe(containerRef: string, service = this.options.service): Promise<MountSyncResult[]> {
        const container = this.docker.getContainer(containerRef);
        const info = await withDeadline(
            `inspecting ${containerRef}`,
            this.timeoutMs,
            (abortSignal) => container.inspect({ abortSignal }),
        );
        const name = info.Name.replace(/^\//, '');
        // The Engine lists mounts in no stable order; probe and report them by container path.
        const binds = (info.Mounts ?? [])
            .filter(
                (mount) =>
                    mount.Type === 'bind' &&
                    (!this.options.destinations ||
                        this.options.destinations.includes(mount.Destination)),
            )
            .sort((a, b) => a.Destination.localeCompare(b.Destination));
        if (binds.length === 0) return [];

        const running = info.State?.Running === true && info.State.Paused !== true;
        const view = running && this.allowExec ? await this.openView(container) : undefined;
        const identity = view ? await view.identity().catch(() => undefined) : undefined;

        const results: MountSyncResult[] = [];
        for (const mount of binds) {
            const result: MountSyncResult = {
                container: name,
                source: mount.Source,
                destination: mount.Destination,
                rw: mount.RW,
                verdict: 'error',
                evidence: [],
                cleanedUp: true,
            };
            if (service) result.service = service;
            try {
                await this.probeMount(
                    container,
                    { running, view, identity, startedAt: info.State?.StartedAt },
                    result,
                );
            } catch (error) {
                result.verdict = 'error';
                result.evidence.push(`probing ${mount.Destination} failed: ${messageOf(error)}`);
            }
            results.push(result);
        }
        return results;
    }

    private async probeMount(
        container: Dockerode.Container,
        inside: {
            running: boolean;
            view: InsideView | undefined;
            identity: InsideIdentity | undefined;
            startedAt: string | undefined;
        },
        result: MountSyncResult,
    ): Promise<void> {
        const { evidence } = result;
        const hostStat = await statOrMissing(result.source);

        if (hostStat === 'missing') {
            result.verdict = 'missing-source';
            evidence.push(`host path ${result.source} does not exist`);
            if (inside.view) {
                const seen = await inside.view.stat(result.destination).catch(() => undefined);
                if (seen && seen !== 'missing') {
                    evidence.push(
                        `inside, ${result.destination} is still there (inode ${seen.ino}): the container holds on to a folder the host no longer has`,
                    );
                }
            } else {
                evidence.push(
                    `the container is not running; starting it again creates an empty ${result.source} owned by root, or fails`,
                );
            }
            return;
        }
        if (!inside.running || !inside.view) {
            if (!inside.running) {
                result.verdict = 'skipped';
                evidence.push(
                    'the container is not running, so its view of the mount cannot be read',
                );
            } else if (!this.allowExec) {
                result.verdict = 'skipped';
                evidence.push(
                    'running commands inside containers is disabled: only the host path was checked',
                );
            } else {
                result.verdict = 'error';
                evidence.push(
                    'the container has neither a shell nor python3, so its view cannot be read',
                );
            }
            return;
        }
        const view = inside.view;
        if (!hostStat.isDirectory() && !hostStat.isFile()) {
            result.verdict = 'skipped';
            evidence.push(`${result.source} is neither a folder nor a file (a socket or device)`);
            return;
        }

        let insideStat: InsideStat | 'missing' | undefined;
        try {
            insideStat = await view.stat(result.destination);
        } catch (error) {
            result.verdict = 'error';
            evidence.push(`stat of ${result.destination} inside failed: ${messageOf(error)}`);
            return;
        }
        if (insideStat === 'missing') {
            result.verdict = 'not-syncing';
            evidence.push(
                `inside, ${result.destination} does not exist although it is a mount target`,
            );
            return;
        }

        const staleByInode = this.inodeVerdict(hostStat, insideStat, evidence);
        const bornAfterStart = createdAfter(hostStat, inside.startedAt);
        if (bornAfterStart) {
            evidence.push(
                `the host folder was created ${hostStat.birthtime.toISOString()}, after the container started ${inside.startedAt}`,
            );
        }
        const writable =
            insideStat && inside.identity ? canWrite(inside.identity, insideStat) : undefined;
        if (insideStat && inside.identity) {
            result.access = {
                uid: inside.identity.uid,
                gid: inside.identity.gid,
                ownerUid: insideStat.uid,
                ownerGid: insideStat.gid,
                mode: insideStat.mode,
            };
            evidence.push(
                `inside, ${result.destination} is owned by ${insideStat.uid}:${insideStat.gid} mode ${insideStat.mode}; the container runs as uid ${inside.identity.uid} gid ${inside.identity.gid}`,
            );
        }

        if (hostStat.isFile()) {
            await this.compareFile(view, result, staleByInode);
            return;
        }

        const systemFolder = isSystemFolder(result.source);
        if (systemFolder) {
            evidence.push(
                `${result.source} is a system folder of the host: no sentinel is written there`,
            );
        }
        if (!this.allowWrites || systemFolder) {
            result.verdict =
                staleByInode === true
                    ? 'stale'
                    : result.rw && writable === false
                      ? 'not-writable'
                      : 'skipped';
            evidence.push('writes are disabled: only ownership and inode were compared');
            return;
        }

        await this.exchangeSentinels(container, view, result, {
            staleByInode,
            bornAfterStart,
            writable,
        });
    }

    /** true: the container sees another folder than the host path; undefined: cannot tell. */
    private inodeVerdict(
        hostStat: Stats,
        insideStat: InsideStat | undefined,
        evidence: string[],
    ): boolean | undefined {
        if (!insideStat || !this.compareInodes) return undefined;
        if (insideStat.dev !== hostStat.dev) {
            evidence.push(
                `device numbers differ (host ${hostStat.dev}, inside ${insideStat.dev}): the folder is shared across machines, inodes not compared`,
            );
            return undefined;
        }
        if (insideStat.ino === hostStat.ino) return false;
        evidence.push(
            `the host path has inode ${hostStat.ino} but the container sees inode ${insideStat.ino}: it still has the folder that was there when it started`,
        );
        return true;
    }

    private async compareFile(
        view: InsideView,
        result: MountSyncResult,
        staleByInode: boolean | undefined,
    ): Promise<void> {
        const limit = 256 * 1024;
        const host = await fs.readFile(result.source).catch(() => undefined);
        const seen = await view.read(result.destination, limit).catch(() => undefined);
        const sameContent =
            host !== undefined && host.length <= limit && seen !== undefined
                ? host.toString('utf8') === seen
                : undefined;
        if (sameContent === false) {
            result.evidence.push(
                `the file's content inside differs from ${result.source} on the host`,
            );
        }
        if (staleByInode === true || sameContent === false) {
            result.verdict = 'stale';
            result.evidence.push(
                'a bind-mounted file is pinned to its inode: editors that save by replacing the file leave the container with the old one',
            );
        } else if (staleByInode === false || sameContent === true) {
            result.verdict = result.rw ? 'in-sync' : 'read-only';
            result.hostToContainer = true;
        } else {
            result.verdict = 'error';
            result.evidence.push('could neither compare inodes nor read the file inside');
        }
    }

    private async exchangeSentinels(
        container: Dockerode.Container,
        view: InsideView,
        result: MountSyncResult,
        known: {
            staleByInode: boolean | undefined;
            bornAfterStart: boolean;
            writable: boolean | undefined;
        },
    ): Promise<void> {
        const { evidence } = result;
        const hostName = sentinelName();
        const containerName = sentinelName();
        const hostFile = path.join(result.source, hostName);
        const hostViewOfContainerFile = path.join(result.source, containerName);
        const insideHostFile = joinInside(result.destination, hostName);
        const insideFile = joinInside(result.destination, containerName);
        const content = `stack-doctor sync probe ${new Date().toISOString()}; safe to delete\n`;
        let hostWritten = false;
        let containerWritten = false;
        let writeFailure: WriteOutcome | undefined;

        try {
            try {
                await fs.writeFile(hostFile, content, { flag: 'wx' });
                hostWritten = true;
                evidence.push(`wrote ${hostName} in ${result.source} on the host`);
            } catch (error) {
                evidence.push(
                    `could not write ${hostName} in ${result.source} on the host: ${messageOf(error)}`,
                );
            }

            if (result.rw) {
                writeFailure = await view.write(insideFile, content);
                if (writeFailure.ok) {
                    containerWritten = true;
                    evidence.push(
                        `wrote ${containerName} in ${result.destination} inside the container`,
                    );
                } else {
                    evidence.push(
                        `could not write ${containerName} in ${result.destination} inside the container: ${writeFailure.error}`,
                    );
                }
            }

            if (hostWritten) {
                const listing = await view.list(result.destination);
                result.hostToContainer = listing.includes(hostName);
                evidence.push(
                    result.hostToContainer
                        ? `inside, ls -a ${result.destination} shows ${hostName}`
                        : `inside, ls -a ${result.destination} does not show ${hostName} (${describeListing(listing)})`,
                );
            }
            if (containerWritten) {
                result.containerToHost = await exists(hostViewOfContainerFile);
                evidence.push(
                    result.containerToHost
                        ? `on the host, ${containerName} appeared in ${result.source}`
                        : `on the host, ${containerName} did not appear in ${result.source}`,
                );
            }

            result.verdict = judge(result, { ...known, writeFailure });
        } catch (error) {
            result.verdict = 'error';
            evidence.push(`the probe stopped half-way: ${messageOf(error)}`);
        } finally {
            result.cleanedUp = await this.removeSentinels(container, view, result, {
                hostFiles: [hostFile, hostViewOfContainerFile],
                insideFiles: [insideHostFile, insideFile],
                containerWritten,
                staleByInode: known.staleByInode,
            });
        }
    }

    /** Removes both sentinels from both sides and says whether that can be confirmed. */
    private async removeSentinels(
        container: Dockerode.Container,
        view: InsideView,
        result: MountSyncResult,
        plan: {
            hostFiles: string[];
            insideFiles: string[];
            containerWritten: boolean;
            staleByInode: boolean | undefined;
        },
    ): Promise<boolean> {
        let hostClean = true;
        let containerFileFoundOnHost = false;
        for (const [index, file] of plan.hostFiles.entries()) {
            const present = await exists(file);
            if (present && index === 1) containerFileFoundOnHost = true;
            await fs.rm(file, { force: true }).catch(() => undefined);
            if (await exists(file)) {
                hostClean = false;
                result.evidence.push(`could not remove ${file} on the host`);
            }
        }

        let insideClean: boolean;
        try {
            await view.remove(plan.insideFiles);
            insideClean = (await view.existing(plan.insideFiles)).length === 0;
            if (!insideClean)
                result.evidence.push('sentinels are still visible inside the container');
        } catch (error) {
            const running = await isRunning(container, this.timeoutMs);
            // A stopped container has no view of its own: its bind mount is the host folder again,
            // unless the folder had already been replaced (then the old one is out of reach).
            insideClean =
                !running &&
                (!plan.containerWritten ||
                    (containerFileFoundOnHost && plan.staleByInode !== true));
            if (!insideClean) {
                result.evidence.push(
                    `could not confirm the sentinels are gone inside the container: ${messageOf(error)}`,
                );
            }
        }
        return hostClean && insideClean;
    }

    /** Picks the shell if the container has one, else Python. */
    private async openView(container: Dockerode.Container): Promise<InsideView | undefined> {
        const run = (argv: string[]): Promise<ExecResult> =>
            execReadOnly(container, argv, { timeoutMs: this.timeoutMs });
        const shell = await run(['sh', '-c', 'echo stack-doctor']).catch(() => undefined);
        if (shell && shell.exitCode === 0 && shell.stdout.includes('stack-doctor')) {
            return shellView(run);
        }
        const python = await run(['python3', '-c', 'print("stack-doctor")']).catch(() => undefined);
        if (python && python.exitCode === 0 && python.stdout.includes('stack-doctor')) {
            return pythonView(run);
        }
        return undefined;
    }
}

/** The verdict from what was written and seen. */
function judge(
    result: MountSyncResult,
    known: {
        staleByInode: boolean | undefined;
        bornAfterStart: boolean;
        writable: boolean | undefined;
        writeFailure: WriteOutcome | undefined;
    },
): MountSyncVerdict {
    const h2c = result.hostToContainer;
    const c2h = result.containerToHost;
    const neither = h2c !== true && c2h !== true;
    if (known.staleByInode === true) return 'stale';
    if (neither && known.bornAfterStart && (h2c === false || c2h === false)) return 'stale';
    if (h2c === false && (c2h === false || c2h === undefined)) return 'not-syncing';
    if (result.rw && known.writeFailure && !known.writeFailure.ok) {
        return known.writeFailure.denied || known.writable === false ? 'not-writable' : 'error';
    }
    if (!result.rw) return h2c === true ? 'read-only' : 'error';
    if (h2c === true && c2h === true) return 'in-sync';
    if (h2c === true || c2h === true) {
        // Only one direction was tested (the host sentinel could not be written): judge by it.
        if (h2c === undefined || c2h === undefined) return 'in-sync';
        return 'one-way';
    }
    return 'not-syncing';
}

// Host folders the probe never writes into, whatever a container mounts: a sentinel left behind
// in them (after a crash) would be litter in the operating system.
const SYSTEM_FOLDERS = [
    '/bin',
    '/boot',
    '/dev',
    '/etc',
    '/lib',
    '/lib32',
    '/lib64',
    '/libx32',
    '/proc',
    '/run',
    '/sbin',
    '/sys',
    '/usr',
    '/var/run',
    '/var/lib/docker',
];

function isSystemFolder(source: string): boolean {
    const normal = path.posix.normalize(source);
    if (normal === '/') return true;
    return SYSTEM_FOLDERS.some((folder) => normal === folder || normal.startsWith(`${folder}/`));
}

function canWrite(identity: InsideIdentity, target: InsideStat): boolean {
    // Not yet: user namespaces (rootless Docker, userns-remap) make uid 0 inside unprivileged on the host; treated as root here.
    if (identity.uid === 0) return true;
    const mode = Number.parseInt(target.mode, 8);
    // Creating a file in a folder needs write and search permission on it.
    const need = target.kind === 'directory' ? 0o3 : 0o2;
    if (target.uid === identity.uid) return ((mode >> 6) & need) === need;
    const groups = new Set([identity.gid, ...identity.groups]);
    if (groups.has(target.gid)) return ((mode >> 3) & need) === need;
    return (mode & need) === need;
}

function createdAfter(hostStat: Stats, startedAt: string | undefined): boolean {
    if (!startedAt) return false;
    const started = Date.parse(startedAt);
    // birthtime is the epoch where the filesystem does not record it.
    const born = hostStat.birthtimeMs;
    return Number.isFinite(started) && born > 0 && born > started + 1000;
}

// ---------------------------------------------------------------------------------------------
// Looking inside

type Run = (argv: string[]) => Promise<ExecResult>;

function shellView(run: Run): InsideView {
    const must = async (argv: string[], what: string): Promise<ExecResult> => {
        const result = await run(argv);
        if (result.timedOut) throw new StepError(`${what} inside the container timed out`);
        return result;
    };
    const statScript =
        'stat -c "%i %d %u %g %a %F %s" -- "$1" 2>/dev/null || { [ -e "$1" ] || echo missing; }';
    return {
        tool: 'sh',
        async identity() {
            const result = await must(['sh', '-c', 'id -u; id -g; id -G'], 'id');
            return parseIdentity(result.stdout);
        },
        async stat(target) {
            const result = await must(['sh', '-c', statScript, 'sh', target], `stat ${target}`);
            const text = result.stdout.trim();
            if (text === 'missing') return 'missing';
            return parseStatLine(text);
        },
        async list(dir) {
            const result = await must(['ls', '-a1', dir], `ls -a ${dir}`);
            if (result.notFound) {
                // No ls: the shell's own globbing lists the folder.
                const globbed = await must(
                    [
                        'sh',
                        '-c',
                        'for f in "$1"/.* "$1"/*; do [ -e "$f" ] && echo "${f##*/}"; done',
                        'sh',
                        dir,
                    ],
                    `listing ${dir}`,
                );
                return lines(globbed.stdout);
            }
            if (result.exitCode !== 0) {
                throw new StepError(
                    `ls -a ${dir} inside failed: ${(result.stderr || result.stdout).trim()}`,
                );
            }
            return lines(result.stdout);
        },
        async existing(paths) {
            const result = await must(
                [
                    'sh',
                    '-c',
                    'for p in "$@"; do [ -e "$p" ] && echo "$p"; done; true',
                    'sh',
                    ...paths,
                ],
                'checking for sentinels',
            );
            return lines(result.stdout);
        },
        async read(file, maxBytes) {
            const result = await must(
                [
                    'sh',
                    '-c',
                    'head -c "$2" -- "$1" 2>/dev/null || cat -- "$1"',
                    'sh',
                    file,
                    String(maxBytes),
                ],
                `reading ${file}`,
            );
            return result.exitCode === 0 ? result.stdout : undefined;
        },
        async write(file, content) {
            const result = await must(
                ['sh', '-c', 'printf %s "$2" > "$1"', 'sh', file, content],
                `writing ${file}`,
            );
            if (result.exitCode === 0) return { ok: true };
            const error = (result.stderr || result.stdout).trim() || `exit code ${result.exitCode}`;
            return {
                ok: false,
                error,
                denied: /permission denied|read-only file system|operation not permitted/i.test(
                    error,
                ),
            };
        },
        async remove(paths) {
            await must(['rm', '-f', '--', ...paths], 'removing sentinels');
        },
    };
}

const PYTHON_STAT = `
import os, stat, sys
try:
    s = os.stat(sys.argv[1])
except FileNotFoundError:
    print("missing"); sys.exit(0)
kind = "directory" if stat.S_ISDIR(s.st_mode) else "regular file" if stat.S_ISREG(s.st_mode) else "other"
print(s.st_ino, s.st_dev, s.st_uid, s.st_gid, format(stat.S_IMODE(s.st_mode), "o"), kind, s.st_size)
`;

function pythonView(run: Run): InsideView {
    const py = async (script: string, args: string[], what: string): Promise<ExecResult> => {
        const result = await run(['python3', '-c', script, ...args]);
        if (result.timedOut) throw new StepError(`${what} inside the container timed out`);
        return result;
    };
    return {
        tool: 'python3',
        async identity() {
            const result = await py(
                'import os; print(os.getuid()); print(os.getgid()); print(*os.getgroups())',
                [],
                'id',
            );
            return parseIdentity(result.stdout);
        },
        async stat(target) {
            const result = await py(PYTHON_STAT, [target], `stat ${target}`);
            const text = result.stdout.trim();
            if (text === 'missing') return 'missing';
            return parseStatLine(text);
        },
        async list(dir) {
            const result = await py(
                'import os, sys; print("\\n".join(os.listdir(sys.argv[1])))',
                [dir],
                `listing ${dir}`,
            );
            if (result.exitCode !== 0)
                throw new StepError(`listing ${dir} inside failed: ${result.stderr.trim()}`);
            return lines(result.stdout);
        },
        async existing(paths) {
            const result = await py(
                'import os, sys; print("\\n".join(p for p in sys.argv[1:] if os.path.exists(p)))',
                paths,
                'checking for sentinels',
            );
            return lines(result.stdout);
        },
        async read(file, maxBytes) {
            const result = await py(
                'import sys; sys.stdout.write(open(sys.argv[1]).read(int(sys.argv[2])))',
                [file, String(maxBytes)],
                `reading ${file}`,
            );
            return result.exitCode === 0 ? result.stdout : undefined;
        },
        async write(file, content) {
            const result = await py(
                'import sys; open(sys.argv[1], "x").write(sys.argv[2])',
                [file, content],
                `writing ${file}`,
            );
            if (result.exitCode === 0) return { ok: true };
            const error = result.stderr.trim().split('\n').pop() ?? `exit code ${result.exitCode}`;
            return {
                ok: false,
                error,
                denied: /PermissionError|Read-only file system|Operation not permitted/i.test(
                    error,
                ),
            };
        },
        async remove(paths) {
            await py(
                'import os, sys\nfor p in sys.argv[1:]:\n    try: os.remove(p)\n    except FileNotFoundError: pass',
                paths,
                'removing sentinels',
            );
        },
    };
}

function parseIdentity(text: string): InsideIdentity | undefined {
    const [uid, gid, groups = ''] = text.trim().split('\n');
    const u = Number(uid);
    const g = Number(gid);
    if (!Number.isInteger(u) || !Number.isInteger(g) || uid === undefined || gid === undefined)
        return undefined;
    return {
        uid: u,
        gid: g,
        groups: groups
            .split(/\s+/)
            .filter((part) => part !== '')
            .map(Number)
            .filter(Number.isInteger),
    };
}

/** `stat -c "%i %d %u %g %a %F %s"` output; the file type may contain spaces. */
export function parseStatLine(text: string): InsideStat | undefined {
    const match = /^(\d+) (\d+) (\d+) (\d+) ([0-7]+) (.+) (\d+)$/.exec(text.trim());
    if (!match) return undefined;
    const type = match[6] ?? '';
    return {
        ino: Number(match[1]),
        dev: Number(match[2]),
        uid: Number(match[3]),
        gid: Number(match[4]),
        mode: match[5] ?? '',
        kind: type === 'directory' ? 'directory' : /regular/.test(type) ? 'file' : 'other',
        size: Number(match[7]),
    };
}

// ---------------------------------------------------------------------------------------------

function sentinelName(): string {
    return `${SENTINEL_PREFIX}${randomBytes(6).toString('hex')}`;
}

/** Container paths are POSIX whatever the host is. */
function joinInside(dir: string, name: string): string {
    return path.posix.join(dir, name);
}

async function statOrMissing(file: string): Promise<Stats | 'missing'> {
    try {
        return await fs.stat(file);
    } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
        throw error;
    }
}

async function exists(file: string): Promise<boolean> {
    try {
        await fs.lstat(file);
        return true;
    } catch {
        return false;
    }
}

async function isRunning(container: Dockerode.Container, timeoutMs: number): Promise<boolean> {
    try {
        const info = await withDeadline('inspecting the container', timeoutMs, (abortSignal) =>
            container.inspect({ abortSignal }),
        );
        return info.State?.Running === true;
    } catch {
        return false;
    }
}

function lines(text: string): string[] {
    return text
        .split('\n')
        .map((line) => line.trim())
        .filter((line) => line !== '');
}

function describeListing(listing: string[]): string {
    const entries = listing.filter((entry) => entry !== '.' && entry !== '..');
    if (entries.length === 0) return 'the folder is empty';
    const shown = entries.slice(0, 8).join(', ');
    return `it holds ${entries.length} entries: ${shown}${entries.length > 8 ? ', ...' : ''}`;
}

function messageOf(error: unknown): string {
    return error instanceof Error ? error.message : String(error);
}
