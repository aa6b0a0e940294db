import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';

import { FINDING_KINDS, type Finding } from '../../src/core/model.js';
import { kindHeadingLines } from '../../src/extension/findingDocs.js';
import { serverStatus } from '../../src/extension/statusModel.js';
import { REPO } from '../support/paths.js';
import { emptySnapshot, observation, probe, serverConfig } from '../support/snapshots.js';

const mismatch: Finding = {
    id: 'version-mismatch:mlflow:host:3.17.2',
    kind: 'version-mismatch',
    severity: 'error',
    title: 'MLflow 3.17.2 client against a 2.22.0 server',
    evidence: [],
    fix: 'f',
    locations: [],
};

const report = (findings: Finding[] = []) => ({ folder: '/work/proj', findings, probes: [] });

describe('status bar', () => {
    test("shows the answering server's version", () => {
        const snapshot = emptySnapshot();
        snapshot.serverConfigs = [serverConfig()];
        snapshot.servers = [probe({ serverVersion: '2.22.5' })];
        const status = serverStatus(snapshot, report());
        assert.equal(status.text, '$(pass) MLflow 2.22.5');
        assert.equal(status.level, 'ok');
    });

    test('shows the client/server mismatch when there is one', () => {
        const snapshot = emptySnapshot();
        snapshot.serverConfigs = [serverConfig()];
        snapshot.servers = [probe({ serverVersion: '2.22.0' })];
        snapshot.workspace.clientVersions = [
            { version: '3.17.2', source: 'requirements', file: 'requirements.txt' },
        ];
        const status = serverStatus(snapshot, report([mismatch]));
        assert.equal(status.text, '$(warning) MLflow 2.22.0 ≠ client 3.17.2');
        assert.match(status.tooltip, /3\.17\.2 client against a 2\.22\.0 server/);
    });

    test('a server that does not answer is an error with what the probe saw', () => {
        const snapshot = emptySnapshot();
        snapshot.serverConfigs = [
            serverConfig({ declaredVersion: { version: '2.22.0', file: 'compose.yaml' } }),
        ];
        snapshot.servers = [probe({ health: observation('GET /health', 'refused', null) })];
        const status = serverStatus(snapshot, report());
        assert.equal(status.text, '$(error) MLflow 2.22.0 not answering');
        assert.match(status.tooltip, /http:\/\/127\.0\.0\.1:5000: refused/);
        assert.equal(status.level, 'error');
    });

    test('files only: the declared versions and their mismatch, marked as not asked', () => {
        const snapshot = emptySnapshot();
        snapshot.serverConfigs = [
            serverConfig({ declaredVersion: { version: '2.22.0', file: 'compose.yaml' } }),
        ];
        snapshot.workspace.clientVersions = [{ version: '3.17.2', source: 'requirements' }];
        const status = serverStatus(snapshot, report([mismatch]), { offline: true });
        assert.equal(status.text, '$(file) MLflow 2.22.0 ≠ client 3.17.2 (files only)');
    });

    test('no server anywhere, diagnosing, and before the first diagnosis', () => {
        assert.equal(
            serverStatus(emptySnapshot(), report()).text,
            '$(question) MLflow server not found',
        );
        assert.match(serverStatus(undefined, undefined, { diagnosing: true }).text, /diagnosing/);
        assert.equal(serverStatus(undefined, undefined).text, '$(beaker) MLflow');
    });
});

describe('the findings docs page', () => {
    test('has a section for every finding kind, so every code links somewhere', () => {
        const page = readFileSync(path.join(REPO, 'media/docs/findings.md'), 'utf8');
        const lines = kindHeadingLines(page);
        const missing = FINDING_KINDS.filter((kind) => !lines.has(kind));
        assert.deepEqual(missing, []);
        const text = page.split('\n');
        for (const kind of FINDING_KINDS) {
            assert.equal(text[(lines.get(kind) ?? 0) - 1], `## \`${kind}\``);
            assert.ok(page.includes(`<a id="${kind}"></a>`), kind);
        }
    });
});
