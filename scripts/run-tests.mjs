// Bundles the named test files (or every test under the named folders) and runs them with
// node:test. Used by the test command and by developers running one file at a time.
import * as esbuild from 'esbuild';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';

const args = process.argv.slice(2);
const passThrough = [];
const targets = [];
for (const arg of args) (arg.startsWith('--') ? passThrough : targets).push(arg);

function collect(target) {
    if (!existsSync(target)) throw new Error(`no such test file or folder: ${target}`);
    if (!statSync(target).isDirectory()) return [target];
    return readdirSync(target)
        .sort()
        .flatMap((name) => collect(path.join(target, name)))
        .filter((file) => file.endsWith('.test.ts'));
}

const files = targets.flatMap(collect);
if (files.length === 0) {
    console.error('run-tests: no test files given');
    process.exit(2);
}

// One output folder per run, at the same depth as the sources, so that runs side by side do not
// delete each other's bundles and tests can find fixtures relative to their own file.
const outdir = `.dist-test-${process.pid}`;
rmSync(outdir, { recursive: true, force: true });
mkdirSync(outdir, { recursive: true });
const cleanUp = () => rmSync(outdir, { recursive: true, force: true });
try {
    await esbuild.build({
        entryPoints: files.map((file) => ({ in: file, out: file.replace(/\.ts$/, '') })),
        outdir,
        bundle: true,
        platform: 'node',
        target: 'node20',
        format: 'cjs',
        sourcemap: 'inline',
        logLevel: 'warning',
        external: ['ssh2', 'cpu-features', 'vscode', 'fast-check'],
    });
} catch (error) {
    cleanUp();
    throw error;
}

const built = files.map((file) => path.join(outdir, file.replace(/\.ts$/, '.js')));
const result = spawnSync(
    process.execPath,
    ['--enable-source-maps', '--test', '--test-reporter=spec', ...passThrough, ...built],
    { stdio: 'inherit', env: { ...process.env, STACK_DOCTOR_REPO: process.cwd() } },
);
cleanUp();
process.exit(result.status ?? 1);
