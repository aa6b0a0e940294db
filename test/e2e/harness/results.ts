// What the harness extension writes and the e2e test reads.

export interface HarnessTest {
    title: string;
    state: 'passed' | 'failed' | 'pending';
    durationMs?: number;
    error?: string;
}

export interface HarnessResults {
    /** `missing`: no suite at the given path; `error`: it could not be loaded or run. */
    status: 'passed' | 'failed' | 'missing' | 'error';
    suite: string;
    tests: HarnessTest[];
    error?: string;
    passing?: number;
    failing?: number;
    pending?: number;
    /** What the suite printed (its reporter's output). */
    output?: string;
    durationMs?: number;
}
