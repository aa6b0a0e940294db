// Docker events applied to the last snapshot, so a state or health change is on screen within a
// second of the event without gathering the whole stack again. The checks then run over the
// patched snapshot (they are pure and take milliseconds), so findings follow too.

import type { ContainerEvent } from '../core/docker/events.js';
import type { ContainerFacts, StackSnapshot } from '../core/model.js';

export interface PatchedSnapshot {
    snapshot: StackSnapshot;
    /** false when the event names a container the snapshot does not know (a new one). */
    known: boolean;
}

/** The snapshot with the event's container updated; the input is left as it was. */
export function applyContainerEvent(
    snapshot: StackSnapshot,
    event: ContainerEvent,
): PatchedSnapshot {
    const containers = snapshot.docker?.containers ?? [];
    const index = containers.findIndex((c) => c.id === event.containerId);
    const current = containers[index];
    if (!snapshot.docker || !current) return { snapshot, known: false };

    const next: ContainerFacts = { ...current };
    if (event.kind === 'start') {
        next.state = 'running';
        delete next.exitCode;
        next.startedAt = new Date(event.time * 1000).toISOString();
        // A fresh start with a healthcheck begins in "starting"; the next health event says more.
        if (current.health && current.health !== 'none') next.health = 'starting';
    } else if (event.kind === 'die') {
        next.state = 'exited';
        if (event.exitCode !== undefined) next.exitCode = event.exitCode;
        next.finishedAt = new Date(event.time * 1000).toISOString();
    } else if (event.kind === 'health_status' && event.health) {
        next.health = event.health;
    }
    const patched = [...containers];
    patched[index] = next;
    return {
        snapshot: { ...snapshot, docker: { ...snapshot.docker, containers: patched } },
        known: true,
    };
}
