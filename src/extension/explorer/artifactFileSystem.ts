// The read-only `mlflow-artifact:` file system, so VS Code's own editors render artifacts: text
// in a read-only editor, images in the image preview, notebooks in the notebook editor. Every
// path is checked twice on the host (the URI parser, then the engine's normaliser) before the
// ArtifactReader confines it to the owner's root once more.

import * as vscode from 'vscode';

import {
    ARTIFACT_SCHEME,
    artifactUriParts,
    parseArtifactUri,
    type ArtifactAddress,
} from './artifactUri.js';
import type { ExplorerConnections, ServerConnection } from './explorerConnections.js';
import { ExplorerHostError } from './explorerConnections.js';
import type { Engine } from '../engine.js';

/** Larger files are not read into memory for an editor; the user downloads them instead. */
export const READ_FILE_CAP_BYTES = 50 * 1024 * 1024;

export function artifactUri(address: ArtifactAddress): vscode.Uri {
    return vscode.Uri.from({ scheme: ARTIFACT_SCHEME, ...artifactUriParts(address) });
}

export class ArtifactFileSystem implements vscode.FileSystemProvider {
    // Artifacts do not change under a finished run often enough to watch; nothing fires.
    private readonly changed = new vscode.EventEmitter<vscode.FileChangeEvent[]>();
    readonly onDidChangeFile = this.changed.event;

    constructor(
        private readonly connections: ExplorerConnections,
        private readonly engine: () => Engine,
        private readonly debug: (line: string) => void,
    ) {}

    static register(provider: ArtifactFileSystem): vscode.Disposable {
        return vscode.workspace.registerFileSystemProvider(ARTIFACT_SCHEME, provider, {
            isReadonly: true,
            isCaseSensitive: true,
        });
    }

    /** The URI's address, its path normalised by the engine; throws a FileSystemError. */
    address(uri: vscode.Uri): ArtifactAddress {
        const parsed = parseArtifactUri(uri.authority, uri.path);
        if (!parsed.ok) throw vscode.FileSystemError.NoPermissions(`${parsed.error}: ${uri.path}`);
        try {
            const path = this.engine().normaliseArtifactPath(parsed.address.path);
            return { ...parsed.address, path };
        } catch (error) {
            throw vscode.FileSystemError.NoPermissions(
                error instanceof Error ? error.message : String(error),
            );
        }
    }

    private async open(uri: vscode.Uri): Promise<{ at: ArtifactAddress; conn: ServerConnection }> {
        const at = this.address(uri);
        try {
            return { at, conn: await this.connections.get(at.serverKey) };
        } catch (error) {
            throw this.fsError(error, uri);
        }
    }

    /** MLflow's 404s become FileNotFound (editors handle it); the rest say what failed. */
    private fsError(error: unknown, uri: vscode.Uri): vscode.FileSystemError {
        if (error instanceof vscode.FileSystemError) return error;
        const engine = this.engine();
        if (error instanceof engine.ArtifactTooLargeError) {
            return vscode.FileSystemError.Unavailable(
                `${uri.path} is larger than ${READ_FILE_CAP_BYTES / 1024 / 1024} MB: use Download in the MLflow Explorer to save it.`,
            );
        }
        if (error instanceof engine.ArtifactUnavailableError && error.notFound) {
            return vscode.FileSystemError.FileNotFound(uri);
        }
        if (error instanceof engine.ArtifactPathError) {
            return vscode.FileSystemError.NoPermissions(error.message);
        }
        const info = error instanceof ExplorerHostError ? error.info : engine.toErrorInfo(error);
        this.debug(`artifact file system: ${info.kind} for ${uri.path}`);
        if (info.status === 404) return vscode.FileSystemError.FileNotFound(uri);
        return vscode.FileSystemError.Unavailable(info.message);
    }

    async stat(uri: vscode.Uri): Promise<vscode.FileStat> {
        const { at, conn } = await this.open(uri);
        try {
            const stat = await conn.reader.stat(at.owner, at.path);
            return {
                type: stat.isDir ? vscode.FileType.Directory : vscode.FileType.File,
                ctime: 0,
                mtime: 0,
                size: stat.size ?? 0,
                permissions: vscode.FilePermission.Readonly,
            };
        } catch (error) {
            throw this.fsError(error, uri);
        }
    }

    async readDirectory(uri: vscode.Uri): Promise<[string, vscode.FileType][]> {
        const { at, conn } = await this.open(uri);
        try {
            const listing = await conn.reader.list(at.owner, at.path);
            return listing.entries.map((entry) => [
                entry.name,
                entry.isDir ? vscode.FileType.Directory : vscode.FileType.File,
            ]);
        } catch (error) {
            throw this.fsError(error, uri);
        }
    }

    async readFile(uri: vscode.Uri): Promise<Uint8Array> {
        const { at, conn } = await this.open(uri);
        try {
            return await conn.reader.read(at.owner, at.path, { maxBytes: READ_FILE_CAP_BYTES });
        } catch (error) {
            throw this.fsError(error, uri);
        }
    }

    watch(): vscode.Disposable {
        return new vscode.Disposable(() => undefined);
    }

    createDirectory(uri: vscode.Uri): never {
        throw vscode.FileSystemError.NoPermissions(uri);
    }

    writeFile(uri: vscode.Uri): never {
        throw vscode.FileSystemError.NoPermissions(uri);
    }

    delete(uri: vscode.Uri): never {
        throw vscode.FileSystemError.NoPermissions(uri);
    }

    rename(uri: vscode.Uri): never {
        throw vscode.FileSystemError.NoPermissions(uri);
    }

    dispose(): void {
        this.changed.dispose();
    }
}
