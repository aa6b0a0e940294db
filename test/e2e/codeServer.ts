// The real VS Code of this machine: code-server (installed by scripts/test-env/code-server.sh)
// on loopback, with its own extensions and user-data folders, driven by Debian's chromium.
// Every process started here is stopped again in `stop()`, whatever state the test left.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
    cpSync,
    existsSync,
    mkdirSync,
    mkdtempSync,
    readdirSync,
    readFileSync,
    rmSync,
    symlinkSync,
    writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { Browser, Page } from 'playwright-core';
import { CACHE, freeLoopbackPort } from '../support/mlflowServer.js';
import { REPO } from '../support/paths.js';

// Loaded from node_modules at run time: scripts/run-tests.mjs bundles each test file, and
// playwright-core does not survive bundling (it reads its own package.json by relative path).
const { chromium } = createRequire(path.join(REPO, 'package.json'))(
    'playwright-core',
) as typeof import('playwright-core');

export const CODE_SERVER = path.join(CACHE, 'code-server', 'node_modules', '.bin', 'code-server');
export const CHROMIUM = '/usr/bin/chromium';
export const ARTIFACTS = path.join(REPO, '.test-artifacts', 'e2e');

/** What the e2e tests need, or why it is missing. */
export function missingWorkbench(): string[] {
    const missing: string[] = [];
    if (!existsSync(CODE_SERVER)) missing.push('code-server (scripts/test-env/code-server.sh)');
    if (!existsSync(CHROMIUM)) missing.push('chromium (scripts/test-env/chromium.sh)');
    return missing;
}

export interface ExtensionFolder {
    /** `<publisher>.<name>-<version>`, the folder name code-server loads unpacked. */
    id: string;
    /** A folder with the extension's package.json and whatever it loads. */
    source: string;
    /** Only these entries of `source` are linked in (all when absent). */
    entries?: string[];
}

export interface CodeServerOptions {
    extensions: ExtensionFolder[];
    /** `security.workspace.trust.enabled`; off unless a test is about restricted mode. */
    workspaceTrust?: boolean;
    /** More user settings. */
    settings?: Record<string, unknown>;
    /** Environment of the server and so of the extension host (DOCKER_HOST, MLFLOW_PORT, ...). */
    env?: NodeJS.ProcessEnv;
}

/** The product as a user installs it: its manifest, bundles and media, nothing else. */
export function productExtension(): ExtensionFolder {
    const manifest = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as {
        publisher: string;
        name: string;
        version: string;
    };
    return {
        id: `${manifest.publisher}.${manifest.name}-${manifest.version}`,
        source: REPO,
        entries: ['package.json', 'dist', 'media', 'README.md', 'LICENSE', 'node_modules'],
    };
}

function processTree(): { pid: number; ppid: number; pgid: number; args: string }[] {
    const out = spawnSync('ps', ['-eo', 'pid=,ppid=,pgid=,args='], { encoding: 'utf8' }).stdout;
    return out
        .split('\n')
        .map((line) => line.trim().match(/^(\d+)\s+(\d+)\s+(\d+)\s+(.*)$/))
        .filter((m): m is RegExpMatchArray => m !== null)
        .map((m) => ({
            pid: Number(m[1]),
            ppid: Number(m[2]),
            pgid: Number(m[3]),
            args: m[4] ?? '',
        }));
}

/** Processes that still carry `marker` on their command line or are in process group `pgid`. */
export function leftoverProcesses(marker: string, pgid?: number): string[] {
    return processTree()
        .filter((p) => p.pid !== process.pid && !p.args.startsWith('ps -eo'))
        .filter((p) => p.args.includes(marker) || (pgid !== undefined && p.pgid === pgid))
        .map((p) => `${p.pid} ${p.args.slice(0, 160)}`);
}

export class CodeServer {
    private browser?: Browser;
    private log = '';

    private constructor(
        readonly root: string,
        readonly port: number,
        private readonly server: ChildProcess,
    ) {}

    get url(): string {
        return `http://127.0.0.1:${this.port}`;
    }

    get output(): string {
        return this.log;
    }

    static async start(options: CodeServerOptions): Promise<CodeServer> {
        const root = mkdtempSync(path.join(os.tmpdir(), 'stack-doctor-e2e-'));
        const extensionsDir = path.join(root, 'extensions');
        const userDataDir = path.join(root, 'user-data');
        mkdirSync(path.join(userDataDir, 'User'), { recursive: true });
        mkdirSync(extensionsDir, { recursive: true });
        for (const extension of options.extensions) installUnpacked(extensionsDir, extension);
        writeFileSync(
            path.join(userDataDir, 'User', 'settings.json'),
            JSON.stringify(
                {
                    'security.workspace.trust.enabled': options.workspaceTrust ?? false,
                    'workbench.startupEditor': 'none',
                    'workbench.tips.enabled': false,
                    'workbench.enableExperiments': false,
                    'extensions.autoCheckUpdates': false,
                    'extensions.autoUpdate': false,
                    'telemetry.telemetryLevel': 'off',
                    'update.mode': 'none',
                    'chat.disableAIFeatures': true,
                    ...options.settings,
                },
                null,
                4,
            ),
        );

        const port = await freeLoopbackPort();
        const server = spawn(
            CODE_SERVER,
            [
                '--auth',
                'none',
                '--bind-addr',
                `127.0.0.1:${port}`,
                '--disable-telemetry',
                '--disable-update-check',
                '--extensions-dir',
                extensionsDir,
                '--user-data-dir',
                userDataDir,
                '--config',
                path.join(root, 'config.yaml'),
            ],
            {
                // Its own process group, so that stop() reaches the extension host and the
                // watchers it forks as well.
                detached: true,
                stdio: ['ignore', 'pipe', 'pipe'],
                env: { ...process.env, XDG_CONFIG_HOME: path.join(root, 'config'), ...options.env },
            },
        );
        const codeServer = new CodeServer(root, port, server);
        const keep = (chunk: Buffer) => {
            codeServer.log = (codeServer.log + chunk.toString()).slice(-200_000);
        };
        server.stdout?.on('data', keep);
        server.stderr?.on('data', keep);

        const until = Date.now() + 30_000;
        for (;;) {
            if (server.exitCode !== null) {
                await codeServer.stop();
                throw new Error(`code-server exited (${server.exitCode}):\n${codeServer.log}`);
            }
            const ok = await fetch(`${codeServer.url}/healthz`, {
                signal: AbortSignal.timeout(1000),
            })
                .then((r) => r.ok)
                .catch(() => false);
            if (ok) return codeServer;
            if (Date.now() > until) {
                await codeServer.stop();
                throw new Error(`code-server did not answer /healthz in 30 s:\n${codeServer.log}`);
            }
            await new Promise((r) => setTimeout(r, 200));
        }
    }

    /** What the extensions wrote to their log output channels (named `*<name>*.log`). */
    extensionLog(name: string): string {
        const logs = path.join(this.root, 'user-data', 'logs');
        if (!existsSync(logs)) return '';
        return readdirSync(logs, { recursive: true, encoding: 'utf8' })
            .filter((file) => file.endsWith('.log') && file.includes(name))
            .map((file) => `--- ${file}\n${readFileSync(path.join(logs, file), 'utf8')}`)
            .join('\n');
    }

    /** Opens the workbench on `folder` in a fresh chromium page. */
    async open(folder: string): Promise<Page> {
        this.browser ??= await chromium.launch({
            executablePath: CHROMIUM,
            args: [
                '--no-sandbox',
                '--disable-gpu',
                '--disable-background-networking',
                '--disable-component-update',
                '--disable-sync',
                '--no-first-run',
            ],
            timeout: 30_000,
        });
        const context = await this.browser.newContext({ viewport: { width: 1400, height: 900 } });
        const page = await context.newPage();
        await page.goto(`${this.url}/?folder=${encodeURIComponent(folder)}`, { timeout: 30_000 });
        return page;
    }

    /** Stops chromium and every process of the server's group; removes the scratch folders. */
    async stop(): Promise<void> {
        await this.browser?.close().catch(() => undefined);
        this.browser = undefined;
        const pgid = this.server.pid;
        if (pgid !== undefined) {
            signalGroup(pgid, 'SIGTERM');
            const until = Date.now() + 5000;
            while (Date.now() < until && leftoverProcesses(this.root, pgid).length > 0) {
                await new Promise((r) => setTimeout(r, 100));
            }
            signalGroup(pgid, 'SIGKILL');
            for (const line of leftoverProcesses(this.root, pgid)) {
                const pid = Number(line.split(' ')[0]);
                try {
                    process.kill(pid, 'SIGKILL');
                } catch {
                    // Gone in the meantime.
                }
            }
        }
        rmSync(this.root, { recursive: true, force: true });
    }
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
    try {
        process.kill(-pgid, signal);
    } catch {
        // The group is gone already.
    }
}

function installUnpacked(extensionsDir: string, extension: ExtensionFolder): void {
    const target = path.join(extensionsDir, extension.id);
    mkdirSync(target, { recursive: true });
    const entries = extension.entries ?? ['package.json', 'dist'];
    for (const entry of entries) {
        const from = path.join(extension.source, entry);
        if (!existsSync(from)) continue;
        // package.json is copied so that code-server's scan sees a regular file; folders are
        // linked, so a rebuild of dist/ needs no reinstall.
        if (entry === 'package.json') cpSync(from, path.join(target, entry));
        else symlinkSync(from, path.join(target, entry));
    }
}
