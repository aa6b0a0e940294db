// Connecting to and gathering from a real Docker Engine, on containers this file creates.

import Dockerode from 'dockerode';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { connectDocker, gatherContainers, gatherDocker } from '../../src/core/docker/engine.js';
import type { DockerEndpointCandidate } from '../../src/core/docker/endpoint.js';
import { watchEvents, type ContainerEvent } from '../../src/core/docker/events.js';
import { execReadOnly } from '../../src/core/docker/exec.js';

const CHILD_SOCKET = process.env.STACK_DOCTOR_EACCES_CHILD_SOCKET;

if (CHILD_SOCKET) {
    // Run as an unprivileged user by the EACCES test: connect and print what was reported.
    void connectDocker([{ source: 'setting', address: `unix://${CHILD_SOCKET}` }], {
        timeoutMs: 2000,
    }).then((result) => {
        process.stdout.write(JSON.stringify(result.attempts));
        process.exit(0);
    });
} else {
    registerTests();
}

function registerTests(): void {
    const IMAGE = process.env.STACK_DOCTOR_BUSYBOX_IMAGE ?? 'stack-doctor/busybox:1';
    const RUN_ID = randomBytes(4).toString('hex');
    const RUN_LABEL = `docker-${RUN_ID}`;
    const LABELS = { 'org.stack-doctor.test': '1', 'org.stack-doctor.test.run': RUN_LABEL };
    const SOCKET = '/var/run/docker.sock';
    const docker = new Dockerode({ socketPath: SOCKET });
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'sd-docker-'));
    const servers: { close(): void }[] = [];

    async function create(
        name: string,
        options: Partial<Dockerode.ContainerCreateOptions> & { labels?: Record<string, string> },
    ): Promise<Dockerode.Container> {
        const { labels, ...rest } = options;
        return docker.createContainer({
            name,
            Image: IMAGE,
            Cmd: ['sleep', '600'],
            ...rest,
            Labels: { ...LABELS, ...labels },
        });
    }

    function composeLabels(project: string, service: string, workingDir: string, version?: string) {
        const labels: Record<string, string> = {
            'com.docker.compose.project': project,
            'com.docker.compose.service': service,
            'com.docker.compose.project.working_dir': workingDir,
            'com.docker.compose.project.config_files': `${workingDir}/compose.yaml`,
        };
        if (version) labels['com.docker.compose.version'] = version;
        return labels;
    }

    /** A TCP or unix server on loopback that accepts connections and never answers. */
    async function silentServer(listenOn: number | string): Promise<string> {
        const sockets: net.Socket[] = [];
        const server = net.createServer((socket) => sockets.push(socket));
        servers.push({
            close: () => {
                sockets.forEach((socket) => socket.destroy());
                server.close();
            },
        });
        await new Promise<void>((resolve) =>
            typeof listenOn === 'number'
                ? server.listen(listenOn, '127.0.0.1', resolve)
                : server.listen(listenOn, resolve),
        );
        const address = server.address();
        return typeof address === 'string' ? address : `127.0.0.1:${address?.port}`;
    }

    /** `promise`, or a rejection after `ms`; the timer does not keep the test process alive. */
    async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
        let timer: NodeJS.Timeout | undefined;
        const expired = new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(what)), ms);
        });
        try {
            return await Promise.race([promise, expired]);
        } finally {
            clearTimeout(timer);
        }
    }

    void before(async () => {
        await docker.ping();
        await docker
            .getImage(IMAGE)
            .inspect()
            .catch(() => {
                throw new Error(
                    `image ${IMAGE} is missing: run scripts/test-env/images.sh busybox`,
                );
            });
    });

    void after(async () => {
        servers.forEach((server) => server.close());
        const containers = await docker.listContainers({
            all: true,
            filters: JSON.stringify({ label: [`org.stack-doctor.test.run=${RUN_LABEL}`] }),
        });
        await Promise.all(containers.map((c) => docker.getContainer(c.Id).remove({ force: true })));
        rmSync(tmp, { recursive: true, force: true });
    });

    void describe('connectDocker', () => {
        void test('connects to the local Engine and reports its version', async () => {
            const result = await connectDocker([
                { source: 'default', address: `unix://${SOCKET}` },
            ]);

            assert.ok(result.connection, JSON.stringify(result.attempts));
            assert.match(result.connection.engineVersion ?? '', /^\d+\.\d+/);
            assert.match(result.connection.apiVersion ?? '', /^1\.\d+$/);
            assert.deepEqual(result.attempts, [
                { endpoint: { source: 'default', address: `unix://${SOCKET}` } },
            ]);
        });

        void test('says the socket is missing and falls back to the next endpoint', async () => {
            const missing = path.join(tmp, 'no-such-dir', 'docker.sock');
            const result = await connectDocker([
                { source: 'DOCKER_HOST', address: `unix://${missing}` },
                { source: 'default', address: `unix://${SOCKET}` },
            ]);

            assert.ok(result.connection);
            assert.equal(result.connection.endpoint.source, 'default');
            assert.equal(result.attempts.length, 2);
            assert.match(result.attempts[0]?.error ?? '', new RegExp(`no socket at ${missing}`));
            assert.equal(result.attempts[1]?.error, undefined);
        });

        void test('reports connection refused on a TCP port where nothing listens', async () => {
            const probe = net.createServer();
            await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
            const port = (probe.address() as net.AddressInfo).port;
            await new Promise((resolve) => probe.close(resolve));

            const result = await connectDocker([
                { source: 'DOCKER_HOST', address: `tcp://127.0.0.1:${port}` },
            ]);

            assert.equal(result.connection, undefined);
            assert.match(
                result.attempts[0]?.error ?? '',
                /connection refused at tcp:\/\/127\.0\.0\.1:\d+: nothing listens/,
            );
            assert.match(result.error ?? '', /no Docker Engine answered/);
        });

        void test('gives up on a socket that accepts but never answers within the timeout', async () => {
            const socketPath = await silentServer(path.join(tmp, 'silent.sock'));
            const started = Date.now();

            const result = await connectDocker(
                [{ source: 'setting', address: `unix://${socketPath}` }],
                {
                    timeoutMs: 400,
                },
            );

            assert.equal(result.connection, undefined);
            assert.match(
                result.attempts[0]?.error ?? '',
                /no answer from .*silent\.sock within 400 ms/,
            );
            assert.ok(Date.now() - started < 3000);
        });

        void test('says an HTTP server that is not Docker is not a Docker Engine API', async () => {
            const server = http.createServer((_, res) => {
                res.statusCode = 404;
                res.end('not here');
            });
            servers.push(server);
            await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
            const port = (server.address() as net.AddressInfo).port;

            const result = await connectDocker([
                { source: 'setting', address: `tcp://127.0.0.1:${port}` },
            ]);

            assert.equal(result.connection, undefined);
            assert.match(
                result.attempts[0]?.error ?? '',
                /answered HTTP 404 to \/_ping: it is not a Docker Engine API/,
            );
        });

        void test('explains a real permission-denied socket with the docker group fix', async (t) => {
            // Root bypasses file permissions, so the connection is made by a child running as nobody.
            const dir = mkdtempSync(path.join(os.tmpdir(), 'sd-eacces-'));
            t.after(() => rmSync(dir, { recursive: true, force: true }));
            chmodSync(dir, 0o755);
            const socketPath = await silentServer(path.join(dir, 'docker.sock'));
            chmodSync(socketPath, 0o600);
            // The child runs this very (bundled) file, which connects instead of registering tests.
            const child = spawn(process.execPath, [__filename], {
                uid: 65534,
                gid: 65534,
                cwd: '/',
                env: {
                    PATH: process.env.PATH ?? '/usr/bin',
                    STACK_DOCTOR_EACCES_CHILD_SOCKET: socketPath,
                },
            });
            let stdout = '';
            let stderr = '';
            child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
            child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
            child.stdin.end();
            const code = await new Promise<number | null>((resolve) => child.on('close', resolve));

            assert.equal(code, 0, stderr);
            const attempts = JSON.parse(stdout) as { error?: string }[];
            assert.match(
                attempts[0]?.error ?? '',
                /permission denied on .*docker\.sock: add your user to the docker group/,
            );
            assert.match(attempts[0]?.error ?? '', /rootless/);
        });

        void test('records an unsupported npipe endpoint without dialling it', async () => {
            const endpoints: DockerEndpointCandidate[] = [
                {
                    source: 'DOCKER_HOST',
                    address: 'npipe:////./pipe/docker_engine',
                    problem: 'npipe:// is a Windows named pipe',
                },
            ];
            const result = await connectDocker(endpoints);

            assert.equal(result.connection, undefined);
            assert.equal(result.attempts[0]?.error, 'npipe:// is a Windows named pipe');
        });
    });

    void describe('gatherContainers', () => {
        void test('finds v1 and v2 compose containers of a project with state, ports, mounts and masked logs', async () => {
            const project = `sdtest${RUN_ID}`;
            const workingDir = path.join(tmp, 'proj');
            const dataDir = mkdtempSync(path.join(tmp, 'data-'));
            const web = await create(`${project}_web_1`, {
                labels: composeLabels(project, 'web', workingDir, '1.29.2'),
                Cmd: [
                    'sh',
                    '-c',
                    'echo "MLFLOW_TRACKING_PASSWORD=hunter2"; echo "db at postgresql://mlflow:s3cret@db/mlflow"; echo ready; sleep 600',
                ],
                Env: ['MLFLOW_TRACKING_URI=http://mlflow:5000'],
                User: '1000:1000',
                ExposedPorts: { '5000/tcp': {} },
                HostConfig: {
                    PortBindings: { '5000/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] },
                    Binds: [`${dataDir}:/mlflow/mlruns:ro`],
                },
            });
            await web.start();
            const db = await create(`${project}-db-1`, {
                labels: composeLabels(project, 'db', workingDir),
                Cmd: ['sh', '-c', 'echo "boom: cannot start" >&2; exit 3'],
            });
            await db.start();
            await db.wait();
            // Same project name, other folder: must not be mixed in.
            await create(`${project}-web-1-elsewhere`, {
                labels: composeLabels(project, 'web', path.join(tmp, 'other')),
            });

            const facts = await gatherContainers(docker, { project, workingDir, timeoutMs: 5000 });

            assert.deepEqual(
                facts.map((c) => [c.service, c.composeFlavor, c.state]),
                [
                    ['db', 'v2', 'exited'],
                    ['web', 'v1', 'running'],
                ],
            );
            const [dbFacts, webFacts] = facts;
            assert.equal(dbFacts?.exitCode, 3);
            assert.deepEqual(dbFacts?.logTail, ['boom: cannot start']);
            assert.equal(webFacts?.project, project);
            assert.equal(webFacts?.workingDir, workingDir);
            assert.equal(webFacts?.user, '1000:1000');
            assert.equal(webFacts?.env.MLFLOW_TRACKING_URI, 'http://mlflow:5000');
            assert.equal(webFacts?.ports.length, 1);
            assert.equal(webFacts?.ports[0]?.containerPort, 5000);
            assert.equal(webFacts?.ports[0]?.hostIp, '127.0.0.1');
            assert.ok((webFacts?.ports[0]?.hostPort ?? 0) > 0);
            assert.deepEqual(webFacts?.mounts, [
                { type: 'bind', source: dataDir, destination: '/mlflow/mlruns', rw: false },
            ]);
            assert.deepEqual(webFacts?.logTail, [
                'MLFLOW_TRACKING_PASSWORD=***',
                'db at postgresql://mlflow:***@db/mlflow',
                'ready',
            ]);
            assert.ok(webFacts?.networks.some((n) => n.name === 'bridge'));
            assert.equal(webFacts?.health, 'none');
        });

        void test('keeps all containers of a moved project when none carries the current folder', async () => {
            const project = `sdmoved${RUN_ID}`;
            await create(`${project}-web-1`, {
                labels: composeLabels(project, 'web', path.join(tmp, 'old-place')),
            });

            const facts = await gatherContainers(docker, {
                project,
                workingDir: path.join(tmp, 'new-place'),
            });

            assert.deepEqual(
                facts.map((c) => [c.service, c.state, c.composeFlavor]),
                [['web', 'created', 'v2']],
            );
        });

        void test('gatherDocker reports an unreachable Engine with every address it tried', async () => {
            const facts = await gatherDocker({
                env: { DOCKER_HOST: `unix://${path.join(tmp, 'nothing.sock')}` },
                homeDir: tmp,
                endpoints: [
                    { source: 'DOCKER_HOST', address: `unix://${path.join(tmp, 'nothing.sock')}` },
                ],
            });

            assert.equal(facts.reachable, false);
            assert.deepEqual(facts.containers, []);
            assert.match(facts.error ?? '', /nothing\.sock/);
            assert.equal(facts.attempts.length, 1);
        });

        void test('gatherDocker connects through DOCKER_HOST and gathers the project', async () => {
            const project = `sdgather${RUN_ID}`;
            await create(`${project}-mlflow-1`, {
                labels: composeLabels(project, 'mlflow', path.join(tmp, 'g')),
            });

            const facts = await gatherDocker({
                env: { DOCKER_HOST: `unix://${SOCKET}` },
                homeDir: tmp,
                project,
            });

            assert.equal(facts.reachable, true);
            assert.equal(facts.endpoint?.source, 'DOCKER_HOST');
            assert.deepEqual(
                facts.containers.map((c) => c.name),
                [`${project}-mlflow-1`],
            );
        });
    });

    void describe('health and events', () => {
        void test('sees a health_status event and the health log of a container with a healthcheck', async () => {
            const project = `sdhealth${RUN_ID}`;
            const events: ContainerEvent[] = [];
            let sawHealthy: () => void = () => undefined;
            const healthy = new Promise<void>((resolve) => (sawHealthy = resolve));
            const subscription = await watchEvents(docker, { project }, (event) => {
                events.push(event);
                if (event.kind === 'health_status' && event.health === 'healthy') sawHealthy();
            });
            try {
                const container = await create(`${project}-mlflow-1`, {
                    labels: composeLabels(project, 'mlflow', path.join(tmp, 'h')),
                    Healthcheck: {
                        Test: ['CMD-SHELL', 'echo probe-ok'],
                        Interval: 500_000_000,
                        Timeout: 2_000_000_000,
                        Retries: 3,
                    },
                });
                await container.start();
                await within(healthy, 20_000, 'no health_status event within 20 s');

                assert.ok(
                    events.some(
                        (e) =>
                            e.kind === 'start' &&
                            e.containerId === container.id &&
                            e.service === 'mlflow',
                    ),
                );
                const facts = await gatherContainers(docker, { project });
                assert.equal(facts[0]?.health, 'healthy');
                assert.equal(facts[0]?.healthLog?.at(-1)?.output, 'probe-ok');
                assert.equal(facts[0]?.healthLog?.at(-1)?.exitCode, 0);
            } finally {
                subscription.dispose();
            }
        });

        void test('sees a die event with the exit code', async () => {
            const project = `sddie${RUN_ID}`;
            let resolveDie: (event: ContainerEvent) => void = () => undefined;
            const died = new Promise<ContainerEvent>((resolve) => (resolveDie = resolve));
            const subscription = await watchEvents(docker, { project, kinds: ['die'] }, resolveDie);
            try {
                const container = await create(`${project}-job-1`, {
                    labels: composeLabels(project, 'job', path.join(tmp, 'd')),
                    Cmd: ['sh', '-c', 'exit 7'],
                });
                await container.start();
                const event = await within(died, 10_000, 'no die event within 10 s');

                assert.equal(event.kind, 'die');
                assert.equal(event.exitCode, 7);
                assert.equal(event.containerId, container.id);
            } finally {
                subscription.dispose();
            }
        });
    });

    void describe('execReadOnly', () => {
        void test('returns demultiplexed stdout, stderr and the exit code', async () => {
            const container = await create(`sdexec${RUN_ID}`, {});
            await container.start();

            const result = await execReadOnly(
                container,
                ['sh', '-c', 'echo out; echo err >&2; exit 3'],
                { timeoutMs: 5000 },
            );

            assert.deepEqual(result, {
                exitCode: 3,
                stdout: 'out\n',
                stderr: 'err\n',
                timedOut: false,
                notFound: false,
            });
        });

        void test('returns on its deadline when the command hangs', async () => {
            const container = await create(`sdexecslow${RUN_ID}`, {});
            await container.start();
            const started = Date.now();

            const result = await execReadOnly(container, ['sleep', '30'], { timeoutMs: 500 });

            assert.equal(result.timedOut, true);
            assert.equal(result.exitCode, null);
            assert.ok(Date.now() - started < 3000);
        });

        void test('says when the executable does not exist in the container', async () => {
            const container = await create(`sdexecmissing${RUN_ID}`, {});
            await container.start();

            const result = await execReadOnly(container, ['python3', '-c', 'print(1)'], {
                timeoutMs: 5000,
            });

            assert.equal(result.notFound, true);
        });

        void test('rejects for a container that is not running', async () => {
            const container = await create(`sdexecstopped${RUN_ID}`, {});

            await assert.rejects(
                execReadOnly(container, ['ls'], { timeoutMs: 5000 }),
                /is not running|409/,
            );
        });
    });
}
