// P5: what activating the extension costs. Builds the host and engine bundles as the .vsix ships
// them (minified), then, each in a fresh Node process so nothing is cached, times loading the
// host bundle plus activate() against a small vscode stand-in, beside two peers measured in the
// same run: activating with the engine loaded eagerly (what a single bundle would cost), and a
// bare require of dockerode + axios + yaml. Targets: activation <= 30 ms, host bundle <= 1.5 MB.
//
//   node bench/activation.mjs            (or: npm run bench -- p5)
//   node bench/activation.mjs --runs 20

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import * as esbuild from 'esbuild';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const runsArg = process.argv.indexOf('--runs');
const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 15;
const TARGET_MS = 30;
const TARGET_BYTES = 1.5 * 1024 * 1024;

// Runs in the child: a vscode stand-in with what activate() touches, installed through the
// module loader so `require('vscode')` in the bundle gets it.
const CHILD = String.raw`
const Module = require('node:module');
const path = require('node:path');
const [mode, dir, repo] = process.argv.slice(2);
const disposable = () => ({ dispose() {} });
const event = () => disposable();
class EventEmitter { constructor() { this.event = () => disposable(); } fire() {} dispose() {} }
const config = { get: (_key, fallback) => fallback };
const channel = { info() {}, debug() {}, warn() {}, error() {}, show() {}, dispose() {} };
const vscode = {
    EventEmitter,
    ThemeColor: class { constructor(id) { this.id = id; } },
    ThemeIcon: class { constructor(id) { this.id = id; } },
    StatusBarAlignment: { Left: 1, Right: 2 },
    DiagnosticSeverity: { Error: 0, Warning: 1, Information: 2, Hint: 3 },
    CodeActionKind: { QuickFix: { value: 'quickfix', append: (part) => ({ value: 'quickfix.' + part }) } },
    ProgressLocation: { Notification: 15 },
    ViewColumn: { Active: -1 },
    Uri: { joinPath: (base, ...parts) => ({ fsPath: path.join(base.fsPath, ...parts) }) },
    window: {
        createOutputChannel: () => channel,
        registerWebviewPanelSerializer: disposable,
        createTreeView: () => ({ visible: false, onDidChangeVisibility: event, dispose() {} }),
        createStatusBarItem: () => ({ show() {}, dispose() {} }),
    },
    languages: {
        createDiagnosticCollection: () => ({ clear() {}, set() {}, dispose() {} }),
        registerCodeActionsProvider: disposable,
    },
    env: { clipboard: { writeText: async () => undefined } },
    commands: { registerCommand: disposable },
    workspace: {
        isTrusted: true,
        workspaceFolders: [],
        notebookDocuments: [],
        textDocuments: [],
        getConfiguration: () => config,
        onDidSaveTextDocument: event,
        onDidGrantWorkspaceTrust: event,
        onDidChangeConfiguration: event,
        onDidOpenNotebookDocument: event,
        onDidCloseNotebookDocument: event,
        registerFileSystemProvider: disposable,
    },
};
const load = Module._load;
Module._load = function (request, ...rest) {
    return request === 'vscode' ? vscode : load.call(this, request, ...rest);
};
const secrets = { get: async () => undefined, store: async () => undefined, delete: async () => undefined, onDidChange: event };
const context = {
    subscriptions: [],
    extensionPath: dir,
    extensionUri: { fsPath: dir },
    secrets,
    logUri: { fsPath: path.join(dir, 'logs') },
};
const started = process.hrtime.bigint();
if (mode === 'deps') {
    const from = Module.createRequire(path.join(repo, 'package.json'));
    from('dockerode');
    from('axios');
    from('yaml');
} else {
    const extension = require(path.join(dir, 'dist', 'extension.js'));
    extension.activate(context);
    if (mode === 'eager') require(path.join(dir, 'dist', 'engine.js'));
}
const ms = Number(process.hrtime.bigint() - started) / 1e6;
process.stdout.write(JSON.stringify({ ms, subscriptions: context.subscriptions.length }));
process.exit(0);
`;

function median(values) {
    const sorted = [...values].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function p90(values) {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.ceil(0.9 * sorted.length) - 1)];
}

const work = mkdtempSync(path.join(os.tmpdir(), 'stack-doctor-p5-'));
try {
    await esbuild.build({
        entryPoints: {
            extension: path.join(repo, 'src/extension/main.ts'),
            engine: path.join(repo, 'src/extension/engineEntry.ts'),
        },
        outdir: path.join(work, 'dist'),
        bundle: true,
        minify: true,
        platform: 'node',
        format: 'cjs',
        target: 'node20',
        external: ['vscode', 'cpu-features', '*.node'],
        logLevel: 'warning',
    });
    const child = path.join(work, 'child.cjs');
    writeFileSync(child, CHILD);
    mkdirSync(path.join(work, 'node_modules'), { recursive: true });

    const series = { host: [], eager: [], deps: [] };
    let subscriptions = 0;
    // Interleaved, so a busy moment of the machine hits every series alike.
    for (let i = 0; i < runs; i++) {
        for (const mode of Object.keys(series)) {
            const result = spawnSync(process.execPath, [child, mode, work, repo], {
                encoding: 'utf8',
                timeout: 30_000,
            });
            if (result.status !== 0) {
                throw new Error(`${mode} run failed: ${result.stderr || result.error?.message}`);
            }
            const parsed = JSON.parse(result.stdout);
            series[mode].push(parsed.ms);
            if (mode === 'host') subscriptions = parsed.subscriptions;
        }
    }

    const size = (name) => statSync(path.join(work, 'dist', name)).size;
    const hostBytes = size('extension.js');
    const engineBytes = size('engine.js');
    const host = median(series.host);
    const rows = [
        ['activate (host bundle, engine lazy)', series.host],
        ['peer: activate + engine loaded eagerly', series.eager],
        ['peer: require dockerode + axios + yaml', series.deps],
    ];
    console.log(`\nP5 activation (${runs} fresh processes each, Node ${process.versions.node})`);
    console.log('series                                     median ms   p90 ms   × host');
    for (const [name, values] of rows) {
        const ratio = median(values) / host;
        console.log(
            `${name.padEnd(42)} ${median(values).toFixed(1).padStart(9)} ${p90(values).toFixed(1).padStart(8)} ${ratio.toFixed(1).padStart(7)}`,
        );
    }
    console.log(
        `\nhost bundle dist/extension.js ${(hostBytes / 1024).toFixed(1)} KiB (target ≤ ${TARGET_BYTES / 1024 / 1024} MiB), engine bundle dist/engine.js ${(engineBytes / 1024).toFixed(1)} KiB, loaded on the first diagnosis`,
    );
    console.log(
        `activation ${host.toFixed(1)} ms (target ≤ ${TARGET_MS} ms): ${host <= TARGET_MS ? 'met' : 'MISSED'}; bundle: ${hostBytes <= TARGET_BYTES ? 'met' : 'MISSED'}; ${subscriptions} disposables registered`,
    );

    const results = path.join(repo, 'bench', 'results');
    mkdirSync(results, { recursive: true });
    writeFileSync(
        path.join(results, 'activation.json'),
        `${JSON.stringify(
            {
                name: 'activation',
                at: new Date().toISOString(),
                runs,
                medianMs: Object.fromEntries(
                    Object.entries(series).map(([k, v]) => [k, median(v)]),
                ),
                p90Ms: Object.fromEntries(Object.entries(series).map(([k, v]) => [k, p90(v)])),
                hostBytes,
                engineBytes,
                targets: { activationMs: TARGET_MS, hostBytes: TARGET_BYTES },
            },
            null,
            2,
        )}\n`,
    );
    if (host > TARGET_MS || hostBytes > TARGET_BYTES) process.exitCode = 1;
} finally {
    rmSync(work, { recursive: true, force: true });
}
