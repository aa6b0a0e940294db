// The artifact file system's URIs: `mlflow-artifact://<serverKey>/run/<runId>/<path>` and
// `mlflow-artifact://<serverKey>/model/<modelId>/<path>`. The path is kept as the artifact's own
// names (vscode.Uri percent-encodes them in its string form), so an editor tab shows the file's
// real name. Parsing is the host's second gate after the protocol's: a `..`, an empty segment or
// a control character never reaches the reader.

import { artifactPathProblem, type ArtifactOwner } from '../../../webview/protocol.js';

export const ARTIFACT_SCHEME = 'mlflow-artifact';

export interface ArtifactAddress {
    serverKey: string;
    owner: ArtifactOwner;
    /** Relative to the owner's artifact root; '' for the root. */
    path: string;
}

export type ParsedAddress = { ok: true; address: ArtifactAddress } | { ok: false; error: string };

const ID = /^[A-Za-z0-9_.:-]{1,256}$/;

/** The authority and path of a vscode.Uri for an artifact (the scheme is ARTIFACT_SCHEME). */
export function artifactUriParts(address: ArtifactAddress): { authority: string; path: string } {
    const { owner } = address;
    const head = owner.kind === 'run' ? `/run/${owner.runId}` : `/model/${owner.modelId}`;
    return { authority: address.serverKey, path: address.path ? `${head}/${address.path}` : head };
}

/** The address of a URI's authority and (decoded) path, or why it is not one. */
export function parseArtifactUri(authority: string, uriPath: string): ParsedAddress {
    if (!ID.test(authority)) return { ok: false, error: 'the URI names no known server' };
    const match = /^\/(run|model)\/([^/]+)(?:\/(.*))?$/.exec(uriPath);
    if (!match) return { ok: false, error: 'the URI is not /run/<id>/... or /model/<id>/...' };
    const [, kind, id = '', rest = ''] = match;
    if (!ID.test(id) || /^\.+$/.test(id)) {
        return { ok: false, error: `the ${kind} id is not an MLflow id` };
    }
    // A trailing slash (a folder URI some callers build) names the same folder.
    const path = rest.endsWith('/') ? rest.slice(0, -1) : rest;
    const problem = artifactPathProblem(path);
    if (problem) return { ok: false, error: `the artifact path ${problem}` };
    const owner: ArtifactOwner =
        kind === 'run' ? { kind: 'run', runId: id } : { kind: 'model', modelId: id };
    return { ok: true, address: { serverKey: authority, owner, path } };
}

/** The last segment, or the owner's id for the root: what an editor tab shows. */
export function artifactName(address: ArtifactAddress): string {
    if (address.path) return address.path.slice(address.path.lastIndexOf('/') + 1);
    return address.owner.kind === 'run' ? address.owner.runId : address.owner.modelId;
}
