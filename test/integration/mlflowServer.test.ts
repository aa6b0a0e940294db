// The client and the probe against real `mlflow server` processes from the venvs that
// scripts/test-env/venvs.sh builds, one per MLflow version, on 127.0.0.1 and a free port. Each
// server gets a run logged by that version's own Python client over HTTP before it is probed.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { MlflowClient, MlflowRequestError, toObservation } from '../../src/core/mlflow/client.js';
import { probeServer } from '../../src/core/mlflow/probe.js';
import { serverRequiresRunUuid } from '../../src/core/mlflow/versions.js';
import {
    missingVenvMessage,
    registerMissingComponent,
    type RunningServer,
    startMlflowServer as startServer,
    stopMlflowServer as stopServer,
    venvPython,
    venvReady,
} from '../support/mlflowServer.js';

const VERSIONS = (process.env.STACK_DOCTOR_MLFLOW_VERSIONS ?? '2.22.0 2.22.5 3.17.2')
    .split(/\s+/)
    .filter(Boolean);

function python(version: string, script: string, env: Record<string, string>): Promise<string> {
    return venvPython(version, ['-c', script], env);
}

const LOG_RUN = `
import mlflow
mlflow.set_experiment("stack-doctor-probe")
with mlflow.start_run(run_name="probe-run") as run:
    mlflow.log_param("alpha", "0.5")
    for step in range(3):
        mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
    mlflow.log_text("hello", "notes/hello.txt")
print(run.info.run_id)
`;

function backendFor(
    version: string,
): (dir: string) => { uri: string; env?: Record<string, string> } {
    // 3.13+ refuses a FileStore without the opt-out (facts §4.7); SQLite is the 3.x default.
    return version.startsWith('2.')
        ? (dir) => ({ uri: path.join(dir, 'mlruns') })
        : (dir) => ({ uri: `sqlite:///${path.join(dir, 'mlflow.db')}` });
}

for (const version of VERSIONS) {
    if (!venvReady(version)) {
        registerMissingComponent(`MLflow ${version} venv`, missingVenvMessage(version));
        continue;
    }
    const major = Number(version.split('.')[0]);

    void describe(`a real MLflow ${version} server`, () => {
        let server: RunningServer | undefined;
        let runId = '';

        before(async () => {
            server = await startServer(version, backendFor(version));
            const printed = await python(version, LOG_RUN, { MLFLOW_TRACKING_URI: server.url });
            // 2.x+ clients also print "View run ..." links; the id is the last line.
            runId = printed.split('\n').pop() ?? '';
            assert.match(runId, /^[0-9a-f]{32}$/, `the client printed ${runId}`);
        });

        after(async () => {
            await stopServer(server);
            if (server) rmSync(server.dir, { recursive: true, force: true });
        });

        void test('probeServer reads the version, the experiments and the logged run', async (t) => {
            assert.ok(server);
            const probe = await probeServer(server.url, { timeoutMs: 10_000 });
            t.diagnostic(`health: ${JSON.stringify(probe.health)}`);
            t.diagnostic(`version: ${JSON.stringify(probe.version)}`);
            t.diagnostic(`loggedModels: ${JSON.stringify(probe.loggedModels)}`);

            assert.equal(probe.health?.outcome, 'ok');
            assert.equal(probe.health?.body, 'OK');
            assert.equal(probe.serverVersion, version);
            assert.equal(probe.version?.status, 200);
            assert.equal(probe.experiments?.outcome, 'ok');
            const experiment = probe.experimentList?.find((e) => e.name === 'stack-doctor-probe');
            assert.ok(experiment, `experiments: ${JSON.stringify(probe.experimentList)}`);
            assert.match(experiment.id, /^\d+$/);
            assert.equal(experiment.artifactLocation, `mlflow-artifacts:/${experiment.id}`);
            assert.equal(probe.runs?.outcome, 'ok');
            assert.deepEqual(probe.runArtifactUris, [
                { runId, artifactUri: `mlflow-artifacts:/${experiment.id}/${runId}/artifacts` },
            ]);
        });

        void test(
            major >= 3
                ? 'the logged-models search answers on a 3.x server'
                : 'the 3.x logged-models routes are an HTML 404 on a 2.x server',
            async (t) => {
                assert.ok(server);
                const client = new MlflowClient({ baseUrl: server.url, timeoutMs: 10_000 });
                const search = await toObservation(
                    client.searchLoggedModels({ experimentIds: ['0'] }),
                );
                const single = await toObservation(
                    client.request(
                        'GET',
                        '/api/2.0/mlflow/logged-models/m-0123456789abcdef0123456789abcdef',
                    ),
                );
                t.diagnostic(`logged-models/search: ${JSON.stringify(search)}`);
                t.diagnostic(`logged-models/<id>: ${JSON.stringify(single)}`);
                if (major >= 3) {
                    assert.equal(search.outcome, 'ok');
                    assert.equal(single.status, 404);
                    assert.match(single.contentType ?? '', /application\/json/);
                    assert.match(single.body ?? '', /RESOURCE_DOES_NOT_EXIST/);
                } else {
                    assert.equal(search.outcome, 'http-error');
                    assert.equal(search.status, 404);
                    assert.match(search.contentType ?? '', /text\/html/);
                    assert.equal(single.status, 404);
                    assert.match(single.body ?? '', /<title>404 Not Found<\/title>/);
                }
            },
        );

        void test('the client reads the run, its metric history and its artifacts', async () => {
            assert.ok(server);
            const client = new MlflowClient({ baseUrl: server.url, timeoutMs: 10_000 });
            const run = await client.getRun(runId);
            assert.equal(run.data.info.status, 'FINISHED');
            assert.equal(run.data.info.run_uuid, runId, 'servers still send run_uuid (facts §2.3)');
            const history = await client.getMetricHistory(runId, 'loss');
            assert.deepEqual(
                history.data.items.map((metric) => metric.step),
                [0, 1, 2],
            );
            const listing = await client.listArtifacts(runId);
            assert.deepEqual(
                listing.data.files.map((file) => [file.path, file.is_dir]),
                [['notes', true]],
            );
            const inner = await client.listArtifacts(runId, 'notes');
            assert.equal(inner.data.files[0]?.path, 'notes/hello.txt');
            assert.equal(inner.data.files[0]?.file_size, 5);
        });

        void test("a missing run is an http-error with MLflow's error code", async (t) => {
            assert.ok(server);
            const client = new MlflowClient({ baseUrl: server.url, timeoutMs: 10_000 });
            try {
                await client.getRun('0'.repeat(32));
                assert.fail('getRun of a missing run resolved');
            } catch (error) {
                assert.ok(error instanceof MlflowRequestError);
                t.diagnostic(`missing run: ${JSON.stringify(error.observation)}`);
                assert.equal(error.kind, 'http-error');
                assert.equal(error.status, 404);
                assert.equal(error.errorCode, 'RESOURCE_DOES_NOT_EXIST');
            }
        });

        void test(
            major >= 3
                ? 'a Docker service-name Host header is rejected with 403 while /health answers'
                : 'a Docker service-name Host header is accepted by a 2.x server',
            async (t) => {
                assert.ok(server);
                const probe = await probeServer(server.url, {
                    timeoutMs: 10_000,
                    hostHeader: 'mlflow:5000',
                });
                t.diagnostic(
                    `experiments with Host mlflow:5000: ${JSON.stringify(probe.experiments)}`,
                );
                assert.equal(probe.health?.status, 200);
                assert.equal(probe.serverVersion, version);
                if (major >= 3) {
                    assert.equal(probe.experiments?.status, 403);
                    assert.equal(
                        probe.experiments?.body,
                        'Invalid Host header - possible DNS rebinding attack detected',
                    );
                    assert.equal(probe.runs, undefined);
                } else {
                    assert.equal(probe.experiments?.outcome, 'ok');
                }
            },
        );
    });
}

// A FileStore written directly by an MLflow 3 client, then served by 2.x servers: the case the
// `run_uuid` knowledge in versions.ts describes (facts §4.6).
const WRITER = VERSIONS.find((version) => version.startsWith('3.'));
const READERS = VERSIONS.filter((version) => version.startsWith('2.'));

if (WRITER && READERS.length > 0 && [WRITER, ...READERS].every(venvReady)) {
    void describe(`a FileStore written by MLflow ${WRITER}, served by 2.x`, () => {
        let dir = '';

        before(async () => {
            dir = mkdtempSync(path.join(os.tmpdir(), 'sd-mlflow-shared-'));
            await python(WRITER, LOG_RUN, {
                MLFLOW_TRACKING_URI: `file://${path.join(dir, 'mlruns')}`,
                MLFLOW_ALLOW_FILE_STORE: 'true',
            });
        });

        after(() => {
            if (dir) rmSync(dir, { recursive: true, force: true });
        });

        for (const reader of READERS) {
            void test(
                serverRequiresRunUuid(reader)
                    ? `a ${reader} server answers runs/search with HTTP 500`
                    : `a ${reader} server reads the runs`,
                async (t) => {
                    let server: RunningServer | undefined;
                    try {
                        server = await startServer(
                            reader,
                            (d) => ({ uri: path.join(d, 'mlruns') }),
                            { dir },
                        );
                        const probe = await probeServer(server.url, { timeoutMs: 10_000 });
                        t.diagnostic(`runs/search on ${reader}: ${JSON.stringify(probe.runs)}`);
                        assert.equal(probe.serverVersion, reader);
                        assert.ok(
                            probe.experimentList?.some((e) => e.name === 'stack-doctor-probe'),
                        );
                        if (serverRequiresRunUuid(reader)) {
                            assert.equal(probe.runs?.status, 500);
                            assert.equal(probe.runs?.outcome, 'http-error');
                            assert.match(
                                server.log(),
                                /missing 1 required positional argument: 'run_uuid'/,
                            );
                        } else {
                            assert.equal(probe.runs?.outcome, 'ok');
                            assert.equal(probe.runArtifactUris?.length, 1);
                        }
                    } finally {
                        await stopServer(server);
                    }
                },
            );
        }
    });
}
