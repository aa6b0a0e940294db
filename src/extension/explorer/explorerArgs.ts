// What "Open MLflow Explorer" was asked to show: from the palette (nothing), a caller
// (`{ experimentId?, runId?, serverKey? }`) or the Stack view (its server node, with the URL the
// diagnosis probed). Command arguments can come from anywhere, so only MLflow ids pass.

import type { Focus } from '../../../webview/protocol.js';
import { cleanServerUrl, serverKeyOf } from './explorerServers.js';

export interface OpenExplorerArgs {
    experimentId?: string;
    runId?: string;
    serverKey?: string;
}

const ID = /^[A-Za-z0-9_.:-]{1,256}$/;

/**
 * The command's argument, from the palette (none), a caller (OpenExplorerArgs) or the Stack view
 * (its node). Anything else, or an id that is not an MLflow id, is ignored.
 */
export function openExplorerArgs(arg: unknown): { serverKey?: string; focus?: Focus } {
    if (typeof arg !== 'object' || arg === null) return {};
    const record = arg as Record<string, unknown>;
    const text = (key: string) => {
        const value = record[key];
        return typeof value === 'string' && ID.test(value) && !/^\.+$/.test(value)
            ? value
            : undefined;
    };
    const focus: Focus = {};
    const experimentId = text('experimentId');
    const runId = text('runId');
    if (experimentId) focus.experimentId = experimentId;
    if (runId) focus.runId = runId;
    let serverKey = text('serverKey');
    if (!serverKey && typeof record['serverUrl'] === 'string') {
        const url = cleanServerUrl(record['serverUrl']);
        if (url) serverKey = serverKeyOf(url);
    }
    return {
        ...(serverKey ? { serverKey } : {}),
        ...(experimentId || runId ? { focus } : {}),
    };
}
