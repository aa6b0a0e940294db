// One log for the extension, over a LogOutputChannel so the user picks the level. Info is what a
// user wants to know (connected to Docker at ..., server 2.22.0 at ...); debug is for requests.
// Never secrets: every line passes through the engine's masker on its way out, whoever wrote it,
// so a URL with a password or an Authorization header in an error stack is masked here too.

import * as vscode from 'vscode';

import { maskSecrets } from '../core/secrets.js';

export class Log implements vscode.Disposable {
    readonly channel: vscode.LogOutputChannel;

    constructor(name: string) {
        this.channel = vscode.window.createOutputChannel(name, { log: true });
    }

    info(message: string): void {
        this.channel.info(maskSecrets(message));
    }

    debug(message: string): void {
        this.channel.debug(maskSecrets(message));
    }

    warn(message: string): void {
        this.channel.warn(maskSecrets(message));
    }

    /** Errors keep their stack, so a bug report from the log says where it happened. */
    error(message: string, error?: unknown): void {
        let line = message;
        if (error instanceof Error) line = `${message}: ${error.stack ?? error.message}`;
        else if (error !== undefined) line = `${message}: ${JSON.stringify(error)}`;
        this.channel.error(maskSecrets(line));
    }

    show(): void {
        this.channel.show(true);
    }

    dispose(): void {
        this.channel.dispose();
    }
}
