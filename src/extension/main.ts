// Activation: register the view, the Problems diagnostics and quick fixes, the status bar and
// the commands, and nothing heavy. The engine is loaded by the first diagnosis, which runs after
// activation has returned.

import * as vscode from 'vscode';

import { FindingFixes } from './codeActions.js';
import { registerCommands } from './commands.js';
import { SECTION } from './config.js';
import { Ctx } from './ctx.js';
import { registerExplorer, type ExplorerApi } from './explorer/explorer.js';
import { FindingDiagnostics } from './diagnostics.js';
import { Log } from './log.js';
import { ServerStatusItem } from './statusBar.js';
import { STACK_VIEW, StackTree } from './stackTree.js';
import { StackSession } from './stackSession.js';

/** What activate returns: the extension-host tests read the view and diagnostics through it. */
export interface StackDoctorApi {
    session: StackSession;
    tree: StackTree;
    diagnostics: FindingDiagnostics;
    fixes: FindingFixes;
    status: ServerStatusItem;
    explorer: ExplorerApi;
}

// Files whose change can change a finding; saving one re-runs the diagnosis.
const STACK_FILE =
    /(^|\/)((docker-)?compose[^/]*\.ya?ml|\.env|[^/]+\.py|[^/]+\.ipynb|meta\.yaml|requirements[^/]*\.txt|pyproject\.toml|Dockerfile[^/]*|MLproject|[^/]+\.sh|nginx[^/]*\.conf)$/;

export function activate(context: vscode.ExtensionContext): StackDoctorApi {
    const log = new Log('MLOps Stack Doctor');
    context.subscriptions.push(log);
    const ctx = new Ctx(context, log);
    try {
        return register(ctx);
    } catch (error) {
        log.error('activation failed', error);
        void vscode.window.showErrorMessage(
            `MLOps Stack Doctor could not start: ${error instanceof Error ? error.message : String(error)}`,
        );
        throw error;
    }
}

function register(ctx: Ctx): StackDoctorApi {
    const session = ctx.own(new StackSession(ctx));
    const tree = ctx.own(new StackTree(session));
    const view = ctx.own(
        vscode.window.createTreeView(STACK_VIEW, { treeDataProvider: tree, showCollapseAll: true }),
    );
    const diagnostics = ctx.own(new FindingDiagnostics(session, ctx.extension.extensionUri));
    const fixes = new FindingFixes(session, diagnostics);
    ctx.own(
        vscode.languages.registerCodeActionsProvider(
            [{ scheme: 'file' }, { scheme: 'vscode-notebook-cell' }],
            fixes,
            { providedCodeActionKinds: FindingFixes.kinds },
        ),
    );
    const status = ctx.own(new ServerStatusItem(session));
    registerCommands(ctx, session);
    const explorer = registerExplorer(ctx, session, diagnostics);

    const automatic = (reason: string) => void session.diagnose({ reason, automatic: true });

    session.setViewVisible(view.visible);
    ctx.own(
        view.onDidChangeVisibility((event) => {
            session.setViewVisible(event.visible);
            if (event.visible && !session.report && !session.diagnosing) automatic('view shown');
        }),
    );

    let saved: NodeJS.Timeout | undefined;
    ctx.own(
        vscode.workspace.onDidSaveTextDocument((document) => {
            if (!vscode.workspace.getConfiguration(SECTION).get<boolean>('diagnoseOnSave', true))
                return;
            if (!STACK_FILE.test(document.uri.path)) return;
            // A "save all" of five files is one diagnosis.
            clearTimeout(saved);
            saved = setTimeout(() => automatic(`saved ${document.uri.path}`), 500);
        }),
    );
    ctx.own({ dispose: () => clearTimeout(saved) });
    ctx.own(vscode.workspace.onDidGrantWorkspaceTrust(() => automatic('workspace trusted')));
    ctx.own(
        vscode.workspace.onDidChangeConfiguration((event) => {
            if (event.affectsConfiguration(SECTION)) automatic('settings changed');
        }),
    );

    if (vscode.workspace.getConfiguration(SECTION).get<boolean>('diagnoseOnOpen', true)) {
        // After activation returns: loading the engine and gathering are not activation's cost.
        const first = setTimeout(() => automatic('workspace opened'), 0);
        ctx.own({ dispose: () => clearTimeout(first) });
    }
    ctx.log.info(`activated (${vscode.workspace.isTrusted ? 'trusted' : 'restricted mode'})`);
    return { session, tree, diagnostics, fixes, status, explorer };
}

export function deactivate(): void {
    // Everything registered is in the extension's subscriptions and disposed by VS Code.
}
