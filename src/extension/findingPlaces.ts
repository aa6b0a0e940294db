// Where a finding shows in the editor. Engine locations are 1-based with an exclusive end column,
// relative to the diagnosed folder, and point into a notebook's raw `.ipynb` text; the editor
// wants 0-based ranges in a document, which for an open notebook is the cell's own document.
// Plain data in and out so it is tested without VS Code.

import type { Finding, FindingLocation, SourceRange } from '../core/model.js';
import { readNotebook, type NotebookCell } from '../core/workspace/notebook.js';
import { positionOf } from '../core/workspace/pythonSource.js';

/** A document of the workspace: a file, or one cell of a notebook open in the notebook editor. */
export type DocumentTarget =
    { kind: 'file'; file: string } | { kind: 'cell'; notebook: string; cell: number };

/** A 0-based range in a target document, end exclusive, as VS Code counts. */
export interface PlacedRange {
    target: DocumentTarget;
    startLine: number;
    startCharacter: number;
    endLine: number;
    endCharacter: number;
}

/** Raw text of the notebooks that are open in the notebook editor, by relative path. */
export type OpenNotebooks = ReadonlyMap<string, string>;

/**
 * Maps a location to the document that shows it. A location in an `.ipynb` that is open as a
 * notebook moves into the cell that holds it; otherwise it stays in the file.
 */
export function placeRange(range: SourceRange, notebooks: OpenNotebooks): PlacedRange {
    const inFile: PlacedRange = {
        target: { kind: 'file', file: range.file },
        startLine: Math.max(0, range.line - 1),
        startCharacter: Math.max(0, range.column - 1),
        endLine: Math.max(0, range.endLine - 1),
        endCharacter: Math.max(0, range.endColumn - 1),
    };
    const raw = notebooks.get(range.file);
    if (raw === undefined) return inFile;
    const start = cellPosition(raw, range.line, range.column);
    const end = cellPosition(raw, range.endLine, range.endColumn);
    if (!start || !end || start.cell !== end.cell) return inFile;
    return {
        target: { kind: 'cell', notebook: range.file, cell: start.cell },
        startLine: start.line - 1,
        startCharacter: start.column - 1,
        endLine: end.line - 1,
        endCharacter: end.column - 1,
    };
}

const cache = new Map<string, NotebookCell[] | undefined>();

function codeCells(raw: string): NotebookCell[] | undefined {
    if (cache.has(raw)) return cache.get(raw);
    const read = readNotebook(raw);
    const cells = read.ok ? read.cells : undefined;
    // A few notebooks at a time are open; keep the last ones only.
    if (cache.size > 8) cache.clear();
    cache.set(raw, cells);
    return cells;
}

const before = (a: { line: number; column: number }, b: { line: number; column: number }) =>
    a.line < b.line || (a.line === b.line && a.column < b.column);

/**
 * The cell, and the 1-based line and column within its source, of a place in the raw `.ipynb`
 * text; undefined when the place is outside every code cell's source.
 */
export function cellPosition(
    raw: string,
    line: number,
    column: number,
): { cell: number; line: number; column: number } | undefined {
    const cells = codeCells(raw);
    if (!cells) return undefined;
    const wanted = { line, column };
    for (const cell of cells) {
        if (cell.source.length === 0) continue;
        const first = cell.rawPosition(0);
        // One past the last character: an end position may sit on the closing quote.
        const last = cell.rawPosition(cell.source.length);
        if (before(wanted, first) || before(last, wanted)) continue;
        // rawPosition grows with the offset: find the first offset at or after the place.
        let low = 0;
        let high = cell.source.length;
        while (low < high) {
            const mid = (low + high) >> 1;
            if (before(cell.rawPosition(mid), wanted)) low = mid + 1;
            else high = mid;
        }
        const inCell = positionOf(cell.source, low);
        return { cell: cell.index, line: inCell.line, column: inCell.column };
    }
    return undefined;
}

/** Text meant for the raw `.ipynb` JSON string, as the cell's own text shows it. */
export function cellText(rawText: string): string {
    if (!/\\/.test(rawText)) return rawText;
    try {
        return JSON.parse(`"${rawText}"`) as string;
    } catch {
        return rawText;
    }
}

export interface RelatedPlace {
    place: PlacedRange;
    message: string;
}

/** What one diagnostic shows: where, how bad, what, and the other places that explain it. */
export interface DiagnosticPlan {
    findingId: string;
    place: PlacedRange;
    severity: Finding['severity'];
    message: string;
    /** The finding kind; it links to the kind's section of the findings page. */
    code: Finding['kind'];
    related: RelatedPlace[];
    /** Findings nothing else explains are marked, so the Problems panel shows where to start. */
    rootCause: boolean;
}

function describeLocation(location: FindingLocation): string {
    return location.key ? `${location.file} (${location.key})` : location.file;
}

/**
 * One diagnostic per finding location. The finding's other locations (the other side of a
 * mismatch) and the first location of each finding it causes or is caused by are its related
 * information, so either end of a mismatch leads to the other.
 */
export function diagnosticPlans(findings: Finding[], notebooks: OpenNotebooks): DiagnosticPlan[] {
    const byId = new Map(findings.map((f) => [f.id, f]));
    const plans: DiagnosticPlan[] = [];
    for (const finding of findings) {
        const links: RelatedPlace[] = [];
        for (const id of finding.causedBy ?? []) {
            const cause = byId.get(id);
            const at = cause?.locations[0];
            if (cause && at) {
                links.push({
                    place: placeRange(at, notebooks),
                    message: `Caused by: ${cause.title}`,
                });
            }
        }
        for (const id of finding.causes ?? []) {
            const effect = byId.get(id);
            const at = effect?.locations[0];
            if (effect && at) {
                links.push({
                    place: placeRange(at, notebooks),
                    message: `Causes: ${effect.title}`,
                });
            }
        }
        finding.locations.forEach((location, index) => {
            const others = finding.locations
                .filter((_, k) => k !== index)
                .map((other) => ({
                    place: placeRange(other, notebooks),
                    message: `Other side: ${describeLocation(other)}`,
                }));
            plans.push({
                findingId: finding.id,
                place: placeRange(location, notebooks),
                severity: finding.severity,
                message: `${finding.rootCause ? 'Root cause: ' : ''}${finding.title}\nFix: ${finding.fix}`,
                code: finding.kind,
                related: [...others, ...links],
                rootCause: finding.rootCause ?? false,
            });
        });
    }
    return plans;
}

/** A stable key for a target, to group diagnostics by document. */
export function targetKey(target: DocumentTarget): string {
    return target.kind === 'file' ? target.file : `${target.notebook}#cell${target.cell}`;
}
