// The commands: diagnose now (with progress), copy the report as Markdown, open the MLflow UI,
// show a service's logs, re-run the sync probe, and open a finding's place.

import * as vscode from 'vscode';

import type { FindingLocation } from '../core/model.js';
import { SAVE_BACKUPS, saveBackups } from './codeActions.js';
import { isTrusted, readSettings } from './config.js';
import type { Ctx } from './ctx.js';
import { openNotebooks, targetUri, toRange } from './documents.js';
import { loadEngine } from './engine.js';
import { placeRange } from './findingPlaces.js';
import type { StackNode } from './stackModel.js';
import type { StackSession } from './stackSession.js';

export function registerCommands(ctx: Ctx, session: StackSession): void {
    const register = (id: string, run: (...args: never[]) => unknown) =>
        ctx.own(vscode.commands.registerCommand(id, run));

    register('stackDoctor.diagnose', () => diagnoseWithProgress(session));
    register('stackDoctor.copyReport', () => copyReport(ctx, session));
    register('stackDoctor.openUi', () => openUi(session));
    register('stackDoctor.showLogs', (node?: StackNode) => showLogs(session, node));
    register('stackDoctor.rerunSyncProbe', () => rerunSyncProbe(ctx, session));
    register('stackDoctor.openLocation', (location: FindingLocation) =>
        openLocation(session, location),
    );
    register('stackDoctor.showOutput', () => ctx.log.show());
    register(SAVE_BACKUPS, (uris: string[]) => saveBackups(uris));
}

export function diagnoseWithProgress(session: StackSession): Thenable<void> {
    return vscode.window.withProgress(
        {
            location: vscode.ProgressLocation.Notification,
            title: 'Diagnosing the stack',
            cancellable: false,
        },
        (progress) =>
            session.diagnose({
                reason: 'asked',
                automatic: false,
                progress: (message) => progress.report({ message }),
            }),
    );
}

async function copyReport(ctx: Ctx, session: StackSession): Promise<void> {
    if (!session.report) await diagnoseWithProgress(session);
    const report = session.report;
    if (!report) return;
    const markdown = loadEngine(ctx.extensionPath).renderMarkdown(report);
    await vscode.env.clipboard.writeText(markdown);
    void vscode.window.showInformationMessage(
        `Copied the diagnosis (${report.findings.length} finding(s)) as Markdown.`,
    );
}

async function openUi(session: StackSession): Promise<void> {
    const servers = session.snapshot?.servers ?? [];
    const server = servers.find((s) => s.serverVersion) ?? servers[0];
    if (!server) {
        void vscode.window.showWarningMessage(
            'No MLflow server was found to open: run the diagnosis with Docker running, or set "stackDoctor.trackingUri".',
        );
        return;
    }
    // Through asExternalUri so the link works from a remote or browser window too.
    const external = await vscode.env.asExternalUri(vscode.Uri.parse(server.baseUrl));
    await vscode.env.openExternal(external);
}

function showLogs(session: StackSession, node?: StackNode): Promise<void> | void {
    const compose = session.snapshot?.compose;
    if (!compose) {
        void vscode.window.showWarningMessage('There is no compose project to show logs of.');
        return;
    }
    if (!isTrusted()) {
        void vscode.window.showWarningMessage(
            'Showing logs runs docker compose: trust the workspace first.',
        );
        return;
    }
    const open = (service: string) => {
        const settings = readSettings();
        const terminal = vscode.window.createTerminal({
            name: `logs: ${service}`,
            cwd: compose.workingDir,
            env: settings.dockerHost ? { DOCKER_HOST: settings.dockerHost } : undefined,
        });
        terminal.show();
        terminal.sendText(
            `docker compose -p ${shellQuote(compose.name)} logs --follow --tail 200 ${shellQuote(service)}`,
        );
    };
    if (node?.service) {
        open(node.service);
        return;
    }
    return (async () => {
        const picked = await vscode.window.showQuickPick(
            compose.services.map((s) => s.name),
            { placeHolder: 'Show the logs of which service?' },
        );
        if (picked) open(picked);
    })();
}

function shellQuote(text: string): string {
    return /^[A-Za-z0-9_.-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

async function rerunSyncProbe(ctx: Ctx, session: StackSession): Promise<void> {
    if (!isTrusted()) {
        void vscode.window.showWarningMessage(
            'The sync probe asks Docker and may write sentinel files: trust the workspace first.',
        );
        return;
    }
    if (!session.snapshot) await diagnoseWithProgress(session);
    await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: 'Probing bind mounts' },
        async () => {
            try {
                await session.reprobeMounts();
            } catch (error) {
                ctx.log.error('the sync probe failed', error);
                void vscode.window.showErrorMessage(
                    `The sync probe failed: ${error instanceof Error ? error.message : String(error)}`,
                );
            }
        },
    );
}

async function openLocation(session: StackSession, location: FindingLocation): Promise<void> {
    const folder = session.folder();
    if (!folder || !location) return;
    const place = placeRange(location, openNotebooks(folder));
    const uri = targetUri(folder, place.target);
    if (!uri) return;
    if (place.target.kind === 'cell') {
        const notebookUri = vscode.Uri.joinPath(folder, place.target.notebook).toString();
        const notebook = vscode.workspace.notebookDocuments.find(
            (n) => n.uri.toString() === notebookUri,
        );
        if (notebook) {
            const cell = place.target.cell;
            await vscode.window.showNotebookDocument(notebook, {
                selections: [new vscode.NotebookRange(cell, cell + 1)],
            });
            return;
        }
    }
    await vscode.window.showTextDocument(uri, { selection: toRange(place), preview: true });
}
