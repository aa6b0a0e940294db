import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { suite, suiteSetup, suiteTeardown, test } from 'mocha';
import * as vscode from 'vscode';

import {
    missingVenvMessage,
    startMlflowServer,
    stopMlflowServer,
    venvPython,
    venvReady,
    type RunningServer,
} from '../../support/mlflowServer.js';
import { EXPECT_RESTRICTED, activated, waitFor } from './workspace.js';

const VERSION = '3.17.2';
// No '#' or '?': the MLflow client puts the name in the upload URL unquoted (a '#' cuts it) and
// the server refuses '#' in artifact paths.
const HOSTILE_NAME = '<img src=x onerror=alert(1)> & "quoted" ü\u202e.txt';

// Logs one run with a text artifact, a nested one and one with a hostile name; prints the ids.
const SEED_RUN = `
import json, mlflow
mlflow.set_experiment("explorer-suite")
with mlflow.start_run(run_name="explorer") as run:
    mlflow.log_param("lr", "0.1")
    mlflow.log_metric("loss", 0.5)
    mlflow.log_text("hello from the explorer suite\\n", "notes/hello.txt")
    mlflow.log_text("top level\\n", "readme.md")
    mlflow.log_text("hostile\\n", ${JSON.stringify(HOSTILE_NAME)})
    print(json.dumps({"run": run.info.run_id, "experiment": run.info.experiment_id}))
`;

function webviewTabs(): vscode.Tab[] {
    return vscode.window.tabGroups.all
        .flatMap((g) => g.tabs)
        .filter(
            (t) =>
                t.input instanceof vscode.TabInputWebview &&
                t.input.viewType.includes('stackDoctor.explorer'),
        );
}

function logFiles(folder: string): string[] {
    if (!existsSync(folder)) return [];
    return readdirSync(folder).flatMap((name) => {
        const full = path.join(folder, name);
        if (statSync(full).isDirectory()) return logFiles(full);
        return name.endsWith('.log') ? [full] : [];
    });
}

async function rejection(what: Thenable<unknown>): Promise<Error> {
    try {
        await what;
    } catch (error) {
        return error as Error;
    }
    throw new Error('expected the call to fail');
}

if (!EXPECT_RESTRICTED) {
    suite('the MLflow explorer on a real server', function () {
        let server: RunningServer | undefined;
        let runId = '';
        let experimentId = '';
        let key = '';
        const artifact = (relPath: string, id = runId) =>
            vscode.Uri.from({
                scheme: 'mlflow-artifact',
                authority: key,
                path: `/run/${id}${relPath ? `/${relPath}` : ''}`,
            });

        suiteSetup(async function () {
            this.timeout(180_000);
            if (!venvReady(VERSION)) {
                // The suite's real component: without it this suite proves nothing, so it fails.
                throw new Error(missingVenvMessage(VERSION));
            }
            server = await startMlflowServer(VERSION);
            // MLflow 3 prints "View run ... at ..." after the run ends: the ids are the JSON line.
            const output = await venvPython(VERSION, ['-c', SEED_RUN], {
                MLFLOW_TRACKING_URI: server.url,
            });
            const seeded = JSON.parse(
                output.split('\n').find((line) => line.startsWith('{"run"')) ?? '{}',
            ) as { run: string; experiment: string };
            runId = seeded.run;
            experimentId = seeded.experiment;
            await vscode.workspace
                .getConfiguration('stackDoctor')
                .update('trackingUri', server.url, vscode.ConfigurationTarget.Workspace);
            const api = await activated();
            const url = server.url;
            const known = await waitFor('the setting among the explorer servers', () =>
                api.explorer.servers().find((s) => s.url === url),
            );
            key = known.key;
        });

        suiteTeardown(async function () {
            this.timeout(30_000);
            await vscode.commands.executeCommand('workbench.action.closeAllEditors');
            await vscode.workspace
                .getConfiguration('stackDoctor')
                .update('trackingUri', undefined, vscode.ConfigurationTarget.Workspace);
            await stopMlflowServer(server);
        });

        test('offers the server under an opaque key, never its URL', () => {
            assert.match(key, /^[0-9a-f]{24}$/);
            assert.ok(!key.includes('127.0.0.1'));
        });

        test('opens one explorer panel and reuses it', async () => {
            await vscode.commands.executeCommand('stackDoctor.openExplorer', {
                serverKey: key,
                experimentId,
                runId,
            });
            const api = await activated();
            await waitFor('the explorer tab', () => webviewTabs().length === 1);
            assert.equal(api.explorer.panelOpen, true);
            assert.equal(webviewTabs()[0]?.label, 'MLflow Explorer');
            await vscode.commands.executeCommand('stackDoctor.openExplorer');
            await new Promise((resolve) => setTimeout(resolve, 300));
            assert.equal(webviewTabs().length, 1, 'the second open reuses the panel');
        });

        test('tells the page which server it talks to once the page is ready', async () => {
            const api = await activated();
            const state = await waitFor(
                'the panel to send init',
                () => (api.explorer.panelState?.current ? api.explorer.panelState : undefined),
                30_000,
            );
            assert.equal(state.current, key);
            const info = state.servers.find((s) => s.key === key);
            assert.equal(info?.version, VERSION);
            assert.equal(info?.major, 3);
            assert.equal(info?.capabilities.loggedModels, true);
        });

        test('reads a text artifact through the mlflow-artifact file system', async () => {
            const bytes = await vscode.workspace.fs.readFile(artifact('notes/hello.txt'));
            assert.equal(new TextDecoder().decode(bytes), 'hello from the explorer suite\n');
            const stat = await vscode.workspace.fs.stat(artifact('notes/hello.txt'));
            assert.equal(stat.type, vscode.FileType.File);
            assert.equal(stat.size, bytes.length);
            assert.equal(stat.permissions, vscode.FilePermission.Readonly);
        });

        test('lists a run folder with its files and folders', async () => {
            const entries = await vscode.workspace.fs.readDirectory(artifact(''));
            const sorted = [...entries].sort(([a], [b]) => a.localeCompare(b));
            assert.deepEqual(sorted, [
                [HOSTILE_NAME, vscode.FileType.File],
                ['notes', vscode.FileType.Directory],
                ['readme.md', vscode.FileType.File],
            ]);
            const nested = await vscode.workspace.fs.readDirectory(artifact('notes'));
            assert.deepEqual(nested, [['hello.txt', vscode.FileType.File]]);
        });

        test('reads a hostile name after a round trip through the URI string', async () => {
            const uri = vscode.Uri.parse(artifact(HOSTILE_NAME).toString());
            assert.equal(path.posix.basename(uri.path), HOSTILE_NAME);
            const bytes = await vscode.workspace.fs.readFile(uri);
            assert.equal(new TextDecoder().decode(bytes), 'hostile\n');
        });

        test('opens a text artifact in a read-only editor', async () => {
            const editor = await vscode.window.showTextDocument(artifact('readme.md'));
            assert.equal(editor.document.getText(), 'top level\n');
            assert.equal(editor.document.uri.scheme, 'mlflow-artifact');
        });

        test('refuses to write, delete or rename', async () => {
            const uri = artifact('notes/hello.txt');
            for (const attempt of [
                vscode.workspace.fs.writeFile(uri, new TextEncoder().encode('changed')),
                vscode.workspace.fs.delete(uri),
                vscode.workspace.fs.rename(uri, artifact('notes/other.txt')),
            ]) {
                const error = await rejection(attempt);
                assert.ok(error instanceof vscode.FileSystemError, String(error));
                assert.match(`${error.code} ${error.message}`, /NoPermissions|read-?only/i);
            }
            const bytes = await vscode.workspace.fs.readFile(uri);
            assert.equal(new TextDecoder().decode(bytes), 'hello from the explorer suite\n');
        });

        test('refuses a path that climbs out of the run with ..', async () => {
            for (const relPath of [
                '../../../../etc/passwd',
                'notes/../../x',
                '%2e%2e/%2e%2e/etc/passwd',
            ]) {
                const uri = vscode.Uri.from({
                    scheme: 'mlflow-artifact',
                    authority: key,
                    path: `/run/${runId}/${relPath}`,
                });
                const error = await rejection(vscode.workspace.fs.readFile(uri));
                assert.ok(error instanceof vscode.FileSystemError, `${relPath}: ${String(error)}`);
                assert.doesNotMatch(error.message, /root:x:0:0/);
            }
        });

        test('says a missing artifact is not found', async () => {
            const error = await rejection(vscode.workspace.fs.readFile(artifact('no/such.txt')));
            assert.ok(error instanceof vscode.FileSystemError, String(error));
            assert.equal(error.code, 'FileNotFound');
        });

        test('keeps credentials in secret storage and out of the log', async function () {
            this.timeout(60_000);
            const api = await activated();
            const url = server?.url ?? '';
            const password = `pw-${randomBytes(12).toString('hex')}`;
            await api.explorer.storeCredentials(url, { username: 'suite-user', password });
            assert.equal(await api.explorer.hasCredentials(url), true);
            // The next request connects again, now with the credentials (this server ignores them).
            const bytes = await vscode.workspace.fs.readFile(artifact('readme.md'));
            assert.equal(new TextDecoder().decode(bytes), 'top level\n');
            await waitFor(
                'the panel to reconnect with credentials',
                () => api.explorer.panelState?.servers.find((s) => s.key === key)?.authenticated,
                30_000,
            );
            assert.ok(!JSON.stringify(api.explorer.panelState).includes(password));
            const logs = path.dirname(api.explorer.logFolder);
            const text = await waitFor(
                'the log to say the connection used stored credentials',
                () => {
                    const all = logFiles(logs)
                        .map((f) => readFileSync(f, 'utf8'))
                        .join('\n');
                    return all.includes('with stored credentials') ? all : undefined;
                },
                20_000,
            );
            assert.ok(!text.includes(password), 'the password is not in any log');
            assert.ok(!text.includes(Buffer.from(`suite-user:${password}`).toString('base64')));
            await api.explorer.forgetCredentials(url);
            assert.equal(await api.explorer.hasCredentials(url), false);
        });

        test('closing the panel ends it, and opening again makes a new one', async () => {
            const api = await activated();
            const tab = webviewTabs()[0];
            assert.ok(tab);
            await vscode.window.tabGroups.close(tab);
            await waitFor('the panel to close', () => !api.explorer.panelOpen);
            await vscode.commands.executeCommand('stackDoctor.openExplorer', { serverKey: key });
            await waitFor('a new explorer tab', () => webviewTabs().length === 1);
            assert.equal(api.explorer.panelOpen, true);
        });
    });
} else {
    suite('the MLflow explorer in restricted mode', () => {
        test('reads no artifact over HTTP until the workspace is trusted', async () => {
            await activated();
            const uri = vscode.Uri.from({
                scheme: 'mlflow-artifact',
                authority: 'a1b2c3d4e5f6a7b8c9d0e1f2',
                path: '/run/0a1b2c3d4e5f60718293a4b5c6d7e8f9/x.txt',
            });
            const error = await rejection(vscode.workspace.fs.readFile(uri));
            assert.ok(error instanceof vscode.FileSystemError, String(error));
            assert.match(error.message, /trust the workspace/);
        });
    });
}
