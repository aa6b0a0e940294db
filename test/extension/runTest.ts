// Runs the extension-host suite in desktop VS Code with @vscode/test-electron, twice: once with
// the workspace trusted and once in restricted mode. It downloads VS Code, so it runs where the
// update server is reachable (the public CI workflow); VS_CODE_VERSION picks the version.

import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { runTests } from '@vscode/test-electron';

import { prepareSeedWorkspace } from './seedWorkspace.js';

const repo = path.resolve(__dirname, '..');

function userData(trustEnabled: boolean): string {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'stack-doctor-user-'));
    mkdirSync(path.join(dir, 'User'), { recursive: true });
    writeFileSync(
        path.join(dir, 'User', 'settings.json'),
        JSON.stringify({
            'security.workspace.trust.enabled': trustEnabled,
            'security.workspace.trust.startupPrompt': 'never',
            'security.workspace.trust.untrustedFiles': 'open',
        }),
    );
    return dir;
}

async function main(): Promise<void> {
    const version = process.env.VS_CODE_VERSION ?? 'stable';
    for (const restricted of [false, true]) {
        const workspace = prepareSeedWorkspace(repo);
        console.log(
            `VS Code ${version}, ${restricted ? 'restricted mode' : 'trusted'}: ${workspace}`,
        );
        await runTests({
            version,
            extensionDevelopmentPath: repo,
            extensionTestsPath: path.join(repo, 'dist-ext-test', 'suite.js'),
            extensionTestsEnv: { STACK_DOCTOR_EXPECT_RESTRICTED: restricted ? '1' : '0' },
            launchArgs: [
                workspace,
                '--disable-extensions',
                `--user-data-dir=${userData(restricted)}`,
                '--skip-welcome',
                '--skip-release-notes',
            ],
        });
    }
}

// Only when run as a program: a harness may load this bundle for prepareSeedWorkspace alone.
if (require.main === module) {
    main().catch((error: unknown) => {
        console.error(error instanceof Error ? error.message : error);
        process.exit(1);
    });
}

export { prepareSeedWorkspace };
