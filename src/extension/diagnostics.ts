// Findings in the Problems panel: one diagnostic per finding location, at the exact range, in
// the cell document for an open notebook, with the kind as a code that opens its docs section
// and related information that leads to the other side of a mismatch.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';

import type { Finding } from '../core/model.js';

import { openNotebooks, toLocation, toRange, targetUri } from './documents.js';
import { kindHeadingLines } from './findingDocs.js';
import { diagnosticPlans, type DiagnosticPlan } from './findingPlaces.js';
import type { StackSession } from './stackSession.js';

export const DIAGNOSTIC_SOURCE = 'Stack Doctor';

const SEVERITY: Record<DiagnosticPlan['severity'], vscode.DiagnosticSeverity> = {
    error: vscode.DiagnosticSeverity.Error,
    warning: vscode.DiagnosticSeverity.Warning,
    info: vscode.DiagnosticSeverity.Information,
};

export class FindingDiagnostics implements vscode.Disposable {
    private readonly collection = vscode.languages.createDiagnosticCollection('stack-doctor');
    private readonly disposables: vscode.Disposable[] = [this.collection];
    private docLines?: Map<string, number>;
    /** The plans last published, for the code actions to find their findings. */
    plans: { uri: string; plan: DiagnosticPlan }[] = [];

    constructor(
        private readonly session: StackSession,
        private readonly extensionUri: vscode.Uri,
    ) {
        this.disposables.push(
            session.onDidChange(() => this.publish()),
            // A notebook opened or closed moves its findings between the file and the cells.
            vscode.workspace.onDidOpenNotebookDocument(() => this.publish()),
            vscode.workspace.onDidCloseNotebookDocument(() => this.publish()),
        );
    }

    private docsTarget(kind: string): vscode.Uri {
        const page = vscode.Uri.joinPath(this.extensionUri, 'media', 'docs', 'findings.md');
        if (!this.docLines) {
            try {
                this.docLines = kindHeadingLines(readFileSync(page.fsPath, 'utf8'));
            } catch {
                this.docLines = new Map();
            }
        }
        const line = this.docLines.get(kind);
        return line ? page.with({ fragment: `L${line}` }) : page;
    }

    publish(): void {
        const folder = this.session.folder();
        const report = this.session.report;
        this.collection.clear();
        this.plans = [];
        if (!folder || !report) return;
        const byUri = new Map<string, { uri: vscode.Uri; diagnostics: vscode.Diagnostic[] }>();
        for (const plan of diagnosticPlans(report.findings, openNotebooks(folder))) {
            const uri = targetUri(folder, plan.place.target);
            if (!uri) continue;
            const diagnostic = new vscode.Diagnostic(
                toRange(plan.place),
                plan.message,
                SEVERITY[plan.severity],
            );
            diagnostic.source = DIAGNOSTIC_SOURCE;
            diagnostic.code = { value: plan.code, target: this.docsTarget(plan.code) };
            diagnostic.relatedInformation = plan.related.flatMap((related) => {
                const location = toLocation(folder, related.place);
                return location
                    ? [new vscode.DiagnosticRelatedInformation(location, related.message)]
                    : [];
            });
            const key = uri.toString();
            const entry = byUri.get(key) ?? { uri, diagnostics: [] };
            entry.diagnostics.push(diagnostic);
            byUri.set(key, entry);
            this.plans.push({ uri: key, plan });
        }
        for (const { uri, diagnostics } of byUri.values()) this.collection.set(uri, diagnostics);
    }

    /** The finding a diagnostic of ours stands for. */
    findingIdOf(uri: vscode.Uri, diagnostic: vscode.Diagnostic): string | undefined {
        const key = uri.toString();
        return this.plans.find(
            ({ uri: planUri, plan }) =>
                planUri === key &&
                plan.message === diagnostic.message &&
                plan.place.startLine === diagnostic.range.start.line &&
                plan.place.startCharacter === diagnostic.range.start.character,
        )?.plan.findingId;
    }

    /**
     * The findings behind the product's diagnostics in a code-action request, each once with the
     * first diagnostic that shows it: what every code action provider of the product starts from.
     */
    findingsIn(
        uri: vscode.Uri,
        diagnostics: readonly vscode.Diagnostic[],
        findings: readonly Finding[],
    ): { finding: Finding; diagnostic: vscode.Diagnostic }[] {
        const found: { finding: Finding; diagnostic: vscode.Diagnostic }[] = [];
        for (const diagnostic of diagnostics) {
            if (diagnostic.source !== DIAGNOSTIC_SOURCE) continue;
            const id = this.findingIdOf(uri, diagnostic);
            const finding = findings.find((f) => f.id === id);
            if (!finding || found.some((f) => f.finding.id === finding.id)) continue;
            found.push({ finding, diagnostic });
        }
        return found;
    }

    dispose(): void {
        for (const disposable of this.disposables) disposable.dispose();
    }
}

/** A path relative to the folder, with forward slashes as the engine writes them. */
export function relativeFile(folder: vscode.Uri, uri: vscode.Uri): string {
    return path.relative(folder.fsPath, uri.fsPath).split(path.sep).join('/');
}
