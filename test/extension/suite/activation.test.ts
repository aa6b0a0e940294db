import assert from 'node:assert/strict';
import { suite, test } from 'mocha';
import * as vscode from 'vscode';

import { EXPECT_RESTRICTED, EXTENSION_ID, activated, diagnosedApi } from './workspace.js';

suite('activation and the Stack view', () => {
    test('activates on the seed workspace', async () => {
        await activated();
        const extension = vscode.extensions.getExtension(EXTENSION_ID);
        assert.equal(extension?.isActive, true);
        const commands = await vscode.commands.getCommands(true);
        for (const id of [
            'stackDoctor.diagnose',
            'stackDoctor.copyReport',
            'stackDoctor.openUi',
            'stackDoctor.showLogs',
            'stackDoctor.rerunSyncProbe',
        ]) {
            assert.ok(commands.includes(id), `${id} is registered`);
        }
    });

    test('the tree shows the compose project with both services and their findings', async () => {
        const api = await diagnosedApi();
        const roots = api.tree.getChildren();
        const project = roots.find((n) => n.id === 'project:seed-stack');
        assert.ok(project, `roots: ${roots.map((n) => n.id).join(', ')}`);
        assert.equal(
            api.tree.getTreeItem(project).collapsibleState,
            vscode.TreeItemCollapsibleState.Expanded,
        );
        const services = api.tree.getChildren(project);
        assert.deepEqual(
            services.map((n) => n.label),
            ['mlflow', 'notebook'],
        );
        const notebook = services.find((n) => n.label === 'notebook');
        const children = notebook ? api.tree.getChildren(notebook) : [];
        assert.ok(children.some((n) => n.id === 'finding:startup-order:notebook->mlflow'));
        const mlflow = services.find((n) => n.label === 'mlflow');
        const mount = (mlflow ? api.tree.getChildren(mlflow) : []).find((n) => n.label === 'Mount');
        assert.match(mount?.description ?? '', /mlruns ↔ \/mlruns/);
        const finding = children.find((n) => n.findingId);
        const item = finding ? api.tree.getTreeItem(finding) : undefined;
        assert.equal(item?.command?.command, 'stackDoctor.openLocation');
        if (EXPECT_RESTRICTED) assert.equal(roots[0]?.id, 'docker-offline');
    });

    test('the status bar shows the MLflow server state and runs the diagnosis on click', async () => {
        const api = await diagnosedApi();
        assert.match(api.status.text, /MLflow/);
    });
});
