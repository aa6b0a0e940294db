// Finding places as editor documents: a file of the diagnosed folder, or a cell of a notebook
// that is open in the notebook editor.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';

import type { DocumentTarget, OpenNotebooks, PlacedRange } from './findingPlaces.js';

/** The raw text of each `.ipynb` of the folder that is open as a notebook, by relative path. */
export function openNotebooks(folder: vscode.Uri): Map<string, string> {
    const open = new Map<string, string>();
    for (const notebook of vscode.workspace.notebookDocuments) {
        if (notebook.uri.scheme !== 'file' || !notebook.uri.fsPath.endsWith('.ipynb')) continue;
        const relative = path
            .relative(folder.fsPath, notebook.uri.fsPath)
            .split(path.sep)
            .join('/');
        if (relative.startsWith('..')) continue;
        try {
            // Findings point into the file as it was read from disk.
            open.set(relative, readFileSync(notebook.uri.fsPath, 'utf8'));
        } catch {
            // Unsaved and gone from disk: its findings stay on the file.
        }
    }
    return open;
}

export function targetUri(folder: vscode.Uri, target: DocumentTarget): vscode.Uri | undefined {
    if (target.kind === 'file') return vscode.Uri.joinPath(folder, target.file);
    const file = vscode.Uri.joinPath(folder, target.notebook).toString();
    const notebook = vscode.workspace.notebookDocuments.find((n) => n.uri.toString() === file);
    if (!notebook || target.cell >= notebook.cellCount) return undefined;
    return notebook.cellAt(target.cell).document.uri;
}

export function toRange(place: PlacedRange): vscode.Range {
    return new vscode.Range(
        place.startLine,
        place.startCharacter,
        place.endLine,
        place.endCharacter,
    );
}

/** Where a place is as a Location, or undefined for a cell of a notebook that has closed. */
export function toLocation(folder: vscode.Uri, place: PlacedRange): vscode.Location | undefined {
    const uri = targetUri(folder, place.target);
    return uri ? new vscode.Location(uri, toRange(place)) : undefined;
}

export type { OpenNotebooks };
