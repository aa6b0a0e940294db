// When the Stack view refreshes. Docker events come first; the checks re-run after a short
// debounce so a burst of events (a `compose up` of five services) gives one re-check. Polling is
// only a fallback while the event stream is down, and only while the view is visible: a hidden
// view costs nothing.

export interface Timers {
    setTimeout(run: () => void, ms: number): unknown;
    clearTimeout(handle: unknown): void;
    setInterval(run: () => void, ms: number): unknown;
    clearInterval(handle: unknown): void;
}

const nodeTimers: Timers = {
    setTimeout: (run, ms) => setTimeout(run, ms),
    clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
    setInterval: (run, ms) => setInterval(run, ms),
    clearInterval: (handle) => clearInterval(handle as NodeJS.Timeout),
};

export interface RefreshActions {
    /** Re-run the checks over the live-patched snapshot (cheap, no I/O). */
    recheck(): void;
    /** Read the containers again (the fallback when no events arrive). */
    poll(): void;
    /** Subscribe to Docker events; called when the view shows and no subscription is live. */
    subscribe(): void;
    /** Drop the subscription; called when the view hides. */
    unsubscribe(): void;
}

export interface RefreshOptions {
    debounceMs: number;
    pollMs: number;
}

export class RefreshSchedule {
    private visible = false;
    private eventsLive = false;
    private pending: unknown;
    private polling: unknown;

    constructor(
        private readonly actions: RefreshActions,
        private readonly options: RefreshOptions = { debounceMs: 150, pollMs: 30_000 },
        private readonly timers: Timers = nodeTimers,
    ) {}

    get isVisible(): boolean {
        return this.visible;
    }

    setVisible(visible: boolean): void {
        if (visible === this.visible) return;
        this.visible = visible;
        if (visible) {
            this.actions.subscribe();
        } else {
            this.actions.unsubscribe();
            this.eventsLive = false;
            this.cancelPending();
        }
        this.updatePolling();
    }

    /** The event stream is up (true) or broke or could not start (false). */
    setEventsLive(live: boolean): void {
        this.eventsLive = live;
        this.updatePolling();
    }

    /** A container event arrived: re-check once the burst is over. */
    containerChanged(): void {
        this.cancelPending();
        this.pending = this.timers.setTimeout(() => {
            this.pending = undefined;
            this.actions.recheck();
        }, this.options.debounceMs);
    }

    dispose(): void {
        this.cancelPending();
        this.stopPolling();
    }

    private cancelPending(): void {
        if (this.pending !== undefined) this.timers.clearTimeout(this.pending);
        this.pending = undefined;
    }

    private updatePolling(): void {
        const wanted = this.visible && !this.eventsLive;
        if (wanted && this.polling === undefined) {
            this.polling = this.timers.setInterval(() => {
                // Each poll also tries to get the event stream back.
                this.actions.poll();
                this.actions.subscribe();
            }, this.options.pollMs);
        } else if (!wanted) {
            this.stopPolling();
        }
    }

    private stopPolling(): void {
        if (this.polling !== undefined) this.timers.clearInterval(this.polling);
        this.polling = undefined;
    }
}
