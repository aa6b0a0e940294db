// Runs the extension's in-VS-Code mocha suite inside code-server's extension host. code-server
// has no `--extensionTestsPath`, so this extension stands in for the test runner of
// @vscode/test-electron: it activates on startup, loads the suite bundle named by the
// environment, runs it, and writes what happened to a JSON file that the e2e test reads.
//   STACK_DOCTOR_E2E_SUITE     the bundled suite (dist-ext-test/suite.js)
//   STACK_DOCTOR_E2E_RESULTS   where to write the results
//   STACK_DOCTOR_REPO          the repository, for its mocha

import { existsSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';

import type { HarnessResults, HarnessTest } from './results.js';

interface MochaRunner {
    on(event: string, listener: (...args: unknown[]) => void): MochaRunner;
}
interface MochaInstance {
    suite: {
        emit(event: string, context: object, file: string, mocha: MochaInstance): void;
        total(): number;
    };
    files: string[];
    ui(name: string): MochaInstance;
    run(done: (failures: number) => void): MochaRunner;
}
type MochaConstructor = new (options: object) => MochaInstance;
interface TestLike {
    fullTitle(): string;
    duration?: number;
}

export function activate(): void {
    const suite = process.env.STACK_DOCTOR_E2E_SUITE;
    const results = process.env.STACK_DOCTOR_E2E_RESULTS;
    if (!suite || !results) return;
    const started = Date.now();
    void runSuite(suite)
        .catch((error: unknown): HarnessResults => ({
            status: 'error',
            suite,
            error: error instanceof Error ? (error.stack ?? error.message) : String(error),
            tests: [],
        }))
        .then((outcome) => writeResults(results, { ...outcome, durationMs: Date.now() - started }));
}

export function deactivate(): void {}

function writeResults(file: string, outcome: HarnessResults): void {
    // Written whole and renamed, so the reader never sees half a file.
    writeFileSync(`${file}.tmp`, JSON.stringify(outcome, null, 4));
    renameSync(`${file}.tmp`, file);
}

async function runSuite(suite: string): Promise<HarnessResults> {
    if (!existsSync(suite)) return { status: 'missing', suite, tests: [] };
    const repo = process.env.STACK_DOCTOR_REPO ?? path.resolve(path.dirname(suite), '..');
    // The repository's mocha, not a bundled copy: the suite registers its tests on the same
    // globals. A computed path keeps esbuild from bundling it.
    const mochaPath = path.join(repo, 'node_modules', 'mocha', 'lib', 'mocha.cjs');
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a path known at run time
    const loadedMocha = require(mochaPath) as { default?: MochaConstructor } & MochaConstructor;
    const Mocha = loadedMocha.default ?? loadedMocha;

    // A suite with its own run() (and its own bundled mocha) reports through its reporter on
    // the console: keep that output, and read the totals from the spec reporter's summary.
    const output: string[] = [];
    const original = { log: console.log, error: console.error };
    const writes = {
        out: process.stdout.write.bind(process.stdout),
        err: process.stderr.write.bind(process.stderr),
    };
    const keep =
        (write: (...args: unknown[]) => void) =>
        (...args: unknown[]) => {
            output.push(args.map(String).join(' '));
            write(...args);
        };
    const keepWrite = (chunk: unknown): boolean => {
        output.push(typeof chunk === 'string' ? chunk : String(chunk));
        return true;
    };
    console.log = keep(original.log);
    console.error = keep(original.error);
    process.stdout.write = keepWrite;
    process.stderr.write = keepWrite;
    let loaded: { run?: () => Promise<unknown> } | undefined;
    try {
        // Two shapes of suite are accepted. First an index module exporting `run()` the way
        // @vscode/test-electron expects: loaded without any mocha globals, because its own
        // mocha would pick up ours (mocha's `suite` export prefers a global `describe`).
        try {
            // eslint-disable-next-line @typescript-eslint/no-require-imports -- a path known at run time
            loaded = require(suite) as { run?: () => Promise<unknown> };
        } catch {
            loaded = undefined;
        }
        if (typeof loaded?.run === 'function') {
            let stats: { passes?: unknown; failures?: unknown; pending?: unknown } | undefined;
            const outcome = await loaded.run().then(
                (value) => {
                    if (typeof value === 'object' && value !== null) stats = value;
                    return undefined;
                },
                (error: unknown) => (error instanceof Error ? error.message : String(error)),
            );
            const text = output.join('\n');
            // The suite's own counts when it returns them; the reporter's console lines (whose
            // `%d` may reach us unformatted) only as a fallback.
            const count = (word: 'passing' | 'failing' | 'pending') => {
                const fromStats =
                    stats?.[
                        word === 'passing' ? 'passes' : word === 'failing' ? 'failures' : 'pending'
                    ];
                if (typeof fromStats === 'number') return fromStats;
                return Number(text.match(new RegExp(`(\\d+) ${word}`))?.[1] ?? 0);
            };
            return {
                status: outcome === undefined ? 'passed' : 'failed',
                suite,
                error: outcome,
                tests: [],
                passing: count('passing'),
                failing: count('failing'),
                pending: count('pending'),
                output: text,
            };
        }
    } finally {
        console.log = original.log;
        console.error = original.error;
        process.stdout.write = writes.out;
        process.stderr.write = writes.err;
    }

    // Else a bundle of test files written against mocha's globals (tdd `suite`/`test` or bdd
    // `describe`/`it`): both kinds are bound to one root suite, and the bundle loaded again.
    const mocha = new Mocha({ ui: 'tdd', timeout: 60_000, color: false, reporter: 'dot' });
    mocha.ui('bdd');
    mocha.ui('tdd');
    mocha.suite.emit('pre-require', globalThis, suite, mocha);
    delete require.cache[require.resolve(suite)];
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the suite registers its tests as it loads
    require(suite);

    const tests: HarnessTest[] = [];
    const failures = await new Promise<number>((resolve) => {
        const runner = mocha.run(resolve);
        runner.on('pass', (test) => {
            const t = test as TestLike;
            tests.push({ title: t.fullTitle(), state: 'passed', durationMs: t.duration });
        });
        runner.on('fail', (test, error) => {
            const t = test as TestLike;
            const e = error as Error | undefined;
            tests.push({
                title: t.fullTitle(),
                state: 'failed',
                durationMs: t.duration,
                error: e?.stack ?? e?.message ?? String(error),
            });
        });
        runner.on('pending', (test) => {
            tests.push({ title: (test as TestLike).fullTitle(), state: 'pending' });
        });
    });
    void vscode.window.setStatusBarMessage(
        `e2e harness: ${tests.length} tests, ${failures} failed`,
    );
    return {
        status: failures === 0 ? 'passed' : 'failed',
        suite,
        tests,
        passing: tests.filter((t) => t.state === 'passed').length,
        failing: failures,
        pending: tests.filter((t) => t.state === 'pending').length,
    };
}
