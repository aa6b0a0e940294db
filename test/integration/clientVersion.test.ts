// Against real MLflow clients: the venvs scripts/test-env/venvs.sh builds under
// ~/.cache/stack-doctor/venvs/mlflow-<version>. The interpreter probe must report each venv's
// version, and FileStore trees written by real 2.x and 3.x clients must read as such; the 2.x
// readers themselves confirm which of them fail on a run without run_uuid.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { fileStoreCheck } from '../../src/core/checks/fileStore.js';
import { readFileStore, requiredRunKeys } from '../../src/core/filestore/index.js';
import type { StackSnapshot } from '../../src/core/model.js';
import { probeInterpreterMlflow, scanWorkspace } from '../../src/core/workspace/index.js';

const VENVS = path.join(os.homedir(), '.cache', 'stack-doctor', 'venvs');
const REQUIRE_REAL = process.env.STACK_DOCTOR_REQUIRE_REAL === '1';

function installedVenvs(): Map<string, string> {
    const found = new Map<string, string>();
    if (!existsSync(VENVS)) return found;
    for (const name of readdirSync(VENVS)) {
        const match = /^mlflow-(\d+\.\d+\.\d+)$/.exec(name);
        const python = path.join(VENVS, name, 'bin', 'python');
        if (match && existsSync(python) && existsSync(path.join(VENVS, name, '.complete'))) {
            found.set(match[1] as string, python);
        }
    }
    return found;
}

const venvs = installedVenvs();
const versions = [...venvs.keys()];
const writer3 = versions.find((v) => v.startsWith('3.'));
const tolerant2 = versions.find((v) => v.startsWith('2.') && requiredRunKeys(v).length === 4);
const strict2 = versions.find((v) => v.startsWith('2.') && requiredRunKeys(v).includes('run_uuid'));
const missing = !writer3 || !tolerant2;
const skip =
    missing && !REQUIRE_REAL
        ? `MLflow venvs not found in ${VENVS} (run scripts/test-env/venvs.sh)`
        : false;

function python(
    interpreter: string,
    script: string,
    env: Record<string, string> = {},
): Promise<string> {
    return new Promise((resolve, reject) => {
        execFile(
            interpreter,
            ['-c', script],
            { timeout: 180_000, env: { ...process.env, ...env }, maxBuffer: 4 * 1024 * 1024 },
            (error, stdout, stderr) =>
                error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout),
        );
    });
}

function logOneRun(interpreter: string, root: string): Promise<string> {
    return python(
        interpreter,
        [
            'import mlflow',
            `mlflow.set_tracking_uri("file:${root}")`,
            'mlflow.set_experiment("written-by-client")',
            'with mlflow.start_run() as run:',
            '    mlflow.log_param("p", 1)',
            '    mlflow.log_metric("m", 0.5)',
            'print(run.info.experiment_id)',
        ].join('\n'),
        { MLFLOW_ALLOW_FILE_STORE: 'true' },
    ).then((out) => out.trim().split('\n').at(-1) ?? '');
}

function snapshotWith(
    folder: string,
    store: Awaited<ReturnType<typeof readFileStore>>,
    version: string,
): StackSnapshot {
    return {
        schema: 1,
        folder,
        takenAt: new Date().toISOString(),
        composeProblems: [],
        serverConfigs: [
            {
                service: 'ui',
                port: 5000,
                keys: {},
                declaredVersion: { version, file: 'compose.yaml' },
            },
        ],
        servers: [],
        workspace: { trackingUris: [], calls: [], clientVersions: [], unreadable: [] },
        fileStores: [store],
        syncProbes: [],
        host: { os: 'linux' },
        probes: [],
    };
}

void describe('real MLflow clients', { skip }, () => {
    void test('the venvs are there', () => {
        assert.ok(
            !missing,
            `need a 3.x and a 2.22.1+ venv in ${VENVS}; found ${versions.join(', ') || 'none'}: run scripts/test-env/venvs.sh`,
        );
    });

    void test('the interpreter probe reports each venv its own MLflow version', async () => {
        for (const [version, interpreter] of venvs) {
            const answer = await probeInterpreterMlflow(interpreter, 20_000);
            assert.deepEqual(answer, { kind: 'version', interpreter, package: 'mlflow', version });
        }
    });

    void test('scanWorkspace asks the workspace .venv first', async () => {
        const [version, interpreter] = [...venvs][0] as [string, string];
        const venvRoot = path.dirname(path.dirname(interpreter));
        const dir = mkdtempSync(path.join(os.tmpdir(), 'sd-clientver-'));
        try {
            const { symlinkSync } = await import('node:fs');
            symlinkSync(venvRoot, path.join(dir, '.venv'));
            const facts = await scanWorkspace(dir, { timeoutMs: 20_000 });
            assert.equal(facts.clientVersions[0]?.source, 'interpreter');
            assert.equal(facts.clientVersions[0]?.version, version);
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });

    void test('a tree written by MLflow 3 lacks run_uuid; one written by 2.x has it', async () => {
        const dir = mkdtempSync(path.join(os.tmpdir(), 'sd-realstore-'));
        try {
            const root3 = path.join(dir, 'v3', 'mlruns');
            const root2 = path.join(dir, 'v2', 'mlruns');
            await logOneRun(venvs.get(writer3 as string) as string, root3);
            await logOneRun(venvs.get(tolerant2 as string) as string, root2);

            const store3 = await readFileStore(root3, dir);
            assert.equal(store3.runs, 1);
            assert.equal(store3.runsWithoutRunUuid, 1);
            assert.deepEqual(
                store3.anomalies.map((a) => [a.problem, a.key]),
                [['missing-key', 'run_uuid']],
            );
            const store2 = await readFileStore(root2, dir);
            assert.equal(store2.runs, 1);
            assert.equal(store2.runsWithoutRunUuid, 0);
            assert.deepEqual(store2.anomalies, []);
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });

    void test('2.x readers fail on the 3.x run exactly when the check says they do', async () => {
        const dir = mkdtempSync(path.join(os.tmpdir(), 'sd-readers-'));
        try {
            const root = path.join(dir, 'mlruns');
            const experiment = await logOneRun(venvs.get(writer3 as string) as string, root);
            const store = await readFileStore(root, dir);
            const readers = [tolerant2, strict2].filter((v): v is string => v !== undefined);
            for (const version of readers) {
                const out = await python(
                    venvs.get(version) as string,
                    [
                        'from mlflow.store.tracking.file_store import FileStore',
                        'from mlflow.entities import ViewType',
                        `store = FileStore("${root}")`,
                        'try:',
                        `    print("ok", len(store.search_runs(["${experiment}"], "", ViewType.ALL)))`,
                        'except Exception as e:',
                        '    print("fail", type(e).__name__, e)',
                    ].join('\n'),
                );
                const verdict = out.trim().split('\n').at(-1) ?? '';
                const findings = fileStoreCheck.run(snapshotWith(dir, store, version));
                const predictsFailure = findings.some((f) => f.severity === 'error');
                assert.equal(
                    verdict.startsWith('fail'),
                    predictsFailure,
                    `MLflow ${version} FileStore said "${verdict}", the check predicted ${predictsFailure ? 'failure' : 'success'}`,
                );
                if (verdict.startsWith('fail')) assert.match(verdict, /run_uuid/);
            }
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });
});
