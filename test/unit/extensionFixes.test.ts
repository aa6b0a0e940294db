import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import type { Finding, FixEdit } from '../../src/core/model.js';
import { backupPath, fixPlans, overlapping } from '../../src/extension/fixPlans.js';

function edit(
    label: string,
    line: number,
    column = 1,
    endColumn = column,
    file = 'compose.yaml',
): FixEdit {
    return {
        file,
        range: { file, line, column, endLine: line, endColumn },
        newText: 'x',
        label,
    };
}

function finding(kind: Finding['kind'], edits: FixEdit[]): Finding {
    return {
        id: `${kind}:subject`,
        kind,
        severity: 'warning',
        title: 't',
        evidence: [],
        fix: 'f',
        locations: [],
        edits,
    };
}

describe('quick fix plans', () => {
    test('offers the healthcheck and the service_healthy condition together, preferred, and each alone', () => {
        const plans = fixPlans(
            finding('startup-order', [
                edit('Add a healthcheck to "mlflow"', 16, 25),
                edit('Wait for "mlflow" with condition: service_healthy', 25, 5, 15),
            ]),
        );
        assert.deepEqual(
            plans.map((p) => [p.title, p.edits.length, p.preferred]),
            [
                [
                    'Apply all 2 fixes: add a healthcheck to "mlflow"; wait for "mlflow" with condition: service_healthy',
                    2,
                    true,
                ],
                ['Add a healthcheck to "mlflow"', 1, false],
                ['Wait for "mlflow" with condition: service_healthy', 1, false],
            ],
        );
    });

    test('keeps the two sides of a version mismatch as alternatives, never applied together', () => {
        const plans = fixPlans(
            finding('version-mismatch', [
                edit('Pin the client to mlflow==2.22.0', 1, 1, 15, 'requirements.txt'),
                edit('Run the server at MLflow 3.17.2', 8, 12, 41),
            ]),
        );
        assert.deepEqual(
            plans.map((p) => p.title),
            ['Pin the client to mlflow==2.22.0', 'Run the server at MLflow 3.17.2'],
        );
        assert.ok(plans.every((p) => !p.preferred && p.edits.length === 1));
    });

    test('a single fix is the preferred one', () => {
        const [plan, ...rest] = fixPlans(
            finding('server-binding', [edit('Add --host 0.0.0.0', 5)]),
        );
        assert.equal(rest.length, 0);
        assert.equal(plan?.preferred, true);
        assert.deepEqual(plan?.backups, []);
    });

    test('edits with one label are one fix; a backup is planned for each file backed up', () => {
        const files = ['mlruns/1/a/meta.yaml', 'mlruns/1/a/meta.yaml'];
        const plans = fixPlans(
            finding(
                'filestore-corrupt',
                files.map((file, i) => ({
                    ...edit(`Add run_uuid (backs up meta.yaml first)`, i + 2, 1, 1, file),
                    backupOf: file,
                })),
            ),
        );
        assert.equal(plans.length, 1);
        assert.equal(plans[0]?.edits.length, 2);
        assert.deepEqual(plans[0]?.backups, ['mlruns/1/a/meta.yaml']);
    });

    test('edits whose ranges cross are not offered together', () => {
        const crossing = [edit('a', 3, 1, 10), edit('b', 3, 5, 12)];
        assert.equal(overlapping(crossing), true);
        assert.equal(overlapping([edit('a', 3, 1, 5), edit('b', 3, 5, 9)]), false);
        assert.equal(overlapping([edit('a', 3, 1, 10), edit('b', 3, 5, 12, 'other.yaml')]), false);
        const plans = fixPlans(finding('startup-order', crossing));
        assert.deepEqual(
            plans.map((p) => p.title),
            ['a', 'b'],
        );
    });

    test('a finding without edits has no quick fix', () => {
        assert.deepEqual(fixPlans(finding('auth', [])), []);
    });
});

describe('backup paths', () => {
    test('uses <file>.bak, then numbered names, never an existing file', () => {
        const taken = new Set(['m/meta.yaml.bak', 'm/meta.yaml.bak.2']);
        assert.equal(
            backupPath('m/meta.yaml', () => false),
            'm/meta.yaml.bak',
        );
        assert.equal(
            backupPath('m/meta.yaml', (p) => taken.has(p)),
            'm/meta.yaml.bak.3',
        );
    });
});
