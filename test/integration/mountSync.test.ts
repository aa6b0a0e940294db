// The sync probe against real containers with real bind mounts, including a host folder replaced
// behind a running container and probes that fail half-way.

import Dockerode from 'dockerode';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
    chmodSync,
    chownSync,
    existsSync,
    mkdirSync,
    mkdtempSync,
    readdirSync,
    renameSync,
    rmSync,
    writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { gatherContainers } from '../../src/core/docker/engine.js';
import { execReadOnly } from '../../src/core/docker/exec.js';
import { MountSyncProbe, SENTINEL_PREFIX } from '../../src/core/docker/mountSync.js';

const IMAGE = process.env.STACK_DOCTOR_BUSYBOX_IMAGE ?? 'stack-doctor/busybox:1';
const RUN_ID = randomBytes(4).toString('hex');
const LABELS = {
    'org.stack-doctor.test': '1',
    'org.stack-doctor.test.run': `mount-sync-${RUN_ID}`,
};

const docker = new Dockerode({ socketPath: '/var/run/docker.sock' });
const workDir = mkdtempSync(path.join(os.tmpdir(), 'sd-mount-sync-'));

async function startContainer(options: {
    binds: string[];
    user?: string;
    env?: string[];
    cmd?: string[];
    labels?: Record<string, string>;
}): Promise<Dockerode.Container> {
    const container = await docker.createContainer({
        Image: IMAGE,
        Cmd: options.cmd ?? ['sleep', '600'],
        Labels: { ...LABELS, ...options.labels },
        User: options.user ?? '',
        Env: options.env ?? [],
        HostConfig: { Binds: options.binds },
    });
    await container.start();
    return container;
}

function hostFolder(name: string): string {
    const dir = path.join(workDir, `${name}-${randomBytes(3).toString('hex')}`);
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'meta.yaml'), 'name: Default\n');
    return dir;
}

function sentinelsIn(dir: string): string[] {
    if (!existsSync(dir)) return [];
    return readdirSync(dir).filter((name) => name.startsWith(SENTINEL_PREFIX));
}

/** What the container's processes see, listed with busybox's own ls (never a test's fake one). */
async function sentinelsInside(container: Dockerode.Container, dir: string): Promise<string[]> {
    const result = await execReadOnly(container, ['/bin/busybox', 'ls', '-a1', dir], {
        timeoutMs: 5000,
    });
    assert.equal(result.exitCode, 0, `ls inside failed: ${result.stderr}`);
    return result.stdout.split('\n').filter((name) => name.startsWith(SENTINEL_PREFIX));
}

/**
 * Binds that leave the container with no shell and no ls (busybox replaced by an empty file) but
 * with this machine's Python, so only the Python way of looking inside works.
 */
function pythonOnlyBinds(): string[] {
    const empty = path.join(workDir, `empty-${randomBytes(3).toString('hex')}`);
    writeFileSync(empty, '');
    return [
        `${empty}:/bin/busybox:ro`,
        '/usr/bin/python3.11:/bin/python3:ro',
        '/usr/lib:/usr/lib:ro',
        '/usr/lib:/lib:ro',
        '/usr/lib64:/lib64:ro',
    ];
}

/** A folder holding an `ls` that sleeps first, put ahead of /bin on PATH. */
function slowLsFolder(seconds: number): string {
    const dir = path.join(workDir, `fake-bin-${randomBytes(3).toString('hex')}`);
    mkdirSync(dir);
    writeFileSync(
        path.join(dir, 'ls'),
        `#!/bin/sh\nsleep ${seconds}\nexec /bin/busybox ls "$@"\n`,
        { mode: 0o755 },
    );
    return dir;
}

void before(async () => {
    await docker.ping();
    await docker
        .getImage(IMAGE)
        .inspect()
        .catch(() => {
            throw new Error(`image ${IMAGE} is missing: run scripts/test-env/images.sh busybox`);
        });
});

void after(async () => {
    const containers = await docker.listContainers({
        all: true,
        filters: JSON.stringify({
            label: [`org.stack-doctor.test.run=${LABELS['org.stack-doctor.test.run']}`],
        }),
    });
    await Promise.all(containers.map((c) => docker.getContainer(c.Id).remove({ force: true })));
    rmSync(workDir, { recursive: true, force: true });
});

void describe('MountSyncProbe', () => {
    void test('reports a shared folder as in-sync in both directions and leaves nothing behind', async () => {
        const dir = hostFolder('in-sync');
        const container = await startContainer({ binds: [`${dir}:/mlflow/mlruns`] });

        const [result] = await new MountSyncProbe(docker, { service: 'mlflow' }).probe(
            container.id,
        );

        assert.ok(result);
        assert.equal(result.verdict, 'in-sync', result.evidence.join('\n'));
        assert.equal(result.hostToContainer, true);
        assert.equal(result.containerToHost, true);
        assert.equal(result.service, 'mlflow');
        assert.equal(result.destination, '/mlflow/mlruns');
        assert.equal(result.cleanedUp, true);
        assert.deepEqual(sentinelsIn(dir), []);
        assert.deepEqual(await sentinelsInside(container, '/mlflow/mlruns'), []);
    });

    void test('reports a host folder renamed and recreated after the container started as stale', async () => {
        const dir = hostFolder('stale');
        const container = await startContainer({ binds: [`${dir}:/mlflow/mlruns`] });
        renameSync(dir, `${dir}.old`);
        mkdirSync(dir);

        const [result] = await new MountSyncProbe(docker).probe(container.id);

        assert.ok(result);
        assert.equal(result.verdict, 'stale', result.evidence.join('\n'));
        assert.equal(result.hostToContainer, false);
        assert.equal(result.containerToHost, false);
        assert.match(result.evidence.join('\n'), /inode/);
        assert.equal(result.cleanedUp, true);
        assert.deepEqual(sentinelsIn(dir), []);
        assert.deepEqual(sentinelsIn(`${dir}.old`), []);
        assert.deepEqual(await sentinelsInside(container, '/mlflow/mlruns'), []);
    });

    void test('finds a stale mount from inodes alone when writes are disabled', async () => {
        const dir = hostFolder('stale-ro-check');
        const container = await startContainer({ binds: [`${dir}:/data`] });
        renameSync(dir, `${dir}.old`);
        mkdirSync(dir);

        const [result] = await new MountSyncProbe(docker, { allowWrites: false }).probe(
            container.id,
        );

        assert.ok(result);
        assert.equal(result.verdict, 'stale', result.evidence.join('\n'));
        assert.equal(result.hostToContainer, undefined);
        assert.deepEqual(sentinelsIn(`${dir}.old`), []);
    });

    void test('writes nothing and reports skipped for a healthy mount when writes are disabled', async () => {
        const dir = hostFolder('no-writes');
        const container = await startContainer({ binds: [`${dir}:/data`] });

        const [result] = await new MountSyncProbe(docker, { allowWrites: false }).probe(
            container.id,
        );

        assert.ok(result);
        assert.equal(result.verdict, 'skipped', result.evidence.join('\n'));
        assert.deepEqual(readdirSync(dir), ['meta.yaml']);
    });

    void test('reports a :ro mount that shows host files as read-only', async () => {
        const dir = hostFolder('ro');
        const container = await startContainer({ binds: [`${dir}:/data:ro`] });

        const [result] = await new MountSyncProbe(docker).probe(container.id);

        assert.ok(result);
        assert.equal(result.rw, false);
        assert.equal(result.verdict, 'read-only', result.evidence.join('\n'));
        assert.equal(result.hostToContainer, true);
        assert.equal(result.containerToHost, undefined);
        assert.deepEqual(sentinelsIn(dir), []);
    });

    void test('reports a root-owned 0755 folder as not writable for a container running as uid 1000', async () => {
        const dir = hostFolder('root-owned');
        chownSync(dir, 0, 0);
        chmodSync(dir, 0o755);
        const container = await startContainer({
            binds: [`${dir}:/mlflow/artifacts`],
            user: '1000',
        });

        const [result] = await new MountSyncProbe(docker).probe(container.id);

        assert.ok(result);
        assert.equal(result.verdict, 'not-writable', result.evidence.join('\n'));
        assert.deepEqual(result.access, {
            uid: 1000,
            gid: 0,
            ownerUid: 0,
            ownerGid: 0,
            mode: '755',
        });
        assert.equal(result.hostToContainer, true);
        assert.match(result.evidence.join('\n'), /Permission denied/i);
        assert.equal(result.cleanedUp, true);
        assert.deepEqual(sentinelsIn(dir), []);
    });

    void test('reports a host folder removed after the container was created as missing-source', async () => {
        const dir = hostFolder('missing');
        const container = await startContainer({ binds: [`${dir}:/data`] });
        rmSync(dir, { recursive: true, force: true });

        const [result] = await new MountSyncProbe(docker).probe(container.id);

        assert.ok(result);
        assert.equal(result.verdict, 'missing-source', result.evidence.join('\n'));
        assert.match(result.evidence.join('\n'), /does not exist/);
        assert.equal(existsSync(dir), false, 'the probe must not recreate the missing folder');
    });

    void test('reports a stopped container as skipped without touching its folders', async () => {
        const dir = hostFolder('stopped');
        const container = await startContainer({ binds: [`${dir}:/data`] });
        await container.kill();

        const [result] = await new MountSyncProbe(docker).probe(container.id);

        assert.ok(result);
        assert.equal(result.verdict, 'skipped');
        assert.deepEqual(readdirSync(dir), ['meta.yaml']);
    });

    void test('looks inside with python3 when the container has no shell', async () => {
        const dir = hostFolder('python-only');
        const container = await startContainer({
            binds: [`${dir}:/mlflow/mlruns`, ...pythonOnlyBinds()],
            cmd: ['python3', '-c', 'import time; time.sleep(600)'],
        });
        const shell = await execReadOnly(container, ['sh', '-c', 'echo hi'], { timeoutMs: 5000 });
        assert.notEqual(shell.exitCode, 0, 'the container still has a working shell');

        const [result] = await new MountSyncProbe(docker, {
            destinations: ['/mlflow/mlruns'],
        }).probe(container.id);

        assert.ok(result);
        assert.equal(result.verdict, 'in-sync', result.evidence.join('\n'));
        assert.equal(result.cleanedUp, true);
        assert.deepEqual(sentinelsIn(dir), []);
        assert.deepEqual(result.access, { uid: 0, gid: 0, ownerUid: 0, ownerGid: 0, mode: '755' });
    });

    void test('finds a stale mount with python3 when the container has no shell', async () => {
        const dir = hostFolder('python-stale');
        const container = await startContainer({
            binds: [`${dir}:/data`, ...pythonOnlyBinds()],
            cmd: ['python3', '-c', 'import time; time.sleep(600)'],
        });
        renameSync(dir, `${dir}.old`);
        mkdirSync(dir);

        const [result] = await new MountSyncProbe(docker, { destinations: ['/data'] }).probe(
            container.id,
        );

        assert.ok(result);
        assert.equal(result.verdict, 'stale', result.evidence.join('\n'));
        assert.equal(result.cleanedUp, true);
        assert.deepEqual(sentinelsIn(dir), []);
        assert.deepEqual(sentinelsIn(`${dir}.old`), []);
    });

    void test('never writes sentinels into system folders mounted into the container', async () => {
        const container = await startContainer({
            binds: ['/usr/lib:/host-lib:ro', '/etc:/host-etc'],
        });
        const before = { lib: sentinelsIn('/usr/lib'), etc: sentinelsIn('/etc') };

        const results = await new MountSyncProbe(docker).probe(container.id);

        assert.deepEqual(
            results.map((r) => [r.destination, r.verdict]),
            [
                ['/host-etc', 'skipped'],
                ['/host-lib', 'skipped'],
            ],
        );
        assert.match(results[0]?.evidence.join('\n') ?? '', /system folder/);
        assert.deepEqual({ lib: sentinelsIn('/usr/lib'), etc: sentinelsIn('/etc') }, before);
    });

    void test('checks only the host side when running commands inside is disabled', async () => {
        const healthy = hostFolder('no-exec');
        const gone = hostFolder('no-exec-gone');
        const container = await startContainer({ binds: [`${healthy}:/a`, `${gone}:/b`] });
        rmSync(gone, { recursive: true });

        const results = await new MountSyncProbe(docker, { allowExec: false }).probe(container.id);

        assert.deepEqual(
            results.map((r) => [r.destination, r.verdict]),
            [
                ['/a', 'skipped'],
                ['/b', 'missing-source'],
            ],
        );
        assert.match(results[0]?.evidence.join('\n') ?? '', /disabled/);
        assert.deepEqual(readdirSync(healthy), ['meta.yaml']);
    });

    void test('labels results with the compose service of a gathered container', async () => {
        const dir = hostFolder('gathered');
        const project = `sdsync${RUN_ID}`;
        await startContainer({
            binds: [`${dir}:/mlflow/mlruns`],
            labels: {
                'com.docker.compose.project': project,
                'com.docker.compose.service': 'tracking',
            },
        });
        const [facts] = await gatherContainers(docker, { project });
        assert.ok(facts);

        const [result] = await new MountSyncProbe(docker).probeContainer(facts);

        assert.equal(result?.service, 'tracking');
        assert.equal(result?.verdict, 'in-sync', result?.evidence.join('\n'));
    });

    void test('removes its sentinels on both sides when a step inside the container times out', async () => {
        const dir = hostFolder('timeout');
        const fakeBin = slowLsFolder(4);
        const container = await startContainer({
            binds: [`${dir}:/data`, `${fakeBin}:/fake:ro`],
            env: ['PATH=/fake:/bin'],
        });

        const [result] = await new MountSyncProbe(docker, {
            timeoutMs: 1500,
            destinations: ['/data'],
        }).probe(container.id);

        assert.ok(result);
        assert.equal(result.verdict, 'error', result.evidence.join('\n'));
        assert.match(result.evidence.join('\n'), /timed out/);
        assert.equal(result.cleanedUp, true, result.evidence.join('\n'));
        assert.deepEqual(sentinelsIn(dir), []);
        assert.deepEqual(await sentinelsInside(container, '/data'), []);
    });

    void test('removes its sentinels when the container is killed in the middle of the probe', async () => {
        const dir = hostFolder('killed');
        const fakeBin = slowLsFolder(4);
        const container = await startContainer({
            binds: [`${dir}:/data`, `${fakeBin}:/fake:ro`],
            env: ['PATH=/fake:/bin'],
        });

        const probing = new MountSyncProbe(docker, {
            timeoutMs: 10_000,
            destinations: ['/data'],
        }).probe(container.id);
        // Both sentinels exist once the probe reaches its (slow) look inside: kill it then.
        const deadline = Date.now() + 10_000;
        while (sentinelsIn(dir).length < 2 && Date.now() < deadline) {
            await new Promise((resolve) => setTimeout(resolve, 25));
        }
        assert.equal(sentinelsIn(dir).length, 2, 'the probe never wrote both sentinels');
        await container.kill();
        const [result] = await probing;

        assert.ok(result);
        assert.equal(result.verdict, 'error', result.evidence.join('\n'));
        assert.equal(result.cleanedUp, true, result.evidence.join('\n'));
        assert.deepEqual(sentinelsIn(dir), []);
        await container.start();
        assert.deepEqual(await sentinelsInside(container, '/data'), []);
    });
});
