import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { RefreshSchedule, type Timers } from '../../src/extension/refreshSchedule.js';

/** Timers that run only when the test advances the clock. */
class FakeTimers implements Timers {
    now = 0;
    private next = 1;
    private readonly pending = new Map<number, { at: number; run: () => void; every?: number }>();

    setTimeout(run: () => void, ms: number): unknown {
        const id = this.next++;
        this.pending.set(id, { at: this.now + ms, run });
        return id;
    }
    clearTimeout(handle: unknown): void {
        this.pending.delete(handle as number);
    }
    setInterval(run: () => void, ms: number): unknown {
        const id = this.next++;
        this.pending.set(id, { at: this.now + ms, run, every: ms });
        return id;
    }
    clearInterval(handle: unknown): void {
        this.pending.delete(handle as number);
    }
    get count(): number {
        return this.pending.size;
    }
    advance(ms: number): void {
        const until = this.now + ms;
        for (;;) {
            const due = [...this.pending]
                .filter(([, t]) => t.at <= until)
                .sort((a, b) => a[1].at - b[1].at)[0];
            if (!due) break;
            const [id, timer] = due;
            this.now = timer.at;
            if (timer.every) timer.at += timer.every;
            else this.pending.delete(id);
            timer.run();
        }
        this.now = until;
    }
}

function setUp() {
    const calls: string[] = [];
    const timers = new FakeTimers();
    const schedule = new RefreshSchedule(
        {
            recheck: () => calls.push('recheck'),
            poll: () => calls.push('poll'),
            subscribe: () => calls.push('subscribe'),
            unsubscribe: () => calls.push('unsubscribe'),
        },
        { debounceMs: 150, pollMs: 30_000 },
        timers,
    );
    return { calls, timers, schedule };
}

describe('refresh schedule', () => {
    test('a burst of container events gives one re-check after the burst', () => {
        const { calls, timers, schedule } = setUp();
        schedule.setVisible(true);
        schedule.setEventsLive(true);
        calls.length = 0;
        for (let i = 0; i < 5; i++) {
            schedule.containerChanged();
            timers.advance(50);
        }
        assert.deepEqual(calls, []);
        timers.advance(150);
        assert.deepEqual(calls, ['recheck']);
    });

    test('subscribes when the view shows and unsubscribes when it hides', () => {
        const { calls, schedule } = setUp();
        schedule.setVisible(true);
        schedule.setVisible(true);
        schedule.setVisible(false);
        assert.deepEqual(calls, ['subscribe', 'unsubscribe']);
    });

    test('polls only while the view is visible and the event stream is down', () => {
        const { calls, timers, schedule } = setUp();
        schedule.setVisible(true);
        schedule.setEventsLive(true);
        timers.advance(120_000);
        assert.deepEqual(calls, ['subscribe']);

        schedule.setEventsLive(false);
        timers.advance(60_000);
        assert.deepEqual(calls, ['subscribe', 'poll', 'subscribe', 'poll', 'subscribe']);

        calls.length = 0;
        schedule.setVisible(false);
        timers.advance(120_000);
        assert.deepEqual(calls, ['unsubscribe']);
        assert.equal(timers.count, 0);
    });

    test('a hidden view drops a pending re-check, and dispose stops every timer', () => {
        const { calls, timers, schedule } = setUp();
        schedule.setVisible(true);
        schedule.containerChanged();
        schedule.setVisible(false);
        timers.advance(1000);
        assert.ok(!calls.includes('recheck'));
        schedule.setVisible(true);
        schedule.containerChanged();
        schedule.dispose();
        assert.equal(timers.count, 0);
    });
});
