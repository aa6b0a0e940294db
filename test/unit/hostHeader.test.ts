import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DEFAULT_ALLOWED_HOSTS, fnmatch, isAllowedHost } from '../../src/core/checks/hostHeader.js';
import { diagnoseFiles, ofKind } from '../support/workspaceFolder.js';

function stack(tag: string, flags: string, extra = ''): string {
    return (
        'services:\n  mlflow:\n' +
        `    image: ghcr.io/mlflow/mlflow:${tag}\n` +
        `    command: mlflow server --host 0.0.0.0 --port 5000 ${flags}\n` +
        '    ports:\n      - "5000:5000"\n' +
        '  trainer:\n    image: python:3.11\n' +
        '    environment:\n      MLFLOW_TRACKING_URI: http://mlflow:5000\n' +
        extra
    );
}

void describe('allowed-hosts matching', () => {
    void test('matches like fnmatch: * spans anything, [!x] negates, case counts', () => {
        assert.ok(fnmatch('mlflow:5000', 'mlflow:*'));
        assert.ok(fnmatch('10.1.2.3:5000', '10.*'));
        assert.ok(fnmatch('[::1]:5000', '[[]::1]:*'));
        assert.ok(!fnmatch('a', '[!a]'));
        assert.ok(!fnmatch('MLFLOW:5000', 'mlflow:*'));
    });

    void test('an entry without * must equal the whole Host, port included', () => {
        assert.ok(!isAllowedHost(['mlflow'], 'mlflow:5000'));
        assert.ok(isAllowedHost(['mlflow', 'mlflow:*'], 'mlflow:5000'));
        assert.ok(isAllowedHost(['*'], 'anything.example.org'));
    });

    void test('the defaults admit loopback and private addresses but not service names', () => {
        assert.ok(isAllowedHost(DEFAULT_ALLOWED_HOSTS, 'localhost:5000'));
        assert.ok(isAllowedHost(DEFAULT_ALLOWED_HOSTS, '172.17.0.2:5000'));
        assert.ok(isAllowedHost(DEFAULT_ALLOWED_HOSTS, '192.168.1.4'));
        assert.ok(!isAllowedHost(DEFAULT_ALLOWED_HOSTS, 'mlflow:5000'));
        assert.ok(!isAllowedHost(DEFAULT_ALLOWED_HOSTS, 'host.docker.internal:5000'));
        assert.ok(!isAllowedHost(DEFAULT_ALLOWED_HOSTS, '172.32.0.1:5000'));
    });
});

void describe('host-header findings from the files', () => {
    void test('reports an allow-list entry without a port and the defaults it drops', async () => {
        const [finding] = ofKind(
            await diagnoseFiles({ 'compose.yaml': stack('v3.5.0', '--allowed-hosts mlflow') }),
            'host-header',
        );
        assert.ok(finding);
        assert.equal(finding.locations[0]?.key, 'services.mlflow.command');
        assert.match(finding.title, /mlflow:5000/);
        assert.match(finding.title, /localhost:5000/);
        assert.match(finding.fix, /mlflow,mlflow:\*,localhost,localhost:\*/);
        assert.equal(
            finding.edits?.[0]?.newText,
            '--allowed-hosts "mlflow,mlflow:*,localhost,localhost:*,127.0.0.1,127.0.0.1:*"',
        );
    });

    void test('reports a service name under the defaults on 3.5+', async () => {
        const [finding] = ofKind(
            await diagnoseFiles({ 'compose.yaml': stack('v3.6.0', '') }),
            'host-header',
        );
        assert.ok(finding);
        assert.match(finding.title, /mlflow:5000/);
        assert.doesNotMatch(finding.title, /localhost/);
        assert.match(finding.edits?.[0]?.newText ?? '', /^ --allowed-hosts "mlflow,mlflow:\*/);
    });

    void test('never flags a server before 3.5, whatever the clients send', async () => {
        const findings = await diagnoseFiles({ 'compose.yaml': stack('v3.4.0', '') });
        assert.deepEqual(ofKind(findings, 'host-header'), []);
    });

    void test('accepts a list that admits every Host clients send, and a disabled middleware', async () => {
        const listed = await diagnoseFiles({
            'compose.yaml': stack('v3.5.0', '--allowed-hosts "mlflow:*,localhost:*"'),
        });
        assert.deepEqual(ofKind(listed, 'host-header'), []);
        const disabled = await diagnoseFiles({
            'compose.yaml': stack('v3.5.0', '--disable-security-middleware'),
        });
        assert.deepEqual(ofKind(disabled, 'host-header'), []);
    });

    void test('reads MLFLOW_SERVER_ALLOWED_HOSTS and edits it in place', async () => {
        const compose = stack('v3.5.0', '').replace(
            '    ports:',
            '    environment:\n      MLFLOW_SERVER_ALLOWED_HOSTS: localhost:*\n    ports:',
        );
        const [finding] = ofKind(await diagnoseFiles({ 'compose.yaml': compose }), 'host-header');
        assert.ok(finding);
        assert.equal(
            finding.locations[0]?.key,
            'services.mlflow.environment.MLFLOW_SERVER_ALLOWED_HOSTS',
        );
        assert.match(finding.edits?.[0]?.newText ?? '', /^localhost:\*,mlflow,mlflow:\*/);
    });

    void test('follows a proxy that forwards the public Host with $host', async () => {
        const compose =
            'services:\n  proxy:\n    image: nginx\n    ports:\n      - "80:80"\n    volumes:\n      - ./nginx.conf:/etc/nginx/conf.d/default.conf:ro\n' +
            '  mlflow:\n    image: ghcr.io/mlflow/mlflow:v3.5.0\n    command: mlflow server --host 0.0.0.0\n';
        const nginx = (host: string) =>
            `server {\n  listen 80;\n  server_name mlflow.example.org;\n  location / {\n    proxy_pass http://mlflow:5000;\n    proxy_set_header Host ${host};\n  }\n}\n`;
        const [viaHost] = ofKind(
            await diagnoseFiles({ 'compose.yaml': compose, 'nginx.conf': nginx('$host') }),
            'host-header',
        );
        assert.ok(viaHost);
        assert.match(viaHost.title, /mlflow\.example\.org/);
        assert.match(viaHost.fix, /--cors-allowed-origins/);
        // nginx's default Host is the proxy_pass host with its port: a service name again.
        const [viaDefault] = ofKind(
            await diagnoseFiles({
                'compose.yaml': compose,
                'nginx.conf': nginx('$host').replace('    proxy_set_header Host $host;\n', ''),
            }),
            'host-header',
        );
        assert.ok(viaDefault);
        assert.match(viaDefault.title, /mlflow:5000/);
    });

    void test('takes recorded 403 answers and log lines as proof when the version is unknown', async () => {
        const compose = stack('latest', '');
        assert.deepEqual(
            ofKind(await diagnoseFiles({ 'compose.yaml': compose }), 'host-header'),
            [],
        );
        const [finding] = ofKind(
            await diagnoseFiles(
                { 'compose.yaml': compose },
                {
                    http: [
                        {
                            request: 'GET /api/2.0/mlflow/experiments/search',
                            host: 'mlflow:5000',
                            status: 403,
                            body: 'Invalid Host header - possible DNS rebinding attack detected',
                        },
                    ],
                },
            ),
            'host-header',
        );
        assert.ok(finding);
        assert.ok(finding.evidence.some((e) => /HTTP 403/.test(e)));
    });
});
