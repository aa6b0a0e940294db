// Container lifecycle events from the Engine's event stream, so views can refresh when a
// container starts, dies or changes health instead of polling.

import type Dockerode from 'dockerode';

import { withDeadline } from './deadline.js';

export type ContainerEventKind = 'start' | 'die' | 'health_status';

export interface ContainerEvent {
    kind: ContainerEventKind;
    containerId: string;
    name?: string;
    project?: string;
    service?: string;
    /** For `health_status` events. */
    health?: 'starting' | 'healthy' | 'unhealthy';
    /** For `die` events. */
    exitCode?: number;
    /** Seconds since the epoch, with the Engine's nanosecond part as a fraction. */
    time: number;
}

export interface ContainerEventFilter {
    /** Only containers of this compose project. */
    project?: string;
    /** Extra `key=value` label filters. */
    labels?: string[];
    kinds?: ContainerEventKind[];
}

export interface Disposable {
    dispose(): void;
}

/** Reads one line of the event stream; anything else than a wanted container event is nothing. */
export function parseContainerEvent(line: string): ContainerEvent | undefined {
    let raw: unknown;
    try {
        raw = JSON.parse(line);
    } catch {
        return undefined;
    }
    if (!raw || typeof raw !== 'object') return undefined;
    const event = raw as {
        Type?: unknown;
        Action?: unknown;
        status?: unknown;
        id?: unknown;
        time?: unknown;
        timeNano?: unknown;
        Actor?: { ID?: unknown; Attributes?: Record<string, unknown> };
    };
    if (event.Type !== undefined && event.Type !== 'container') return undefined;
    const action =
        typeof event.Action === 'string'
            ? event.Action
            : typeof event.status === 'string'
              ? event.status
              : '';
    // The Engine writes health changes as `health_status: healthy` (older ones without a space).
    const [verb, ...rest] = action.split(':');
    const argument = rest.join(':').trim();
    if (verb !== 'start' && verb !== 'die' && verb !== 'health_status') return undefined;

    const attributes = event.Actor?.Attributes ?? {};
    const attribute = (key: string): string | undefined => {
        const value = attributes[key];
        return typeof value === 'string' ? value : undefined;
    };
    const id =
        typeof event.Actor?.ID === 'string'
            ? event.Actor.ID
            : typeof event.id === 'string'
              ? event.id
              : undefined;
    if (!id) return undefined;

    const time =
        typeof event.timeNano === 'number'
            ? event.timeNano / 1e9
            : typeof event.time === 'number'
              ? event.time
              : 0;
    const parsed: ContainerEvent = { kind: verb, containerId: id, time };
    const name = attribute('name');
    if (name) parsed.name = name;
    const project = attribute('com.docker.compose.project');
    if (project) parsed.project = project;
    const service = attribute('com.docker.compose.service');
    if (service) parsed.service = service;
    if (verb === 'health_status') {
        if (argument === 'healthy' || argument === 'unhealthy' || argument === 'starting') {
            parsed.health = argument;
        }
    }
    if (verb === 'die') {
        const exitCode = Number(attribute('exitCode'));
        if (Number.isInteger(exitCode)) parsed.exitCode = exitCode;
    }
    return parsed;
}

/** Splits a chunked stream of newline-separated JSON into whole lines, keeping the partial tail. */
export class EventLineSplitter {
    private pending = '';

    push(chunk: string): string[] {
        this.pending += chunk;
        const lines = this.pending.split('\n');
        this.pending = lines.pop() ?? '';
        return lines.map((line) => line.trim()).filter((line) => line !== '');
    }
}

/**
 * Subscribes to container start/die/health_status events. Resolves once the Engine accepted the
 * subscription (within `timeoutMs`); `onEvent` is then called for each event until `dispose()`.
 * `onError` hears about the stream breaking (daemon stopped), after which no more events come.
 */
export async function watchEvents(
    docker: Dockerode,
    filter: ContainerEventFilter,
    onEvent: (event: ContainerEvent) => void,
    options: { timeoutMs?: number; onError?: (error: Error) => void } = {},
): Promise<Disposable> {
    const kinds = filter.kinds ?? ['start', 'die', 'health_status'];
    const labels = [...(filter.labels ?? [])];
    if (filter.project) labels.push(`com.docker.compose.project=${filter.project}`);
    const filters: Record<string, string[]> = { type: ['container'], event: kinds };
    if (labels.length > 0) filters.label = labels;

    const stream = (await withDeadline(
        'subscribing to Docker events',
        options.timeoutMs ?? 5000,
        (abortSignal) =>
            docker.getEvents({
                filters: JSON.stringify(filters),
                abortSignal,
            } as Dockerode.GetEventsOptions),
    )) as NodeJS.ReadableStream & { destroy?: () => void };

    const splitter = new EventLineSplitter();
    let disposed = false;
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string | Buffer) => {
        for (const line of splitter.push(String(chunk))) {
            const event = parseContainerEvent(line);
            if (event && kinds.includes(event.kind)) onEvent(event);
        }
    });
    stream.on('error', (error: Error) => {
        if (!disposed) options.onError?.(error);
    });
    stream.on('end', () => {
        if (!disposed) options.onError?.(new Error('the Docker event stream ended'));
    });
    return {
        dispose() {
            disposed = true;
            stream.removeAllListeners('data');
            stream.destroy?.();
        },
    };
}
