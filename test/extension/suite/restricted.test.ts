import assert from 'node:assert/strict';
import { suite, test } from 'mocha';
import * as vscode from 'vscode';

import { EXPECT_RESTRICTED, diagnosedApi } from './workspace.js';

const LIVE_KINDS = ['docker-unreachable', 'server-unreachable', 'container-state', 'mount-sync'];

if (EXPECT_RESTRICTED) {
    suite('restricted mode', () => {
        test('gives files-only findings: no Docker, no HTTP, no interpreter', async () => {
            assert.equal(vscode.workspace.isTrusted, false);
            const api = await diagnosedApi();
            const snapshot = api.session.snapshot;
            assert.equal(api.session.offline, true);
            assert.equal(snapshot?.docker, undefined);
            assert.deepEqual(snapshot?.servers, []);
            assert.deepEqual(snapshot?.syncProbes, []);
            assert.ok(snapshot?.probes.some((p) => p.probe === 'docker' && p.status === 'skipped'));
            assert.ok(
                snapshot?.workspace.notes?.some((n) =>
                    n.includes('running the workspace interpreter is off'),
                ),
            );
            const kinds = new Set(api.session.report?.findings.map((f) => f.kind));
            for (const kind of [
                'version-mismatch',
                'startup-order',
                'artifact-routing',
                'filestore-corrupt',
            ]) {
                assert.ok(kinds.has(kind as never), `${kind} is found from the files`);
            }
            for (const kind of LIVE_KINDS)
                assert.ok(!kinds.has(kind as never), `${kind} needs Docker`);
            assert.match(api.status.text, /\(files only\)/);
        });
    });
} else {
    suite('trusted mode', () => {
        test('asks Docker, so the view can say whether it answered', async () => {
            assert.equal(vscode.workspace.isTrusted, true);
            const api = await diagnosedApi();
            assert.equal(api.session.offline, false);
            assert.ok(api.session.snapshot?.docker);
            assert.ok(api.session.snapshot?.probes.some((p) => p.probe === 'docker'));
        });
    });
}
