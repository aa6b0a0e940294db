// Saving and loading snapshots. A saved snapshot is meant to be attached to a bug report, so
// values that look like secrets are masked before it is written, and a loaded one is checked
// before any check sees it.

import { maskSecrets } from './docker/logs.js';
import type { StackSnapshot } from './model.js';

const SECRET_NAME = /(PASS(WORD)?|SECRET|TOKEN|KEY|CREDENTIAL|AUTH)/i;
const URL_CREDENTIALS = /(\w+:\/\/)([^/\s:@]+):([^@\s/]+)@/g;

function maskString(value: string): string {
    return value.replace(URL_CREDENTIALS, '$1$2:***@');
}

function maskEnv(env: Record<string, string | null>): Record<string, string | null> {
    const out: Record<string, string | null> = {};
    for (const [name, value] of Object.entries(env)) {
        out[name] =
            value !== null && SECRET_NAME.test(name)
                ? '***'
                : value === null
                  ? null
                  : maskString(value);
    }
    return out;
}

/** A deep copy with secrets masked: env values named like secrets, credentials in URLs. */
export function redactSnapshot(snapshot: StackSnapshot): StackSnapshot {
    const copy = JSON.parse(JSON.stringify(snapshot)) as StackSnapshot;
    for (const service of copy.compose?.services ?? []) {
        service.environment = maskEnv(service.environment);
        if (service.command) service.command = service.command.map(maskString);
    }
    if (copy.compose) {
        for (const [name, v] of Object.entries(copy.compose.variables)) {
            if (SECRET_NAME.test(name)) copy.compose.variables[name] = { ...v, value: '***' };
        }
    }
    for (const container of copy.docker?.containers ?? []) {
        container.env = maskEnv(container.env) as Record<string, string>;
        container.cmd = container.cmd.map(maskString);
        container.logTail = container.logTail?.map(maskString);
    }
    for (const config of copy.serverConfigs) {
        if (config.backendStoreUri) config.backendStoreUri = maskString(config.backendStoreUri);
    }
    for (const use of copy.workspace.trackingUris) use.uri = maskString(use.uri);
    if (copy.files) {
        for (const [file, text] of Object.entries(copy.files)) {
            copy.files[file] = text
                .split('\n')
                .map((line) =>
                    /^\s*(export\s+)?[A-Z0-9_]*(PASS|SECRET|TOKEN|KEY)[A-Z0-9_]*\s*[=:]/i.test(line)
                        ? line.replace(/([=:]\s*).*/, '$1***')
                        : maskString(line),
                )
                .join('\n');
        }
    }
    return maskEveryString(copy) as StackSnapshot;
}

/** Masks credentials wherever a string holds them: URLs, `PASSWORD=...`, Authorization headers. */
function maskEveryString(value: unknown): unknown {
    if (typeof value === 'string') return maskSecrets(value);
    if (Array.isArray(value)) return value.map(maskEveryString);
    if (value !== null && typeof value === 'object') {
        const out: Record<string, unknown> = {};
        for (const [key, inner] of Object.entries(value)) out[key] = maskEveryString(inner);
        return out;
    }
    return value;
}

function fail(what: string): never {
    throw new Error(`not a stack-doctor snapshot: ${what}`);
}

/** Checks the shape of a parsed snapshot file enough that checks can rely on it. */
export function loadSnapshot(data: unknown): StackSnapshot {
    if (typeof data !== 'object' || data === null) fail('expected a JSON object');
    const s = data as Partial<StackSnapshot>;
    if (s.schema !== 1) fail(`unknown schema ${JSON.stringify(s.schema)} (this version reads 1)`);
    if (typeof s.folder !== 'string') fail('"folder" is missing');
    const arrays = [
        'composeProblems',
        'serverConfigs',
        'servers',
        'fileStores',
        'syncProbes',
        'probes',
    ] as const;
    for (const key of arrays) if (!Array.isArray(s[key])) fail(`"${key}" is not a list`);
    const w = s.workspace;
    if (
        !w ||
        !Array.isArray(w.trackingUris) ||
        !Array.isArray(w.calls) ||
        !Array.isArray(w.clientVersions)
    ) {
        fail('"workspace" is incomplete');
    }
    if (!w.unreadable) w.unreadable = [];
    if (!s.host || typeof s.host !== 'object') fail('"host" is missing');
    if (s.docker && !Array.isArray(s.docker.containers)) fail('"docker.containers" is not a list');
    if (s.compose && (!Array.isArray(s.compose.services) || typeof s.compose.ranges !== 'object')) {
        fail('"compose" is incomplete');
    }
    return s as StackSnapshot;
}
