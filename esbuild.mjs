// One build for every bundle: the CLI and the extension host (Node, CJS), the webview (browser),
// and the tests (Node, one bundle per test file so node:test can run them directly).
import * as esbuild from 'esbuild';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

const args = new Set(process.argv.slice(2));
const watch = args.has('--watch');
const production = args.has('--production');

// Native or optional add-ons that dockerode's transports pull in but a local socket never uses.
const nodeExternals = ['ssh2', 'cpu-features', 'vscode'];

function testEntries(dir) {
    if (!existsSync(dir)) return [];
    return readdirSync(dir).flatMap((name) => {
        const full = path.join(dir, name);
        if (statSync(full).isDirectory()) return testEntries(full);
        return name.endsWith('.test.ts') ? [full] : [];
    });
}

const common = {
    bundle: true,
    sourcemap: production ? false : 'linked',
    minify: production,
    logLevel: 'warning',
    target: 'node20',
    platform: 'node',
    format: 'cjs',
};

const builds = [
    {
        ...common,
        entryPoints: { cli: 'src/cli/main.ts' },
        outdir: 'dist',
        banner: { js: '#!/usr/bin/env node' },
        external: nodeExternals,
    },
];

if (existsSync('src/extension/main.ts')) {
    // Two bundles: the small host bundle that activation loads, and the engine (dockerode, axios,
    // yaml) that the host requires by path on the first diagnosis. CJS has no code splitting, so
    // the split is by entry point; the host bundle must not import the engine's modules.
    builds.push({
        ...common,
        entryPoints: { extension: 'src/extension/main.ts', engine: 'src/extension/engineEntry.ts' },
        outdir: 'dist',
        // The .vsix ships no node_modules, so ssh2 (required by dockerode at load) is bundled;
        // its optional native parts stay out and it falls back to plain JavaScript.
        external: ['vscode', 'cpu-features', '*.node'],
        metafile: true,
    });
}

if (args.has('--extension-tests')) {
    // The extension-host suite as one module exporting run(): @vscode/test-electron loads it as
    // extensionTestsPath, and a harness extension in code-server can require it too.
    builds.push({
        ...common,
        entryPoints: { suite: 'test/extension/suite/index.ts' },
        outdir: 'dist-ext-test',
        external: ['vscode', 'cpu-features', '*.node'],
        // Mocha's parallel mode resolves worker files by path; the suite runs serially.
        logOverride: { 'require-resolve-not-external': 'silent' },
    });
    builds.push({
        ...common,
        entryPoints: { runTest: 'test/extension/runTest.ts' },
        outdir: 'dist-ext-test',
        external: [...nodeExternals, '@vscode/test-electron'],
    });
}

if (existsSync('webview/main.ts')) {
    builds.push({
        ...common,
        entryPoints: { webview: 'webview/main.ts' },
        outdir: 'dist',
        platform: 'browser',
        format: 'iife',
        target: 'es2022',
    });
}

if (args.has('--tests')) {
    builds.push({
        ...common,
        entryPoints: testEntries('test').map((file) => ({
            in: file,
            out: file.replace(/^test\//, '').replace(/\.ts$/, ''),
        })),
        outdir: 'dist-test',
        external: [...nodeExternals, 'fast-check'],
    });
}

if (watch) {
    for (const options of builds) {
        const ctx = await esbuild.context(options);
        await ctx.watch();
    }
} else {
    const results = await Promise.all(builds.map((options) => esbuild.build(options)));
    // The host bundle must stay free of the engine's heavy modules, or activation pays for them.
    for (const result of results) {
        const inputs = Object.keys(result.metafile?.outputs['dist/extension.js']?.inputs ?? {});
        const heavy = inputs.filter((file) =>
            /node_modules\/(dockerode|axios|yaml|js-yaml)\//.test(file),
        );
        if (heavy.length > 0) {
            console.error(
                `dist/extension.js bundles engine modules: ${heavy.slice(0, 3).join(', ')}`,
            );
            process.exit(1);
        }
    }
}
