import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
    parseNginxConfig,
    readNginxSite,
    selectLocation,
    upstreamPath,
} from '../../src/core/proxy/nginxConfig.js';
import { diagnoseFiles, ofKind } from '../support/workspaceFolder.js';

const COMPOSE = (flags = '', tag = 'v2.9.2') =>
    'services:\n  nginx:\n    image: nginx\n    ports:\n      - "80:80"\n      - "443:443"\n' +
    '    volumes:\n      - ./nginx/default.conf:/etc/nginx/conf.d/default.conf:ro\n' +
    `  mlflow:\n    image: ghcr.io/mlflow/mlflow:${tag}\n    command: mlflow server --host 0.0.0.0 --port 5000${flags}\n`;

const site = (locations: string, listen = 'listen 80;') =>
    `server {\n    ${listen}\n    server_name mlflow.example.org;\n${locations}\n    location / {\n        return 200 "OK";\n    }\n}\n`;

void describe('nginx configuration', () => {
    void test('parses directives, blocks, quoted strings and comments with their lines', () => {
        const { directives, errors } = parseNginxConfig(
            'http {\n  # a comment with { braces }\n  server {\n    return 200 "a ; b";\n  }\n}\n',
        );
        assert.deepEqual(errors, []);
        const server = directives[0]?.children?.[0];
        assert.equal(server?.name, 'server');
        assert.equal(server?.line, 3);
        assert.deepEqual(server?.children?.[0]?.args, ['200', 'a ; b']);
    });

    void test('never throws on arbitrary configuration text', () => {
        fc.assert(
            fc.property(
                fc.string({
                    unit: fc.constantFrom(
                        '{',
                        '}',
                        ';',
                        '"',
                        "'",
                        '#',
                        '\\',
                        '\n',
                        ' ',
                        'location',
                        'server',
                        '=',
                        '/a',
                        'proxy_pass',
                        'http://m:5000/',
                    ),
                    maxLength: 60,
                }),
                (text) => {
                    const site = readNginxSite(text, 'x.conf');
                    for (const server of site.servers) selectLocation(server, '/a/b');
                },
            ),
            { numRuns: 300 },
        );
    });

    void test('reports unbalanced braces instead of failing', () => {
        assert.ok(parseNginxConfig('server {\n  listen 80;\n').errors.length > 0);
        assert.ok(parseNginxConfig('}\n').errors.length > 0);
    });

    void test('selects locations in nginx order: exact, ^~, regex, longest prefix', () => {
        const [server] = readNginxSite(
            'server {\n location = /a { return 200; }\n location ^~ /s/ { return 200; }\n location ~ \\.js$ { return 200; }\n location /s/x/ { return 200; }\n location / { return 200; }\n}\n',
            'x.conf',
        ).servers;
        assert.ok(server);
        assert.equal(selectLocation(server, '/a')?.modifier, '=');
        assert.equal(selectLocation(server, '/a/b')?.path, '/');
        assert.equal(selectLocation(server, '/s/y.js')?.path, '/s/');
        // The longest prefix /s/x/ has no ^~, so the regex still wins.
        assert.equal(selectLocation(server, '/s/x/y.js')?.modifier, '~');
        assert.equal(selectLocation(server, '/s/x/y.css')?.path, '/s/x/');
        assert.equal(selectLocation(server, '/z/y.js')?.modifier, '~');
    });

    void test('rewrites the path like proxy_pass: a URI part replaces the matched prefix', () => {
        const [server] = readNginxSite(
            'server {\n location /mlflow/ { proxy_pass http://m:5000/; }\n location /keep/ { proxy_pass http://m:5000; }\n}\n',
            'x.conf',
        ).servers;
        assert.ok(server);
        const strip = selectLocation(server, '/mlflow/static-files/a.js');
        const keep = selectLocation(server, '/keep/x');
        assert.ok(strip && keep);
        assert.equal(upstreamPath(strip, '/mlflow/static-files/a.js'), '/static-files/a.js');
        assert.equal(upstreamPath(keep, '/keep/x'), '/keep/x');
    });
});

void describe('proxy-path findings', () => {
    void test('reports an exact-match location that cannot serve the UI under a sub-path', async () => {
        const findings = await diagnoseFiles({
            'compose.yaml': COMPOSE(),
            'nginx/default.conf': site(
                '    location = /mlflow {\n        proxy_pass http://mlflow:5000/;\n    }',
            ),
        });
        const [finding] = ofKind(findings, 'proxy-path');
        assert.ok(finding);
        assert.equal(finding.locations[0]?.key, 'location = /mlflow');
        assert.match(finding.fix, /--static-prefix \/mlflow/);
        assert.ok(finding.evidence.some((e) => e.includes('/mlflow/static-files')));
        assert.deepEqual(
            finding.edits?.map((e) => e.newText),
            ['/mlflow/', 'http://mlflow:5000/mlflow/', ' --static-prefix /mlflow'],
        );
    });

    void test('reports a pass-through sub-path location when the server has no static prefix', async () => {
        const [finding] = ofKind(
            await diagnoseFiles({
                'compose.yaml': COMPOSE(),
                'nginx/default.conf': site(
                    '    location /mlflow/ {\n        proxy_pass http://mlflow:5000;\n    }',
                ),
            }),
            'proxy-path',
        );
        assert.ok(finding);
        assert.ok(finding.evidence.some((e) => /reaches MLflow as \/mlflow\/static-files/.test(e)));
    });

    void test('reports a static prefix that the proxy strips off', async () => {
        const [finding] = ofKind(
            await diagnoseFiles({
                'compose.yaml': COMPOSE(' --static-prefix /mlflow'),
                'nginx/default.conf': site(
                    '    location /mlflow/ {\n        proxy_pass http://mlflow:5000/;\n    }',
                ),
            }),
            'proxy-path',
        );
        assert.ok(finding);
        assert.ok(finding.evidence.some((e) => e.includes('serves it at /mlflow/static-files')));
    });

    void test('accepts a prefixed server behind a pass-through location with an /api route', async () => {
        const findings = await diagnoseFiles({
            'compose.yaml': COMPOSE(' --static-prefix /mlflow'),
            'nginx/default.conf': site(
                '    location /mlflow/api/ {\n        proxy_pass http://mlflow:5000/api/;\n    }\n    location /mlflow/ {\n        proxy_pass http://mlflow:5000;\n    }',
            ),
            'train.py':
                'import mlflow\nmlflow.set_tracking_uri("http://mlflow.example.org/mlflow")\n',
        });
        assert.deepEqual(ofKind(findings, 'proxy-path'), []);
    });

    void test('reports REST clients under the prefix when no location sends /api to the root', async () => {
        const [finding] = ofKind(
            await diagnoseFiles({
                'compose.yaml': COMPOSE(' --static-prefix /mlflow'),
                'nginx/default.conf': site(
                    '    location /mlflow/ {\n        proxy_pass http://mlflow:5000;\n    }',
                ),
                'train.py':
                    'import mlflow\nmlflow.set_tracking_uri("http://mlflow.example.org/mlflow")\n',
            }),
            'proxy-path',
        );
        assert.ok(finding);
        assert.ok(finding.evidence.some((e) => /train\.py:2 uses .*\/mlflow\/api\/2\.0/.test(e)));
    });

    void test('leaves a root location that proxies everything alone', async () => {
        const findings = await diagnoseFiles({
            'compose.yaml': COMPOSE(),
            'nginx/default.conf':
                'server {\n  listen 80;\n  location / {\n    proxy_pass http://mlflow:5000;\n  }\n}\n',
        });
        assert.deepEqual(ofKind(findings, 'proxy-path'), []);
    });
});

void describe('tls-mismatch findings', () => {
    void test('reports https:// to the MLflow server itself and offers http://', async () => {
        const [finding] = ofKind(
            await diagnoseFiles({
                'compose.yaml':
                    'services:\n  mlflow:\n    image: ghcr.io/mlflow/mlflow:v2.9.2\n    command: mlflow server --host 0.0.0.0\n    ports:\n      - "5000:5000"\n',
                'train.py': 'import mlflow\nmlflow.set_tracking_uri("https://localhost:5000")\n',
            }),
            'tls-mismatch',
        );
        assert.ok(finding);
        assert.equal(finding.locations[0]?.file, 'train.py');
        assert.equal(finding.edits?.[0]?.newText, 'http://');
    });

    void test('reports https:// to a proxy without listen 443 ssl, and accepts one with it', async () => {
        // Nothing listens on 443 here: no claim either way.
        const noListener = await diagnoseFiles({
            'compose.yaml': COMPOSE(),
            'nginx/default.conf':
                'server {\n  listen 80;\n  server_name mlflow.example.org;\n  location / { proxy_pass http://mlflow:5000; }\n}\n',
            'train.py': 'import mlflow\nmlflow.set_tracking_uri("https://mlflow.example.org")\n',
        });
        assert.deepEqual(ofKind(noListener, 'tls-mismatch'), []);
        const onlyPlain = await diagnoseFiles({
            'compose.yaml': COMPOSE(),
            'nginx/default.conf':
                'server {\n  listen 443;\n  server_name mlflow.example.org;\n  location / { proxy_pass http://mlflow:5000; }\n}\n',
            'train.py': 'import mlflow\nmlflow.set_tracking_uri("https://mlflow.example.org")\n',
        });
        assert.equal(ofKind(onlyPlain, 'tls-mismatch').length, 1);
        const tls = await diagnoseFiles({
            'compose.yaml': COMPOSE(),
            'nginx/default.conf':
                'server {\n  listen 443 ssl;\n  server_name mlflow.example.org;\n  location / { proxy_pass http://mlflow:5000; }\n}\n',
            'train.py': 'import mlflow\nmlflow.set_tracking_uri("https://mlflow.example.org")\n',
        });
        assert.deepEqual(ofKind(tls, 'tls-mismatch'), []);
    });
});
