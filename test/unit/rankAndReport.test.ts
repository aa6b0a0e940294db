import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Finding } from '../../src/core/model.js';
import { rankFindings } from '../../src/core/rank.js';
import { renderText, reportJson } from '../../src/core/report.js';
import { parseArgs } from '../../src/cli/args.js';

function f(kind: Finding['kind'], subject: string, extra: Partial<Finding> = {}): Finding {
    return {
        id: `${kind}:${subject}`,
        kind,
        severity: 'error',
        title: `${kind} ${subject}`,
        evidence: [],
        fix: 'fix it',
        locations: [],
        ...extra,
    };
}

describe('ranking', () => {
    test('puts the cause first and its consequence right after it', () => {
        const ranked = rankFindings([
            f('server-error', 'mlflow:runs', { service: 'mlflow' }),
            f('filestore-corrupt', 'mlruns/1/abc/meta.yaml', { evidence: ['no run_uuid'] }),
            f('version-mismatch', 'mlflow:3.17.2', {
                title: 'MLflow 3.17.2 client against a 2.22.0 server',
            }),
        ]);
        assert.deepEqual(
            ranked.map((x) => [x.kind, x.rootCause]),
            [
                ['version-mismatch', true],
                ['filestore-corrupt', false],
                ['server-error', false],
            ],
        );
        assert.deepEqual(ranked[0]?.causes, ['filestore-corrupt:mlruns/1/abc/meta.yaml']);
    });

    test('raises a warning-level cause to the severity of the outage it explains', () => {
        const ranked = rankFindings([
            f('startup-order', 'notebook', { severity: 'warning', service: 'notebook' }),
            f('server-unreachable', 'notebook:client-refused', { service: 'notebook' }),
        ]);
        assert.equal(ranked[0]?.kind, 'startup-order');
        assert.equal(ranked[0]?.severity, 'error');
    });

    test('links only findings of the same service where the rule says so', () => {
        const ranked = rankFindings([
            f('container-state', 'db', { service: 'db' }),
            f('server-unreachable', 'mlflow:transport', { service: 'mlflow' }),
        ]);
        assert.ok(ranked.every((x) => x.rootCause));
    });
});

describe('report', () => {
    test('prints the root cause first with its chain', () => {
        const ranked = rankFindings([
            f('server-unreachable', 'mlflow:transport', { service: 'mlflow' }),
            f('server-binding', 'mlflow', {
                service: 'mlflow',
                locations: [
                    {
                        file: 'compose.yaml',
                        line: 4,
                        column: 14,
                        endLine: 4,
                        endColumn: 30,
                        key: 'services.mlflow.command',
                    },
                ],
            }),
        ]);
        const text = renderText({ folder: '/p', project: 'p', findings: ranked, probes: [] });
        const binding = text.indexOf('server-binding');
        const unreachable = text.indexOf('server-unreachable');
        assert.ok(binding > 0 && unreachable > binding, text);
        assert.match(text, /at compose\.yaml:4:14 \(services\.mlflow\.command\)/);
        assert.match(text, /which causes/);
    });

    test('writes the documented JSON shape', () => {
        const json = JSON.parse(
            reportJson({
                folder: '/p',
                findings: [
                    f('auth', 'x', {
                        severity: 'info',
                        locations: [{ file: 'a', line: 1, column: 2, endLine: 1, endColumn: 3 }],
                    }),
                ],
                probes: [],
            }),
        ) as { findings: Record<string, unknown>[] };
        const [one] = json.findings;
        assert.deepEqual(Object.keys(one ?? {}).sort(), [
            'evidence',
            'fix',
            'id',
            'kind',
            'locations',
            'rootCause',
            'severity',
            'title',
        ]);
    });
});

describe('command line', () => {
    test('reads a folder and options in any order', () => {
        const args = parseArgs(['diagnose', '--json', 'stack', '--timeout', '2500', '--no-write']);
        assert.equal(args.command, 'diagnose');
        assert.equal(args.folder, 'stack');
        assert.equal(args.format, 'json');
        assert.equal(args.options.timeoutMs, 2500);
        assert.equal(args.options.allowWrites, false);
    });

    test('treats a bare folder as diagnose', () => {
        assert.equal(parseArgs(['./x']).command, 'diagnose');
    });

    test('rejects unknown options and a missing value with a message', () => {
        assert.throws(() => parseArgs(['diagnose', '--nope']), /unknown option --nope/);
        assert.throws(() => parseArgs(['diagnose', '--timeout']), /--timeout needs a value/);
        assert.throws(() => parseArgs(['diagnose', 'a', 'b']), /one folder only/);
        assert.throws(() => parseArgs(['diagnose', '--json', '--markdown']), /cannot be combined/);
        assert.throws(
            () => parseArgs(['diagnose', '--tracking-uri', 'notaurl']),
            /--tracking-uri needs an http\(s\) URL/,
        );
        assert.equal(
            parseArgs(['diagnose', '--tracking-uri', 'http://127.0.0.1:5000']).options.trackingUri,
            'http://127.0.0.1:5000',
        );
    });
});
