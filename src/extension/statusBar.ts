// The status bar item: the MLflow server's state and version, the client/server mismatch when
// there is one; clicking it runs the full diagnosis.

import * as vscode from 'vscode';

import { serverStatus } from './statusModel.js';
import type { StackSession } from './stackSession.js';

export class ServerStatusItem implements vscode.Disposable {
    private readonly item = vscode.window.createStatusBarItem(
        'stackDoctor.server',
        vscode.StatusBarAlignment.Left,
        50,
    );
    private readonly subscription: vscode.Disposable;

    constructor(private readonly session: StackSession) {
        this.item.name = 'MLflow server';
        this.item.command = 'stackDoctor.diagnose';
        this.subscription = session.onDidChange(() => this.update());
        this.update();
        this.item.show();
    }

    update(): void {
        const status = serverStatus(this.session.snapshot, this.session.report, {
            diagnosing: this.session.diagnosing,
            offline: this.session.offline,
        });
        this.item.text = status.text;
        this.item.tooltip = status.tooltip;
        this.item.backgroundColor =
            status.level === 'error'
                ? new vscode.ThemeColor('statusBarItem.errorBackground')
                : status.level === 'warning'
                  ? new vscode.ThemeColor('statusBarItem.warningBackground')
                  : undefined;
    }

    get text(): string {
        return this.item.text;
    }

    dispose(): void {
        this.subscription.dispose();
        this.item.dispose();
    }
}
