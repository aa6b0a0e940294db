import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
    findWrittenServerConfigs,
    parseDockerBuildLines,
    parseDockerRunLines,
    parsePublish,
} from '../../src/core/mlflow/dockerRunConfig.js';
import { composeProject, service } from '../support/snapshots.js';
import { diagnoseFiles, ofKind } from '../support/workspaceFolder.js';

const DOCKERFILE_UI =
    'FROM python:3.11-slim\nRUN pip install mlflow==2.16.2\nCMD ["mlflow", "ui"]\n';
const RUN_SH =
    '#!/bin/sh\ndocker build -t mlflow-ui .\ndocker run -d --name mlflow-ui -p 5000:5000 mlflow-ui\n';

void describe('docker run and docker build lines', () => {
    void test('reads published ports with host IPs, protocols and ranges', () => {
        assert.deepEqual(parsePublish('5000:5000'), {
            hostPort: 5000,
            containerPort: 5000,
            protocol: 'tcp',
        });
        assert.deepEqual(parsePublish('127.0.0.1:8080:5000/tcp'), {
            hostIp: '127.0.0.1',
            hostPort: 8080,
            containerPort: 5000,
            protocol: 'tcp',
        });
        assert.equal(parsePublish('5000'), undefined);
    });

    void test('reads options, the image and the command of a continued docker run line', () => {
        const [run] = parseDockerRunLines(
            'docker run --rm -it \\\n  -e MLFLOW_HOST=0.0.0.0 --network=ml -v "$PWD/mlruns:/mlruns" \\\n  -p 5001:5000 ghcr.io/mlflow/mlflow:v2.9.2 mlflow server --port 5000\n',
        );
        assert.ok(run);
        assert.equal(run.image, 'ghcr.io/mlflow/mlflow:v2.9.2');
        assert.deepEqual(run.args, ['mlflow', 'server', '--port', '5000']);
        assert.equal(run.env.MLFLOW_HOST, '0.0.0.0');
        assert.equal(run.network, 'ml');
        assert.equal(run.ports[0]?.hostPort, 5001);
        assert.equal(run.range.line, 1);
        assert.equal(run.range.endLine, 3);
    });

    void test('maps docker build tags to the Dockerfile they build', () => {
        assert.deepEqual(
            parseDockerBuildLines('docker build -f server/Dockerfile.mlflow -t srv .', '.'),
            [{ tags: ['srv'], dockerfile: 'server/Dockerfile.mlflow' }],
        );
    });
});

void describe('servers started outside compose', () => {
    void test('finds the server a Dockerfile CMD starts, named and published by the run script', () => {
        const [config] = findWrittenServerConfigs(
            { Dockerfile: DOCKERFILE_UI, 'run.sh': RUN_SH },
            '/ws',
        );
        assert.ok(config);
        assert.equal(config.service, 'mlflow-ui');
        assert.equal(config.host, undefined);
        assert.equal(config.written?.file, 'Dockerfile');
        assert.equal(config.written?.key, 'CMD');
        assert.equal(config.written?.line, 3);
        assert.equal(config.written?.form, 'exec');
        assert.equal(config.written?.runAt?.line, 3);
        assert.deepEqual(config.written?.ports?.[0], {
            hostPort: 5000,
            containerPort: 5000,
            protocol: 'tcp',
        });
        assert.equal(config.declaredVersion?.version, '2.16.2');
    });

    void test('reads a shell-form ENTRYPOINT with options, also inside sh -c', () => {
        const [config] = findWrittenServerConfigs(
            {
                'server/Dockerfile':
                    'FROM ghcr.io/mlflow/mlflow:v2.20.0\nENTRYPOINT ["sh", "-c", "pip install boto3 && mlflow server --host 0.0.0.0 --artifacts-destination s3://b/"]\n',
            },
            '/ws',
        );
        assert.ok(config);
        assert.equal(config.service, 'server');
        assert.equal(config.host, '0.0.0.0');
        assert.equal(config.artifactsDestination, 's3://b/');
        assert.equal(config.written?.key, 'ENTRYPOINT');
        assert.equal(config.declaredVersion?.version, '2.20.0');
    });

    void test('reads a server whose command is on the docker run line itself', () => {
        const [config] = findWrittenServerConfigs(
            {
                'start.sh':
                    'docker run -d -p 8080:5000 ghcr.io/mlflow/mlflow:v2.9.2 mlflow server --host 0.0.0.0 --backend-store-uri postgresql://u:p@db/mlflow\n',
            },
            '/ws',
        );
        assert.ok(config);
        assert.equal(config.service, 'mlflow');
        assert.equal(config.written?.file, 'start.sh');
        assert.match(config.written?.key ?? '', /^docker run -d -p 8080:5000/);
        assert.equal(config.backendStoreUri, 'postgresql://u:p@db/mlflow');
        assert.equal(config.written?.ports?.[0]?.hostPort, 8080);
        assert.equal(config.declaredVersion?.version, '2.9.2');
    });

    void test('leaves Dockerfiles that a compose service builds to the compose reading', () => {
        const compose = composeProject(
            '/ws',
            [service('mlflow', { build: { context: 'mlflow' } })],
            { name: 'ws' },
        );
        const configs = findWrittenServerConfigs(
            { 'mlflow/Dockerfile': DOCKERFILE_UI },
            '/ws',
            compose,
        );
        assert.deepEqual(configs, []);
    });

    void test('never throws on arbitrary script and Dockerfile text', () => {
        const words = fc.constantFrom(
            'docker',
            'run',
            'build',
            '-p',
            '-t',
            'mlflow',
            'server',
            'ui',
            '\\\n',
            '"',
            "'",
            '&&',
            ';',
            'CMD',
            'ENTRYPOINT',
            '[',
            ']',
            '5000:5000',
            '--name',
            'x',
            ' ',
            '\n',
            'sh',
            '-c',
        );
        fc.assert(
            fc.property(
                fc.array(words, { maxLength: 40 }),
                fc.array(words, { maxLength: 40 }),
                (a, b) => {
                    const configs = findWrittenServerConfigs(
                        { 'run.sh': a.join(' '), Dockerfile: b.join(' ') },
                        '/ws',
                    );
                    assert.ok(Array.isArray(configs));
                },
            ),
            { numRuns: 300 },
        );
    });

    void test('ignores Dockerfiles and scripts that start something other than MLflow', () => {
        assert.deepEqual(
            findWrittenServerConfigs(
                {
                    Dockerfile: 'FROM python:3.11\nCMD ["python", "train.py"]\n',
                    'run.sh': 'docker run --rm -p 8888:8888 jupyter/base-notebook\n',
                },
                '/ws',
            ),
            [],
        );
    });
});

void describe('findings on servers started outside compose', () => {
    void test('reports a Dockerfile CMD "mlflow ui" bound to 127.0.0.1 with an edit to its CMD', async () => {
        const findings = await diagnoseFiles({ Dockerfile: DOCKERFILE_UI, 'run.sh': RUN_SH });
        const [binding] = ofKind(findings, 'server-binding');
        assert.ok(binding);
        assert.equal(binding.locations[0]?.file, 'Dockerfile');
        assert.equal(binding.locations[0]?.key, 'CMD');
        assert.equal(binding.locations[0]?.line, 3);
        const edit = binding.edits?.[0];
        assert.equal(edit?.file, 'Dockerfile');
        assert.equal(edit?.newText, ', "--host", "0.0.0.0"');
        assert.equal(edit?.range.line, 3);
        assert.equal(edit?.range.column, 20);
        assert.deepEqual(ofKind(findings, 'port-mapping'), []);
    });

    void test('links the recorded connection reset to the loopback binding', async () => {
        const findings = await diagnoseFiles(
            { Dockerfile: DOCKERFILE_UI, 'run.sh': RUN_SH },
            {
                clientRuns: 'host',
                inspect: {
                    Name: '/mlflow-ui',
                    HostConfig: { PortBindings: { '5000/tcp': [{ HostPort: '5000' }] } },
                },
                logs: { 'mlflow-ui': ['Listening at: http://127.0.0.1:5000 (9)'] },
                http: [
                    {
                        request: 'GET http://127.0.0.1:5000/',
                        status: null,
                        error: 'Connection reset by peer',
                    },
                ],
            },
        );
        const [binding] = ofKind(findings, 'server-binding');
        const [reset] = ofKind(findings, 'server-unreachable');
        assert.ok(binding && reset);
        assert.ok(binding.rootCause);
        assert.deepEqual(reset.causedBy, [binding.id]);
        assert.deepEqual(ofKind(findings, 'port-mapping'), []);
    });

    void test('adds --host to a docker run line that starts the server itself', async () => {
        const findings = await diagnoseFiles({
            'run.sh':
                'docker run -d -p 5000:5000 ghcr.io/mlflow/mlflow:v2.9.2 mlflow server --port 5000\n',
        });
        const [binding] = ofKind(findings, 'server-binding');
        assert.ok(binding);
        assert.equal(binding.locations[0]?.file, 'run.sh');
        assert.equal(binding.edits?.[0]?.newText, ' --host 0.0.0.0');
        assert.equal(binding.edits?.[0]?.range.column, 70);
    });

    void test('reports a host client on a port the docker run line does not publish', async () => {
        const findings = await diagnoseFiles({
            'run.sh':
                'docker run -d -p 5001:5000 ghcr.io/mlflow/mlflow:v2.9.2 mlflow server --host 0.0.0.0\n',
            'train.py': 'import mlflow\nmlflow.set_tracking_uri("http://localhost:5000")\n',
        });
        const [port] = ofKind(findings, 'port-mapping');
        assert.ok(port);
        assert.match(port.title, /5001/);
    });

    void test('points the relative 1.x artifact root at the Dockerfile ENTRYPOINT', async () => {
        const findings = await diagnoseFiles({
            Dockerfile:
                'FROM python:3.9-slim\nRUN pip install mlflow==1.19.0\nENTRYPOINT ["mlflow", "server", "--host", "0.0.0.0"]\n',
            'run.sh': 'docker build -t srv .\ndocker run -d --name srv -p 5000:5000 srv\n',
            'train.py': 'import mlflow\nmlflow.set_tracking_uri("http://localhost:5000")\n',
        });
        const [routing] = ofKind(findings, 'artifact-routing');
        assert.ok(routing);
        assert.equal(routing.locations[0]?.key, 'ENTRYPOINT');
        assert.match(routing.title, /\.\/mlruns/);
        assert.deepEqual(ofKind(findings, 'port-mapping'), []);
    });
});
