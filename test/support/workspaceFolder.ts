// A throw-away workspace folder written from a map of files, diagnosed with recorded facts only
// (no Docker, no HTTP), for tests that state a stack in its users' own files.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { diagnose } from '../../src/core/diagnose.js';
import type { Finding } from '../../src/core/model.js';
import { parseContext, type RecordedContext } from '../../src/core/recordedFacts.js';

export async function diagnoseFiles(
    files: Record<string, string>,
    context: RecordedContext = {},
): Promise<Finding[]> {
    const folder = mkdtempSync(path.join(os.tmpdir(), 'stack-doctor-ws-'));
    try {
        for (const [rel, text] of Object.entries(files)) {
            const abs = path.join(folder, rel);
            mkdirSync(path.dirname(abs), { recursive: true });
            writeFileSync(abs, text);
        }
        const report = await diagnose({ folder, context: parseContext(context) });
        return report.findings;
    } finally {
        rmSync(folder, { recursive: true, force: true });
    }
}

export const ofKind = (findings: Finding[], kind: Finding['kind']) =>
    findings.filter((f) => f.kind === kind);
