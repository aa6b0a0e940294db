// Quick fixes as plans: which edits one code action applies, under which title, and which files
// it backs up first. The VS Code side turns a plan into one WorkspaceEdit, so accepting a fix
// and undoing it are single steps.

import type { Finding, FixEdit, SourceRange } from '../core/model.js';

export interface FixPlan {
    findingId: string;
    title: string;
    edits: FixEdit[];
    /** Files copied to a backup inside the same edit, before their text changes. */
    backups: string[];
    preferred: boolean;
}

// A version mismatch is fixed on one side or the other: pinning the client and upgrading the
// server at once would mismatch again. Other findings' edits are steps of one fix (a
// healthcheck, then the condition that waits for it), so they are also offered together.
const ALTERNATIVE_EDITS = new Set<Finding['kind']>(['version-mismatch']);

/** The quick fixes of one finding: one per edit label, and all steps together when they go together. */
export function fixPlans(finding: Finding): FixPlan[] {
    const groups = new Map<string, FixEdit[]>();
    for (const edit of finding.edits ?? []) {
        const group = groups.get(edit.label);
        if (group) group.push(edit);
        else groups.set(edit.label, [edit]);
    }
    const plans: FixPlan[] = [...groups].map(([label, edits]) => ({
        findingId: finding.id,
        title: label,
        edits,
        backups: backupsOf(edits),
        preferred: false,
    }));
    const all = finding.edits ?? [];
    if (plans.length > 1 && !ALTERNATIVE_EDITS.has(finding.kind) && !overlapping(all)) {
        plans.unshift({
            findingId: finding.id,
            title: `Apply all ${plans.length} fixes: ${plans.map((p) => lowerFirst(p.title)).join('; ')}`,
            edits: all,
            backups: backupsOf(all),
            preferred: true,
        });
    } else if (plans.length === 1 && plans[0]) {
        plans[0].preferred = true;
    }
    return plans;
}

function backupsOf(edits: FixEdit[]): string[] {
    return [...new Set(edits.flatMap((e) => (e.backupOf ? [e.backupOf] : [])))];
}

function lowerFirst(text: string): string {
    return text.charAt(0).toLowerCase() + text.slice(1);
}

function startsBefore(a: SourceRange, b: SourceRange): boolean {
    return a.line < b.line || (a.line === b.line && a.column < b.column);
}

/** Two edits of one file whose ranges cross cannot both apply. */
export function overlapping(edits: FixEdit[]): boolean {
    for (let i = 0; i < edits.length; i++) {
        for (let j = i + 1; j < edits.length; j++) {
            const a = edits[i]?.range;
            const b = edits[j]?.range;
            if (!a || !b || edits[i]?.file !== edits[j]?.file) continue;
            const [first, second] = startsBefore(a, b) ? [a, b] : [b, a];
            const firstEnd = { line: first.endLine, column: first.endColumn };
            const secondStart = { line: second.line, column: second.column };
            const crosses =
                secondStart.line < firstEnd.line ||
                (secondStart.line === firstEnd.line && secondStart.column < firstEnd.column);
            if (crosses) return true;
        }
    }
    return false;
}

/**
 * Where the backup of `file` goes: `<file>.bak`, or `<file>.bak.2` and on when that is taken, so
 * an earlier backup is never overwritten.
 */
export function backupPath(file: string, exists: (candidate: string) => boolean): string {
    let candidate = `${file}.bak`;
    for (let n = 2; exists(candidate); n++) candidate = `${file}.bak.${n}`;
    return candidate;
}

/** The findings whose quick fixes apply to a location in `file` that crosses the given lines. */
export function findingsAt(
    findings: Finding[],
    file: string,
    startLine: number,
    endLine: number,
): Finding[] {
    return findings.filter(
        (f) =>
            (f.edits?.length ?? 0) > 0 &&
            [...f.locations, ...(f.edits ?? []).map((e) => e.range)].some(
                (l) => l.file === file && l.line <= endLine && l.endLine >= startLine,
            ),
    );
}
