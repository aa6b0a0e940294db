// A diagnosis as people and machines read it: a terminal report with the root cause first, the
// same as Markdown for issues and chat, and the JSON format documented in the README.

import type { Finding, FindingLocation, ProbeNote, StackSnapshot } from './model.js';

export interface Report {
    folder: string;
    project?: string;
    findings: Finding[];
    probes: ProbeNote[];
}

export function makeReport(snapshot: StackSnapshot, findings: Finding[]): Report {
    return {
        folder: snapshot.folder,
        project: snapshot.compose?.name,
        findings,
        probes: snapshot.probes,
    };
}

/** The public JSON shape: `{"findings": [...]}` plus what was probed. */
export function reportJson(report: Report): string {
    const findings = report.findings.map((f) => ({
        id: f.id,
        kind: f.kind,
        severity: f.severity,
        title: f.title,
        evidence: f.evidence,
        fix: f.fix,
        locations: f.locations.map((l) => ({
            file: l.file,
            line: l.line,
            column: l.column,
            endLine: l.endLine,
            endColumn: l.endColumn,
            ...(l.key !== undefined ? { key: l.key } : {}),
        })),
        ...(f.service ? { service: f.service } : {}),
        rootCause: f.rootCause ?? false,
        ...(f.causes ? { causes: f.causes } : {}),
        ...(f.causedBy ? { causedBy: f.causedBy } : {}),
        ...(f.edits ? { edits: f.edits } : {}),
    }));
    return JSON.stringify(
        { folder: report.folder, project: report.project, findings, probes: report.probes },
        null,
        2,
    );
}

interface Style {
    bold(s: string): string;
    dim(s: string): string;
    severity(sev: Finding['severity'], s: string): string;
}

const PLAIN: Style = { bold: (s) => s, dim: (s) => s, severity: (_v, s) => s };
const ANSI: Style = {
    bold: (s) => `\x1b[1m${s}\x1b[22m`,
    dim: (s) => `\x1b[2m${s}\x1b[22m`,
    severity: (sev, s) => `\x1b[${sev === 'error' ? 31 : sev === 'warning' ? 33 : 36}m${s}\x1b[39m`,
};

export function formatLocation(l: FindingLocation): string {
    return `${l.file}:${l.line}:${l.column}${l.key ? ` (${l.key})` : ''}`;
}

function wrap(text: string, indent: string, width = 100): string[] {
    const words = text.split(/\s+/).filter(Boolean);
    const lines: string[] = [];
    let line = '';
    for (const word of words) {
        if (line && indent.length + line.length + 1 + word.length > width) {
            lines.push(indent + line);
            line = word;
        } else {
            line = line ? `${line} ${word}` : word;
        }
    }
    if (line) lines.push(indent + line);
    return lines;
}

function renderFinding(f: Finding, style: Style, indent: string, out: string[]) {
    const mark = f.severity === 'error' ? '✖' : f.severity === 'warning' ? '▲' : 'ℹ';
    out.push(
        `${indent}${style.severity(f.severity, `${mark} ${f.severity}`)} ${style.dim(`[${f.kind}]`)} ${style.bold(f.title)}`,
    );
    for (const l of f.locations) out.push(`${indent}  at ${formatLocation(l)}`);
    for (const e of f.evidence) out.push(...wrap(`· ${e}`, `${indent}  `));
    out.push(...wrap(`fix: ${f.fix}`, `${indent}  `));
    for (const edit of f.edits ?? []) {
        out.push(
            `${indent}  ${style.dim(`quick fix: ${edit.label} (${edit.file}:${edit.range.line})`)}`,
        );
    }
}

export function renderText(report: Report, options: { color?: boolean } = {}): string {
    const style = options.color ? ANSI : PLAIN;
    const out: string[] = [];
    const roots = report.findings.filter((f) => f.rootCause);
    const title = report.project ? `compose project "${report.project}"` : 'no compose project';
    out.push(style.bold(`MLOps Stack Doctor: ${report.folder} (${title})`));
    if (report.findings.length === 0) {
        out.push('', 'No problems found.');
    } else {
        const errors = report.findings.filter((f) => f.severity === 'error').length;
        out.push(
            `${report.findings.length} finding(s), ${errors} error(s); ${roots.length} root cause(s), listed first with what each one causes.`,
        );
    }
    const byId = new Map(report.findings.map((f) => [f.id, f]));
    const shown = new Set<string>();
    const renderTree = (f: Finding, depth: number) => {
        if (shown.has(f.id)) return;
        shown.add(f.id);
        renderFinding(f, style, '    '.repeat(depth), out);
        for (const id of f.causes ?? []) {
            const effect = byId.get(id);
            if (!effect) continue;
            const indent = '    '.repeat(depth + 1);
            if (shown.has(effect.id)) {
                // Already shown under another cause: say so instead of printing it twice.
                out.push(`${indent}${style.dim(`└ also causes: ${effect.title} (above)`)}`);
                continue;
            }
            out.push(`${indent}${style.dim('└ which causes:')}`);
            renderTree(effect, depth + 1);
        }
    };
    roots.forEach((root, i) => {
        out.push('', style.bold(`Root cause ${i + 1} of ${roots.length}`));
        renderTree(root, 0);
    });
    const rest = report.findings.filter((f) => !shown.has(f.id));
    if (rest.length > 0) {
        out.push('', style.bold('Also found'));
        for (const f of rest) renderTree(f, 0);
    }
    const skipped = report.probes.filter((p) => p.status !== 'ran');
    if (skipped.length > 0) {
        out.push('', style.bold('Probes that did not run'));
        for (const p of skipped)
            out.push(`  ${p.probe}: ${p.status}${p.detail ? ` (${p.detail})` : ''}`);
    }
    return out.join('\n') + '\n';
}

/** Text that Markdown renderers would otherwise take for HTML or formatting. */
function escapeMarkdown(text: string): string {
    return text.replace(/[<>&]/g, (c) => (c === '<' ? '&lt;' : c === '>' ? '&gt;' : '&amp;'));
}

export function renderMarkdown(report: Report): string {
    const out: string[] = [`# Stack diagnosis: ${report.project ?? report.folder}`, ''];
    if (report.findings.length === 0) out.push('No problems found.');
    for (const f of report.findings) {
        const level = f.rootCause ? '##' : '###';
        out.push(`${level} ${f.rootCause ? 'Root cause: ' : ''}${escapeMarkdown(f.title)}`, '');
        out.push(
            `**${f.severity}** \`${f.kind}\`${f.causedBy ? ` (caused by ${f.causedBy.map((c) => `\`${c}\``).join(', ')})` : ''}`,
            '',
        );
        for (const l of f.locations) out.push(`- at \`${formatLocation(l)}\``);
        for (const e of f.evidence) out.push(`- ${escapeMarkdown(e)}`);
        out.push('', `**Fix:** ${escapeMarkdown(f.fix)}`, '');
        for (const edit of f.edits ?? []) {
            out.push(
                `- Quick fix: ${escapeMarkdown(edit.label)} (\`${edit.file}:${edit.range.line}\`)`,
            );
        }
        if (f.edits?.length) out.push('');
    }
    return out.join('\n');
}
