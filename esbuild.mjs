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
    builds.push({
        ...common,
        entryPoints: { extension: 'src/extension/main.ts' },
        outdir: 'dist',
        external: nodeExternals,
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
    await Promise.all(builds.map((options) => esbuild.build(options)));
}
