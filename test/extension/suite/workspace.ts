// What the suite's tests share: the activated extension's API, the workspace folder, and small
// waits with deadlines (a test that waits forever tells nothing).

import * as vscode from 'vscode';

import type { StackDoctorApi } from '../../../src/extension/main.js';

export const EXTENSION_ID = 'stack-doctor.mlops-stack-doctor';

/** Set by runTest.ts for the launch that opens the workspace untrusted. */
export const EXPECT_RESTRICTED = process.env.STACK_DOCTOR_EXPECT_RESTRICTED === '1';

export async function activated(): Promise<StackDoctorApi> {
    const extension = vscode.extensions.getExtension<StackDoctorApi>(EXTENSION_ID);
    if (!extension) throw new Error(`${EXTENSION_ID} is not installed in this window`);
    return extension.activate();
}

export function folder(): vscode.Uri {
    const first = vscode.workspace.workspaceFolders?.[0];
    if (!first) throw new Error('the suite needs the seed workspace open');
    return first.uri;
}

export function file(relative: string): vscode.Uri {
    return vscode.Uri.joinPath(folder(), relative);
}

/** Runs the full diagnosis once per launch and returns the API with a report. */
let diagnosed: Promise<StackDoctorApi> | undefined;
export function diagnosedApi(): Promise<StackDoctorApi> {
    diagnosed ??= (async () => {
        const api = await activated();
        await vscode.commands.executeCommand('stackDoctor.diagnose');
        if (!api.session.report)
            throw new Error(`no report after diagnosing: ${api.session.error}`);
        return api;
    })();
    return diagnosed;
}

export async function waitFor<T>(
    what: string,
    probe: () => T | undefined | Promise<T | undefined>,
    timeoutMs = 10_000,
): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const value = await probe();
        if (value !== undefined && value !== false) return value;
        if (Date.now() > deadline)
            throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
    }
}

export function ourDiagnostics(uri: vscode.Uri): vscode.Diagnostic[] {
    return vscode.languages.getDiagnostics(uri).filter((d) => d.source === 'Stack Doctor');
}

export function codeOf(diagnostic: vscode.Diagnostic): string | undefined {
    const code = diagnostic.code;
    return typeof code === 'object'
        ? String(code.value)
        : code === undefined
          ? undefined
          : String(code);
}
