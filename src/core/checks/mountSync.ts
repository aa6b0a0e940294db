// Findings from the live bind-mount probe: a container that no longer shares a folder with the
// host (stale, not syncing, one way), whose host folder is gone, or that cannot write to it.

import type {
    Finding,
    FindingLocation,
    MountSyncResult,
    MountSyncVerdict,
    StackSnapshot,
} from '../model.js';
import { composeLocation, makeFinding, nearestComposeLocation, type Check } from './check.js';

const SYNC_VERDICTS: MountSyncVerdict[] = ['stale', 'not-syncing', 'one-way'];

const SHARED_STORE_CURE =
    "Don't share ./mlruns between host clients and the server: clients should talk HTTP to the " +
    'tracking server (MLFLOW_TRACKING_URI=http://localhost:<published port>) and only the server ' +
    'should write the store.';

export const mountSyncCheck: Check = {
    name: 'mount-sync',
    run(snapshot: StackSnapshot): Finding[] {
        const findings: Finding[] = [];
        for (const result of snapshot.syncProbes) {
            const service = result.service ?? serviceOfContainer(snapshot, result.container);
            const finding = findingFor(snapshot, result, service);
            if (finding) findings.push(finding);
            if (!result.cleanedUp) findings.push(leftoverFinding(snapshot, result, service));
        }
        return findings;
    },
};

function findingFor(
    snapshot: StackSnapshot,
    result: MountSyncResult,
    service: string | undefined,
): Finding | undefined {
    const subject = service ?? result.container;
    const recreate = `docker compose up -d --force-recreate ${service ?? result.container}`;
    const where = `${result.source} → ${result.destination}`;
    const base = {
        evidence: [`container ${result.container}, bind mount ${where}`, ...result.evidence],
        locations: mountLocations(snapshot, service, result.destination),
        ...(service ? { service } : {}),
    };

    if (SYNC_VERDICTS.includes(result.verdict)) {
        const title =
            result.verdict === 'stale'
                ? `${subject} still uses the old ${result.source}: the host folder was replaced after the container started`
                : result.verdict === 'one-way'
                  ? `${subject} and the host see ${result.source} only one way`
                  : `${subject} and the host do not share ${result.source}`;
        const direction =
            result.verdict === 'one-way'
                ? ` Seen host → container: ${yesNo(result.hostToContainer)}; container → host: ${yesNo(result.containerToHost)}.`
                : '';
        const fix =
            result.verdict === 'stale'
                ? `Recreate the container so it mounts the current folder: \`${recreate}\`. ` +
                  'Runs written since the folder was replaced are in the old copy (look for a renamed folder next to it). ' +
                  SHARED_STORE_CURE
                : `${SHARED_STORE_CURE} If the folder must be shared, recreate the container (\`${recreate}\`) ` +
                  `and check that ${result.source} is shared with Docker (Docker Desktop: Settings → Resources → File sharing).${direction}`;
        return makeFinding(`${subject}:${result.destination}`, {
            kind: 'mount-sync',
            severity: 'error',
            title,
            fix,
            ...base,
        });
    }

    if (result.verdict === 'missing-source') {
        const composeDir = snapshot.compose?.workingDir;
        return makeFinding(`${subject}:${result.destination}`, {
            kind: 'mount-path',
            severity: 'error',
            title: `The host folder ${result.source} mounted at ${result.destination} in ${subject} does not exist`,
            fix:
                `Create ${result.source} (or correct the path in the compose file${composeDir ? `; relative paths resolve against ${composeDir}` : ''}) ` +
                `and recreate the container: \`${recreate}\`. A missing bind source is created by Docker as an empty folder owned by root.`,
            ...base,
        });
    }

    if (result.verdict === 'not-writable') {
        const access = result.access;
        const user = access ? `uid ${access.uid} (gid ${access.gid})` : 'its user';
        const owner = access
            ? `owned by ${access.ownerUid}:${access.ownerGid} with mode ${access.mode}`
            : 'not writable for it';
        const chown = access
            ? `\`sudo chown -R ${access.uid}:${access.gid} ${result.source}\``
            : `\`sudo chown -R <uid>:<gid> ${result.source}\``;
        const runAs = access ? `"${access.ownerUid}:${access.ownerGid}"` : '"<uid>:<gid>"';
        return makeFinding(`${subject}:${result.destination}`, {
            kind: 'mount-permission',
            severity: 'error',
            title: `${subject} runs as ${user} and cannot write ${result.destination}, ${owner}`,
            fix:
                `Give the folder to the container's user on the host: ${chown}; or run the service as the folder's owner ` +
                `(\`user: ${runAs}\` in compose, \`--user\` for docker run). Linux keeps numeric owners across bind mounts, so the uids must match.`,
            ...base,
        });
    }

    if (result.verdict === 'error') {
        return makeFinding(`mount-sync:${subject}:${result.destination}`, {
            kind: 'probe-failed',
            severity: 'info',
            title: `Could not tell whether ${subject} and the host share ${result.source}`,
            fix: 'The sync probe could not finish; the evidence says which step failed. Run the diagnosis again once the container is running.',
            ...base,
        });
    }
    return undefined;
}

function leftoverFinding(
    snapshot: StackSnapshot,
    result: MountSyncResult,
    service: string | undefined,
): Finding {
    const subject = service ?? result.container;
    return makeFinding(`mount-sync-cleanup:${subject}:${result.destination}`, {
        kind: 'probe-failed',
        severity: 'warning',
        title: `A sync-probe file may be left in ${result.source} or in ${result.destination} inside ${subject}`,
        evidence: result.evidence,
        fix: `Delete the files named .stack-doctor-sync-* in ${result.source} (and inside the container at ${result.destination}); they are empty markers.`,
        locations: mountLocations(snapshot, service, result.destination),
        ...(service ? { service } : {}),
    });
}

/** The compose volume entry whose target is this container path, else the service's volumes. */
export function mountLocations(
    snapshot: StackSnapshot,
    service: string | undefined,
    destination: string,
): FindingLocation[] {
    if (!service) return [];
    const composeService = snapshot.compose?.services.find((s) => s.name === service);
    const volume = composeService?.volumes.find(
        (v) => trimSlash(v.target) === trimSlash(destination),
    );
    const exact = volume ? composeLocation(snapshot, volume.key) : undefined;
    const location =
        exact ??
        nearestComposeLocation(snapshot, volume ? volume.key : `services.${service}.volumes`);
    return location ? [location] : [];
}

function serviceOfContainer(snapshot: StackSnapshot, container: string): string | undefined {
    return snapshot.docker?.containers.find((c) => c.name === container || c.id === container)
        ?.service;
}

function trimSlash(p: string): string {
    return p.length > 1 ? p.replace(/\/+$/, '') : p;
}

function yesNo(value: boolean | undefined): string {
    return value === undefined ? 'not tested' : value ? 'yes' : 'no';
}
