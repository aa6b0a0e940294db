// One log for the extension, over a LogOutputChannel so the user picks the level. Info is what a
// user wants to know (connected to Docker at ..., server 2.22.0 at ...); debug is for requests.
// Never secrets: messages come from the engine, which masks them, or name files and endpoints.

import * as vscode from 'vscode';

export class Log implements vscode.Disposable {
    readonly channel: vscode.LogOutputChannel;

    constructor(name: string) {
        this.channel = vscode.window.createOutputChannel(name, { log: true });
    }

    info(message: string): void {
        this.channel.info(message);
    }

    debug(message: string): void {
        this.channel.debug(message);
    }

    warn(message: string): void {
        this.channel.warn(message);
    }

    /** Errors keep their stack, so a bug report from the log says where it happened. */
    error(message: string, error?: unknown): void {
        if (error instanceof Error)
            this.channel.error(`${message}: ${error.stack ?? error.message}`);
        else if (error !== undefined) this.channel.error(`${message}: ${JSON.stringify(error)}`);
        else this.channel.error(message);
    }

    show(): void {
        this.channel.show(true);
    }

    dispose(): void {
        this.channel.dispose();
    }
}
