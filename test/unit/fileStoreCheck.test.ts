import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { fileStoreCheck } from '../../src/core/checks/fileStore.js';
import { readFileStore } from '../../src/core/filestore/index.js';
import {
    SEVERITY_RANK,
    type FileStoreSummary,
    type Finding,
    type ServerConfig,
    type StackSnapshot,
    type WorkspaceFacts,
} from '../../src/core/model.js';
import { scanWorkspace } from '../../src/core/workspace/index.js';
import { emptySnapshot } from '../support/snapshots.js';

const CASES = '/work/shared/cases';

function snapshot(
    folder: string,
    fileStores: FileStoreSummary[],
    serverConfigs: ServerConfig[] = [],
    workspace: WorkspaceFacts = { trackingUris: [], calls: [], clientVersions: [], unreadable: [] },
): StackSnapshot {
    return {
        ...emptySnapshot(folder),
        takenAt: '2026-01-01T00:00:00Z',
        serverConfigs,
        workspace,
        fileStores,
    };
}

function uiServer(version: string): ServerConfig {
    return {
        service: 'ui',
        port: 5000,
        backendStoreUri: 'file:///mlruns',
        keys: {},
        declaredVersion: { version, file: 'compose.yaml', key: 'services.ui.image', line: 10 },
    };
}

function mountedByBoth(store: FileStoreSummary): FileStoreSummary {
    return {
        ...store,
        mountedBy: [
            { service: 'trainer', target: '/mlruns', readOnly: false },
            { service: 'ui', target: '/mlruns', readOnly: false },
        ],
    };
}

interface Expected {
    kind: string;
    severity: 'error' | 'warning' | 'info';
    file: string | null;
    key: string | null;
    mustMention: string[];
}

/** The cases' matching rule (cases/README.md), for the file and key kinds this check reports. */
function matches(folder: string, finding: Finding, expected: Expected): boolean {
    if (finding.kind !== expected.kind) return false;
    if (SEVERITY_RANK[finding.severity] < SEVERITY_RANK[expected.severity]) return false;
    const message = [finding.title, ...finding.evidence, finding.fix].join('\n').toLowerCase();
    if (
        !expected.mustMention.every((token) =>
            token.split('|').some((t) => message.includes(t.toLowerCase())),
        )
    ) {
        return false;
    }
    if (expected.file === null) return true;
    const file = expected.file;
    return finding.locations.some((location) => {
        const related =
            location.file === file ||
            location.file.startsWith(`${file}/`) ||
            file.startsWith(`${location.file}/`);
        if (!related) return false;
        if (expected.key === null) return true;
        const key = expected.key;
        if (/\.ya?ml$/.test(location.file) || location.file.endsWith('meta.yaml')) {
            const anchor = location.key ?? '';
            return (
                anchor === key ||
                anchor.startsWith(`${key}.`) ||
                key.startsWith(`${anchor}.`) ||
                message.includes(key.toLowerCase())
            );
        }
        const lines = readFileSync(path.join(folder, location.file), 'utf8').split('\n');
        return (lines[location.line - 1] ?? '').includes(key);
    });
}

async function caseFindings(
    id: string,
    serverVersion: string,
    withWorkspace = false,
): Promise<{ folder: string; findings: Finding[] }> {
    const folder = path.join(CASES, id);
    const store = mountedByBoth(await readFileStore(path.join(folder, 'mlruns'), folder));
    const workspace = withWorkspace
        ? await scanWorkspace(folder, {
              timeoutMs: 5000,
              pythonPath: path.join(folder, 'no-such-python'),
          })
        : undefined;
    return {
        folder,
        findings: fileStoreCheck.run(
            snapshot(folder, [store], [uiServer(serverVersion)], workspace),
        ),
    };
}

function assertCase(folder: string, findings: Finding[]): void {
    const expect = JSON.parse(readFileSync(path.join(folder, 'expect.json'), 'utf8')) as {
        findings: Expected[];
        mustNotFlag: string[];
    };
    for (const expected of expect.findings.filter((e) => e.kind === 'filestore-corrupt')) {
        assert.ok(
            findings.some((f) => matches(folder, f, expected)),
            `no finding matches ${JSON.stringify(expected)}; got ${JSON.stringify(
                findings.map((f) => [f.severity, f.title, f.locations]),
                null,
                1,
            )}`,
        );
    }
    for (const kind of expect.mustNotFlag) {
        assert.ok(!findings.some((f) => f.kind === kind), `flagged ${kind}`);
    }
}

void describe('filestore-corrupt on the shared cases', () => {
    void test('C21: names the 3.x run without run_uuid that breaks the 2.20.0 server', async () => {
        const { folder, findings } = await caseFindings('C21-3x-runs-2x-reader', '2.20.0');
        assertCase(folder, findings);
        const finding = findings.find((f) => f.id.includes('run-uuid'));
        assert.equal(finding?.severity, 'error');
        assert.equal(finding?.service, 'ui');
        assert.match(finding?.fix ?? '', /2\.22\.1/);
        assert.match(finding?.evidence.join('\n') ?? '', /whole runs\/search for experiment 1/);
        // The 2.x-written run in the same experiment is not blamed.
        assert.ok(!JSON.stringify(findings).includes('7b9d1f3a5c7e49b0d2f4a6c8e0b2d4f6'));
    });

    void test('C21: the fix inserts a quoted run_uuid after run_id and backs the file up', async () => {
        const { findings } = await caseFindings('C21-3x-runs-2x-reader', '2.20.0');
        const edit = findings.find((f) => f.id.includes('run-uuid'))?.edits?.[0];
        const file = 'mlruns/1/d2f4a6c8e0b24d6f8a1c3e5f7b9d1e3a/meta.yaml';
        assert.deepEqual(edit?.range, { file, line: 7, column: 1, endLine: 7, endColumn: 1 });
        assert.equal(edit?.newText, "run_uuid: 'd2f4a6c8e0b24d6f8a1c3e5f7b9d1e3a'\n");
        assert.equal(edit?.backupOf, file);

        const original = readFileSync(
            path.join(CASES, 'C21-3x-runs-2x-reader', file),
            'utf8',
        ).split('\n');
        assert.equal(original[5], 'run_id: d2f4a6c8e0b24d6f8a1c3e5f7b9d1e3a');
    });

    void test('C27: reports the empty run meta.yaml as an error', async () => {
        const { folder, findings } = await caseFindings('C27-empty-run-meta', '2.18.0');
        assertCase(folder, findings);
        assert.equal(findings.length, 1);
    });

    void test('C28: the foreign model folder, experiment 2 without meta.yaml, and the save_model line', async () => {
        const { folder, findings } = await caseFindings(
            'C28-foreign-dir-in-tracking-root',
            '2.16.2',
            true,
        );
        assertCase(folder, findings);
        const writer = findings.find((f) => f.id.includes('writes-into-root'));
        assert.equal(writer?.locations[0]?.line, 13);
        const foreign = findings.find((f) => f.id.includes('foreign-dir'));
        assert.deepEqual(foreign?.causedBy, [writer?.id]);
    });
});

void describe('filestore-corrupt severity by reader version', () => {
    async function storeWith3xRun(): Promise<{ dir: string; store: FileStoreSummary }> {
        const dir = mkdtempSync(path.join(os.tmpdir(), 'sd-fscheck-'));
        const run = 'c'.repeat(32);
        mkdirSync(path.join(dir, 'mlruns', '0', run), { recursive: true });
        writeFileSync(
            path.join(dir, 'mlruns', '0', 'meta.yaml'),
            "artifact_location: file:///mlruns/0\nexperiment_id: '0'\nlifecycle_stage: active\nname: Default\n",
        );
        writeFileSync(
            path.join(dir, 'mlruns', '0', run, 'meta.yaml'),
            `end_time: null\nexperiment_id: '0'\nrun_id: ${run}\nstart_time: 1\nstatus: 1\nuser_id: u\n`,
        );
        return { dir, store: await readFileStore(path.join(dir, 'mlruns'), dir) };
    }

    void test('warns when no reader version is known and stays quiet for 2.22.1 and 3.x readers', async () => {
        const { dir, store } = await storeWith3xRun();
        try {
            const unknown = fileStoreCheck.run(snapshot(dir, [store]));
            assert.deepEqual(
                unknown.map((f) => f.severity),
                ['warning'],
            );
            assert.deepEqual(fileStoreCheck.run(snapshot(dir, [store], [uiServer('2.22.1')])), []);
            assert.deepEqual(fileStoreCheck.run(snapshot(dir, [store], [uiServer('3.1.0')])), []);
            assert.equal(
                fileStoreCheck.run(snapshot(dir, [store], [uiServer('2.22.0')]))[0]?.severity,
                'error',
            );
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });

    void test('ignores a server whose backend is a database', async () => {
        const { dir, store } = await storeWith3xRun();
        try {
            const sqlServer = { ...uiServer('2.20.0'), backendStoreUri: 'postgresql://db/mlflow' };
            assert.equal(
                fileStoreCheck.run(snapshot(dir, [store], [sqlServer]))[0]?.severity,
                'warning',
            );
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });

    void test('mentions the runs only counted, not listed one by one', () => {
        const store: FileStoreSummary = {
            root: 'mlruns',
            experiments: 1,
            runs: 3,
            runsWithoutRunUuid: 3,
            loggedModelDirs: 0,
            mountedBy: [],
            anomalies: [
                {
                    file: `mlruns/4/${'d'.repeat(32)}/meta.yaml`,
                    problem: 'missing-key',
                    key: 'run_uuid',
                    line: 6,
                    level: 'run',
                    detail: 'no run_uuid',
                },
                {
                    file: 'mlruns',
                    problem: 'missing-key',
                    key: 'run_uuid',
                    level: 'run',
                    count: 2,
                    detail: '2 more',
                },
            ],
        };
        const [finding] = fileStoreCheck.run(snapshot('/x', [store], [uiServer('2.9.2')]));
        assert.equal(finding?.locations.length, 1);
        assert.match(finding?.evidence.join('\n') ?? '', /2 more run meta\.yaml files/);
    });
});
