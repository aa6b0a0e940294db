import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { iniDatabaseUri } from '../../src/core/checks/basicAuth.js';
import { diagnoseFiles, ofKind } from '../support/workspaceFolder.js';

function stack(image: string, extra = '', command = '--app-name basic-auth'): string {
    return (
        `services:\n  mlflow:\n    image: ${image}\n` +
        `    command: mlflow server --host 0.0.0.0 ${command}\n` +
        '    volumes:\n      - data:/mlflow\n' +
        extra +
        'volumes:\n  data:\n'
    );
}

const SECRET_ENV = '    environment:\n      MLFLOW_FLASK_SERVER_SECRET_KEY: s3cr3t-value\n';

void describe('basic auth', () => {
    void test('names the packaged admin password of the running version', async () => {
        const old = ofKind(
            await diagnoseFiles({ 'compose.yaml': stack('ghcr.io/mlflow/mlflow:v2.19.0') }),
            'auth',
        );
        assert.ok(old.some((f) => f.severity === 'info' && /admin \/ password$/.test(f.title)));
        const newer = ofKind(
            await diagnoseFiles({
                'compose.yaml': stack('ghcr.io/mlflow/mlflow:v2.22.0', SECRET_ENV),
            }),
            'auth',
        );
        const admin = newer.find((f) => f.severity === 'info');
        assert.ok(admin);
        assert.match(admin.title, /password1234/);
        assert.equal(admin.locations[0]?.key, 'services.mlflow.command');
        assert.match(admin.fix, /MLFLOW_AUTH_CONFIG_PATH/);
    });

    void test('warns that the default auth database is off the volume', async () => {
        const findings = ofKind(
            await diagnoseFiles({
                'compose.yaml': stack('ghcr.io/mlflow/mlflow:v2.22.0', SECRET_ENV),
            }),
            'auth',
        );
        const db = findings.find((f) => /basic_auth\.db/.test(f.title));
        assert.ok(db);
        assert.equal(db.severity, 'warning');
        assert.equal(db.locations[0]?.key, 'services.mlflow');
        assert.match(db.fix, /sqlite:\/\/\/\/mlflow\/basic_auth\.db/);
    });

    void test('accepts an auth ini whose database_uri is on the volume', async () => {
        const findings = ofKind(
            await diagnoseFiles({
                'compose.yaml': stack(
                    'ghcr.io/mlflow/mlflow:v2.22.0',
                    '    environment:\n      MLFLOW_FLASK_SERVER_SECRET_KEY: x\n      MLFLOW_AUTH_CONFIG_PATH: /config/auth.ini\n',
                ).replace(
                    '      - data:/mlflow\n',
                    '      - data:/mlflow\n      - ./config:/config:ro\n',
                ),
                'config/auth.ini':
                    '[mlflow]\ndefault_permission = READ\ndatabase_uri = sqlite:////mlflow/basic_auth.db\nadmin_username = admin\nadmin_password = change-me-please\n',
            }),
            'auth',
        );
        assert.deepEqual(
            findings.map((f) => f.title),
            [],
        );
        assert.equal(iniDatabaseUri('database_uri = sqlite:///x.db\n'), 'sqlite:///x.db');
    });

    void test('reports a missing Flask secret key from 2.20.2 without printing other secrets', async () => {
        const findings = ofKind(
            await diagnoseFiles({ 'compose.yaml': stack('ghcr.io/mlflow/mlflow:v2.20.2') }),
            'auth',
        );
        assert.ok(findings.some((f) => f.severity === 'error' && /SECRET_KEY/.test(f.title)));
        const withKey = await diagnoseFiles({
            'compose.yaml': stack('ghcr.io/mlflow/mlflow:v2.20.2', SECRET_ENV),
        });
        const text = JSON.stringify(withKey);
        assert.doesNotMatch(text, /s3cr3t-value/);
        assert.ok(!ofKind(withKey, 'auth').some((f) => /SECRET_KEY/.test(f.title)));
    });

    void test('reports the 3.3.x uvicorn basic-auth bug', async () => {
        const findings = ofKind(
            await diagnoseFiles({
                'compose.yaml': stack('ghcr.io/mlflow/mlflow:v3.3.1', SECRET_ENV),
            }),
            'auth',
        );
        assert.ok(findings.some((f) => f.severity === 'error' && /uvicorn/.test(f.title)));
    });

    void test('masks a tracking password written into client code', async () => {
        const findings = ofKind(
            await diagnoseFiles({
                'train.py':
                    'import os\nimport mlflow\nos.environ["MLFLOW_TRACKING_PASSWORD"] = "hunter22"\nmlflow.set_tracking_uri("http://localhost:5000")\n',
            }),
            'auth',
        );
        const [credential] = findings;
        assert.ok(credential);
        assert.equal(credential.locations[0]?.line, 3);
        assert.doesNotMatch(JSON.stringify(credential), /hunter22/);
        assert.match(credential.evidence[0] ?? '', /h\*\*\*/);
    });
});
