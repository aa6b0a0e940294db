import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';

import { parseDockerAddress, resolveDockerEndpoints } from '../../src/core/docker/endpoint.js';

const scratch: string[] = [];
after(() => scratch.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function home(): string {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sd-endpoint-'));
    scratch.push(dir);
    return dir;
}

function writeContext(configDir: string, name: string, meta: unknown): void {
    const hash = createHash('sha256').update(name).digest('hex');
    const dir = path.join(configDir, 'contexts', 'meta', hash);
    mkdirSync(dir, { recursive: true });
    writeFileSync(
        path.join(dir, 'meta.json'),
        typeof meta === 'string' ? meta : JSON.stringify(meta),
    );
}

const nothingExists = { exists: () => false, uid: 1000 };

void describe('resolveDockerEndpoints', () => {
    void test('uses only the default socket when nothing is configured', () => {
        assert.deepEqual(resolveDockerEndpoints({}, home(), undefined, nothingExists), [
            { source: 'default', address: 'unix:///var/run/docker.sock' },
        ]);
    });

    void test('tries the explicit setting first, then DOCKER_HOST, then the default', () => {
        const endpoints = resolveDockerEndpoints(
            { DOCKER_HOST: 'unix:///run/custom.sock' },
            home(),
            'unix:///tmp/setting.sock',
            nothingExists,
        );
        assert.deepEqual(
            endpoints.map((e) => [e.source, e.address]),
            [
                ['setting', 'unix:///tmp/setting.sock'],
                ['DOCKER_HOST', 'unix:///run/custom.sock'],
                ['default', 'unix:///var/run/docker.sock'],
            ],
        );
    });

    void test('reads the current context from config.json and its meta.json under the sha256 of its name', () => {
        const dir = home();
        const configDir = path.join(dir, '.docker');
        mkdirSync(configDir, { recursive: true });
        writeFileSync(
            path.join(configDir, 'config.json'),
            JSON.stringify({ currentContext: 'desktop-linux' }),
        );
        writeContext(configDir, 'desktop-linux', {
            Name: 'desktop-linux',
            Endpoints: {
                docker: {
                    Host: 'unix:///home/user/.docker/desktop/docker.sock',
                    SkipTLSVerify: false,
                },
            },
        });

        const [first] = resolveDockerEndpoints({}, dir, undefined, nothingExists);

        assert.deepEqual(first, {
            source: 'context',
            address: 'unix:///home/user/.docker/desktop/docker.sock',
            contextName: 'desktop-linux',
        });
    });

    void test('lets DOCKER_CONTEXT override currentContext and DOCKER_CONFIG move the folder', () => {
        const dir = home();
        const configDir = path.join(dir, 'elsewhere');
        mkdirSync(configDir, { recursive: true });
        writeFileSync(
            path.join(configDir, 'config.json'),
            JSON.stringify({ currentContext: 'other' }),
        );
        writeContext(configDir, 'remote-box', {
            Endpoints: { docker: { Host: 'tcp://127.0.0.1:2375' } },
        });

        const [first] = resolveDockerEndpoints(
            { DOCKER_CONTEXT: 'remote-box', DOCKER_CONFIG: configDir },
            dir,
            undefined,
            nothingExists,
        );

        assert.equal(first?.address, 'tcp://127.0.0.1:2375');
        assert.equal(first?.contextName, 'remote-box');
    });

    void test('lets DOCKER_HOST win over DOCKER_CONTEXT, as the docker CLI does', () => {
        const dir = home();
        writeContext(path.join(dir, '.docker'), 'ctx', {
            Endpoints: { docker: { Host: 'unix:///ctx.sock' } },
        });

        const endpoints = resolveDockerEndpoints(
            { DOCKER_HOST: 'unix:///host.sock', DOCKER_CONTEXT: 'ctx' },
            dir,
            undefined,
            nothingExists,
        );

        assert.deepEqual(
            endpoints.map((e) => e.source),
            ['DOCKER_HOST', 'default'],
        );
    });

    void test('treats the context named default as the default socket', () => {
        const endpoints = resolveDockerEndpoints(
            { DOCKER_CONTEXT: 'default' },
            home(),
            undefined,
            nothingExists,
        );
        assert.deepEqual(
            endpoints.map((e) => e.source),
            ['default'],
        );
    });

    void test('reports a selected context whose meta.json is missing', () => {
        const [first] = resolveDockerEndpoints(
            { DOCKER_CONTEXT: 'gone' },
            home(),
            undefined,
            nothingExists,
        );
        assert.equal(first?.source, 'context');
        assert.match(
            first?.problem ?? '',
            /Docker context "gone" is selected but .*meta\.json does not exist/,
        );
    });

    void test('reports a config.json that is not JSON', () => {
        const dir = home();
        mkdirSync(path.join(dir, '.docker'));
        writeFileSync(path.join(dir, '.docker', 'config.json'), '{ not json');
        const [first] = resolveDockerEndpoints({}, dir, undefined, nothingExists);
        assert.match(first?.problem ?? '', /config\.json is not valid JSON/);
    });

    void test('reports a context without a docker host', () => {
        const dir = home();
        writeContext(path.join(dir, '.docker'), 'empty', { Endpoints: {} });
        const [first] = resolveDockerEndpoints(
            { DOCKER_CONTEXT: 'empty' },
            dir,
            undefined,
            nothingExists,
        );
        assert.match(first?.problem ?? '', /has no Endpoints\.docker\.Host/);
    });

    void test('adds rootless and Podman sockets that exist, after the default', () => {
        const present = new Set(['/run/user/1000/docker.sock', '/xdg/podman/podman.sock']);
        const endpoints = resolveDockerEndpoints({ XDG_RUNTIME_DIR: '/xdg' }, home(), undefined, {
            uid: 1000,
            exists: (file) => present.has(file),
        });
        assert.deepEqual(
            endpoints.map((e) => [e.source, e.address]),
            [
                ['default', 'unix:///var/run/docker.sock'],
                ['rootless', 'unix:///run/user/1000/docker.sock'],
                ['podman', 'unix:///xdg/podman/podman.sock'],
            ],
        );
    });

    void test('does not list the same socket twice', () => {
        const endpoints = resolveDockerEndpoints(
            { DOCKER_HOST: 'unix:///var/run/docker.sock' },
            home(),
            undefined,
            nothingExists,
        );
        assert.deepEqual(
            endpoints.map((e) => e.source),
            ['DOCKER_HOST'],
        );
    });

    void test('takes TLS settings for tcp from DOCKER_TLS_VERIFY and DOCKER_CERT_PATH', () => {
        const [first] = resolveDockerEndpoints(
            {
                DOCKER_HOST: 'tcp://127.0.0.1:2376',
                DOCKER_TLS_VERIFY: '1',
                DOCKER_CERT_PATH: '/certs',
            },
            home(),
            undefined,
            nothingExists,
        );
        assert.deepEqual(first?.tls, { verify: true, certPath: '/certs' });
    });

    void test('defaults the certificate folder to ~/.docker', () => {
        const dir = home();
        const [first] = resolveDockerEndpoints(
            { DOCKER_HOST: 'tcp://127.0.0.1:2376', DOCKER_TLS_VERIFY: '1' },
            dir,
            undefined,
            nothingExists,
        );
        assert.equal(first?.tls?.certPath, path.join(dir, '.docker'));
    });

    void test('uses plain HTTP for tcp on 2375 without TLS variables', () => {
        const [first] = resolveDockerEndpoints(
            { DOCKER_HOST: 'tcp://127.0.0.1:2375' },
            home(),
            undefined,
            nothingExists,
        );
        assert.equal(first?.tls, undefined);
        assert.equal(first?.problem, undefined);
    });

    void test('marks npipe addresses as unsupported on Linux', () => {
        const [first] = resolveDockerEndpoints(
            { DOCKER_HOST: 'npipe:////./pipe/docker_engine' },
            home(),
            undefined,
            {
                ...nothingExists,
                platform: 'linux',
            },
        );
        assert.match(first?.problem ?? '', /npipe:\/\/ is a Windows named pipe/);
    });

    void test('marks ssh addresses as not supported yet', () => {
        const [first] = resolveDockerEndpoints(
            { DOCKER_HOST: 'ssh://user@127.0.0.1' },
            home(),
            undefined,
            nothingExists,
        );
        assert.match(first?.problem ?? '', /ssh:\/\/ endpoints are not supported yet/);
    });
});

void describe('parseDockerAddress', () => {
    void test('reads unix sockets with and without the scheme', () => {
        assert.deepEqual(parseDockerAddress('unix:///run/docker.sock'), {
            scheme: 'unix',
            socketPath: '/run/docker.sock',
        });
        assert.deepEqual(parseDockerAddress('/run/docker.sock'), {
            scheme: 'unix',
            socketPath: '/run/docker.sock',
        });
        assert.deepEqual(parseDockerAddress('unix://'), {
            scheme: 'unix',
            socketPath: '/var/run/docker.sock',
        });
    });

    void test('reads tcp addresses, with the default port and without a scheme', () => {
        assert.deepEqual(parseDockerAddress('tcp://127.0.0.1:2376'), {
            scheme: 'tcp',
            host: '127.0.0.1',
            port: 2376,
        });
        assert.deepEqual(parseDockerAddress('tcp://127.0.0.1'), {
            scheme: 'tcp',
            host: '127.0.0.1',
            port: 2375,
        });
        assert.deepEqual(parseDockerAddress('localhost:1234'), {
            scheme: 'tcp',
            host: 'localhost',
            port: 1234,
        });
        assert.deepEqual(parseDockerAddress('tcp://[::1]:2375'), {
            scheme: 'tcp',
            host: '::1',
            port: 2375,
        });
    });

    void test('rejects unknown schemes with the reason', () => {
        const parsed = parseDockerAddress('ftp://127.0.0.1');
        assert.equal(parsed.scheme, 'unsupported');
        assert.match(parsed.scheme === 'unsupported' ? parsed.reason : '', /unknown scheme ftp:/);
    });
});
