import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
    basePackagesOf,
    dockerfilePackages,
    hasPackage,
    pipInstallPackages,
} from '../../src/core/mlflow/imagePackages.js';
import { diagnoseFiles, ofKind } from '../support/workspaceFolder.js';

function compose(image: string, command: string, extra = ''): string {
    return `services:\n  mlflow:\n    ${image}\n    command: ${command}\n${extra}`;
}

const PG = '--backend-store-uri postgresql://mlflow:secret@db:5432/mlflow';

void describe('what an image installs', () => {
    void test('expands mlflow extras and normalises names in pip install', () => {
        assert.deepEqual(
            pipInstallPackages([
                'pip',
                'install',
                '--no-cache-dir',
                'mlflow[auth]==2.22.0',
                'Psycopg2_Binary',
            ]),
            ['mlflow', 'flask-wtf', 'psycopg2-binary'],
        );
        assert.equal(pipInstallPackages(['python', 'train.py']), undefined);
    });

    void test('knows the official image has no drivers and -full tags from 3.9.0 have them', () => {
        const plain = basePackagesOf('ghcr.io/mlflow/mlflow:v2.9.2');
        assert.equal(hasPackage({ ...plain, added: [], requirementFiles: [] }, ['psycopg2']), 'no');
        const full = basePackagesOf('ghcr.io/mlflow/mlflow:v3.10.0-full');
        assert.equal(hasPackage({ ...full, added: [], requirementFiles: [] }, ['boto3']), 'yes');
        const unknown = basePackagesOf('example/mlflow-custom:1');
        assert.equal(
            hasPackage({ ...unknown, added: [], requirementFiles: [] }, ['boto3']),
            'unknown',
        );
    });

    void test('reads the final stage of a Dockerfile and its unpinned mlflow installs', () => {
        const facts = dockerfilePackages(
            'FROM python:3.11 AS build\nRUN pip install boto3\nFROM ghcr.io/mlflow/mlflow:v2.22.0\nRUN pip install "mlflow[auth]" psycopg2-binary\n',
        );
        assert.equal(facts.base, 'ghcr.io/mlflow/mlflow:v2.22.0');
        assert.deepEqual(facts.added, ['mlflow', 'flask-wtf', 'psycopg2-binary']);
        assert.deepEqual(facts.unpinnedMlflow, [{ line: 4, word: 'mlflow[auth]' }]);
    });
});

void describe('missing-dependency findings', () => {
    void test('reports a postgresql backend on the plain official image, masking the password', async () => {
        const findings = await diagnoseFiles({
            'compose.yaml': compose(
                'image: ghcr.io/mlflow/mlflow:v2.9.2',
                `mlflow server --host 0.0.0.0 ${PG}`,
            ),
        });
        const [missing] = ofKind(findings, 'missing-dependency');
        assert.ok(missing);
        assert.equal(missing.severity, 'error');
        assert.match(missing.title, /psycopg2-binary/);
        assert.equal(missing.locations[0]?.key, 'services.mlflow.image');
        const text = `${missing.title} ${missing.evidence.join(' ')} ${missing.fix}`;
        assert.doesNotMatch(text, /secret/);
        assert.match(text, /mlflow:\*\*\*@db/);
    });

    void test('stays quiet when the command installs the driver before starting the server', async () => {
        const findings = await diagnoseFiles({
            'compose.yaml': compose(
                'image: ghcr.io/mlflow/mlflow:v2.9.2',
                `sh -c "pip install psycopg2-binary && mlflow server --host 0.0.0.0 ${PG}"`,
            ),
        });
        assert.deepEqual(ofKind(findings, 'missing-dependency'), []);
    });

    void test('stays quiet when the built Dockerfile installs the driver', async () => {
        const findings = await diagnoseFiles({
            'compose.yaml': compose('build: .', `mlflow server --host 0.0.0.0 ${PG}`),
            Dockerfile: 'FROM ghcr.io/mlflow/mlflow:v2.9.2\nRUN pip install psycopg2-binary\n',
        });
        assert.deepEqual(ofKind(findings, 'missing-dependency'), []);
    });

    void test('reports boto3 for an s3 artifact destination and edits the pip line of the Dockerfile', async () => {
        const findings = await diagnoseFiles({
            'compose.yaml': compose(
                'build: .',
                'mlflow server --host 0.0.0.0 --artifacts-destination s3://bucket/',
            ),
            Dockerfile: 'FROM python:3.11-slim\nRUN pip install --no-cache-dir mlflow==2.16.2\n',
        });
        const [missing] = ofKind(findings, 'missing-dependency');
        assert.ok(missing);
        assert.match(missing.title, /boto3/);
        assert.equal(missing.edits?.[0]?.file, 'Dockerfile');
        assert.equal(missing.edits?.[0]?.newText, 'pip install boto3');
    });

    void test('reports Flask-WTF for basic auth on the plain image', async () => {
        const findings = await diagnoseFiles({
            'compose.yaml': compose(
                'image: ghcr.io/mlflow/mlflow:v2.19.0',
                'mlflow server --host 0.0.0.0 --app-name basic-auth',
            ),
        });
        assert.ok(ofKind(findings, 'missing-dependency').some((f) => /Flask-WTF/.test(f.title)));
    });

    void test('offers the -full tag for versioned official images from 3.10.0', async () => {
        const findings = await diagnoseFiles({
            'compose.yaml': compose(
                'image: ghcr.io/mlflow/mlflow:v3.10.0',
                'mlflow server --host 0.0.0.0 --backend-store-uri mysql+pymysql://u:p@db/m',
            ),
        });
        const [missing] = ofKind(findings, 'missing-dependency');
        assert.ok(missing);
        assert.match(missing.title, /PyMySQL/);
        assert.equal(missing.edits?.[0]?.newText, ':v3.10.0-full');
    });

    void test('trusts the container log over an image it knows nothing about', async () => {
        const files = {
            'compose.yaml': compose(
                'image: example/mlflow:1.0',
                `mlflow server --host 0.0.0.0 ${PG}`,
            ),
        };
        assert.deepEqual(ofKind(await diagnoseFiles(files), 'missing-dependency'), []);
        const withLog = await diagnoseFiles(files, {
            containers: [{ service: 'mlflow', state: 'restarting', exitCode: 1 }],
            logs: { mlflow: ["ModuleNotFoundError: No module named 'psycopg2'"] },
        });
        const [missing] = ofKind(withLog, 'missing-dependency');
        assert.ok(missing);
        assert.ok(missing.evidence.some((e) => e.includes("No module named 'psycopg2'")));
    });

    void test('warns about an unpinned mlflow re-install over an MLflow base image', async () => {
        const findings = await diagnoseFiles({
            'compose.yaml': compose('build: .', 'mlflow server --host 0.0.0.0'),
            Dockerfile: 'FROM ghcr.io/mlflow/mlflow:v2.22.0\nRUN pip install "mlflow[auth]"\n',
        });
        const [pin] = ofKind(findings, 'version-mismatch').filter((f) =>
            /re-installs/.test(f.title),
        );
        assert.ok(pin);
        assert.equal(pin.locations[0]?.key, 'RUN');
        assert.equal(pin.edits?.[0]?.newText, 'mlflow[auth]==2.22.0');
    });
});
