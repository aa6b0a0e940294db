import assert from 'node:assert/strict';
import { suite, test } from 'mocha';
import * as vscode from 'vscode';

import { RUN_ID } from '../seedWorkspace.js';
import { codeOf, diagnosedApi, file, ourDiagnostics, waitFor } from './workspace.js';

async function quickFixes(uri: vscode.Uri, range: vscode.Range): Promise<vscode.CodeAction[]> {
    const actions = await vscode.commands.executeCommand<(vscode.CodeAction | vscode.Command)[]>(
        'vscode.executeCodeActionProvider',
        uri,
        range,
        vscode.CodeActionKind.QuickFix.value,
    );
    return actions.filter((a): a is vscode.CodeAction => 'edit' in a || 'kind' in a);
}

suite('quick fixes', () => {
    test('adds the healthcheck and service_healthy as one edit, and undo restores the file', async () => {
        await diagnosedApi();
        const uri = file('compose.yaml');
        const document = await vscode.workspace.openTextDocument(uri);
        await vscode.window.showTextDocument(document);
        const original = document.getText();
        const diagnostic = ourDiagnostics(uri).find((d) => codeOf(d) === 'startup-order');
        assert.ok(diagnostic);

        // A diagnosis that an earlier test started may still be republishing the markers; the
        // lightbulb reads them, so ask again until it has settled.
        const all = await waitFor('the combined quick fix', async () =>
            (await quickFixes(uri, diagnostic.range)).find((a) =>
                a.title.startsWith('Apply all 2 fixes'),
            ),
        );
        assert.ok(all.edit);
        assert.equal(all.isPreferred, true);
        assert.ok(await vscode.workspace.applyEdit(all.edit));
        const fixed = document.getText();
        assert.match(fixed, /\n {4}healthcheck:\n {6}test: \["CMD", "python3"/);
        assert.match(fixed, /depends_on:\n {6}mlflow:\n {8}condition: service_healthy/);

        // Undo acts on the focused editor: focus the one that was edited, and give the undo
        // stack the moment it needs instead of asserting on the same tick.
        await vscode.window.showTextDocument(document);
        await vscode.commands.executeCommand('undo');
        await waitFor('the undo to restore compose.yaml', () =>
            document.getText() === original ? true : undefined,
        );
        assert.equal(document.isDirty, false);
    });

    test('offers both sides of the version mismatch as separate fixes', async () => {
        await diagnosedApi();
        const uri = file('compose.yaml');
        const diagnostic = ourDiagnostics(uri).find((d) => codeOf(d) === 'version-mismatch');
        assert.ok(diagnostic);
        const titles = (await quickFixes(uri, diagnostic.range)).map((a) => a.title);
        assert.ok(titles.includes('Pin the client to mlflow==2.22.0'), titles.join('\n'));
        assert.ok(titles.includes('Run the server at MLflow 3.17.2'), titles.join('\n'));
        assert.ok(!titles.some((t) => t.startsWith('Apply all')));
    });

    test('in an open notebook, the finding and its fix are in the cell', async () => {
        const api = await diagnosedApi();
        const notebook = await vscode.workspace.openNotebookDocument(file('notebooks/train.ipynb'));
        await vscode.window.showNotebookDocument(notebook);
        const cell = notebook.cellAt(1).document;
        const diagnostic = await waitFor('the diagnostic in cell 2', () =>
            ourDiagnostics(cell.uri).find((d) => codeOf(d) === 'artifact-routing'),
        );
        assert.equal(cell.getText(diagnostic.range), 'file:../mlruns');
        assert.equal(diagnostic.range.start.line, 6);
        assert.equal(
            ourDiagnostics(notebook.uri).filter((d) => codeOf(d) === 'artifact-routing').length,
            0,
        );

        const fix = (await quickFixes(cell.uri, diagnostic.range)).find((a) =>
            a.title.includes('HTTP URI'),
        );
        assert.ok(fix?.edit);
        assert.ok(await vscode.workspace.applyEdit(fix.edit));
        assert.equal(cell.lineAt(6).text, 'mlflow.set_tracking_uri("http://localhost:5000")');
        await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
        assert.ok(api.session.report);
    });

    test('the run_uuid fix backs up meta.yaml in the same edit', async () => {
        await diagnosedApi();
        const relative = `mlruns/1/${RUN_ID}/meta.yaml`;
        const uri = file(relative);
        const backup = file(`${relative}.bak`);
        const before = new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
        const diagnostic = ourDiagnostics(uri).find((d) => codeOf(d) === 'filestore-corrupt');
        assert.ok(diagnostic);
        // Code actions are asked of an open document (VS Code refuses a URI it has no model of).
        await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri));
        let step = 'asking for code actions';
        try {
            const fix = (await quickFixes(uri, diagnostic.range)).find((a) =>
                a.title.startsWith('Add run_uuid'),
            );
            assert.ok(fix?.edit);
            step = 'applying the edit';
            assert.ok(await vscode.workspace.applyEdit(fix.edit));
            step = 'running the command that follows the edit';
            assert.ok(fix.command);
            await vscode.commands.executeCommand(
                fix.command.command,
                ...((fix.command.arguments ?? []) as unknown[]),
            );
        } catch (error) {
            throw new Error(`${step}: ${error instanceof Error ? error.message : String(error)}`, {
                cause: error,
            });
        }
        try {
            const saved = new TextDecoder().decode(await vscode.workspace.fs.readFile(backup));
            assert.equal(saved, before);
            const document = await vscode.workspace.openTextDocument(uri);
            assert.match(
                document.getText(),
                new RegExp(`run_id: ${RUN_ID}\nrun_uuid: '${RUN_ID}'\n`),
            );
        } finally {
            await vscode.workspace.fs.delete(backup).then(undefined, () => undefined);
            const document = await vscode.workspace.openTextDocument(uri);
            await vscode.window.showTextDocument(document);
            await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
        }
    });
});
