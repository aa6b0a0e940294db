// Our compose renderer against the reference: `docker compose config --format json` on every
// compose fixture, field by field (image, argv, environment, ports, volumes, depends_on,
// healthcheck, user, network_mode). Both renderers get the same environment. Needs the docker
// CLI with the compose plugin, not a daemon.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { compareRenderings, renderWithComposeCli } from '../../src/core/compose/composeCli.js';
import { COMPOSE_FILE_NAMES } from '../../src/core/compose/project.js';
import { loadComposeProject } from '../../src/core/compose/index.js';
import { gatherSnapshot } from '../../src/core/diagnose.js';
import { REPO } from '../support/paths.js';

function composeCliVersion(): string | undefined {
    try {
        return execFileSync('docker', ['compose', 'version', '--short'], {
            timeout: 10_000,
            encoding: 'utf8',
        }).trim();
    } catch {
        return undefined;
    }
}

/** Folders that hold a compose file: the compose fixtures, the cases and the examples. */
function composeFolders(): string[] {
    const folders = new Set<string>();
    const walk = (dir: string, depth: number) => {
        if (depth > 3 || !existsSync(dir)) return;
        for (const name of readdirSync(dir)) {
            const full = path.join(dir, name);
            if (statSync(full).isDirectory()) {
                if (name !== 'mlruns' && name !== 'node_modules') walk(full, depth + 1);
            } else if (COMPOSE_FILE_NAMES.includes(name)) folders.add(dir);
        }
    };
    walk(path.join(REPO, 'test', 'fixtures', 'compose'), 0);
    walk(path.join(REPO, 'test', 'fixtures', 'cases'), 0);
    walk(path.join(REPO, 'examples'), 0);
    return [...folders].sort();
}

// What both renderers see: no variables of this process, only what the project's .env sets.
const ENV = {};

const version = composeCliVersion();

void describe('compose rendering parity with docker compose config', () => {
    void test('the docker compose CLI is installed here', () => {
        assert.ok(version, 'docker compose version failed: the reference renderer is missing');
    });

    const folders = composeFolders();
    void test('there are compose fixtures to compare', () => {
        assert.ok(folders.length >= 15, `only ${folders.length} compose folders found`);
    });

    for (const folder of folders) {
        const name = path.relative(REPO, folder);
        void test(`${name} renders as docker compose config renders it`, async () => {
            const [cli, ours] = await Promise.all([
                renderWithComposeCli(folder, ENV, 20_000),
                loadComposeProject(folder, { env: ENV }),
            ]);
            if (!cli.ok) {
                // Compose refuses the project: ours must refuse or flag it too, not render quietly.
                assert.notEqual(cli.reason, 'unavailable', cli.detail);
                const problems = [...ours.problems, ...(ours.project?.problems ?? [])];
                assert.ok(
                    problems.length > 0 || (ours.project?.missingVariables?.length ?? 0) > 0,
                    `docker compose config failed (${cli.detail}) but our renderer found no problem`,
                );
                return;
            }
            assert.ok(
                ours.project,
                `our renderer gave no project: ${JSON.stringify(ours.problems)}`,
            );
            assert.equal(ours.project.name, cli.rendering.name, 'project name');
            assert.deepEqual(compareRenderings(ours.project, cli.rendering), []);
        });
    }
});

void describe('gathering with the reference renderer', () => {
    const folder = path.join(REPO, 'test', 'fixtures', 'compose', 'render-syntax');

    void test('records docker compose config as the renderer when the CLI is installed', async () => {
        const snapshot = await gatherSnapshot({ folder, offline: true, env: {} });
        const note = snapshot.probes.find((p) => p.probe === 'compose renderer');
        assert.equal(note?.status, 'ran', note?.detail);
        assert.match(note?.detail ?? '', /docker compose config/);
    });

    void test('falls back to the built-in renderer when no docker CLI is on PATH', async () => {
        const empty = mkdtempSync(path.join(os.tmpdir(), 'stack-doctor-nopath-'));
        try {
            const snapshot = await gatherSnapshot({ folder, offline: true, env: { PATH: empty } });
            const note = snapshot.probes.find((p) => p.probe === 'compose renderer');
            assert.equal(note?.status, 'skipped');
            assert.match(note?.detail ?? '', /built-in renderer only/);
            assert.equal(snapshot.compose?.services.length, 4);
        } finally {
            rmSync(empty, { recursive: true, force: true });
        }
    });
});
