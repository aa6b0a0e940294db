// Quick fixes from each finding's edits, as one WorkspaceEdit per fix: applying it is one step
// and undoing it is one step. A fix that backs up a file first (a meta.yaml) creates the backup
// in the same edit, so undo removes the backup too.

import { existsSync, readFileSync } from 'node:fs';
import * as vscode from 'vscode';

import type { FindingDiagnostics } from './diagnostics.js';
import { openNotebooks, targetUri, toRange } from './documents.js';
import { cellText, placeRange } from './findingPlaces.js';
import { backupPath, fixPlans, type FixPlan } from './fixPlans.js';
import type { StackSession } from './stackSession.js';

export const SAVE_BACKUPS = 'stackDoctor.saveBackups';

/** Saves the backup files a quick fix created, so they are on disk beside the edited file. */
export async function saveBackups(uris: string[]): Promise<void> {
    for (const uri of uris) {
        const document = await vscode.workspace.openTextDocument(vscode.Uri.parse(uri));
        await document.save();
    }
}

export class FindingFixes implements vscode.CodeActionProvider {
    static readonly kinds = [vscode.CodeActionKind.QuickFix];

    constructor(
        private readonly session: StackSession,
        private readonly diagnostics: FindingDiagnostics,
    ) {}

    provideCodeActions(
        document: vscode.TextDocument,
        _range: vscode.Range | vscode.Selection,
        context: vscode.CodeActionContext,
    ): vscode.CodeAction[] {
        const findings = this.session.report?.findings ?? [];
        const actions: vscode.CodeAction[] = [];
        for (const { finding, diagnostic } of this.diagnostics.findingsIn(
            document.uri,
            context.diagnostics,
            findings,
        )) {
            for (const plan of fixPlans(finding)) {
                const edit = this.workspaceEdit(plan);
                if (!edit) continue;
                const action = new vscode.CodeAction(plan.title, vscode.CodeActionKind.QuickFix);
                action.edit = edit;
                action.diagnostics = [diagnostic];
                action.isPreferred = plan.preferred;
                if (plan.backups.length > 0) {
                    // Runs after the edit: the backup's text is in an unsaved buffer until then.
                    action.command = {
                        command: SAVE_BACKUPS,
                        title: 'Save the backups',
                        arguments: [this.backupUris(edit)],
                    };
                }
                actions.push(action);
            }
        }
        return actions;
    }

    private backupUris(edit: vscode.WorkspaceEdit): string[] {
        return edit
            .entries()
            .map(([uri]) => uri)
            .filter((uri) => /\.bak(\.\d+)?$/.test(uri.path))
            .map((uri) => uri.toString());
    }

    /** The plan as one WorkspaceEdit, or undefined when a place it edits is gone. */
    workspaceEdit(plan: FixPlan): vscode.WorkspaceEdit | undefined {
        const folder = this.session.folder();
        if (!folder) return undefined;
        const notebooks = openNotebooks(folder);
        const edit = new vscode.WorkspaceEdit();
        for (const file of plan.backups) {
            const original = vscode.Uri.joinPath(folder, file);
            const backup = vscode.Uri.joinPath(
                folder,
                backupPath(file, (candidate) =>
                    existsSync(vscode.Uri.joinPath(folder, candidate).fsPath),
                ),
            );
            const contents = currentText(original);
            if (contents === undefined) return undefined;
            // Created empty, then filled by a text edit: a text edit survives every way a quick
            // fix travels (lightbulb, executeCodeActionProvider), file contents do not.
            edit.createFile(backup, { overwrite: false, ignoreIfExists: false });
            edit.insert(backup, new vscode.Position(0, 0), contents);
        }
        for (const change of plan.edits) {
            const place = placeRange(change.range, notebooks);
            const uri = targetUri(folder, place.target);
            if (!uri) return undefined;
            const text = place.target.kind === 'cell' ? cellText(change.newText) : change.newText;
            edit.replace(uri, toRange(place), text, {
                label: change.label,
                needsConfirmation: false,
            });
        }
        return edit;
    }
}

/** The text a backup must hold: the open document's (it may be unsaved), else the file's. */
function currentText(uri: vscode.Uri): string | undefined {
    const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
    if (open) return open.getText();
    try {
        return readFileSync(uri.fsPath, 'utf8');
    } catch {
        return undefined;
    }
}
