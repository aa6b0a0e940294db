// Which MLflow runs a finding is about, so "Open the Run in the Explorer" can go straight to one.
// Runs are named in two places: a FileStore location (`mlruns/<experiment>/<run>/meta.yaml`, or
// a file below a run folder) and evidence that quotes a run id (`run 0a1b... has artifact_uri`).

import type { Finding } from '../../core/model.js';

export interface FindingRun {
    runId: string;
    /** Known when the run's folder sits in its experiment's folder. */
    experimentId?: string;
}

// MLflow run ids are uuid4 hex without dashes (32 characters).
const RUN_FOLDER = /(?:^|\/)(\d+)\/([0-9a-f]{32})(?:\/|$)/i;
const RUN_IN_TEXT = /\brun(?:[ _]?id|[ _]?uuid)?[\s:='"]+([0-9a-f]{32})\b/gi;

export function runsOfFinding(finding: Finding): FindingRun[] {
    const runs = new Map<string, FindingRun>();
    const add = (runId: string, experimentId?: string) => {
        const id = runId.toLowerCase();
        const known = runs.get(id);
        if (!known) runs.set(id, experimentId ? { runId: id, experimentId } : { runId: id });
        else if (!known.experimentId && experimentId) known.experimentId = experimentId;
    };

    for (const location of finding.locations) {
        const match = RUN_FOLDER.exec(location.file.replace(/\\/g, '/'));
        if (match?.[1] && match[2]) add(match[2], match[1]);
    }
    for (const line of [finding.title, ...finding.evidence]) {
        for (const match of line.matchAll(RUN_IN_TEXT)) if (match[1]) add(match[1]);
    }
    return [...runs.values()];
}
