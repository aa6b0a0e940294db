// The command line as a user runs it: exit codes, the JSON format, and bad input that must end
// in a clear finding or message, never a crash or a hang. Uses the built dist/cli.js.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { REPO } from './stackLab.js';

const CLI = path.join(REPO, 'dist', 'cli.js');

interface Run {
    code: number | null;
    stdout: string;
    stderr: string;
    ms: number;
}

function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
    const started = Date.now();
    return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [CLI, ...args], {
            env: { ...process.env, ...env },
            stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
        child.on('error', reject);
        child.on('close', (code) => {
            clearTimeout(killer);
            resolve({ code, stdout, stderr, ms: Date.now() - started });
        });
    });
}

interface JsonReport {
    findings: {
        kind: string;
        severity: string;
        title: string;
        locations: { file: string; line: number; key?: string }[];
    }[];
}

void describe('stack-doctor on the command line', () => {
    let scratch: string;
    let hanging: net.Server;
    let hangingPort = 0;
    const sockets = new Set<net.Socket>();

    before(async () => {
        scratch = mkdtempSync(path.join(os.tmpdir(), 'stack-doctor-cli-'));
        // Accepts connections and never answers: the shape of a wedged server.
        hanging = net.createServer((socket) => {
            sockets.add(socket);
            socket.on('close', () => sockets.delete(socket));
        });
        await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
        const address = hanging.address();
        hangingPort = typeof address === 'object' && address ? address.port : 0;
    });
    after(async () => {
        for (const socket of sockets) socket.destroy();
        await new Promise((resolve) => hanging.close(resolve));
        rmSync(scratch, { recursive: true, force: true });
    });

    function workspace(name: string, files: Record<string, string>): string {
        const dir = path.join(scratch, name);
        for (const [file, text] of Object.entries(files)) {
            mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
            writeFileSync(path.join(dir, file), text);
        }
        return dir;
    }

    void test('exits 2 with a message for a folder that does not exist', async () => {
        const run = await cli(['diagnose', path.join(scratch, 'nope'), '--quiet']);
        assert.equal(run.code, 2);
        assert.match(run.stderr, /is not a folder/);
    });

    void test('exits 2 with usage for an unknown option', async () => {
        const run = await cli(['diagnose', '--frobnicate']);
        assert.equal(run.code, 2);
        assert.match(run.stderr, /unknown option --frobnicate/);
        assert.match(run.stderr, /Usage:/);
    });

    void test('reports a compose file that does not parse, at its line', async () => {
        const dir = workspace('bad-yaml', {
            'compose.yaml': 'services:\n  mlflow:\n    image: [oops\n',
        });
        const run = await cli(['diagnose', dir, '--json', '--offline', '--quiet']);
        assert.equal(run.code, 1, run.stderr);
        const report = JSON.parse(run.stdout) as JsonReport;
        const render = report.findings.find((f) => f.kind === 'compose-render');
        assert.ok(render, run.stdout);
        assert.equal(render.locations[0]?.file, 'compose.yaml');
    });

    void test('reports an empty and a non-YAML meta.yaml without crashing', async () => {
        const dir = workspace('bad-meta', {
            'mlruns/1/meta.yaml':
                'artifact_location: /x\nexperiment_id: "1"\nlifecycle_stage: active\nname: e\n',
            'mlruns/1/0123456789abcdef0123456789abcdef/meta.yaml': '',
            'mlruns/1/fedcba9876543210fedcba9876543210/meta.yaml': 'run_id: [unclosed\n  : :\n',
        });
        const run = await cli(['diagnose', dir, '--json', '--offline', '--quiet']);
        assert.equal(run.code, 1, run.stderr);
        const report = JSON.parse(run.stdout) as JsonReport;
        const files = report.findings
            .filter((f) => f.kind === 'filestore-corrupt')
            .flatMap((f) => f.locations.map((l) => l.file));
        assert.ok(
            files.some((f) => f.includes('0123456789abcdef')),
            files.join('\n'),
        );
        assert.ok(
            files.some((f) => f.includes('fedcba9876543210')),
            files.join('\n'),
        );
    });

    void test('says which Docker endpoint it tried when none answers', async () => {
        const dir = workspace('no-docker', {
            'compose.yaml': 'services:\n  mlflow:\n    image: ghcr.io/mlflow/mlflow:v2.22.0\n',
        });
        const socket = path.join(scratch, 'no-such-docker.sock');
        const run = await cli(
            ['diagnose', dir, '--json', '--quiet', '--docker-host', `unix://${socket}`],
            {
                DOCKER_HOST: `unix://${socket}`,
            },
        );
        assert.equal(run.code, 1, run.stderr);
        const report = JSON.parse(run.stdout) as JsonReport;
        const docker = report.findings.find((f) => f.kind === 'docker-unreachable');
        assert.ok(docker, run.stdout);
        assert.match(JSON.stringify(docker), /no-such-docker\.sock/);
    });

    void test('gives up on a server that accepts and never answers, within the timeout', async () => {
        const dir = workspace('hang', { 'train.py': 'import mlflow\n' });
        const run = await cli([
            'diagnose',
            dir,
            '--json',
            '--quiet',
            '--offline',
            '--tracking-uri',
            `http://127.0.0.1:${hangingPort}`,
        ]);
        // --offline keeps Docker out of it; the HTTP probe still must not run either.
        assert.equal(run.code, 0, run.stdout);

        const live = await cli(
            [
                'diagnose',
                dir,
                '--json',
                '--quiet',
                '--timeout',
                '1500',
                '--tracking-uri',
                `http://127.0.0.1:${hangingPort}`,
            ],
            { DOCKER_HOST: `unix://${path.join(scratch, 'none.sock')}` },
        );
        assert.ok(live.ms < 20_000, `took ${live.ms} ms`);
        const report = JSON.parse(live.stdout) as JsonReport;
        const timeout = report.findings.find((f) => f.kind === 'server-unreachable');
        assert.ok(timeout, live.stdout);
        assert.match(timeout.title, /no answer before the timeout/);
    });

    void test('exits 0 with an empty finding list on a folder with nothing wrong', async () => {
        const dir = workspace('empty', { 'README.md': 'nothing here\n' });
        const run = await cli(['diagnose', dir, '--json', '--offline', '--quiet']);
        assert.equal(run.code, 0, run.stdout);
        assert.deepEqual((JSON.parse(run.stdout) as JsonReport).findings, []);
    });

    void test('saves a snapshot without secrets and diagnoses it offline the same way', async () => {
        const dir = workspace('snap', {
            'compose.yaml': [
                'services:',
                '  mlflow:',
                '    image: ghcr.io/mlflow/mlflow:v2.22.0',
                '    command: mlflow server --port 5000 --backend-store-uri postgresql://mlflow:hunter2-change-me@db/mlflow',
                '    environment:',
                '      AWS_SECRET_ACCESS_KEY: minio-secret-change-me',
                '',
            ].join('\n'),
            '.env': 'MLFLOW_TRACKING_URI=http://admin:EnvFilePass-change-me@mlflow:5000\n',
            'train.py':
                'import mlflow\nmlflow.set_tracking_uri("http://user:PyFilePass-change-me@localhost:5000")\n' +
                'mlflow.start_run()\n',
        });
        const file = path.join(scratch, 'snap.json');
        const saved = await cli(['snapshot', dir, '--offline', '--quiet', '-o', file]);
        assert.equal(saved.code, 0, saved.stderr);
        const text = (await import('node:fs')).readFileSync(file, 'utf8');
        assert.ok(!text.includes('hunter2-change-me'), 'database password in the snapshot');
        assert.ok(!text.includes('minio-secret-change-me'), 'secret key in the snapshot');
        assert.ok(!text.includes('EnvFilePass-change-me'), 'a .env URL password in the snapshot');
        assert.ok(!text.includes('PyFilePass-change-me'), 'a script URL password in the snapshot');

        const fromSnapshot = await cli(['diagnose', '--snapshot', file, '--json', '--quiet']);
        const live = await cli(['diagnose', dir, '--json', '--offline', '--quiet']);
        const titles = (r: Run) =>
            (JSON.parse(r.stdout) as JsonReport).findings.map((f) => f.title).sort();
        assert.deepEqual(titles(fromSnapshot), titles(live));
        for (const secret of [
            'hunter2-change-me',
            'EnvFilePass-change-me',
            'PyFilePass-change-me',
        ]) {
            assert.ok(!live.stdout.includes(secret), `${secret} in the report`);
        }
        assert.ok(
            titles(live).some((t) => /127\.0\.0\.1/.test(t)),
            'the loopback binding is found',
        );
    });

    void test('refuses a snapshot file that is not one', async () => {
        const file = path.join(scratch, 'not-a-snapshot.json');
        writeFileSync(file, '{"hello": 1}');
        const run = await cli(['diagnose', '--snapshot', file, '--quiet']);
        assert.equal(run.code, 2);
        assert.match(run.stderr, /not a stack-doctor snapshot/);
    });
});
