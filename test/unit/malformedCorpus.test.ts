// The malformed-input corpus (test/fixtures/malformed, written by its generate.mjs): each damaged
// compose file, `.env`, override, meta.yaml, notebook and server response goes through the
// reader that meets it in the field, and must give a clean result or a clear problem, never a
// throw or a hang. manifest.json says which of the two, where the damage decides it.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadComposeProject } from '../../src/core/compose/index.js';
import { diagnose } from '../../src/core/diagnose.js';
import { parseMetaYaml, readFileStore } from '../../src/core/filestore/index.js';
import { MlflowClient, MlflowRequestError } from '../../src/core/mlflow/client.js';
import { readNotebook, scanWorkspace } from '../../src/core/workspace/index.js';
import { fixture } from '../support/paths.js';
import { lineCount, scratchFolder } from './fuzzSupport.js';

interface Entry {
    file: string;
    expect: string;
}

const CORPUS = fixture('malformed');
const manifest = JSON.parse(readFileSync(path.join(CORPUS, 'manifest.json'), 'utf8')) as Entry[];
const bytesOf = (entry: Entry) => readFileSync(path.join(CORPUS, entry.file));
const byArea = (area: string) => manifest.filter((e) => e.file.startsWith(`${area}/`));
const BASE_COMPOSE = readFileSync(path.join(CORPUS, 'compose/001-valid-baseline.yaml'));
const RUN_ID = '0123456789abcdef0123456789abcdef';

const scratch = scratchFolder('malformed');
after(() => scratch.done());

test('the corpus holds at least 200 inputs across the four readers', () => {
    assert.ok(manifest.length >= 200, `${manifest.length} inputs`);
    for (const area of ['compose', 'meta', 'notebook', 'response']) {
        assert.ok(byArea(area).length >= 40, `${area}: ${byArea(area).length}`);
    }
});

describe('malformed compose files, .env files and overrides', () => {
    for (const entry of byArea('compose')) {
        test(`${entry.file} renders or reports a problem (${entry.expect})`, async () => {
            const folder = scratch.next();
            mkdirSync(folder, { recursive: true });
            const written = new Map<string, Buffer>();
            const write = (name: string, bytes: Buffer) => {
                writeFileSync(path.join(folder, name), bytes);
                written.set(name, bytes);
            };
            if (entry.file.endsWith('.override.yaml')) {
                write('compose.yaml', BASE_COMPOSE);
                write('compose.override.yaml', bytesOf(entry));
            } else if (entry.file.endsWith('.env')) {
                write('compose.yaml', BASE_COMPOSE);
                write('.env', bytesOf(entry));
            } else {
                write('compose.yaml', bytesOf(entry));
            }

            const loaded = await loadComposeProject(folder, { env: {} });
            const problems = [...loaded.problems, ...(loaded.project?.problems ?? [])];
            for (const problem of problems) {
                assert.ok(problem.message.length > 0);
                if (!problem.range) continue;
                const text = written.get(problem.range.file)?.toString('utf8');
                assert.ok(text !== undefined, `problem in unwritten ${problem.range.file}`);
                assert.ok(problem.range.line >= 1 && problem.range.line <= lineCount(text));
            }
            if (entry.expect === 'renders') {
                assert.ok(loaded.project, 'no project');
                assert.deepEqual(problems, []);
            }
            if (entry.expect === 'problem') {
                assert.ok(problems.length > 0, 'expected a problem');
            }

            // The whole offline pipeline on the same folder: no check may fail on it.
            const report = await diagnose({
                folder,
                offline: true,
                env: {},
                pythonPath: '/nonexistent/python3',
            });
            const failed = report.findings.filter((f) => f.id.startsWith('probe-failed:check:'));
            assert.deepEqual(
                failed.map((f) => f.evidence[0]),
                [],
            );
        });
    }
});

describe('malformed meta.yaml files', () => {
    for (const entry of byArea('meta')) {
        test(`${entry.file} parses or is reported as a store anomaly (${entry.expect})`, async () => {
            const bytes = bytesOf(entry);
            const parsed = parseMetaYaml(bytes.toString('utf8'));
            assert.ok(['mapping', 'empty', 'not-yaml', 'not-a-mapping'].includes(parsed.kind));

            const folder = scratch.next();
            const experiment = path.join(folder, 'mlruns', '1');
            mkdirSync(path.join(experiment, RUN_ID), { recursive: true });
            writeFileSync(
                path.join(experiment, 'meta.yaml'),
                "artifact_location: file:///mlruns/1\nexperiment_id: '1'\nlifecycle_stage: active\nname: corpus\n",
            );
            writeFileSync(path.join(experiment, RUN_ID, 'meta.yaml'), bytes);
            const summary = await readFileStore(path.join(folder, 'mlruns'), folder, {
                timeoutMs: 5000,
            });
            const runFile = `mlruns/1/${RUN_ID}/meta.yaml`;
            const onRun = summary.anomalies.filter((a) => a.file === runFile);
            for (const anomaly of summary.anomalies) {
                assert.ok(anomaly.detail.length > 0);
                if (anomaly.file === runFile && anomaly.line !== undefined) {
                    assert.ok(
                        anomaly.line >= 1 && anomaly.line <= lineCount(bytes.toString('utf8')),
                    );
                }
            }
            if (entry.expect === 'clean') assert.deepEqual(summary.anomalies, []);
            if (entry.expect === 'anomaly') {
                assert.ok(onRun.length > 0, `no anomaly for ${runFile}`);
            }
        });
    }
});

test('a FIFO named meta.yaml is reported as unreadable instead of blocking the reader', async () => {
    // Found by fuzzing: the synchronous run reads opened it blocking, which froze the event loop
    // (and with it the reader's own deadline) until something wrote to the pipe.
    const folder = scratch.next();
    const experiment = path.join(folder, 'mlruns', '1');
    mkdirSync(path.join(experiment, RUN_ID), { recursive: true });
    mkdirSync(path.join(experiment, 'fedcba9876543210fedcba9876543210'), { recursive: true });
    writeFileSync(path.join(experiment, 'meta.yaml'), "experiment_id: '1'\nname: x\n");
    writeFileSync(path.join(experiment, RUN_ID, 'meta.yaml'), 'run_id: x\n');
    execFileSync('mkfifo', [
        path.join(experiment, 'fedcba9876543210fedcba9876543210', 'meta.yaml'),
    ]);
    const summary = await readFileStore(path.join(folder, 'mlruns'), folder, { timeoutMs: 3000 });
    assert.ok(
        summary.anomalies.some(
            (a) =>
                a.problem === 'unreadable' && a.file.includes('fedcba9876543210fedcba9876543210'),
        ),
        JSON.stringify(summary.anomalies),
    );
});

describe('malformed notebooks', () => {
    for (const entry of byArea('notebook')) {
        test(`${entry.file} reads or is rejected with a reason (${entry.expect})`, async () => {
            const text = bytesOf(entry).toString('utf8');
            const read = readNotebook(text);
            if (read.ok) {
                for (const cell of read.cells) {
                    const at = cell.rawPosition(cell.source.length);
                    assert.ok(at.line >= 1 && at.line <= lineCount(text));
                }
            } else {
                assert.ok(read.error.length > 0);
            }
            if (entry.expect === 'ok') assert.ok(read.ok, read.ok ? '' : read.error);
            if (entry.expect === 'error') assert.ok(!read.ok, 'read a broken notebook as fine');

            const folder = scratch.next();
            mkdirSync(folder, { recursive: true });
            writeFileSync(path.join(folder, 'train.ipynb'), bytesOf(entry));
            const facts = await scanWorkspace(folder, {
                timeoutMs: 3000,
                pythonPath: '/nonexistent/python3',
            });
            if (!read.ok) {
                assert.ok(facts.unreadable.some((u) => u.file === 'train.ipynb'));
            }
        });
    }
});

interface ResponseSpec {
    call: string;
    status: number;
    headers: Record<string, string>;
    bodyBase64: string;
    fill?: number;
}

describe('malformed server responses', () => {
    let server: http.Server;
    let baseUrl = '';
    let current: ResponseSpec | undefined;

    before(async () => {
        server = http.createServer((req, res) => {
            req.resume();
            const spec = current;
            if (!spec) {
                res.writeHead(500);
                res.end();
                return;
            }
            res.writeHead(spec.status, spec.headers);
            res.end(
                spec.fill ? Buffer.alloc(spec.fill, 0x20) : Buffer.from(spec.bodyBase64, 'base64'),
            );
        });
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
        baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(async () => {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
    });

    const calls: Record<string, (c: MlflowClient) => Promise<unknown>> = {
        health: (c) => c.health(),
        version: (c) => c.version(),
        searchExperiments: (c) => c.searchExperiments(),
        getExperiment: (c) => c.getExperiment('0'),
        searchRuns: (c) => c.searchRuns({ experimentIds: ['0'] }),
        getRun: (c) => c.getRun('a1'),
        getMetricHistory: (c) => c.getMetricHistory('a1', 'loss'),
        listArtifacts: (c) => c.listArtifacts('a1'),
        searchLoggedModels: (c) => c.searchLoggedModels({ experimentIds: ['0'] }),
    };

    for (const entry of byArea('response')) {
        test(`${entry.file} is an answer or a classified error (${entry.expect})`, async () => {
            const spec = JSON.parse(bytesOf(entry).toString('utf8')) as ResponseSpec;
            current = spec;
            const call = calls[spec.call];
            assert.ok(call, `unknown call ${spec.call}`);
            const client = new MlflowClient({ baseUrl, timeoutMs: 3000, detectTlsListener: false });
            let outcome: string;
            try {
                await call(client);
                outcome = 'ok';
            } catch (error) {
                assert.ok(
                    error instanceof MlflowRequestError,
                    `unclassified: ${(error as Error).stack}`,
                );
                assert.ok(error.message.length > 0);
                assert.equal(error.observation.outcome, error.kind);
                outcome = error.kind;
            }
            if (entry.expect !== 'any') assert.equal(outcome, entry.expect);
        });
    }
});
