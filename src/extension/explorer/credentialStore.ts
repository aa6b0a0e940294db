// MLflow server credentials in VS Code's SecretStorage (the OS keychain), one entry per server
// URL. They go to the MlflowClient's `auth` and nowhere else: not to the log, not to the webview
// (which learns a boolean), not to webview state.

import type * as vscode from 'vscode';

import type { MlflowAuth } from '../../core/mlflow/client.js';

const PREFIX = 'stackDoctor.mlflowCredentials:';

/** The SecretStorage key of a server: its URL without credentials. */
export function secretKeyOf(cleanUrl: string): string {
    return `${PREFIX}${cleanUrl}`;
}

/** What was stored, if it is one of the two shapes; anything else is treated as nothing. */
export function parseStoredAuth(text: string | undefined): MlflowAuth | undefined {
    if (!text) return undefined;
    let value: unknown;
    try {
        value = JSON.parse(text);
    } catch {
        return undefined;
    }
    if (typeof value !== 'object' || value === null) return undefined;
    const record = value as Record<string, unknown>;
    if (typeof record['token'] === 'string' && record['token'] !== '') {
        return { token: record['token'] };
    }
    if (typeof record['username'] === 'string' && typeof record['password'] === 'string') {
        return { username: record['username'], password: record['password'] };
    }
    return undefined;
}

export class ServerCredentials {
    constructor(private readonly secrets: Pick<vscode.SecretStorage, 'get' | 'store' | 'delete'>) {}

    async get(cleanUrl: string): Promise<MlflowAuth | undefined> {
        return parseStoredAuth(await this.secrets.get(secretKeyOf(cleanUrl)));
    }

    async set(cleanUrl: string, auth: MlflowAuth): Promise<void> {
        await this.secrets.store(secretKeyOf(cleanUrl), JSON.stringify(auth));
    }

    async forget(cleanUrl: string): Promise<void> {
        await this.secrets.delete(secretKeyOf(cleanUrl));
    }
}
