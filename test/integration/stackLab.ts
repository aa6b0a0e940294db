// Brings the example stacks up for real in a scratch folder, under a unique compose project name
// and a free host port, and takes them down again. Shared by the integration tests.

import { execFile, spawnSync } from 'node:child_process';
import {
    cpSync,
    existsSync,
    mkdtempSync,
    readFileSync,
    rmSync,
    symlinkSync,
    writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { CACHE, freeLoopbackPort, venvOf } from '../support/mlflowServer.js';
import { REPO } from '../support/paths.js';

const run = promisify(execFile);

export { CACHE, REPO };

/** What the real-component tests need, or why it is missing. */
export function missingComponents(images: string[], venvs: string[]): string[] {
    const missing: string[] = [];
    if (spawnSync('docker', ['version'], { stdio: 'ignore' }).status !== 0)
        missing.push('a running dockerd');
    if (spawnSync('docker', ['compose', 'version'], { stdio: 'ignore' }).status !== 0) {
        missing.push('the Compose plugin (docker compose)');
    }
    for (const image of images) {
        if (spawnSync('docker', ['image', 'inspect', image], { stdio: 'ignore' }).status !== 0) {
            missing.push(`image ${image}`);
        }
    }
    for (const v of venvs)
        if (!existsSync(path.join(venvOf(v), 'bin', 'python'))) missing.push(`venv mlflow-${v}`);
    return missing;
}

export class StackLab {
    readonly dir: string;
    readonly project: string;

    private constructor(
        private readonly scratch: string,
        example: string,
        readonly port: number,
    ) {
        this.dir = path.join(scratch, example);
        this.project = `sdit-${example.replace(/-stack$/, '')}-${process.pid}`;
    }

    /** Copies an example into a scratch folder, moved to `port`, with a `.venv` of `venv`. */
    static async create(example: string, venv: string): Promise<StackLab> {
        const scratch = mkdtempSync(path.join(os.tmpdir(), 'stack-doctor-it-'));
        const lab = new StackLab(scratch, example, await freeLoopbackPort());
        cpSync(path.join(REPO, 'examples', example), lab.dir, { recursive: true });
        symlinkSync(venvOf(venv), path.join(lab.dir, '.venv'));
        // The notebook on the host talks to the published port; follow the move.
        const notebook = path.join(lab.dir, 'notebooks', 'train.ipynb');
        writeFileSync(
            notebook,
            readFileSync(notebook, 'utf8').replaceAll('localhost:5000', `localhost:${lab.port}`),
        );
        return lab;
    }

    env(): NodeJS.ProcessEnv {
        return {
            ...process.env,
            MLFLOW_PORT: String(this.port),
            COMPOSE_PROJECT_NAME: this.project,
        };
    }

    async compose(...args: string[]): Promise<string> {
        const { stdout } = await run(
            'docker',
            ['compose', '--project-directory', this.dir, '-p', this.project, ...args],
            { env: this.env(), timeout: 180_000, maxBuffer: 16 * 1024 * 1024 },
        );
        return stdout;
    }

    async containerState(service: string): Promise<string> {
        const { stdout } = await run('docker', [
            'inspect',
            '-f',
            '{{.State.Status}}',
            `${this.project}-${service}-1`,
        ]).catch(() => ({ stdout: 'missing' }));
        return stdout.trim();
    }

    async waitFor(what: string, test: () => Promise<boolean>, timeoutMs = 90_000): Promise<void> {
        const until = Date.now() + timeoutMs;
        while (Date.now() < until) {
            if (await test().catch(() => false)) return;
            await new Promise((r) => setTimeout(r, 500));
        }
        throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }

    async serverHealthy(): Promise<boolean> {
        const response = await fetch(`http://127.0.0.1:${this.port}/health`, {
            signal: AbortSignal.timeout(2000),
        });
        return response.ok;
    }

    /** Runs the host notebook's cells with the workspace's `.venv`, as "Run all" would. */
    async runNotebook(): Promise<string> {
        const { stdout } = await run(
            path.join(this.dir, '.venv', 'bin', 'python'),
            [
                path.join(REPO, 'scripts', 'run-notebook.py'),
                path.join(this.dir, 'notebooks', 'train.ipynb'),
            ],
            { timeout: 120_000, env: { ...process.env, MLFLOW_ALLOW_FILE_STORE: 'true' } },
        );
        return stdout.trim();
    }

    async exec(service: string, ...argv: string[]): Promise<string> {
        const { stdout } = await run('docker', ['exec', `${this.project}-${service}-1`, ...argv], {
            timeout: 60_000,
        });
        return stdout;
    }

    async destroy(): Promise<void> {
        await this.compose('down', '--volumes', '--remove-orphans', '--timeout', '2').catch(
            () => '',
        );
        rmSync(this.scratch, { recursive: true, force: true });
    }
}
