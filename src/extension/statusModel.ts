// The status bar's words: the MLflow server's state and version, and the client/server version
// mismatch when there is one.

import type { StackSnapshot } from '../core/model.js';
import type { Report } from '../core/report.js';

export interface StatusText {
    /** With codicons (`$(pass)`). */
    text: string;
    tooltip: string;
    level: 'ok' | 'warning' | 'error' | 'unknown';
}

export function serverStatus(
    snapshot: StackSnapshot | undefined,
    report: Report | undefined,
    options: { diagnosing?: boolean; offline?: boolean } = {},
): StatusText {
    if (options.diagnosing) {
        return {
            text: '$(sync~spin) MLflow: diagnosing…',
            tooltip: 'Diagnosing the stack',
            level: 'unknown',
        };
    }
    if (!snapshot || !report) {
        return {
            text: '$(beaker) MLflow',
            tooltip: 'Click to diagnose the stack',
            level: 'unknown',
        };
    }
    const errors = report.findings.filter((f) => f.severity === 'error').length;
    const summary = `${report.findings.length} finding(s), ${errors} error(s). Click to diagnose again.`;
    const answering = snapshot.servers.find((s) => s.serverVersion);
    const mismatch = report.findings.find((f) => f.kind === 'version-mismatch');
    const client = snapshot.workspace.clientVersions.find((v) => v.version)?.version;

    if (answering?.serverVersion) {
        const server = answering.serverVersion;
        if (mismatch && client && client !== server) {
            return {
                text: `$(warning) MLflow ${server} ≠ client ${client}`,
                tooltip: `${mismatch.title}\nServer at ${answering.baseUrl}.\n${summary}`,
                level: 'warning',
            };
        }
        return {
            text: `$(pass) MLflow ${server}`,
            tooltip: `MLflow ${server} answers at ${answering.baseUrl}.\n${summary}`,
            level: errors > 0 ? 'warning' : 'ok',
        };
    }
    if (snapshot.serverConfigs.length === 0 && snapshot.servers.length === 0) {
        return { text: '$(question) MLflow server not found', tooltip: summary, level: 'unknown' };
    }
    const declared = snapshot.serverConfigs.find((c) => c.declaredVersion)?.declaredVersion
        ?.version;
    const version = declared ? ` ${declared}` : '';
    if (options.offline) {
        const pair =
            mismatch && client && declared && client !== declared ? ` ≠ client ${client}` : '';
        return {
            text: `$(file) MLflow${version}${pair} (files only)`,
            tooltip: `The server was not asked (restricted mode or offline).\n${summary}`,
            level: mismatch ? 'warning' : 'unknown',
        };
    }
    const probe = snapshot.servers[0];
    const outcome = probe?.health?.outcome ?? 'not probed';
    return {
        text: `$(error) MLflow${version} not answering`,
        tooltip: `${probe ? `${probe.baseUrl}: ${outcome}` : 'No published port to probe.'}\n${summary}`,
        level: 'error',
    };
}
