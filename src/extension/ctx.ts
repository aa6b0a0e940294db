// Lifetimes. Everything registered for the extension's whole life goes into the extension
// context; what belongs to one live Docker subscription goes into a list of its own, disposed
// when the view hides or the connection breaks, so nothing outlives what it watches.

import type * as vscode from 'vscode';

import type { Log } from './log.js';

export class Ctx {
    private readonly live: vscode.Disposable[] = [];

    constructor(
        readonly extension: vscode.ExtensionContext,
        readonly log: Log,
    ) {}

    get extensionPath(): string {
        return this.extension.extensionPath;
    }

    /** Disposed when the extension deactivates. */
    own<T extends vscode.Disposable>(disposable: T): T {
        this.extension.subscriptions.push(disposable);
        return disposable;
    }

    /** Disposed when the live Docker subscription ends. */
    ownLive(disposable: vscode.Disposable): void {
        this.live.push(disposable);
    }

    endLive(): void {
        for (const disposable of this.live.splice(0)) {
            try {
                disposable.dispose();
            } catch (error) {
                this.log.error('ending the live subscription', error);
            }
        }
    }
}
