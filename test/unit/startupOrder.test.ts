import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startupOrderCheck } from '../../src/core/checks/startupOrder.js';
import { loadComposeProject } from '../../src/core/compose/index.js';
import { findServerConfigs } from '../../src/core/mlflow/serverConfig.js';
import type { ContainerFacts, Finding, FixEdit, StackSnapshot } from '../../src/core/model.js';
import { casesFolder } from '../fixtures/compose/sharedCases.js';
import { container, emptySnapshot } from '../support/snapshots.js';

const scratch: string[] = [];
after(() => {
    for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

async function snapshotOf(
    folder: string,
    containers: ContainerFacts[] = [],
): Promise<StackSnapshot> {
    const { project, problems } = await loadComposeProject(folder, { env: {} });
    assert.deepEqual(problems, []);
    assert.ok(project);
    const files: Record<string, string> = {};
    for (const file of project.files) files[file] = readFileSync(path.join(folder, file), 'utf8');
    return {
        ...emptySnapshot(folder),
        takenAt: new Date(0).toISOString(),
        compose: project,
        docker: { attempts: [], reachable: true, containers },
        serverConfigs: findServerConfigs(project),
        files,
    };
}

function folderWith(yaml: string): string {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'startup-order-'));
    scratch.push(dir);
    writeFileSync(path.join(dir, 'compose.yaml'), yaml);
    return dir;
}

function copyOfCase(name: string): string {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'startup-case-'));
    scratch.push(dir);
    cpSync(path.join(casesFolder(), name), dir, { recursive: true });
    return dir;
}

function offsetOf(text: string, line: number, column: number): number {
    const lines = text.split('\n');
    let offset = 0;
    for (let i = 0; i < line - 1; i++) offset += (lines[i]?.length ?? 0) + 1;
    return offset + column - 1;
}

/** Applies edits to the files in `folder`, last position first so earlier offsets stay right. */
function applyEdits(folder: string, edits: FixEdit[]): void {
    const byFile = new Map<string, FixEdit[]>();
    for (const edit of edits) byFile.set(edit.file, [...(byFile.get(edit.file) ?? []), edit]);
    for (const [file, list] of byFile) {
        let text = readFileSync(path.join(folder, file), 'utf8');
        const placed = list
            .map((e) => ({
                e,
                start: offsetOf(text, e.range.line, e.range.column),
                end: offsetOf(text, e.range.endLine, e.range.endColumn),
            }))
            .sort((a, b) => b.start - a.start);
        for (let i = 1; i < placed.length; i++) {
            assert.ok((placed[i]?.end ?? 0) <= (placed[i - 1]?.start ?? 0), 'edits do not overlap');
        }
        for (const { e, start, end } of placed)
            text = text.slice(0, start) + e.newText + text.slice(end);
        writeFileSync(path.join(folder, file), text);
    }
}

function mentions(finding: Finding, token: string): boolean {
    const text = `${finding.title}\n${finding.fix}`.toLowerCase();
    return token.split('|').some((t) => text.includes(t.toLowerCase()));
}

interface Expected {
    kind: string;
    severity: 'error' | 'warning' | 'info';
    file: string | null;
    key: string | null;
    mustMention: string[];
}

const RANK = { info: 0, warning: 1, error: 2 };

function matches(finding: Finding, expected: Expected): boolean {
    if (finding.kind !== expected.kind) return false;
    if (RANK[finding.severity] < RANK[expected.severity]) return false;
    const location = finding.locations[0];
    if (expected.file !== null && location?.file !== expected.file) return false;
    if (expected.key !== null) {
        const key = location?.key ?? '';
        if (!(
            key === expected.key ||
            key.startsWith(`${expected.key}.`) ||
            expected.key.startsWith(`${key}.`)
        )) {
            return false;
        }
    }
    return expected.mustMention.every((token) => mentions(finding, token));
}

void describe('startup-order on the shared cases', () => {
    for (const name of ['C03-minio-init-race', 'C04-db-not-ready']) {
        void test(`reports what ${name}/expect.json wants and nothing it forbids`, async () => {
            const folder = path.join(casesFolder(), name);
            const expect = JSON.parse(readFileSync(path.join(folder, 'expect.json'), 'utf8')) as {
                findings: Expected[];
                mustNotFlag: string[];
            };
            const findings = startupOrderCheck.run(await snapshotOf(folder));
            for (const expected of expect.findings) {
                assert.ok(
                    findings.some((f) => matches(f, expected)),
                    `a finding matches ${JSON.stringify(expected)}; got ${JSON.stringify(findings, null, 1)}`,
                );
            }
            for (const kind of expect.mustNotFlag)
                assert.ok(!findings.some((f) => f.kind === kind));
        });
    }

    for (const name of [
        'C07-image-lacks-psycopg2',
        'C09-client-local-artifact-path',
        'C14-jupyter-missing-s3-config',
        'C15-client-missing-s3-endpoint',
        'C20-3x-client-2x-server',
        'C30-allowed-hosts-without-port',
    ]) {
        void test(`reports nothing for ${name}, whose services wait on health and completion`, async () => {
            const findings = startupOrderCheck.run(
                await snapshotOf(path.join(casesFolder(), name)),
            );
            assert.deepEqual(findings, []);
        });
    }

    void test('C03: the bucket helper waits on MinIO health and MLflow waits on the helper finishing', async () => {
        const findings = startupOrderCheck.run(
            await snapshotOf(path.join(casesFolder(), 'C03-minio-init-race')),
        );
        const helper = findings.find(
            (f) => f.locations[0]?.key === 'services.create-bucket.depends_on.minio',
        );
        assert.ok(helper);
        assert.equal(helper.severity, 'warning');
        assert.equal(helper.locations[0]?.line, 17);
        assert.ok(helper.evidence.some((e) => /minio" has no healthcheck/.test(e)));
        assert.match(helper.fix, /mc", "ready", "local/);
        const server = findings.find(
            (f) => f.locations[0]?.key === 'services.mlflow.depends_on.create-bucket',
        );
        assert.ok(server);
        assert.match(server.fix, /create-bucket: \{condition: service_completed_successfully\}/);
        assert.ok(server.evidence.some((e) => /one-shot job \(minio\/mc\)/.test(e)));
        assert.equal(findings.length, 2);
    });

    void test('C03: the edits give valid YAML that Compose reads with the healthcheck and both conditions', async () => {
        const folder = copyOfCase('C03-minio-init-race');
        const findings = startupOrderCheck.run(await snapshotOf(folder));
        applyEdits(
            folder,
            findings.flatMap((f) => f.edits ?? []),
        );
        const after = await snapshotOf(folder);
        const services = after.compose?.services ?? [];
        assert.deepEqual(services.find((s) => s.name === 'minio')?.healthcheck?.test, [
            'CMD',
            'mc',
            'ready',
            'local',
        ]);
        assert.deepEqual(
            services.find((s) => s.name === 'create-bucket')?.dependsOn.map((d) => d.condition),
            ['service_healthy'],
        );
        assert.deepEqual(
            services.find((s) => s.name === 'mlflow')?.dependsOn.map((d) => d.condition),
            ['service_completed_successfully'],
        );
        assert.deepEqual(startupOrderCheck.run(after), []);
        // The file keeps its two-space indentation.
        const text = readFileSync(path.join(folder, 'docker-compose.yml'), 'utf8');
        assert.match(text, /\n {4}depends_on:\n {6}minio:\n {8}condition: service_healthy\n/);
        assert.match(text, /\n {4}healthcheck:\n {6}test: \["CMD", "mc", "ready", "local"\]\n/);
    });

    void test('C04: the edits add a mysqladmin healthcheck to db and wait for it', async () => {
        const folder = copyOfCase('C04-db-not-ready');
        const [finding, ...rest] = startupOrderCheck.run(await snapshotOf(folder));
        assert.ok(finding);
        assert.equal(rest.length, 0);
        assert.match(finding.fix, /restart: unless-stopped/);
        assert.equal(finding.edits?.length, 2);
        applyEdits(folder, finding.edits ?? []);
        const after = await snapshotOf(folder);
        const db = after.compose?.services.find((s) => s.name === 'db');
        assert.deepEqual(db?.healthcheck?.test, ['CMD', 'mysqladmin', 'ping', '-h', 'localhost']);
        assert.deepEqual(
            db?.volumes.map((v) => v.target),
            ['/var/lib/mysql'],
        );
        assert.deepEqual(startupOrderCheck.run(after), []);
    });

    void test('C04: a container that exited and logged refused connections is part of the evidence', async () => {
        const mlflow = container('mlflow', {
            id: 'x',
            name: 'c04-mlflow-1',
            image: 'c04-mlflow',
            state: 'exited',
            exitCode: 1,
            logTail: [
                "(pymysql.err.OperationalError) (2003, \"Can't connect to MySQL server on 'db' ([Errno 111] Connection refused)\")",
            ],
        });
        const [finding] = startupOrderCheck.run(
            await snapshotOf(path.join(casesFolder(), 'C04-db-not-ready'), [mlflow]),
        );
        assert.ok(finding?.evidence.some((e) => e.includes('exited with code 1')));
        assert.ok(finding?.evidence.some((e) => e.includes('Connection refused')));
    });
});

void describe('startup-order on other compose files', () => {
    void test('changes only the condition of a long-syntax entry', async () => {
        const folder = folderWith(
            [
                'services:',
                '    pg:',
                '        image: postgres:16',
                '        environment:',
                '            POSTGRES_USER: ml',
                '    mlflow:',
                '        image: ghcr.io/mlflow/mlflow:v2.20.0',
                '        command: mlflow server --host 0.0.0.0',
                '        depends_on:',
                '            pg:',
                '                condition: service_started',
                '                restart: true',
                '',
            ].join('\n'),
        );
        const [finding] = startupOrderCheck.run(await snapshotOf(folder));
        assert.ok(finding);
        assert.equal(finding.locations[0]?.key, 'services.mlflow.depends_on.pg');
        const rewrite = finding.edits?.find((e) => e.newText.startsWith('condition'));
        assert.equal(rewrite?.newText, 'condition: service_healthy');
        assert.equal(rewrite?.range.line, 11);
        applyEdits(folder, finding.edits ?? []);
        const after = await snapshotOf(folder);
        const pg = after.compose?.services.find((s) => s.name === 'pg');
        assert.deepEqual(pg?.healthcheck?.test, ['CMD-SHELL', 'pg_isready -U ml']);
        assert.equal(
            after.compose?.ranges['services.pg.healthcheck']?.column,
            9,
            'four-space indentation kept',
        );
        assert.ok(
            after.compose?.ranges['services.mlflow.depends_on.pg.restart'],
            'restart: true kept',
        );
        assert.deepEqual(startupOrderCheck.run(after), []);
    });

    void test('reports waiting on health of a service without a healthcheck, adding the server one', async () => {
        const folder = folderWith(
            [
                'services:',
                '  mlflow:',
                '    image: ghcr.io/mlflow/mlflow:v2.20.0',
                '    command: mlflow server --host 0.0.0.0 --port 5001',
                '  notebook:',
                '    image: jupyter/scipy-notebook',
                '    environment:',
                '      - MLFLOW_TRACKING_URI=http://mlflow:5001',
                '    depends_on:',
                '      mlflow:',
                '        condition: service_healthy',
            ].join('\n'),
        );
        const [finding, ...rest] = startupOrderCheck.run(await snapshotOf(folder));
        assert.equal(rest.length, 0);
        assert.ok(finding);
        assert.match(finding.title, /no healthcheck/);
        assert.equal(finding.edits?.length, 1);
        assert.match(finding.edits?.[0]?.newText ?? '', /localhost:5001\/health/);
        applyEdits(folder, finding.edits ?? []);
        assert.deepEqual(startupOrderCheck.run(await snapshotOf(folder)), []);
    });

    void test('notes a client that uses the server without waiting for it', async () => {
        const folder = folderWith(
            [
                'services:',
                '  mlflow:',
                '    image: ghcr.io/mlflow/mlflow:v2.20.0',
                '    command: mlflow server --host 0.0.0.0',
                '    healthcheck:',
                '      test: ["CMD", "true"]',
                '  trainer:',
                '    build: .',
                '    environment:',
                '      MLFLOW_TRACKING_URI: http://mlflow:5000',
            ].join('\n'),
        );
        const [finding] = startupOrderCheck.run(await snapshotOf(folder));
        assert.equal(finding?.severity, 'info');
        assert.equal(finding?.locations[0]?.key, 'services.trainer.depends_on');
        applyEdits(folder, finding?.edits ?? []);
        const after = await snapshotOf(folder);
        assert.deepEqual(
            after.compose?.services
                .find((s) => s.name === 'trainer')
                ?.dependsOn.map((d) => d.condition),
            ['service_healthy'],
        );
        assert.deepEqual(startupOrderCheck.run(after), []);
    });

    void test('lowers the severity when a restart policy retries the dependent', async () => {
        const folder = folderWith(
            'services:\n  db: {image: "mysql:8"}\n  mlflow:\n    image: ghcr.io/mlflow/mlflow:v2.20.0\n    command: mlflow server\n    restart: always\n    depends_on: [db]\n',
        );
        const [finding] = startupOrderCheck.run(await snapshotOf(folder));
        assert.equal(finding?.severity, 'info');
        // db is a one-line flow mapping: no insertion point for a healthcheck block, so no edits
        // that would wait on a healthcheck nobody wrote.
        assert.equal(
            finding?.edits?.some((e) => e.label.startsWith('Add a healthcheck')) ?? false,
            false,
        );
    });

    void test('gives no edit for an unknown dependency without a healthcheck, only the fix in words', async () => {
        const folder = folderWith(
            [
                'services:',
                '  cache:',
                '    image: example/custom-cache',
                '  trainer:',
                '    image: example/trainer',
                '    depends_on: [cache]',
            ].join('\n'),
        );
        const [finding] = startupOrderCheck.run(await snapshotOf(folder));
        assert.ok(finding);
        assert.equal(finding.edits, undefined);
        assert.match(finding.fix, /healthcheck that succeeds once it accepts connections/);
    });

    void test('leaves services that are not part of the MLflow stack alone', async () => {
        const folder = folderWith(
            'services:\n  web:\n    image: nginx\n    depends_on: [api]\n  api:\n    image: example/api\n',
        );
        assert.deepEqual(startupOrderCheck.run(await snapshotOf(folder)), []);
    });
});
