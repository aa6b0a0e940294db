// The extension's settings, read in one place with their defaults, and whether the workspace is
// trusted: an untrusted workspace gets a files-only diagnosis (no Docker, no HTTP, no writes, no
// commands in containers, and its own Python is never run).

import * as vscode from 'vscode';

export const SECTION = 'stackDoctor';

export interface Settings {
    dockerHost?: string;
    trackingUri?: string;
    timeoutMs: number;
    allowWrites: boolean;
    allowExec: boolean;
    diagnoseOnOpen: boolean;
    diagnoseOnSave: boolean;
}

export function readSettings(): Settings {
    const config = vscode.workspace.getConfiguration(SECTION);
    const text = (key: string) => {
        const value = config.get<string>(key, '').trim();
        return value === '' ? undefined : value;
    };
    const timeoutMs = config.get<number>('probe.timeoutMs', 4000);
    return {
        dockerHost: text('docker.host'),
        trackingUri: text('trackingUri'),
        timeoutMs: Number.isFinite(timeoutMs) && timeoutMs >= 100 ? timeoutMs : 4000,
        allowWrites: config.get<boolean>('probe.allowWrites', true),
        allowExec: config.get<boolean>('probe.allowExec', true),
        diagnoseOnOpen: config.get<boolean>('diagnoseOnOpen', true),
        diagnoseOnSave: config.get<boolean>('diagnoseOnSave', true),
    };
}

export function isTrusted(): boolean {
    return vscode.workspace.isTrusted;
}
