import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadComposeProject } from '../../src/core/compose/index.js';
import {
    findServerConfigs,
    parseServerCommand,
    readDockerfileFacts,
    versionFromTag,
} from '../../src/core/mlflow/serverConfig.js';
import type { ServerConfig } from '../../src/core/model.js';
import { casesFolder } from '../fixtures/compose/sharedCases.js';

const scratch: string[] = [];
after(() => {
    for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

async function configsOf(
    yaml: string,
    extra: Record<string, string> = {},
): Promise<ServerConfig[]> {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'server-config-'));
    scratch.push(dir);
    for (const [name, text] of Object.entries({ 'compose.yaml': yaml, ...extra })) {
        mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
        writeFileSync(path.join(dir, name), text);
    }
    const { project, problems } = await loadComposeProject(dir, { env: {} });
    assert.deepEqual(problems, []);
    assert.ok(project);
    return findServerConfigs(project);
}

void describe('parseServerCommand', () => {
    void test('reads --flag value, --flag=value and the short forms', () => {
        const parsed = parseServerCommand([
            'mlflow',
            'server',
            '-h',
            '0.0.0.0',
            '-p5001',
            '--backend-store-uri=sqlite:///x.db',
            '--workers',
            '2',
            '--default-artifact-root',
            's3://b/',
            '--no-serve-artifacts',
            '--allowed-hosts',
            'a,b',
        ]);
        assert.equal(parsed?.subcommand, 'server');
        assert.deepEqual(parsed?.values, {
            host: '0.0.0.0',
            port: '5001',
            backendStoreUri: 'sqlite:///x.db',
            defaultArtifactRoot: 's3://b/',
            serveArtifacts: false,
            allowedHosts: 'a,b',
        });
        assert.equal(parsed?.at.host, 3);
        assert.equal(parsed?.at.port, 4);
        assert.equal(parsed?.at.defaultArtifactRoot, 9);
    });

    void test('recognises python -m mlflow and mlflow ui', () => {
        assert.equal(
            parseServerCommand(['python3', '-m', 'mlflow', 'server', '--port', '1'])?.values.port,
            '1',
        );
        assert.equal(parseServerCommand(['/usr/local/bin/mlflow', 'ui'])?.subcommand, 'ui');
        assert.equal(parseServerCommand(['python', 'train.py']), undefined);
        assert.equal(parseServerCommand(['mlflow', 'run', '.']), undefined);
    });

    void test('looks inside sh -c scripts and reads the pip pin before the server', () => {
        const parsed = parseServerCommand([
            '/bin/sh',
            '-ec',
            'pip install --no-cache-dir "mlflow[auth]==2.22.0" psycopg2-binary && exec mlflow server --host 0.0.0.0 --artifacts-only',
        ]);
        assert.equal(parsed?.scriptIndex, 2);
        assert.equal(parsed?.pipVersion, '2.22.0');
        assert.deepEqual(parsed?.values, { host: '0.0.0.0', artifactsOnly: true });
        assert.equal(parsed?.at.host, 2);
    });

    void test('ignores words after a sh -c script, which the shell does not run', () => {
        assert.equal(
            parseServerCommand(['bash', '-c', 'pip', 'install', 'x', '&&', 'mlflow', 'server']),
            undefined,
        );
    });
});

void describe('versions from tags and Dockerfiles', () => {
    void test('reads v-prefixed, plain and suffixed tags', () => {
        assert.equal(versionFromTag('v2.20.0'), '2.20.0');
        assert.equal(versionFromTag('2.22.0'), '2.22.0');
        assert.equal(versionFromTag('v3.9.0-full'), '3.9.0');
        assert.equal(versionFromTag('latest'), undefined);
    });

    void test('reads pip pins, MLflow base images and ARG versions with their lines', () => {
        assert.deepEqual(
            readDockerfileFacts(
                'FROM python:3.11\nRUN pip install \\\n  mlflow==2.8.0 boto3\n',
                'Dockerfile',
            ).version,
            {
                version: '2.8.0',
                instruction: 'RUN',
                line: 2,
            },
        );
        assert.deepEqual(
            readDockerfileFacts('FROM ghcr.io/mlflow/mlflow:v2.14.1\nRUN pip install boto3\n', 'D')
                .version,
            {
                version: '2.14.1',
                instruction: 'FROM',
                line: 1,
            },
        );
        const withArg = readDockerfileFacts(
            'ARG MLFLOW_VERSION=2.3.0\nFROM python:3.10\nARG MLFLOW_VERSION\nRUN pip install mlflow==${MLFLOW_VERSION}\n',
            'D',
            { MLFLOW_VERSION: '2.4.1' },
        );
        assert.equal(withArg.version?.version, '2.4.1');
        assert.equal(withArg.version?.instruction, 'RUN');
    });

    void test('reads the final stage ENTRYPOINT and CMD in exec and shell form', () => {
        const facts = readDockerfileFacts(
            'FROM python AS build\nCMD ["nope"]\nFROM python\nENTRYPOINT ["mlflow", "server"]\nCMD --host 0.0.0.0\n',
            'D',
        );
        assert.deepEqual(facts.entrypoint, ['mlflow', 'server']);
        assert.deepEqual(facts.cmd, ['/bin/sh', '-c', '--host 0.0.0.0']);
    });
});

void describe('findServerConfigs', () => {
    void test('reads a shell-form server command and points each value at the command', async () => {
        const [config] = await configsOf(
            'services:\n  mlflow:\n    image: ghcr.io/mlflow/mlflow:v2.20.0\n    command: mlflow server --host 0.0.0.0 --port 5001 --static-prefix /mlflow --app-name basic-auth --gunicorn-opts "--timeout 60"\n',
        );
        assert.ok(config);
        assert.equal(config.service, 'mlflow');
        assert.equal(config.host, '0.0.0.0');
        assert.equal(config.port, 5001);
        assert.equal(config.staticPrefix, '/mlflow');
        assert.equal(config.appName, 'basic-auth');
        assert.equal(config.gunicornOpts, '--timeout 60');
        assert.deepEqual(config.keys, {
            host: 'services.mlflow.command',
            port: 'services.mlflow.command',
            staticPrefix: 'services.mlflow.command',
            appName: 'services.mlflow.command',
        });
        assert.deepEqual(config.declaredVersion, {
            version: '2.20.0',
            file: 'compose.yaml',
            key: 'services.mlflow.image',
            line: 3,
        });
    });

    void test('points exec-form values at their list item', async () => {
        const [config] = await configsOf(
            'services:\n  m:\n    image: python\n    command: ["mlflow", "server", "--host", "0.0.0.0", "--backend-store-uri=/mlruns"]\n',
        );
        assert.equal(config?.keys.host, 'services.m.command.3');
        assert.equal(config?.keys.backendStoreUri, 'services.m.command.4');
        assert.equal(config?.backendStoreUri, '/mlruns');
        assert.equal(config?.port, 5000);
        assert.equal(config?.host, '0.0.0.0');
    });

    void test('reads the env var equivalents and lets the command line win', async () => {
        const [config] = await configsOf(
            [
                'services:',
                '  m:',
                '    image: ghcr.io/mlflow/mlflow:2.22.0',
                '    command: mlflow server --port 6000',
                '    environment:',
                '      MLFLOW_HOST: 0.0.0.0',
                '      MLFLOW_PORT: "7000"',
                '      MLFLOW_SERVE_ARTIFACTS: "false"',
                '      MLFLOW_ARTIFACTS_DESTINATION: s3://bucket',
                '      MLFLOW_SERVER_ALLOWED_HOSTS: "mlflow:5000, localhost:*"',
            ].join('\n'),
        );
        assert.equal(config?.host, '0.0.0.0');
        assert.equal(config?.keys.host, 'services.m.environment.MLFLOW_HOST');
        assert.equal(config?.port, 6000);
        assert.equal(config?.keys.port, 'services.m.command');
        assert.equal(config?.serveArtifacts, false);
        assert.equal(config?.artifactsDestination, 's3://bucket');
        assert.deepEqual(config?.allowedHosts, ['mlflow:5000', 'localhost:*']);
        assert.equal(config?.declaredVersion?.version, '2.22.0');
    });

    void test('finds the server inside an sh -c command and the pip pin it installs', async () => {
        const configs = await configsOf(
            [
                'services:',
                '  m:',
                '    image: python:3.11-slim',
                '    command:',
                '      - sh',
                '      - -c',
                '      - pip install mlflow==2.9.2 psycopg2-binary && mlflow server --host 0.0.0.0 --port 5000',
                '  worker:',
                '    image: python:3.11-slim',
                '    command: python train.py',
            ].join('\n'),
        );
        assert.equal(configs.length, 1);
        assert.equal(configs[0]?.keys.host, 'services.m.command.2');
        assert.deepEqual(configs[0]?.declaredVersion, {
            version: '2.9.2',
            file: 'compose.yaml',
            key: 'services.m.command.2',
            line: 7,
        });
    });

    void test('reads a flags-only command given to an MLflow image', async () => {
        const [config] = await configsOf(
            'services:\n  m:\n    image: stack-doctor/mlflow:3.18.0\n    command: ["--host", "0.0.0.0", "--port", "5050"]\n',
        );
        assert.equal(config?.port, 5050);
        assert.equal(config?.keys.port, 'services.m.command.3');
        assert.equal(config?.declaredVersion?.version, '3.18.0');
    });

    void test('takes the version and the command from the build Dockerfile', async () => {
        const [config] = await configsOf(
            'services:\n  m:\n    build: ./srv\n    ports: ["5000:5000"]\n',
            {
                'srv/Dockerfile':
                    'FROM python:3.9\nRUN pip install mlflow==1.27.0\nCMD ["mlflow", "server", "--host", "0.0.0.0"]\n',
            },
        );
        assert.equal(config?.host, '0.0.0.0');
        assert.equal(config?.keys.host, undefined);
        assert.deepEqual(config?.declaredVersion, {
            version: '1.27.0',
            file: 'srv/Dockerfile',
            key: 'RUN',
            line: 2,
        });
    });

    void test('reads the shared cases C03 and C04 servers', async () => {
        for (const [name, version, destination] of [
            ['C03-minio-init-race', '2.14.1', 's3://mlflow/'],
            ['C04-db-not-ready', '2.9.2', '/mlartifacts'],
        ] as const) {
            const { project } = await loadComposeProject(path.join(casesFolder(), name), {
                env: {},
            });
            assert.ok(project);
            const configs = findServerConfigs(project);
            assert.deepEqual(
                configs.map((c) => [
                    c.service,
                    c.host,
                    c.port,
                    c.artifactsDestination,
                    c.declaredVersion?.version,
                ]),
                [['mlflow', '0.0.0.0', 5000, destination, version]],
                name,
            );
        }
    });
});
