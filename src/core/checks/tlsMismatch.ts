// An https:// tracking URI aimed at a listener that speaks plain HTTP (MLflow itself, or an
// nginx server block without `ssl`), or http:// aimed at a TLS listener. Read from the files:
// MLflow terminates TLS only when its gunicorn or uvicorn options name a certificate.

import { parseTrackingUri } from '../mlflow/trackingUri.js';
import { isLoopbackHost } from '../mlflow/trackingUri.js';
import type { Finding, ServerConfig, StackSnapshot, TrackingUriUse } from '../model.js';
import { replaceOnLine } from './commandEdits.js';
import { type Check, makeFinding } from './check.js';
import { nginxSites, proxyTarget, publicNames, serviceMounting } from './proxyFacts.js';
import {
    composeService,
    describeUse,
    publishedPorts,
    renderedCommand,
    uriLocation,
} from './stackFacts.js';

/** What listens where a URI points, as far as the files say. */
interface Listener {
    what: string;
    tls: boolean;
    service?: string;
}

function serverTls(snapshot: StackSnapshot, config: ServerConfig): boolean {
    const command = renderedCommand(snapshot, config.service) ?? '';
    return /--(ssl-)?certfile\b|--ssl-keyfile\b/.test(`${command} ${config.gunicornOpts ?? ''}`);
}

function listenerOf(snapshot: StackSnapshot, use: TrackingUriUse): Listener | undefined {
    const parsed = parseTrackingUri(use.uri);
    if (!parsed.host || parsed.port === undefined) return undefined;
    for (const config of snapshot.serverConfigs) {
        const names = [config.service, composeService(snapshot, config.service)?.containerName];
        const direct =
            (names.includes(parsed.host) && parsed.port === config.port) ||
            (isLoopbackHost(parsed.host) &&
                publishedPorts(snapshot, config).some((p) => p.hostPort === parsed.port));
        if (direct) {
            return {
                what: `the MLflow server "${config.service}" itself`,
                tls: serverTls(snapshot, config),
                service: config.service,
            };
        }
    }
    for (const site of nginxSites(snapshot)) {
        const proxyService = serviceMounting(snapshot, site.file);
        const published = proxyService ? (composeService(snapshot, proxyService)?.ports ?? []) : [];
        for (const server of site.servers) {
            const routesToMlflow = server.locations.some((l) =>
                proxyTarget(snapshot, site, l.proxyPass),
            );
            if (!routesToMlflow) continue;
            const byName =
                publicNames(server).includes(parsed.host) || parsed.host === proxyService;
            // The container port nginx listens on, reached through the published host port.
            const containerPort = isLoopbackHost(parsed.host)
                ? published.find((p) => Number(p.published) === parsed.port)?.target
                : byName
                  ? (published.find((p) => Number(p.published) === parsed.port)?.target ??
                    parsed.port)
                  : undefined;
            if (containerPort === undefined) continue;
            const listen = server.listen.find((l) => l.port === containerPort);
            if (!listen) continue;
            return {
                what: `nginx (${site.file}: listen ${listen.raw})`,
                tls: listen.ssl,
                ...(proxyService ? { service: proxyService } : {}),
            };
        }
    }
    return undefined;
}

function tlsFinding(snapshot: StackSnapshot, use: TrackingUriUse): Finding | undefined {
    const parsed = parseTrackingUri(use.uri);
    if (parsed.scheme !== 'http' && parsed.scheme !== 'https') return undefined;
    const listener = listenerOf(snapshot, use);
    if (!listener) return undefined;
    const wantsTls = parsed.scheme === 'https';
    if (wantsTls === listener.tls) return undefined;
    const from = wantsTls ? 'https://' : 'http://';
    const to = wantsTls ? 'http://' : 'https://';
    const edit = replaceOnLine(snapshot, use.file, use.rawLine ?? use.line, from, to, `Use ${to}`);
    return makeFinding(`${use.file}:${use.line}:tls`, {
        kind: 'tls-mismatch',
        severity: 'error',
        title: wantsTls
            ? `${use.file} uses https:// but ${listener.what} speaks plain HTTP`
            : `${use.file} uses http:// but ${listener.what} expects TLS`,
        evidence: [
            `${describeUse(use)} sets the tracking URI ${use.uri}.`,
            wantsTls
                ? `${listener.what} has no TLS configured: the TLS handshake fails ("wrong version number" or "EOF occurred in violation of protocol").`
                : `${listener.what} expects a TLS handshake; a plain request gets "400 The plain HTTP request was sent to HTTPS port" or a reset.`,
        ],
        fix: wantsTls
            ? `Use http:// for this address, or terminate TLS in front of the server (nginx with listen 443 ssl and a certificate) and point https:// clients at that.`
            : `Use https:// for this address (with MLFLOW_TRACKING_SERVER_CERT_PATH for a private CA).`,
        locations: [uriLocation(snapshot, use)],
        edits: edit ? [edit] : undefined,
        service: listener.service,
    });
}

export const tlsMismatchCheck: Check = {
    name: 'tls-mismatch',
    run(snapshot) {
        return snapshot.workspace.trackingUris.flatMap((use) => tlsFinding(snapshot, use) ?? []);
    },
};
