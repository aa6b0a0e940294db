import fc from 'fast-check';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import type { Finding } from '../../src/core/model.js';
import {
    openingKind,
    looksLikeText,
    SNIFF_BYTES,
} from '../../src/extension/explorer/artifactOpening.js';
import {
    artifactName,
    artifactUriParts,
    parseArtifactUri,
    type ArtifactAddress,
} from '../../src/extension/explorer/artifactUri.js';
import {
    parseStoredAuth,
    secretKeyOf,
    ServerCredentials,
} from '../../src/extension/explorer/credentialStore.js';
import { explorerCsp, explorerHtml, newNonce } from '../../src/extension/explorer/explorerHtml.js';
import {
    CREDENTIALS_NOTICE,
    ExplorerMessages,
    type ExplorerMessageHandlers,
} from '../../src/extension/explorer/explorerMessages.js';
import {
    cleanServerUrl,
    explorerServers,
    serverKeyOf,
} from '../../src/extension/explorer/explorerServers.js';
import { openExplorerArgs } from '../../src/extension/explorer/explorerArgs.js';
import { runsOfFinding } from '../../src/extension/explorer/findingRuns.js';
import { buildStackTree, type StackNode } from '../../src/extension/stackModel.js';
import type { HostMessage } from '../../webview/protocol.js';
import { emptySnapshot, probe, serverConfig, withCompose, service } from '../support/snapshots.js';
import { checkProperty } from './fuzzSupport.js';

const RUN = '0a1b2c3d4e5f60718293a4b5c6d7e8f9';
const OTHER_RUN = 'ffeeddccbbaa99887766554433221100';
const CSP_SOURCE = 'https://file+.vscode-resource.vscode-cdn.net';

describe('the explorer page', () => {
    const page = () =>
        explorerHtml({
            cspSource: CSP_SOURCE,
            nonce: newNonce(),
            scriptUri: `${CSP_SOURCE}/ext/dist/webview.js`,
            styleUri: `${CSP_SOURCE}/ext/dist/webview.css`,
        });

    test('puts the same fresh nonce on the policy, the script and the stylesheet', () => {
        const html = page();
        const nonce = /script-src 'nonce-([^']+)'/.exec(html)?.[1];
        assert.ok(nonce && nonce.length >= 22, 'a nonce of at least 128 bits');
        assert.ok(
            html.includes(`<script nonce="${nonce}" src="${CSP_SOURCE}/ext/dist/webview.js">`),
        );
        assert.ok(
            html.includes(
                `<link rel="stylesheet" nonce="${nonce}" href="${CSP_SOURCE}/ext/dist/webview.css">`,
            ),
        );
        assert.ok(html.includes('<div id="app"></div>'));
        const second = /script-src 'nonce-([^']+)'/.exec(page())?.[1];
        assert.notEqual(second, nonce, 'every render has its own nonce');
    });

    test('allows no inline script, no eval and nothing from elsewhere', () => {
        const csp = explorerCsp(CSP_SOURCE, 'abc');
        assert.equal(
            csp,
            `default-src 'none'; script-src 'nonce-abc'; style-src ${CSP_SOURCE} 'nonce-abc'; img-src ${CSP_SOURCE} data:; font-src ${CSP_SOURCE}`,
        );
        assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*|https?:\/\/(?!file\+)/);
        const html = page();
        // The one script element loads a file; no inline script, no inline handlers.
        assert.equal(html.match(/<script/g)?.length, 1);
        assert.match(html, /<script nonce="[^"]+" src="[^"]+"><\/script>/);
        assert.doesNotMatch(html, /\son[a-z]+=/i);
    });
});

describe('artifact URIs', () => {
    test('round-trips owners and paths, the file name last', () => {
        const address: ArtifactAddress = {
            serverKey: 'a1b2c3',
            owner: { kind: 'run', runId: RUN },
            path: 'plots/loss curve.png',
        };
        const parts = artifactUriParts(address);
        assert.deepEqual(parts, { authority: 'a1b2c3', path: `/run/${RUN}/plots/loss curve.png` });
        assert.deepEqual(parseArtifactUri(parts.authority, parts.path), { ok: true, address });
        assert.equal(artifactName(address), 'loss curve.png');
        const root: ArtifactAddress = {
            serverKey: 'k',
            owner: { kind: 'model', modelId: 'm-1f' },
            path: '',
        };
        assert.deepEqual(artifactUriParts(root), { authority: 'k', path: '/model/m-1f' });
        assert.deepEqual(parseArtifactUri('k', '/model/m-1f'), { ok: true, address: root });
        assert.deepEqual(parseArtifactUri('k', '/model/m-1f/'), { ok: true, address: root });
    });

    test('round-trips hostile names through the URI and its percent-encoded string form', async () => {
        const segment = fc
            .string({ minLength: 1, maxLength: 40, unit: 'grapheme' })
            .filter((s) => !s.includes('/') && s !== '.' && s !== '..');
        const hostile = fc.constantFrom(
            '<script>alert(1)</script>',
            '" onmouseover="alert(1)',
            'javascript:alert(1)',
            '%2e%2e',
            '\u202egnp.exe',
            'a#b?c=d&e',
            '💥 résumé',
            'x'.repeat(200),
        );
        await checkProperty(
            fc.property(
                fc.array(fc.oneof(segment, hostile), { minLength: 1, maxLength: 5 }),
                (segments) => {
                    const path = segments.join('/');
                    const address: ArtifactAddress = {
                        serverKey: 'k1',
                        owner: { kind: 'run', runId: RUN },
                        path,
                    };
                    const parts = artifactUriParts(address);
                    const parsed = parseArtifactUri(parts.authority, parts.path);
                    // eslint-disable-next-line no-control-regex
                    if (/[\u0000-\u001f\u007f\\]/.test(path) || segments.some((s) => s === '')) {
                        assert.equal(parsed.ok, false);
                        return;
                    }
                    assert.deepEqual(parsed, { ok: true, address });
                    // What vscode.Uri.toString does to a path: each segment percent-encoded.
                    const encoded = parts.path.split('/').map(encodeURIComponent).join('/');
                    const decoded = new URL(
                        `mlflow-artifact://${parts.authority}${encoded}`,
                    ).pathname
                        .split('/')
                        .map(decodeURIComponent)
                        .join('/');
                    assert.deepEqual(parseArtifactUri(parts.authority, decoded), {
                        ok: true,
                        address,
                    });
                    assert.equal(artifactName(address), path.split('/').at(-1));
                },
            ),
            { numRuns: 500, timeLimitMs: 5000 },
        );
    });

    test('refuses traversal, unknown owners and ids that are not MLflow ids', () => {
        for (const [authority, path] of [
            ['k', `/run/${RUN}/../x`],
            ['k', `/run/${RUN}/a/../../b`],
            ['k', `/run/${RUN}/./a`],
            ['k', `/run/${RUN}/a//b`],
            ['k', `/run/${RUN}/a\\..\\b`],
            ['k', `/run/${RUN}/a\u0000`],
            ['k', '/run/../etc/passwd'],
            ['k', '/experiment/1/x'],
            ['k', '/run'],
            ['k', '/'],
            ['', `/run/${RUN}/a`],
            ['user:pw@host', `/run/${RUN}/a`],
        ] as const) {
            assert.equal(parseArtifactUri(authority, path).ok, false, `${authority} ${path}`);
        }
    });
});

function finding(extra: Partial<Finding>): Finding {
    return {
        id: 'f',
        kind: 'filestore-corrupt',
        severity: 'error',
        title: 't',
        evidence: [],
        fix: 'f',
        locations: [],
        ...extra,
    };
}

function at(file: string) {
    return { file, line: 1, column: 1, endLine: 1, endColumn: 1 };
}

describe('runs a finding names', () => {
    test('finds the run and its experiment in a FileStore meta.yaml location', () => {
        assert.deepEqual(runsOfFinding(finding({ locations: [at(`mlruns/1/${RUN}/meta.yaml`)] })), [
            { runId: RUN, experimentId: '1' },
        ]);
        assert.deepEqual(
            runsOfFinding(
                finding({ locations: [at(`data\\mlruns\\12\\${RUN}\\artifacts\\x.txt`)] }),
            ),
            [{ runId: RUN, experimentId: '12' }],
        );
    });

    test('finds run ids quoted in evidence, once each, lower-cased', () => {
        const runs = runsOfFinding(
            finding({
                kind: 'mount-path',
                evidence: [
                    `run ${OTHER_RUN} has artifact_uri /mlflow/artifacts/1/${OTHER_RUN}/artifacts`,
                    `run_id: ${RUN.toUpperCase()}`,
                ],
                locations: [at(`mlruns/3/${RUN}/meta.yaml`)],
            }),
        );
        assert.deepEqual(runs, [{ runId: RUN, experimentId: '3' }, { runId: OTHER_RUN }]);
    });

    test('finds nothing in a finding about compose files or in hex that is not a run', () => {
        assert.deepEqual(
            runsOfFinding(
                finding({
                    kind: 'startup-order',
                    evidence: [`image sha256:${RUN}${RUN}`, `container ${RUN}`],
                    locations: [
                        at('compose.yaml'),
                        at(`mlruns/1/meta.yaml`),
                        at(`mlruns/x/${RUN}/meta.yaml`),
                    ],
                }),
            ),
            [],
        );
    });
});

describe('the servers the explorer offers', () => {
    test('lists answering servers first, one entry per URL, keys that are not URLs', () => {
        const snapshot = {
            ...emptySnapshot(),
            servers: [
                probe({
                    baseUrl: 'http://127.0.0.1:5001',
                    origin: 'client-uri',
                    service: undefined,
                }),
                probe({ baseUrl: 'http://127.0.0.1:5000/', serverVersion: '3.17.2' }),
                probe({
                    baseUrl: 'http://127.0.0.1:5000',
                    origin: 'client-uri',
                    service: undefined,
                }),
            ],
        };
        const servers = explorerServers(snapshot, 'http://admin:s3cret@localhost:5002/');
        assert.deepEqual(
            servers.map((s) => [s.url, s.origin, s.version]),
            [
                ['http://127.0.0.1:5000', 'compose service "mlflow"', '3.17.2'],
                ['http://127.0.0.1:5001', 'client tracking URI', undefined],
                ['http://localhost:5002', 'setting', undefined],
            ],
        );
        for (const server of servers) {
            assert.match(server.key, /^[0-9a-f]{24}$/);
            assert.equal(server.key, serverKeyOf(server.url));
            assert.doesNotMatch(server.url, /s3cret|admin/);
        }
        assert.equal(servers[2]?.connectUrl, 'http://admin:s3cret@localhost:5002/');
    });

    test('ignores tracking URIs that are not http(s) servers', () => {
        assert.deepEqual(explorerServers(undefined, 'file:///mlruns'), []);
        assert.deepEqual(explorerServers(undefined, 'databricks'), []);
        assert.equal(cleanServerUrl('https://h/mlflow/?x=1#y'), 'https://h/mlflow');
    });
});

describe('how an artifact opens', () => {
    test('by name: images, notebooks, text and known binaries', () => {
        assert.equal(openingKind('confusion.PNG'), 'image');
        assert.equal(openingKind('plot.svg'), 'image');
        assert.equal(openingKind('analysis.ipynb'), 'notebook');
        assert.equal(openingKind('MLmodel'), 'text');
        assert.equal(openingKind('requirements.txt'), 'text');
        assert.equal(openingKind('conda.yaml'), 'text');
        assert.equal(openingKind('model.pkl'), 'download');
        assert.equal(
            openingKind('weights.safetensors', new TextEncoder().encode('plain')),
            'download',
        );
    });

    test('by the first bytes when the name does not say: a NUL means binary', () => {
        assert.equal(openingKind('notes', new TextEncoder().encode('hello\nworld')), 'text');
        assert.equal(
            openingKind('blob', Uint8Array.from([0x50, 0x4b, 0x03, 0x04, 0x00])),
            'download',
        );
        assert.equal(openingKind('unknown'), 'download');
        const late = new Uint8Array(SNIFF_BYTES + 10).fill(0x41);
        late[SNIFF_BYTES + 5] = 0;
        assert.equal(looksLikeText(late), true, 'only the first 8 KiB count');
    });
});

describe('stored credentials', () => {
    test('round-trip basic auth and tokens under a key per server URL', async () => {
        const store = new Map<string, string>();
        const secrets = {
            get: (key: string) => Promise.resolve(store.get(key)),
            store: (key: string, value: string) => done(store.set(key, value)),
            delete: (key: string) => done(store.delete(key)),
        };
        const credentials = new ServerCredentials(secrets);
        await credentials.set('http://127.0.0.1:5000', { username: 'admin', password: 'pw' });
        await credentials.set('http://127.0.0.1:5001', { token: 'tok' });
        assert.deepEqual(await credentials.get('http://127.0.0.1:5000'), {
            username: 'admin',
            password: 'pw',
        });
        assert.deepEqual(await credentials.get('http://127.0.0.1:5001'), { token: 'tok' });
        assert.deepEqual(
            [...store.keys()],
            [secretKeyOf('http://127.0.0.1:5000'), secretKeyOf('http://127.0.0.1:5001')],
        );
        await credentials.forget('http://127.0.0.1:5000');
        assert.equal(await credentials.get('http://127.0.0.1:5000'), undefined);
    });

    test('treats a damaged entry as no credentials', () => {
        for (const text of [
            undefined,
            '',
            '{',
            'null',
            '[]',
            '{"token":""}',
            '{"username":"a"}',
            '{"token":5}',
        ]) {
            assert.equal(parseStoredAuth(text), undefined, String(text));
        }
    });
});

interface Recorder {
    posted: HostMessage[];
    logged: string[];
    calls: string[];
    handlers: ExplorerMessageHandlers;
}

/** A handler's promise that has nothing to wait for. */
function done(_value: unknown): Promise<void> {
    return Promise.resolve();
}

function recorder(overrides: Partial<ExplorerMessageHandlers> = {}): Recorder {
    const posted: HostMessage[] = [];
    const logged: string[] = [];
    const calls: string[] = [];
    const handlers: ExplorerMessageHandlers = {
        post: (message) => posted.push(message),
        ready: () => done(calls.push('ready')),
        request: (method, params) => {
            calls.push(`${method} ${JSON.stringify(params)}`);
            return Promise.resolve({ items: [] } as never);
        },
        openArtifact: (owner, path) => done(calls.push(`open ${JSON.stringify(owner)} ${path}`)),
        downloadArtifact: (_owner, path) => done(calls.push(`download ${path}`)),
        selectServer: (key) => done(calls.push(`select ${key}`)),
        copyText: (text) => done(calls.push(`copy ${text}`)),
        toErrorInfo: (error) => {
            const status = (error as { status?: number }).status;
            return {
                message: String((error as Error).message),
                kind: 'http',
                ...(status ? { status } : {}),
            };
        },
        debug: (line) => logged.push(line),
        ...overrides,
    };
    return { posted, logged, calls, handlers };
}

describe('the explorer host answering its webview', () => {
    test('routes a valid request and answers with its result under the same id', async () => {
        const r = recorder();
        const messages = new ExplorerMessages(r.handlers);
        await messages.receive({ type: 'ready', protocol: 1 });
        await messages.receive({
            type: 'request',
            id: 7,
            method: 'listExperiments',
            params: { view: 'active' },
        });
        assert.deepEqual(r.calls, ['ready', 'listExperiments {"view":"active"}']);
        assert.deepEqual(r.posted, [{ type: 'response', id: 7, ok: true, result: { items: [] } }]);
    });

    test('answers an invalid request with an error, and logs its type without its content', async () => {
        const r = recorder();
        const messages = new ExplorerMessages(r.handlers);
        const secret = 'hunter2-<script>';
        await messages.receive({
            type: 'request',
            id: 3,
            method: 'getRun',
            params: { runId: `../${secret}` },
        });
        await messages.receive({ type: 'bogus', id: 4, payload: secret });
        await messages.receive('not even an object');
        await messages.receive({ type: 'request', id: -1, method: 'nope' });
        assert.equal(r.calls.length, 0, 'nothing invalid reaches a handler');
        assert.deepEqual(
            r.posted.map((m) =>
                m.type === 'response' ? [m.id, m.ok, m.ok ? '' : m.error.kind] : m.type,
            ),
            [
                [3, false, 'invalid'],
                [4, false, 'invalid'],
            ],
        );
        assert.equal(r.logged.length, 4);
        for (const line of r.logged) assert.ok(!line.includes('hunter2'), line);
        assert.match(r.logged[1] ?? '', /refused a "bogus" message/);
    });

    test('answers a failed request with its error, and a 401 with a notice to set credentials', async () => {
        const r = recorder({
            request: () =>
                Promise.reject(
                    Object.assign(new Error('HTTP 401 from the server'), { status: 401 }),
                ),
        });
        const messages = new ExplorerMessages(r.handlers);
        await messages.receive({
            type: 'request',
            id: 1,
            method: 'getRun',
            params: { runId: RUN },
        });
        assert.deepEqual(r.posted, [
            {
                type: 'response',
                id: 1,
                ok: false,
                error: { message: 'HTTP 401 from the server', kind: 'http', status: 401 },
            },
            { type: 'notice', level: 'warning', message: CREDENTIALS_NOTICE },
        ]);
    });

    test('turns a failing handler into a notice instead of throwing', async () => {
        const r = recorder({
            openArtifact: () => Promise.reject(new Error('the artifact is gone')),
            toErrorInfo: () => {
                throw new Error('the engine failed too');
            },
        });
        const messages = new ExplorerMessages(r.handlers);
        await messages.receive({
            type: 'openArtifact',
            owner: { kind: 'run', runId: RUN },
            path: 'a.txt',
        });
        assert.deepEqual(r.posted, [
            { type: 'notice', level: 'error', message: 'the artifact is gone' },
        ]);
    });

    test('drops requests of a disposed panel and answers nothing that finishes after it closed', async () => {
        let finish: (value: never) => void = () => undefined;
        const r = recorder({
            request: () => new Promise((resolve) => (finish = resolve)),
        });
        const messages = new ExplorerMessages(r.handlers);
        const pending = messages.receive({
            type: 'request',
            id: 1,
            method: 'getRun',
            params: { runId: RUN },
        });
        messages.dispose();
        finish({} as never);
        await pending;
        await messages.receive({ type: 'ready', protocol: 1 });
        await messages.receive({ type: 'request', id: 2, method: 'getRun', params: 'bad' });
        assert.deepEqual(r.posted, []);
        assert.deepEqual(r.calls, []);
    });
});

describe('the Stack view entry points into the explorer', () => {
    const all = (nodes: StackNode[]): StackNode[] =>
        nodes.flatMap((n) => [n, ...all(n.children ?? [])]);

    test('marks findings that name a run, and gives the server node its URL', () => {
        const snapshot = {
            ...withCompose(emptySnapshot(), [service('mlflow')]),
            serverConfigs: [serverConfig()],
            servers: [probe({ serverVersion: '3.17.2' })],
        };
        const corrupt = finding({
            id: 'corrupt',
            service: 'mlflow',
            locations: [at(`mlruns/1/${RUN}/meta.yaml`)],
        });
        const order = finding({
            id: 'order',
            kind: 'startup-order',
            service: 'mlflow',
            locations: [at('compose.yaml')],
        });
        const nodes = all(
            buildStackTree({
                snapshot,
                report: {
                    folder: snapshot.folder,
                    findings: [corrupt, order],
                    probes: [],
                },
            }),
        );
        assert.equal(
            nodes.find((n) => n.findingId === 'corrupt')?.contextValue,
            'finding-with-run',
        );
        assert.equal(nodes.find((n) => n.findingId === 'order')?.contextValue, 'finding');
        const server = nodes.find((n) => n.contextValue === 'mlflow-server');
        assert.equal(server?.serverUrl, 'http://127.0.0.1:5000');
    });
});

describe('what Open MLflow Explorer is asked to show', () => {
    test('takes MLflow ids from a caller and ignores anything else', () => {
        assert.deepEqual(openExplorerArgs(undefined), {});
        assert.deepEqual(openExplorerArgs('run'), {});
        assert.deepEqual(openExplorerArgs({ runId: RUN, experimentId: '3', serverKey: 'abc' }), {
            serverKey: 'abc',
            focus: { runId: RUN, experimentId: '3' },
        });
        assert.deepEqual(
            openExplorerArgs({ runId: '<script>', experimentId: 3, serverKey: '../x y' }),
            {},
        );
    });

    test('takes the server of a Stack view node from its URL', () => {
        const node = {
            id: 'service:mlflow:mlflow',
            label: 'MLflow server',
            serverUrl: 'http://127.0.0.1:5000/',
        };
        assert.deepEqual(openExplorerArgs(node), {
            serverKey: serverKeyOf('http://127.0.0.1:5000'),
        });
    });
});
