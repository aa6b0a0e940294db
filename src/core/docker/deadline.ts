// Every Docker Engine call gets a deadline: a hung daemon or a stalled socket must turn into a
// clear "no answer within N ms", never a diagnosis that waits forever.

export class DeadlineError extends Error {
    constructor(
        readonly what: string,
        readonly timeoutMs: number,
    ) {
        super(`${what}: no answer within ${timeoutMs} ms`);
        this.name = 'DeadlineError';
    }
}

/**
 * Runs `start` with an AbortSignal that fires after `timeoutMs`, and rejects with a DeadlineError
 * at that moment even if the operation ignores the signal.
 */
export async function withDeadline<T>(
    what: string,
    timeoutMs: number,
    start: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
            controller.abort();
            reject(new DeadlineError(what, timeoutMs));
        }, timeoutMs);
    });
    try {
        return await Promise.race([start(controller.signal), expired]);
    } finally {
        clearTimeout(timer);
    }
}
