// The extension's in-VS-Code mocha suite (test/extension/suite), run inside code-server by the
// harness extension (test/e2e/harness): trusted, then in restricted mode. The harness is first
// checked on a fixture suite of its own.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';

import { prepareSeedWorkspace } from '../extension/seedWorkspace.js';
import { REPO } from '../support/paths.js';
import {
    ARTIFACTS,
    CodeServer,
    leftoverProcesses,
    missingWorkbench,
    productExtension,
    type ExtensionFolder,
} from './codeServer.js';
import { buildHarness, type Harness } from './harness/build.js';
import type { HarnessResults } from './harness/results.js';
import { Workbench } from './pages/workbench.js';

const run = promisify(execFile);

const SUITE_SOURCE = path.join(REPO, 'test', 'extension', 'suite', 'index.ts');
const SUITE = path.join(REPO, 'dist-ext-test', 'suite.js');

const missing = missingWorkbench();
if (!existsSync(path.join(REPO, 'dist', 'extension.js')))
    missing.push('dist/extension.js (node esbuild.mjs)');
if (missing.length > 0 && process.env.STACK_DOCTOR_REQUIRE_REAL === '1') {
    throw new Error(`e2e components missing: ${missing.join(', ')}`);
}
const skip = missing.length > 0 ? `e2e components missing: ${missing.join(', ')}` : false;

interface SuiteRun {
    /** Names the console log in .test-artifacts/e2e/. */
    name: string;
    trust: boolean;
    suite: string;
    env?: NodeJS.ProcessEnv;
    extensions: ExtensionFolder[];
}

/** One code-server session that runs `suite` through the harness; returns what it wrote. */
async function runInCodeServer(options: SuiteRun, timeoutMs = 240_000): Promise<HarnessResults> {
    const workspace = prepareSeedWorkspace(REPO);
    const results = path.join(path.dirname(workspace), 'harness-results.json');
    const codeServer = await CodeServer.start({
        extensions: options.extensions,
        workspaceTrust: options.trust,
        settings: {
            'security.workspace.trust.startupPrompt': 'never',
            'security.workspace.trust.untrustedFiles': 'open',
        },
        env: {
            STACK_DOCTOR_E2E_SUITE: options.suite,
            STACK_DOCTOR_E2E_RESULTS: results,
            STACK_DOCTOR_REPO: REPO,
            ...options.env,
        },
    });
    try {
        // The extension host starts when a browser connects.
        const workbench = new Workbench(await codeServer.open(workspace));
        // The extension host's console is forwarded to the page's console.
        const consoleLines: string[] = [];
        workbench.page.on('console', (message) => consoleLines.push(message.text()));
        await workbench.ready();
        const until = Date.now() + timeoutMs;
        while (!existsSync(results)) {
            if (Date.now() > until) {
                throw new Error(
                    `no harness results after ${timeoutMs} ms; code-server said:\n${codeServer.output.slice(-4000)}`,
                );
            }
            await new Promise((r) => setTimeout(r, 250));
        }
        const outcome = JSON.parse(readFileSync(results, 'utf8')) as HarnessResults;
        // What the extension host printed, for reading when a run goes wrong.
        mkdirSync(ARTIFACTS, { recursive: true });
        writeFileSync(
            path.join(ARTIFACTS, `harness-${options.name}.console.log`),
            consoleLines.join('\n'),
        );
        if (!outcome.output) {
            // Not yet: the harness does not see the output of a suite's own reporter in
            // code-server's extension host, so its passing tests are read from the console the
            // extension host forwards to the page (the spec reporter's ✔ lines).
            const passed = consoleLines.filter(
                (l) => l.includes('[Extension Host]') && l.includes('✔'),
            );
            outcome.passing = passed.length;
            outcome.failing = Number(
                outcome.error?.match(/(\d+) extension test\(s\) failed/)?.[1] ?? 0,
            );
            outcome.output = passed.map((l) => l.replace(/^.*color:\s+/, '✔ ')).join('\n');
        }
        return outcome;
    } finally {
        const root = codeServer.root;
        await codeServer.stop();
        assert.deepEqual(leftoverProcesses(root), [], 'code-server left processes');
        rmSync(path.dirname(workspace), { recursive: true, force: true });
    }
}

function summary(results: HarnessResults): string {
    return [
        `${results.status}: ${results.passing ?? 0} passing, ${results.failing ?? 0} failing, ${results.pending ?? 0} pending in ${results.durationMs ?? '?'} ms`,
        results.error ?? '',
        results.output ?? '',
    ]
        .filter(Boolean)
        .join('\n');
}

void describe('the extension-host suite inside code-server', { skip, timeout: 900_000 }, () => {
    let harness: Harness;

    before(async () => {
        harness = await buildHarness();
        // The suite bundle is built from test/extension/suite when its sources are there.
        if (existsSync(SUITE_SOURCE)) {
            mkdirSync(path.dirname(SUITE), { recursive: true });
            await run(process.execPath, ['esbuild.mjs', '--extension-tests'], {
                cwd: REPO,
                timeout: 120_000,
            });
        }
    });
    after(() => harness?.cleanUp());

    void test('the harness runs a mocha suite in the extension host and reports each test', async () => {
        const results = await runInCodeServer({
            name: 'fixture',
            trust: false,
            suite: harness.fixtureSuite,
            extensions: [harness],
        });
        assert.equal(results.status, 'failed', summary(results));
        assert.deepEqual(
            results.tests.map((t) => [t.title, t.state]),
            [
                ['harness fixture runs inside the extension host with a workspace open', 'passed'],
                ['harness fixture reports a failing test as failed', 'failed'],
            ],
            summary(results),
        );
        assert.match(results.tests[1]?.error ?? '', /failed on purpose/);
    });

    for (const restricted of [false, true]) {
        void test(`the extension's suite passes ${restricted ? 'in restricted mode' : 'in a trusted workspace'}`, async () => {
            assert.ok(
                existsSync(SUITE),
                `${path.relative(REPO, SUITE)} is missing: the extension-host suite (test/extension/suite) is not built`,
            );
            const results = await runInCodeServer({
                name: restricted ? 'restricted' : 'trusted',
                trust: restricted,
                suite: SUITE,
                extensions: [productExtension(), harness],
                env: { STACK_DOCTOR_EXPECT_RESTRICTED: restricted ? '1' : '0' },
            });
            console.log(summary(results));
            assert.equal(results.status, 'passed', summary(results));
            assert.ok((results.passing ?? 0) > 0, 'the suite ran tests');
        });
    }
});
