// Bundles the harness extension into a folder that code-server loads unpacked.

import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

import { REPO } from '../../support/paths.js';
import type { ExtensionFolder } from '../codeServer.js';

// esbuild's JS API cannot itself be bundled (it finds its binary next to its own files).
const esbuild = createRequire(path.join(REPO, 'package.json'))(
    'esbuild',
) as typeof import('esbuild');

export interface Harness extends ExtensionFolder {
    /** The harness's own check suite (one passing, one failing test). */
    fixtureSuite: string;
    cleanUp(): void;
}

export async function buildHarness(): Promise<Harness> {
    const source = path.join(REPO, 'test', 'e2e', 'harness');
    const out = mkdtempSync(path.join(os.tmpdir(), 'stack-doctor-harness-'));
    mkdirSync(path.join(out, 'dist'));
    cpSync(path.join(source, 'package.json'), path.join(out, 'package.json'));
    await esbuild.build({
        entryPoints: {
            main: path.join(source, 'main.ts'),
            fixtureSuite: path.join(source, 'fixtureSuite.ts'),
        },
        outdir: path.join(out, 'dist'),
        bundle: true,
        platform: 'node',
        format: 'cjs',
        target: 'node20',
        external: ['vscode'],
        logLevel: 'error',
    });
    return {
        id: 'stack-doctor-tests.e2e-harness-0.0.1',
        source: out,
        fixtureSuite: path.join(out, 'dist', 'fixtureSuite.js'),
        cleanUp: () => rmSync(out, { recursive: true, force: true }),
    };
}
