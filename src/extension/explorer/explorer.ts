// The explorer's place in the extension: the panel (one, reused, restored after a reload), the
// artifact file system, the commands that open them (palette, the Stack view's server node, a
// finding that names a run) and the ones that set and forget a server's credentials.

import * as vscode from 'vscode';

import type { MlflowAuth } from '../../core/mlflow/client.js';
import type { Finding } from '../../core/model.js';
import type { Focus } from '../../../webview/protocol.js';
import { isTrusted, readSettings } from '../config.js';
import type { Ctx } from '../ctx.js';
import type { FindingDiagnostics } from '../diagnostics.js';
import { loadEngine } from '../engine.js';
import type { StackNode } from '../stackModel.js';
import type { StackSession } from '../stackSession.js';
import { ArtifactFileSystem } from './artifactFileSystem.js';
import { ArtifactOpener } from './artifactOpener.js';
import { ARTIFACT_SCHEME } from './artifactUri.js';
import { ServerCredentials } from './credentialStore.js';
import { ExplorerConnections, type ExplorerEnvironment } from './explorerConnections.js';
import {
    EXPLORER_TITLE,
    EXPLORER_VIEW_TYPE,
    ExplorerPanel,
    webviewOptions,
    type ExplorerPanelState,
} from './explorerPanel.js';
import { openExplorerArgs } from './explorerArgs.js';
import { explorerServers, type KnownServer } from './explorerServers.js';
import { runsOfFinding } from './findingRuns.js';

export const OPEN_EXPLORER = 'stackDoctor.openExplorer';
export const OPEN_RUN = 'stackDoctor.openRunInExplorer';
export const OPEN_ARTIFACT = 'stackDoctor.openArtifact';
export const SET_CREDENTIALS = 'stackDoctor.setServerCredentials';
export const FORGET_CREDENTIALS = 'stackDoctor.forgetServerCredentials';

/** What the extension-host tests look at and drive (the commands prompt a person instead). */
export interface ExplorerApi {
    readonly panelState: ExplorerPanelState | undefined;
    readonly panelOpen: boolean;
    servers(): KnownServer[];
    /** Stores a server's credentials as the command does, and reconnects with them. */
    storeCredentials(url: string, auth: MlflowAuth): Promise<void>;
    forgetCredentials(url: string): Promise<void>;
    hasCredentials(url: string): Promise<boolean>;
    /** The extension's log folder (`context.logUri`), to check what the log holds. */
    logFolder: string;
}

export function registerExplorer(
    ctx: Ctx,
    session: StackSession,
    diagnostics: FindingDiagnostics,
): ExplorerApi {
    const credentials = new ServerCredentials(ctx.extension.secrets);
    const env: ExplorerEnvironment = {
        engine: () => loadEngine(ctx.extensionPath),
        servers: () => explorerServers(session.snapshot, trustedSettings().trackingUri),
        credentials,
        snapshot: () => session.snapshot,
        dockerTarget: () => {
            if (!isTrusted()) return undefined;
            const settings = readSettings();
            return {
                dockerHost: settings.dockerHost,
                project: session.snapshot?.compose?.name,
                workingDir: session.snapshot?.compose?.workingDir,
                timeoutMs: settings.timeoutMs,
            };
        },
        timeoutMs: () => Math.max(readSettings().timeoutMs, 10_000),
        trusted: () => isTrusted(),
        debug: (line) => ctx.log.debug(line),
        info: (line) => ctx.log.info(line),
    };
    // The file system's connections live as long as the window: an editor may re-read a file
    // long after the panel closed.
    const fileConnections = ctx.own(new ExplorerConnections(env, false));
    const files = ctx.own(
        new ArtifactFileSystem(
            fileConnections,
            () => env.engine(),
            (line) => ctx.log.debug(line),
        ),
    );
    ctx.own(ArtifactFileSystem.register(files));
    const opener = new ArtifactOpener(fileConnections, (line) => ctx.log.debug(line));

    let current: ExplorerPanel | undefined;
    const adopt = (panel: vscode.WebviewPanel, options: { serverKey?: string; focus?: Focus }) => {
        panel.iconPath = vscode.Uri.joinPath(ctx.extension.extensionUri, 'media', 'stack.svg');
        const explorer = new ExplorerPanel(panel, env, opener, ctx.extension.extensionUri, options);
        current = explorer;
        explorer.onDidDispose(() => {
            if (current === explorer) current = undefined;
        });
        return explorer;
    };
    const open = (arg?: unknown) => {
        const options = openExplorerArgs(arg);
        if (current && !current.disposed) {
            current.reveal(options);
            return;
        }
        const panel = vscode.window.createWebviewPanel(
            EXPLORER_VIEW_TYPE,
            EXPLORER_TITLE,
            vscode.ViewColumn.Active,
            { ...webviewOptions(ctx.extension.extensionUri), enableFindWidget: true },
        );
        adopt(panel, options);
    };

    ctx.own(
        vscode.window.registerWebviewPanelSerializer(EXPLORER_VIEW_TYPE, {
            // The page's own state is not trusted here: the restored panel starts from the
            // servers the session knows, as a fresh one does.
            deserializeWebviewPanel: (panel: vscode.WebviewPanel) => {
                adopt(panel, {});
                return Promise.resolve();
            },
        }),
    );
    ctx.own(session.onDidChange(() => current?.serversChanged()));
    ctx.own({ dispose: () => current?.dispose() });

    const register = (id: string, run: (...args: never[]) => unknown) =>
        ctx.own(vscode.commands.registerCommand(id, run));
    register(OPEN_EXPLORER, (arg?: unknown) => open(arg));
    register(OPEN_RUN, (arg?: StackNode | { findingId?: string }) => {
        const finding = session.report?.findings.find((f) => f.id === arg?.findingId);
        return openRunOf(finding, open);
    });
    register(OPEN_ARTIFACT, async (arg?: vscode.Uri | string) => {
        const uri = typeof arg === 'string' ? vscode.Uri.parse(arg, true) : arg;
        if (!(uri instanceof vscode.Uri) || uri.scheme !== ARTIFACT_SCHEME) {
            void vscode.window.showWarningMessage(
                `Open Artifact needs an ${ARTIFACT_SCHEME}: URI (from the MLflow Explorer).`,
            );
            return undefined;
        }
        try {
            const at = files.address(uri);
            return await opener.open(at.serverKey, at.owner, at.path);
        } catch (error) {
            void vscode.window.showErrorMessage(
                `The artifact could not be opened: ${error instanceof Error ? error.message : String(error)}`,
            );
            return undefined;
        }
    });
    const changed = (url: string) => {
        fileConnections.forget(url);
        current?.credentialsChanged(url);
    };
    const store = async (url: string, auth: MlflowAuth) => {
        await credentials.set(url, auth);
        changed(url);
    };
    const forget = async (url: string) => {
        await credentials.forget(url);
        changed(url);
    };
    register(SET_CREDENTIALS, (arg?: unknown) => setCredentials(env, arg, store));
    register(FORGET_CREDENTIALS, (arg?: unknown) => forgetCredentials(env, arg, forget));
    ctx.own(
        vscode.languages.registerCodeActionsProvider(
            [{ scheme: 'file' }, { scheme: 'vscode-notebook-cell' }],
            new OpenRunActions(session, diagnostics),
            { providedCodeActionKinds: OpenRunActions.kinds },
        ),
    );

    return {
        get panelState() {
            return current?.state;
        },
        get panelOpen() {
            return current !== undefined && !current.disposed;
        },
        servers: () => env.servers(),
        storeCredentials: store,
        forgetCredentials: forget,
        hasCredentials: async (url) => (await credentials.get(url)) !== undefined,
        logFolder: ctx.extension.logUri.fsPath,
    };
}

/** The setting is restricted: an untrusted workspace's value is not used. */
function trustedSettings() {
    const settings = readSettings();
    return isTrusted() ? settings : { ...settings, trackingUri: undefined };
}

async function openRunOf(finding: Finding | undefined, open: (arg: unknown) => void) {
    const runs = finding ? runsOfFinding(finding) : [];
    if (runs.length === 0) {
        void vscode.window.showInformationMessage('This finding names no MLflow run.');
        return;
    }
    const run =
        runs.length === 1
            ? runs[0]
            : (
                  await vscode.window.showQuickPick(
                      runs.map((r) => ({
                          label: r.runId,
                          description: r.experimentId ? `experiment ${r.experimentId}` : undefined,
                          run: r,
                      })),
                      { placeHolder: 'Open which run?' },
                  )
              )?.run;
    if (run) open({ runId: run.runId, experimentId: run.experimentId });
}

/** "Open the Run in the Explorer" on a finding's diagnostic, beside its quick fixes. */
export class OpenRunActions implements vscode.CodeActionProvider {
    static readonly kind = vscode.CodeActionKind.QuickFix.append('explorer');
    static readonly kinds = [OpenRunActions.kind];

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
            if (runsOfFinding(finding).length === 0) continue;
            const action = new vscode.CodeAction(
                'Open the Run in the Explorer',
                OpenRunActions.kind,
            );
            action.diagnostics = [diagnostic];
            action.command = {
                command: OPEN_RUN,
                title: 'Open the Run in the Explorer',
                arguments: [{ findingId: finding.id }],
            };
            actions.push(action);
        }
        return actions;
    }
}

async function pickServer(
    env: ExplorerEnvironment,
    arg: unknown,
    placeHolder: string,
): Promise<KnownServer | undefined> {
    const servers = env.servers();
    const { serverKey } = openExplorerArgs(arg);
    const chosen = serverKey ? servers.find((s) => s.key === serverKey) : undefined;
    if (chosen) return chosen;
    if (servers.length === 0) {
        void vscode.window.showWarningMessage(
            'No MLflow server is known: run the diagnosis with the stack up, or set "stackDoctor.trackingUri".',
        );
        return undefined;
    }
    const picked = await vscode.window.showQuickPick(
        servers.map((s) => ({ label: s.url, description: s.origin, server: s })),
        { placeHolder },
    );
    return picked?.server;
}

async function setCredentials(
    env: ExplorerEnvironment,
    arg: unknown,
    store: (url: string, auth: MlflowAuth) => Promise<void>,
): Promise<void> {
    const server = await pickServer(env, arg, 'Set the credentials of which MLflow server?');
    if (!server) return;
    const kind = await vscode.window.showQuickPick(
        [
            {
                label: 'User and password',
                description: 'HTTP basic auth (mlflow server --app-name basic-auth)',
                basic: true,
            },
            { label: 'Token', description: 'sent as Authorization: Bearer', basic: false },
        ],
        { placeHolder: `How does ${server.url} authenticate?` },
    );
    if (!kind) return;
    let auth: MlflowAuth;
    if (kind.basic) {
        const username = await vscode.window.showInputBox({
            title: `User for ${server.url}`,
            ignoreFocusOut: true,
            validateInput: (v) => (v.trim() === '' ? 'Enter a user name.' : undefined),
        });
        if (username === undefined) return;
        const password = await vscode.window.showInputBox({
            title: `Password of ${username} at ${server.url}`,
            password: true,
            ignoreFocusOut: true,
        });
        if (password === undefined) return;
        auth = { username: username.trim(), password };
    } else {
        const token = await vscode.window.showInputBox({
            title: `Token for ${server.url}`,
            password: true,
            ignoreFocusOut: true,
            validateInput: (v) => (v.trim() === '' ? 'Enter the token.' : undefined),
        });
        if (token === undefined) return;
        auth = { token: token.trim() };
    }
    await store(server.url, auth);
    void vscode.window.showInformationMessage(
        `Stored the credentials for ${server.url} in VS Code's secret storage.`,
    );
}

async function forgetCredentials(
    env: ExplorerEnvironment,
    arg: unknown,
    forget: (url: string) => Promise<void>,
): Promise<void> {
    const server = await pickServer(env, arg, 'Forget the credentials of which MLflow server?');
    if (!server) return;
    await forget(server.url);
    void vscode.window.showInformationMessage(`Forgot the credentials for ${server.url}.`);
}
