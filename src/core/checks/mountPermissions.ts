// Bind mounts the container's user cannot write: Linux keeps numeric owners across bind mounts,
// so a host folder owned by root (Docker creates missing bind sources as root:root 755) is
// read-only to an image that switches to `USER 1000`. Proven from recorded or inspected facts
// (the container user, `id` output inside it, the host folder's owner and mode); from files
// alone only MLflow Projects' Docker environment is warned about.

import type { ContainerFacts, Finding, FindingLocation, StackSnapshot } from '../model.js';
import { readMlproject } from '../workspace/mlproject.js';
import { type Check, composeLocation, locateText, makeFinding } from './check.js';

interface ContainerUser {
    uid?: number;
    gid?: number;
    /** The name or spec as configured (`user`, `1000:1000`). */
    written: string;
    /** Where the numbers came from, for evidence. */
    from: string;
}

/** Mode `755`, `0755`, `drwxr-xr-x` → the permission bits, or undefined when unreadable. */
export function permissionBits(mode: string): number | undefined {
    const m = mode.trim();
    if (/^[0-7]{3,4}$/.test(m)) return parseInt(m.slice(-3), 8);
    const symbolic = /^[-dlbcps]?([-r][-w][-xsStT]){3}$/.exec(m);
    if (!symbolic) return undefined;
    const bits = m.slice(-9);
    let value = 0;
    for (let i = 0; i < 9; i++)
        if (bits[i] !== '-' && !'ST'.includes(bits[i] ?? '')) value |= 1 << (8 - i);
    return value;
}

/** Can `user` create files in a folder with this owner and mode? undefined when it cannot tell. */
export function canWrite(
    user: { uid: number; gid?: number },
    owner: { uid: number; gid: number },
    bits: number,
): boolean | undefined {
    if (user.uid === 0) return true;
    const writeExec = (shift: number) => ((bits >> shift) & 0o3) === 0o3;
    if (user.uid === owner.uid) return writeExec(6);
    if (user.gid === undefined) {
        // Without the gid, only a verdict both group answers agree on is safe.
        return writeExec(3) === writeExec(0) ? writeExec(0) : undefined;
    }
    if (user.gid === owner.gid) return writeExec(3);
    return writeExec(0);
}

/** `id` / `id -u` / `id -g` output recorded for a container. */
function execIds(snapshot: StackSnapshot, container: ContainerFacts): Partial<ContainerUser> {
    const mine = (snapshot.recorded?.exec ?? []).filter((e) => {
        const where = e.where.replace(/^container:/, '');
        return (
            e.where.startsWith('container:') &&
            (where === container.name || where === container.service)
        );
    });
    const found: Partial<ContainerUser> = {};
    for (const e of mine) {
        const out = e.stdout.trim();
        const full = /uid=(\d+)(?:\([^)]*\))?\s+gid=(\d+)/.exec(out);
        if (full) {
            found.uid = Number(full[1]);
            found.gid = Number(full[2]);
        } else if (/^id\s+-u\b/.test(e.command.trim()) && /^\d+$/.test(out)) {
            found.uid = Number(out);
        } else if (/^id\s+-g\b/.test(e.command.trim()) && /^\d+$/.test(out)) {
            found.gid = Number(out);
        }
        if (found.uid !== undefined) found.from = `\`${e.command}\` in ${container.name}`;
    }
    return found;
}

/** `RUN useradd --uid 1000 user` and `USER user` lines: the numeric id a user name gets. */
function dockerfileUid(text: string | undefined, name: string): number | undefined {
    if (!text) return undefined;
    const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const add = new RegExp(
        `\\b(?:useradd|adduser)\\b[^\\n]*?(?:-u|--uid)[ =](\\d+)[^\\n]*\\b${escaped}\\b`,
    ).exec(text);
    return add ? Number(add[1]) : undefined;
}

function userOf(snapshot: StackSnapshot, container: ContainerFacts): ContainerUser | undefined {
    const written = container.user?.trim();
    const ids = execIds(snapshot, container);
    if (!written && ids.uid === undefined) return undefined;
    const spec = /^(\d+)(?::(\d+))?$/.exec(written ?? '');
    if (spec) {
        return {
            uid: Number(spec[1]),
            gid: spec[2] !== undefined ? Number(spec[2]) : ids.gid,
            written: written ?? '',
            from: 'the container configuration (Config.User)',
        };
    }
    if (ids.uid !== undefined) {
        return {
            uid: ids.uid,
            gid: ids.gid,
            written: written ?? String(ids.uid),
            from: ids.from ?? 'id',
        };
    }
    if (written === 'root') return { uid: 0, gid: 0, written, from: 'Config.User' };
    const uid = dockerfileUid(snapshot.files?.Dockerfile, written ?? '');
    return uid !== undefined
        ? { uid, written: written ?? '', from: 'the Dockerfile that creates the user' }
        : { written: written ?? '', from: 'Config.User' };
}

function locationsFor(
    snapshot: StackSnapshot,
    container: ContainerFacts,
    destination: string,
): FindingLocation[] {
    const service = snapshot.compose?.services.find((s) => s.name === container.service);
    const volume = service?.volumes.find(
        (v) => v.target.replace(/\/+$/, '') === destination.replace(/\/+$/, ''),
    );
    const onVolume = volume ? composeLocation(snapshot, volume.key) : undefined;
    if (onVolume) return [onVolume];
    const userKey = service
        ? composeLocation(snapshot, `services.${service.name}.user`)
        : undefined;
    if (userKey) return [userKey];
    const userLine = container.user
        ? locateText(snapshot, 'Dockerfile', `USER ${container.user}`)
        : undefined;
    return userLine ? [{ ...userLine, key: 'USER' }] : [];
}

function recordedFindings(snapshot: StackSnapshot): Finding[] {
    const findings: Finding[] = [];
    const stats = snapshot.recorded?.hostStat ?? [];
    for (const container of snapshot.docker?.containers ?? []) {
        const user = userOf(snapshot, container);
        if (!user || user.uid === 0) continue;
        for (const mount of container.mounts) {
            if (mount.type !== 'bind' || !mount.rw) continue;
            const stat = stats.find(
                (s) => s.path.replace(/\/+$/, '') === mount.source.replace(/\/+$/, ''),
            );
            const bits = stat ? permissionBits(stat.mode) : undefined;
            if (!stat || bits === undefined || user.uid === undefined) continue;
            if (canWrite({ uid: user.uid, gid: user.gid }, stat, bits) !== false) continue;

            const denied = (container.logTail ?? []).filter((l) =>
                /Permission denied|EACCES|Errno 13/i.test(l),
            );
            const who = `uid ${user.uid}${user.gid !== undefined ? ` (gid ${user.gid})` : ''}`;
            const subject = container.service ?? container.name;
            const ids = `${user.uid}:${user.gid ?? user.uid}`;
            findings.push(
                makeFinding(`${subject}:${mount.destination}`, {
                    kind: 'mount-permission',
                    severity: 'error',
                    title: `${subject} runs as ${who} and cannot write ${mount.destination}: the host folder is owned by ${stat.uid}:${stat.gid} with mode ${stat.mode}`,
                    evidence: [
                        `Container ${container.name} runs as "${user.written}", which is ${who} according to ${user.from}.`,
                        `${mount.source} is bind-mounted read-write at ${mount.destination}; on the host it is owned by ${stat.uid}:${stat.gid}, mode ${stat.mode}.`,
                        'Linux keeps numeric owners across bind mounts, so the container user has only the "other" permissions, which do not allow writing.',
                        ...(stat.uid === 0
                            ? [
                                  'A root-owned bind source is what Docker creates when the host folder did not exist when the container started.',
                              ]
                            : []),
                        ...denied.slice(-2).map((l) => `The container logged: ${l.trim()}`),
                    ],
                    fix:
                        `Create the folder before the container starts, owned by the container's user: ` +
                        `\`mkdir -p ${mount.source} && sudo chown -R ${ids} ${mount.source}\`. ` +
                        `Or run the container as the folder's owner (\`--user $(id -u):$(id -g)\` for docker run, \`user:\` in compose, ` +
                        `\`-A user=$(id -u):$(id -g)\` for mlflow run), or build the image with a user whose uid matches the host user's.`,
                    locations: locationsFor(snapshot, container, mount.destination),
                    ...(container.service ? { service: container.service } : {}),
                }),
            );
        }
    }
    return findings;
}

/** A non-root `USER` in the Dockerfile an MLproject's docker_env uses, with a local store. */
function projectImageUser(snapshot: StackSnapshot, proven: Finding[]): Finding[] {
    if (proven.length > 0 || snapshot.host.os !== 'linux') return [];
    const text = snapshot.files?.MLproject;
    if (text === undefined) return [];
    const project = readMlproject(text, 'MLproject');
    if (!project.dockerEnv) return [];
    const dockerfile = snapshot.files?.Dockerfile;
    const users = [...(dockerfile ?? '').matchAll(/^\s*USER\s+(\S+)/gim)];
    const last = users[users.length - 1]?.[1];
    if (!last || /^(root|0)(:.*)?$/.test(last)) return [];
    const uid = /^(\d+)/.exec(last)?.[1] ?? dockerfileUid(dockerfile, last);
    const trackingUri = snapshot.compose?.variables.MLFLOW_TRACKING_URI;
    if (trackingUri?.from === 'environment' && /^https?:/i.test(trackingUri.value)) return [];
    const at = locateText(
        snapshot,
        'Dockerfile',
        users[users.length - 1]?.[0]?.trim() ?? `USER ${last}`,
    );
    const ids = uid !== undefined ? `${uid}:${uid}` : '<uid>:<gid>';
    return [
        makeFinding('MLproject:docker_env:image-user', {
            kind: 'mount-permission',
            severity: 'warning',
            title: `The project image runs as "${last}"${uid !== undefined ? ` (uid ${uid})` : ''}, but mlflow run bind-mounts host folders it may not be able to write`,
            evidence: [
                "MLproject uses docker_env, and with a local tracking store `mlflow run` bind-mounts ./mlruns and each run's artifact folder into the container.",
                `The Dockerfile switches to USER ${last}.`,
                'Docker creates a missing bind source as root:root 755, and Linux keeps numeric owners across bind mounts: a non-root user cannot write there.',
            ],
            fix:
                `Pre-create the folders owned by the image's user (\`mkdir -p mlruns && sudo chown -R ${ids} mlruns\`), ` +
                'run the container as your host user (`mlflow run . -A user=$(id -u):$(id -g)`, i.e. docker run --user), ' +
                'or log to a tracking server over HTTP so no artifact folder is mounted.',
            locations: at ? [{ ...at, key: 'USER' }] : [],
        }),
    ];
}

export const mountPermissionsCheck: Check = {
    name: 'mount-permissions',
    run(snapshot) {
        const proven = recordedFindings(snapshot);
        return [...proven, ...projectImageUser(snapshot, proven)];
    },
};
