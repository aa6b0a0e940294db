// The workspace the extension-host suite runs in: a scratch copy of examples/seed-stack, plus
// one run folder as MLflow 3 writes it (no run_uuid), so the meta.yaml quick fix with its backup
// has something to fix. Used by runTest.ts and by the code-server harness.

import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const RUN_ID = '0a1b2c3d4e5f60718293a4b5c6d7e8f9';

/** Creates the workspace in a new temporary folder and returns its path. */
export function prepareSeedWorkspace(repo: string): string {
    const folder = path.join(
        mkdtempSync(path.join(os.tmpdir(), 'stack-doctor-ext-')),
        'seed-stack',
    );
    cpSync(path.join(repo, 'examples', 'seed-stack'), folder, { recursive: true });
    const experiment = path.join(folder, 'mlruns', '1');
    mkdirSync(path.join(experiment, RUN_ID), { recursive: true });
    writeFileSync(
        path.join(experiment, 'meta.yaml'),
        "artifact_location: /mlruns/1\ncreation_time: 1\nexperiment_id: '1'\nlast_update_time: 1\nlifecycle_stage: active\nname: churn\n",
    );
    writeFileSync(
        path.join(experiment, RUN_ID, 'meta.yaml'),
        [
            `artifact_uri: /mlruns/1/${RUN_ID}/artifacts`,
            'end_time: 2',
            "entry_point_name: ''",
            "experiment_id: '1'",
            'lifecycle_stage: active',
            `run_id: ${RUN_ID}`,
            'run_name: notebook',
            "source_name: ''",
            'source_type: 4',
            "source_version: ''",
            'start_time: 1',
            'status: 3',
            'tags: []',
            'user_id: me',
            '',
        ].join('\n'),
    );
    return folder;
}
