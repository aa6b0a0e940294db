import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { mlflowInVenv, probeInterpreterMlflow } from '../../src/core/workspace/interpreter.js';

/** A venv on disk: pyvenv.cfg, a python that prints `printed`, and the given dist-infos. */
function fakeVenv(options: {
    systemSitePackages?: boolean;
    dists?: Record<string, string>;
    printed?: string;
}): { dir: string; python: string } {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'stack-doctor-venv-'));
    const venv = path.join(dir, '.venv');
    mkdirSync(path.join(venv, 'bin'), { recursive: true });
    writeFileSync(
        path.join(venv, 'pyvenv.cfg'),
        `home = /usr/bin\ninclude-system-site-packages = ${options.systemSitePackages ? 'true' : 'false'}\nversion = 3.11.7\n`,
    );
    const python = path.join(venv, 'bin', 'python');
    writeFileSync(python, `#!/bin/sh\necho "${options.printed ?? 'none'}"\n`);
    chmodSync(python, 0o755);
    const site = path.join(venv, 'lib', 'python3.11', 'site-packages');
    mkdirSync(site, { recursive: true });
    for (const [name, metadata] of Object.entries(options.dists ?? {})) {
        mkdirSync(path.join(site, name), { recursive: true });
        writeFileSync(path.join(site, name, 'METADATA'), metadata);
    }
    return { dir, python };
}

const metadata = (name: string, version: string) =>
    `Metadata-Version: 2.1\nName: ${name}\nVersion: ${version}\nSummary: x\n\nVersion: 0.0.0 in the body\n`;

void describe('the MLflow version read from a venv without running Python', () => {
    void test('reads the mlflow dist-info of a plain venv, and the probe does not run Python', async () => {
        const { dir, python } = fakeVenv({
            dists: {
                'mlflow-3.17.2.dist-info': metadata('mlflow', '3.17.2'),
                'mlflow_skinny-3.17.2.dist-info': metadata('mlflow-skinny', '3.17.2'),
            },
            printed: 'mlflow 1.0.0',
        });
        try {
            assert.deepEqual(mlflowInVenv(python, {}), { package: 'mlflow', version: '3.17.2' });
            assert.deepEqual(await probeInterpreterMlflow(python, 5000), {
                kind: 'version',
                interpreter: python,
                package: 'mlflow',
                version: '3.17.2',
            });
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });

    void test('leaves the answer to Python when the files do not settle it', async () => {
        const cases: [string, Parameters<typeof fakeVenv>[0], Record<string, string>][] = [
            [
                'system site-packages included',
                {
                    systemSitePackages: true,
                    dists: { 'mlflow-3.1.0.dist-info': metadata('mlflow', '3.1.0') },
                },
                {},
            ],
            [
                'PYTHONPATH set',
                { dists: { 'mlflow-3.1.0.dist-info': metadata('mlflow', '3.1.0') } },
                { PYTHONPATH: '/elsewhere' },
            ],
            [
                'two mlflow dist-infos',
                {
                    dists: {
                        'mlflow-3.1.0.dist-info': metadata('mlflow', '3.1.0'),
                        'mlflow-2.22.0.dist-info': metadata('mlflow', '2.22.0'),
                    },
                },
                {},
            ],
            [
                'only mlflow-skinny',
                {
                    dists: {
                        'mlflow_skinny-3.1.0.dist-info': metadata('mlflow-skinny', '3.1.0'),
                    },
                },
                {},
            ],
            ['no mlflow at all', { dists: {} }, {}],
        ];
        for (const [why, venv, env] of cases) {
            const { dir, python } = fakeVenv(venv);
            try {
                assert.equal(mlflowInVenv(python, env), undefined, why);
            } finally {
                rmSync(dir, { recursive: true, force: true });
            }
        }
        // The fallback runs the interpreter and takes its word.
        const { dir, python } = fakeVenv({
            dists: { 'mlflow_skinny-3.1.0.dist-info': metadata('mlflow-skinny', '3.1.0') },
            printed: 'mlflow-skinny 3.1.0',
        });
        try {
            assert.deepEqual(await probeInterpreterMlflow(python, 5000), {
                kind: 'version',
                interpreter: python,
                package: 'mlflow-skinny',
                version: '3.1.0',
            });
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });

    void test('gives no answer for an interpreter outside any venv', () => {
        assert.equal(mlflowInVenv('/usr/bin/python3', {}), undefined);
        assert.equal(mlflowInVenv('python3', {}), undefined);
    });
});
