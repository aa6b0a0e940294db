// Opening an artifact with a click: by its type, in the editor VS Code has for it, through the
// read-only artifact file system; what no editor shows, or what is too large to read into one,
// is offered for download, streamed to the file the user picks with a cancellable progress.

import os from 'node:os';
import path from 'node:path';
import * as vscode from 'vscode';

import type { ArtifactOwner, ArtifactSourceKind } from '../../../webview/protocol.js';
import { openingByName, openingKind, SNIFF_BYTES, type OpeningKind } from './artifactOpening.js';
import { artifactName, type ArtifactAddress } from './artifactUri.js';
import { artifactUri, READ_FILE_CAP_BYTES } from './artifactFileSystem.js';
import type { ExplorerConnections, ServerConnection } from './explorerConnections.js';

const DOWNLOAD = 'Download…';

export interface OpenedArtifact {
    kind: OpeningKind;
    source: ArtifactSourceKind;
    /** False when the user was offered a download instead. */
    opened: boolean;
}

function megabytes(bytes: number): string {
    return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

export class ArtifactOpener {
    constructor(
        private readonly connections: ExplorerConnections,
        private readonly debug: (line: string) => void,
    ) {}

    async open(serverKey: string, owner: ArtifactOwner, relPath: string): Promise<OpenedArtifact> {
        const address: ArtifactAddress = { serverKey, owner, path: relPath };
        const conn = await this.connections.get(serverKey);
        const stat = await conn.reader.stat(owner, relPath);
        const name = artifactName(address);
        if (stat.isDir) {
            // A folder opens in the explorer's tree, not in an editor; nothing to do here.
            return { kind: 'download', source: stat.source, opened: false };
        }
        const kind =
            openingByName(name) ?? openingKind(name, await this.head(conn, owner, relPath));
        const tooLarge = stat.size !== undefined && stat.size > READ_FILE_CAP_BYTES;
        this.debug(`explorer: opening ${kind} artifact (${stat.source})`);
        if (kind === 'download' || tooLarge) {
            const why = tooLarge
                ? `${name} is ${megabytes(stat.size ?? 0)}, too large to open in an editor.`
                : `${name} has no editor in VS Code.`;
            void this.offerDownload(address, why);
            return { kind, source: stat.source, opened: false };
        }
        const uri = artifactUri(address);
        if (kind === 'image') {
            await vscode.commands.executeCommand(
                'vscode.openWith',
                uri,
                'imagePreview.previewEditor',
            );
        } else if (kind === 'notebook') {
            await vscode.commands.executeCommand('vscode.openWith', uri, 'jupyter-notebook');
        } else {
            // Read-only because the file system is.
            await vscode.window.showTextDocument(uri, { preview: true });
        }
        return { kind, source: stat.source, opened: true };
    }

    /** The first bytes, for the NUL sniff; the rest of the stream is not read. */
    private async head(
        conn: ServerConnection,
        owner: ArtifactOwner,
        relPath: string,
    ): Promise<Uint8Array> {
        const abort = new AbortController();
        const { stream } = await conn.reader.open(owner, relPath, { signal: abort.signal });
        const chunks: Buffer[] = [];
        let length = 0;
        try {
            for await (const chunk of stream as AsyncIterable<Buffer | string>) {
                const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
                chunks.push(bytes);
                length += bytes.length;
                if (length >= SNIFF_BYTES) break;
            }
        } finally {
            abort.abort();
            (stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
        }
        return Buffer.concat(chunks).subarray(0, SNIFF_BYTES);
    }

    private async offerDownload(address: ArtifactAddress, why: string): Promise<void> {
        const choice = await vscode.window.showInformationMessage(why, DOWNLOAD);
        if (choice === DOWNLOAD)
            await this.download(address.serverKey, address.owner, address.path);
    }

    /** Asks where, then streams the artifact there; a cancelled or failed download leaves no file. */
    async download(serverKey: string, owner: ArtifactOwner, relPath: string): Promise<void> {
        const name = artifactName({ serverKey, owner, path: relPath });
        const folder = vscode.workspace.workspaceFolders?.find((f) => f.uri.scheme === 'file');
        const target = await vscode.window.showSaveDialog({
            defaultUri: vscode.Uri.file(path.join(folder?.uri.fsPath ?? os.homedir(), name)),
            saveLabel: 'Download',
            title: `Download ${name}`,
        });
        if (!target) return;
        const conn = await this.connections.get(serverKey);
        await vscode.window.withProgress(
            {
                location: vscode.ProgressLocation.Notification,
                title: `Downloading ${name}`,
                cancellable: true,
            },
            async (progress, token) => {
                const abort = new AbortController();
                const cancelled = token.onCancellationRequested(() => abort.abort());
                let reported = 0;
                try {
                    const done = await conn.reader.download(owner, relPath, target.fsPath, {
                        signal: abort.signal,
                        onProgress: (bytes, total) => {
                            const increment = total
                                ? ((bytes - reported) / total) * 100
                                : undefined;
                            reported = bytes;
                            progress.report({
                                message: total
                                    ? `${megabytes(bytes)} of ${megabytes(total)}`
                                    : megabytes(bytes),
                                ...(increment !== undefined ? { increment } : {}),
                            });
                        },
                    });
                    void vscode.window.showInformationMessage(
                        `Downloaded ${name} (${megabytes(done.bytes)}) to ${target.fsPath}.`,
                    );
                } catch (error) {
                    if (abort.signal.aborted) return;
                    throw error;
                } finally {
                    cancelled.dispose();
                }
            },
        );
    }
}
