import type Dockerode from 'dockerode';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { DeadlineError } from '../../src/core/docker/deadline.js';
import {
    composeFlavor,
    containerFacts,
    describeConnectionError,
    selectProjectContainers,
} from '../../src/core/docker/engine.js';
import { parseStatLine } from '../../src/core/docker/mountSync.js';

function summary(name: string, labels: Record<string, string>) {
    return { Names: [`/${name}`], Labels: labels };
}

function compose(project: string, service: string, dir: string) {
    return {
        'com.docker.compose.project': project,
        'com.docker.compose.service': service,
        'com.docker.compose.project.working_dir': dir,
    };
}

void describe('composeFlavor', () => {
    const labels = { 'com.docker.compose.project': 'proj', 'com.docker.compose.service': 'mlflow' };

    void test('tells v1 from v2 by the version label', () => {
        assert.equal(
            composeFlavor('x', { ...labels, 'com.docker.compose.version': '1.29.2' }),
            'v1',
        );
        assert.equal(
            composeFlavor('x', { ...labels, 'com.docker.compose.version': '2.24.0' }),
            'v2',
        );
        assert.equal(
            composeFlavor('x', { ...labels, 'com.docker.compose.version': '5.0.1' }),
            'v2',
        );
    });

    void test('falls back to the container name pattern', () => {
        assert.equal(composeFlavor('/proj_mlflow_1', labels), 'v1');
        assert.equal(composeFlavor('proj-mlflow-2', labels), 'v2');
        assert.equal(composeFlavor('my-own-name', labels), undefined);
    });
});

void describe('selectProjectContainers', () => {
    const all = [
        summary('proj-mlflow-1', compose('proj', 'mlflow', '/home/user/proj')),
        summary('proj-mlflow-1x', compose('proj', 'mlflow', '/home/user/other/proj')),
        summary('unrelated', {}),
        summary('renamed-db-1', compose('renamed', 'db', '/home/user/proj')),
    ];

    void test('keeps the folder asked about when two folders share a project name', () => {
        const chosen = selectProjectContainers(all, {
            project: 'proj',
            workingDir: '/home/user/proj/',
        });
        assert.deepEqual(
            chosen.map((c) => c.Names[0]),
            ['/proj-mlflow-1'],
        );
    });

    void test('keeps every container of the project when no folder is given', () => {
        const chosen = selectProjectContainers(all, { project: 'proj' });
        assert.equal(chosen.length, 2);
    });

    void test('finds containers started under another project name by folder and service', () => {
        const chosen = selectProjectContainers(all, {
            project: 'nothing-here',
            workingDir: '/home/user/proj',
            serviceNames: ['db'],
        });
        assert.deepEqual(
            chosen.map((c) => c.Names[0]),
            ['/renamed-db-1'],
        );
    });
});

void describe('containerFacts', () => {
    const inspect = {
        Id: 'f00d',
        Name: '/proj-mlflow-1',
        Image: 'sha256:abc',
        RestartCount: 4,
        State: {
            Status: 'running',
            Running: true,
            ExitCode: 0,
            Error: '',
            StartedAt: '2024-02-06T09:12:00.000Z',
            FinishedAt: '0001-01-01T00:00:00Z',
            Health: {
                Status: 'unhealthy',
                Log: [
                    { ExitCode: 1, Output: 'curl: (7) Failed to connect\n' },
                    { ExitCode: 1, Output: 'curl: (7) Failed to connect to localhost port 5000\n' },
                ],
            },
        },
        Config: {
            Image: 'ghcr.io/mlflow/mlflow:v2.22.0',
            User: '1000:1000',
            Cmd: ['mlflow', 'server', '--host', '127.0.0.1'],
            Entrypoint: null,
            Env: ['PATH=/usr/bin', 'MLFLOW_S3_ENDPOINT_URL=http://minio:9000', 'EMPTY='],
            Labels: {
                ...compose('proj', 'mlflow', '/home/user/proj'),
                'com.docker.compose.project.config_files':
                    '/home/user/proj/compose.yaml,/home/user/proj/compose.override.yaml',
            },
            Tty: false,
        },
        HostConfig: { PortBindings: { '5000/tcp': [{ HostIp: '', HostPort: '5000' }] } },
        NetworkSettings: {
            Ports: {
                '5000/tcp': [
                    { HostIp: '0.0.0.0', HostPort: '5000' },
                    { HostIp: '::', HostPort: '5000' },
                ],
                '8080/tcp': null,
            },
            Networks: { proj_default: { IPAddress: '172.18.0.3', Aliases: ['mlflow', 'f00d'] } },
        },
        Mounts: [
            {
                Type: 'bind',
                Source: '/home/user/proj/mlruns',
                Destination: '/mlflow/mlruns',
                RW: true,
                Mode: '',
            },
        ],
    } as unknown as Dockerode.ContainerInspectInfo;

    void test('reads state, health log, ports, mounts, env and compose labels', () => {
        const facts = containerFacts(inspect);
        assert.equal(facts.name, 'proj-mlflow-1');
        assert.equal(facts.image, 'ghcr.io/mlflow/mlflow:v2.22.0');
        assert.equal(facts.state, 'running');
        assert.equal(facts.exitCode, undefined);
        assert.equal(facts.health, 'unhealthy');
        assert.deepEqual(facts.healthLog?.at(-1), {
            exitCode: 1,
            output: 'curl: (7) Failed to connect to localhost port 5000',
        });
        assert.equal(facts.restartCount, 4);
        assert.equal(facts.startedAt, '2024-02-06T09:12:00.000Z');
        assert.equal(facts.finishedAt, undefined);
        assert.deepEqual(facts.ports, [
            { containerPort: 5000, protocol: 'tcp', hostIp: '0.0.0.0', hostPort: 5000 },
            { containerPort: 5000, protocol: 'tcp', hostIp: '::', hostPort: 5000 },
        ]);
        assert.deepEqual(facts.mounts, [
            {
                type: 'bind',
                source: '/home/user/proj/mlruns',
                destination: '/mlflow/mlruns',
                rw: true,
            },
        ]);
        assert.deepEqual(facts.env, {
            PATH: '/usr/bin',
            MLFLOW_S3_ENDPOINT_URL: 'http://minio:9000',
            EMPTY: '',
        });
        assert.deepEqual(facts.cmd, ['mlflow', 'server', '--host', '127.0.0.1']);
        assert.deepEqual(facts.entrypoint, []);
        assert.equal(facts.user, '1000:1000');
        assert.equal(facts.project, 'proj');
        assert.equal(facts.service, 'mlflow');
        assert.equal(facts.composeFlavor, 'v2');
        assert.deepEqual(facts.configFiles, [
            '/home/user/proj/compose.yaml',
            '/home/user/proj/compose.override.yaml',
        ]);
        assert.deepEqual(facts.networks, [
            { name: 'proj_default', ip: '172.18.0.3', aliases: ['mlflow', 'f00d'] },
        ]);
    });

    void test('reports the requested port bindings and the exit code of a stopped container', () => {
        const stopped = {
            ...inspect,
            State: {
                Status: 'exited',
                Running: false,
                ExitCode: 1,
                Error: '',
                StartedAt: '2024-02-06T09:12:00Z',
                FinishedAt: '2024-02-06T09:12:41Z',
            },
            NetworkSettings: { Ports: {}, Networks: {} },
        } as unknown as Dockerode.ContainerInspectInfo;
        const facts = containerFacts(stopped);
        assert.equal(facts.state, 'exited');
        assert.equal(facts.exitCode, 1);
        assert.equal(facts.health, 'none');
        assert.equal(facts.finishedAt, '2024-02-06T09:12:41Z');
        assert.deepEqual(facts.ports, [
            { containerPort: 5000, protocol: 'tcp', hostIp: '', hostPort: 5000 },
        ]);
    });
});

void describe('describeConnectionError', () => {
    const unix = { source: 'default' as const, address: 'unix:///var/run/docker.sock' };
    const errno = (code: string) => Object.assign(new Error(code), { code });

    void test('says the socket is missing for ENOENT', () => {
        assert.match(
            describeConnectionError(errno('ENOENT'), unix, 1000),
            /^no socket at \/var\/run\/docker\.sock/,
        );
    });

    void test('names the docker group and rootless Docker for EACCES', () => {
        const text = describeConnectionError(errno('EACCES'), unix, 1000);
        assert.match(text, /permission denied on \/var\/run\/docker\.sock/);
        assert.match(text, /usermod -aG docker/);
        assert.match(text, /rootless/);
    });

    void test('calls a refused unix socket a leftover of a stopped Engine', () => {
        assert.match(
            describeConnectionError(errno('ECONNREFUSED'), unix, 1000),
            /left over from an Engine that is not running/,
        );
    });

    void test('reports the deadline for a timeout', () => {
        const text = describeConnectionError(new DeadlineError('ping', 750), unix, 750);
        assert.match(text, /no answer from \/var\/run\/docker\.sock within 750 ms/);
    });

    void test('points at the certificates for TLS failures', () => {
        const tcp = { source: 'DOCKER_HOST' as const, address: 'tcp://127.0.0.1:2376' };
        assert.match(
            describeConnectionError(errno('UNABLE_TO_VERIFY_LEAF_SIGNATURE'), tcp, 1000),
            /DOCKER_CERT_PATH/,
        );
        assert.match(
            describeConnectionError(errno('DEPTH_ZERO_SELF_SIGNED_CERT'), tcp, 1000),
            /TLS failed/,
        );
    });
});

void describe('parseStatLine', () => {
    void test('reads busybox and coreutils stat output, file types with spaces included', () => {
        assert.deepEqual(parseStatLine('246947 65024 0 0 1777 directory 4096'), {
            ino: 246947,
            dev: 65024,
            uid: 0,
            gid: 0,
            mode: '1777',
            kind: 'directory',
            size: 4096,
        });
        assert.equal(parseStatLine('12 34 1000 1000 644 regular empty file 0')?.kind, 'file');
        assert.equal(parseStatLine('12 34 1000 1000 644 regular file 10')?.kind, 'file');
        assert.equal(parseStatLine('stat: cannot stat'), undefined);
    });
});
