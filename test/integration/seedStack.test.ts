// The seed's failure cascade, reproduced for real phase by phase on a live Docker Engine with a
// real MLflow 2.22.0 server, a real MLflow 3 client, and Compose; then the fixed architecture.

import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, renameSync, cpSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { diagnose } from '../../src/core/diagnose.js';
import type { Finding } from '../../src/core/model.js';
import type { Report } from '../../src/core/report.js';
import { missingComponents, StackLab } from './stackLab.js';

const CLIENT = '3.17.2';
const IMAGES = ['ghcr.io/mlflow/mlflow:v2.22.0', `ghcr.io/mlflow/mlflow:v${CLIENT}`];
const missing = missingComponents(IMAGES, [CLIENT]);
const required = process.env.STACK_DOCTOR_REQUIRE_REAL === '1';
if (missing.length > 0 && required) {
    throw new Error(`real components missing: ${missing.join(', ')} (run scripts/test-env/all.sh)`);
}
const skip = missing.length > 0 ? `real components missing: ${missing.join(', ')}` : false;

function kinds(report: Report): string[] {
    return report.findings.map((f) => f.kind);
}

function find(report: Report, kind: Finding['kind'], where: (f: Finding) => boolean = () => true) {
    const found = report.findings.find((f) => f.kind === kind && where(f));
    assert.ok(
        found,
        `no ${kind} finding in:\n${report.findings.map((f) => `${f.kind}: ${f.title}`).join('\n')}`,
    );
    return found;
}

/** True when `to` is among the consequences of `from`, directly or through others. */
function leadsTo(report: Report, from: Finding, to: Finding, seen = new Set<string>()): boolean {
    if (seen.has(from.id)) return false;
    seen.add(from.id);
    return (from.causes ?? []).some((id) => {
        const next = report.findings.find((f) => f.id === id);
        return id === to.id || (next !== undefined && leadsTo(report, next, to, seen));
    });
}

async function diagnoseLab(lab: StackLab): Promise<Report> {
    return diagnose({ folder: lab.dir, env: lab.env(), timeoutMs: 5000 });
}

void describe('the seed stack, phase by phase', { skip, timeout: 600_000 }, () => {
    let lab: StackLab;

    before(async () => {
        lab = await StackLab.create('seed-stack', CLIENT);
    });
    after(async () => {
        await lab?.destroy();
    });

    void test('before the server is up: nothing listens on the published port', async () => {
        await lab.compose('create');
        const report = await diagnoseLab(lab);
        const unreachable = find(report, 'server-unreachable', (f) => f.service === 'mlflow');
        assert.match(unreachable.title, /connection refused/);
        assert.ok(unreachable.causedBy?.length, 'the refusal is explained by the container state');
        const state = find(report, 'container-state', (f) => f.service === 'mlflow');
        assert.ok(state.rootCause);
    });

    void test('the job starts before the server listens and gets connection refused', async () => {
        await lab.compose('up', '-d');
        await lab.waitFor(
            'the notebook job to exit',
            async () => (await lab.containerState('notebook')) === 'exited',
        );
        await lab.waitFor('the server to answer /health', () => lab.serverHealthy());
        const report = await diagnoseLab(lab);
        const refused = find(report, 'server-unreachable', (f) => f.service === 'notebook');
        assert.ok(
            refused.evidence.some((e) => /Connection refused/i.test(e)),
            refused.evidence.join('\n'),
        );
        const order = find(report, 'startup-order', (f) => f.service === 'notebook');
        assert.ok(order.rootCause, 'the startup race is a root cause');
        assert.ok(leadsTo(report, order, refused), 'and it explains the refusal');
        assert.equal(order.locations[0]?.file, 'compose.yaml');
        assert.equal(order.locations[0]?.key, 'services.notebook.depends_on.mlflow');
        assert.ok(!kinds(report).includes('server-error'), 'the server itself answers fine so far');
    });

    void test('an MLflow 3 client writing the store makes the 2.22.0 server answer 500', async () => {
        const runId = await lab.runNotebook();
        assert.match(runId, /^[0-9a-f]{32}$/);

        const report = await diagnoseLab(lab);
        const error = find(report, 'server-error', (f) => f.service === 'mlflow');
        assert.ok(
            error.evidence.some((e) => e.includes('HTTP 500')),
            error.evidence.join('\n'),
        );

        const corrupt = find(report, 'filestore-corrupt', (f) =>
            f.locations.some((l) => l.file.endsWith(`${runId}/meta.yaml`)),
        );
        assert.match(`${corrupt.title} ${corrupt.fix}`, /run_uuid/);
        assert.ok(leadsTo(report, corrupt, error), 'the corrupt meta.yaml explains the 500');

        const mismatch = find(report, 'version-mismatch');
        assert.ok(mismatch.rootCause);
        assert.match(
            mismatch.title,
            new RegExp(`${CLIENT.replaceAll('.', '\\.')} client against a 2\\.22\\.0 server`),
        );
        assert.ok(mismatch.locations.some((l) => l.key === 'services.mlflow.image'));

        const bypass = find(report, 'artifact-routing', (f) => f.id.endsWith(':bypass'));
        assert.equal(bypass.locations[0]?.file, 'notebooks/train.ipynb');
        assert.ok(bypass.rootCause);
    });

    void test('a host folder replaced under the bind mount is found stale by a live probe', async () => {
        renameSync(path.join(lab.dir, 'mlruns'), path.join(lab.dir, 'mlruns.replaced'));
        cpSync(path.join(lab.dir, 'mlruns.replaced'), path.join(lab.dir, 'mlruns'), {
            recursive: true,
        });

        const report = await diagnoseLab(lab);
        const stale = find(report, 'mount-sync', (f) => f.service === 'mlflow');
        assert.match(stale.title, /replaced after the container started/);
        assert.equal(stale.locations[0]?.key, 'services.mlflow.volumes.0');
        for (const dir of ['mlruns', 'mlruns.replaced']) {
            const left = readdirSync(path.join(lab.dir, dir)).filter((n) =>
                n.startsWith('.stack-doctor-sync'),
            );
            assert.deepEqual(left, [], `sentinels left in ${dir}`);
        }
        const inside = await lab.exec('mlflow', 'ls', '-a', '/mlruns');
        assert.ok(!inside.includes('.stack-doctor-sync'), 'sentinels left in the container');
    });

    void test('artifacts logged over HTTP through a path-based root land on the client', async () => {
        const script = [
            'import os, mlflow',
            'mlflow.set_experiment("remote-client")',
            'with mlflow.start_run() as run:',
            '    open("/tmp/report.txt", "w").write("hello")',
            '    mlflow.log_artifact("/tmp/report.txt")',
            'uri = mlflow.get_run(run.info.run_id).info.artifact_uri',
            'print(uri, os.path.exists(os.path.join(uri, "report.txt")))',
        ].join('\n');
        const out = await lab.compose(
            'run',
            '--rm',
            '--no-deps',
            'notebook',
            'python',
            '-c',
            script,
        );
        const [uri, onClient] = out.trim().split('\n').at(-1)?.split(' ') ?? [];
        assert.equal(onClient, 'True', `the client wrote ${uri} on its own disk`);
        const onServer = await lab
            .exec('mlflow', 'ls', path.posix.join(uri ?? '/nonexistent', 'report.txt'))
            .then(() => true)
            .catch(() => false);
        assert.equal(onServer, false, 'the server never got the artifact');

        const report = await diagnoseLab(lab);
        const routing = find(report, 'artifact-routing', (f) =>
            f.id.endsWith('local-artifact-root'),
        );
        assert.equal(routing.severity, 'error');
        assert.equal(routing.locations[0]?.key, 'services.mlflow.command');
        assert.match(routing.fix, /--artifacts-destination/);
    });

    void test('the JSON report points every finding at a file inside the folder', async () => {
        const report = await diagnoseLab(lab);
        for (const f of report.findings) {
            for (const l of f.locations) {
                assert.ok(
                    !path.isAbsolute(l.file) && !l.file.startsWith('..'),
                    `${f.id}: ${l.file}`,
                );
                assert.ok(existsSync(path.join(lab.dir, l.file)), `${f.id}: ${l.file} exists`);
                const lines = readFileSync(path.join(lab.dir, l.file), 'utf8').split('\n').length;
                assert.ok(l.line >= 1 && l.line <= lines, `${f.id}: line ${l.line} of ${lines}`);
            }
        }
    });
});

void describe('the healthy stack', { skip, timeout: 600_000 }, () => {
    let lab: StackLab;

    before(async () => {
        lab = await StackLab.create('healthy-stack', CLIENT);
        await lab.compose('up', '-d', '--wait');
        await lab.waitFor(
            'the job to finish',
            async () => (await lab.containerState('notebook')) === 'exited',
        );
        await lab.runNotebook();
    });
    after(async () => {
        await lab?.destroy();
    });

    void test('gets a clean bill: no findings at all', async () => {
        const report = await diagnoseLab(lab);
        assert.deepEqual(
            report.findings.map((f) => `${f.kind}: ${f.title}`),
            [],
        );
        assert.ok(report.probes.some((p) => p.probe.startsWith('mlflow ') && p.status === 'ran'));
        assert.ok(
            report.probes.some((p) => p.probe.startsWith('mount sync') || p.probe === 'docker'),
        );
    });
});
