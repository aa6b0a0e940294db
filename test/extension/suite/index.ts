// The extension-host suite's entry: `run()` as @vscode/test-electron's extensionTestsPath wants
// it, and as a harness extension in code-server can call it. The test modules are required only
// after mocha has set up its interface, because they register their suites when they load.

import Mocha from 'mocha';

export { prepareSeedWorkspace } from '../seedWorkspace.js';

export interface SuiteStats {
    passes: number;
    failures: number;
    pending: number;
}

/** Resolves with mocha's counts, so a harness need not parse the reporter's console output. */
export function run(): Promise<SuiteStats> {
    const mocha = new Mocha({ ui: 'tdd', color: false, timeout: 60_000, reporter: 'spec' });
    mocha.suite.emit('pre-require', globalThis, 'stack-doctor-suite', mocha);
    /* eslint-disable @typescript-eslint/no-require-imports */
    require('./activation.test.js');
    require('./diagnostics.test.js');
    require('./quickFixes.test.js');
    require('./restricted.test.js');
    require('./explorer.test.js');
    /* eslint-enable @typescript-eslint/no-require-imports */
    return new Promise((resolve, reject) => {
        // The failures go into the error too: a harness may not see the reporter's output.
        const failed: string[] = [];
        const runner = mocha.run((failures) => {
            if (failures > 0) {
                reject(new Error(`${failures} extension test(s) failed:\n${failed.join('\n')}`));
            } else {
                resolve({
                    passes: runner.stats?.passes ?? 0,
                    failures,
                    pending: runner.stats?.pending ?? 0,
                });
            }
        });
        runner.on('fail', (test: Mocha.Runnable, error: Error) => {
            failed.push(
                `✖ ${test.fullTitle()}: ${(error.stack ?? error.message).split('\n').slice(0, 4).join(' | ')}`,
            );
        });
    });
}
