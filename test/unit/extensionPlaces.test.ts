import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';

import type { Finding } from '../../src/core/model.js';
import {
    cellPosition,
    cellText,
    diagnosticPlans,
    placeRange,
} from '../../src/extension/findingPlaces.js';
import { REPO } from '../support/paths.js';

const NOTEBOOK = 'notebooks/train.ipynb';
const seedNotebook = readFileSync(path.join(REPO, 'examples/seed-stack', NOTEBOOK), 'utf8');

// The seed's notebook sets `file:../mlruns` on raw line 23, columns 32-46, which is line 7 of
// its second cell (index 1), columns 26-40 of `mlflow.set_tracking_uri("file:../mlruns")`.
const uriRange = { file: NOTEBOOK, line: 23, column: 32, endLine: 23, endColumn: 46 };

function finding(extra: Partial<Finding> & Pick<Finding, 'id'>): Finding {
    return {
        kind: 'artifact-routing',
        severity: 'error',
        title: 'a title',
        evidence: [],
        fix: 'a fix',
        locations: [],
        ...extra,
    };
}

describe('finding places', () => {
    test('puts a compose location at its 0-based range with an exclusive end', () => {
        const placed = placeRange(
            { file: 'compose.yaml', line: 8, column: 5, endLine: 8, endColumn: 41 },
            new Map(),
        );
        assert.deepEqual(placed, {
            target: { kind: 'file', file: 'compose.yaml' },
            startLine: 7,
            startCharacter: 4,
            endLine: 7,
            endCharacter: 40,
        });
    });

    test('keeps a notebook location on the .ipynb text while the notebook is not open', () => {
        const placed = placeRange(uriRange, new Map());
        assert.deepEqual(placed.target, { kind: 'file', file: NOTEBOOK });
        assert.equal(placed.startLine, 22);
        assert.equal(placed.startCharacter, 31);
    });

    test('moves a notebook location into the cell that holds it when the notebook is open', () => {
        const placed = placeRange(uriRange, new Map([[NOTEBOOK, seedNotebook]]));
        assert.deepEqual(placed, {
            target: { kind: 'cell', notebook: NOTEBOOK, cell: 1 },
            startLine: 6,
            startCharacter: 25,
            endLine: 6,
            endCharacter: 39,
        });
        const cellLine = 'mlflow.set_tracking_uri("file:../mlruns")';
        assert.equal(cellLine.slice(placed.startCharacter, placed.endCharacter), 'file:../mlruns');
    });

    test('counts escaped characters once when mapping a raw column into a cell', () => {
        const raw = JSON.stringify(
            {
                cells: [
                    { cell_type: 'code', source: ['x = "\tcafé"; uri = "file:/tmp/mlruns"\n'] },
                ],
            },
            null,
            1,
        ).replace('é', '\\u00e9');
        const rawLine = raw.split('\n').findIndex((l) => l.includes('file:/tmp'));
        const rawColumn = (raw.split('\n')[rawLine] ?? '').indexOf('file:/tmp') + 1;
        const at = cellPosition(raw, rawLine + 1, rawColumn);
        const source = 'x = "\tcafé"; uri = "file:/tmp/mlruns"\n';
        assert.deepEqual(at, { cell: 0, line: 1, column: source.indexOf('file:/tmp') + 1 });
    });

    test('leaves a place in a markdown cell on the file: it is in no code cell', () => {
        assert.equal(cellPosition(seedNotebook, 8, 6), undefined);
        const placed = placeRange(
            { file: NOTEBOOK, line: 8, column: 6, endLine: 8, endColumn: 10 },
            new Map([[NOTEBOOK, seedNotebook]]),
        );
        assert.equal(placed.target.kind, 'file');
    });

    test('a notebook that is not JSON keeps its findings on the file', () => {
        const placed = placeRange(uriRange, new Map([[NOTEBOOK, '{"cells": [']]));
        assert.equal(placed.target.kind, 'file');
    });

    test('cell text is the JSON string text decoded', () => {
        assert.equal(cellText('http://localhost:5000'), 'http://localhost:5000');
        assert.equal(cellText('say \\"hi\\"\\n'), 'say "hi"\n');
        assert.equal(cellText('a lone \\ backslash'), 'a lone \\ backslash');
    });
});

describe('diagnostic plans', () => {
    const mismatch = finding({
        id: 'version-mismatch:mlflow:host:3.17.2',
        kind: 'version-mismatch',
        title: 'MLflow 3.17.2 client against a 2.22.0 server',
        rootCause: true,
        causes: ['filestore-corrupt:mlruns/1'],
        locations: [
            {
                file: 'compose.yaml',
                line: 8,
                column: 5,
                endLine: 8,
                endColumn: 41,
                key: 'services.mlflow.image',
            },
            {
                file: 'requirements.txt',
                line: 1,
                column: 1,
                endLine: 1,
                endColumn: 15,
                key: 'mlflow',
            },
        ],
    });
    const corrupt = finding({
        id: 'filestore-corrupt:mlruns/1',
        kind: 'filestore-corrupt',
        severity: 'warning',
        title: 'runs without run_uuid',
        causedBy: [mismatch.id],
        locations: [
            { file: 'mlruns/1/abc/meta.yaml', line: 3, column: 1, endLine: 3, endColumn: 9 },
        ],
    });

    test('gives one diagnostic per location, each pointing at the other side of the mismatch', () => {
        const plans = diagnosticPlans([mismatch, corrupt], new Map());
        const ofMismatch = plans.filter((p) => p.findingId === mismatch.id);
        assert.equal(ofMismatch.length, 2);
        const [onCompose, onRequirements] = ofMismatch;
        assert.deepEqual(onCompose?.related[0]?.place.target, {
            kind: 'file',
            file: 'requirements.txt',
        });
        assert.match(
            onCompose?.related[0]?.message ?? '',
            /Other side: requirements\.txt \(mlflow\)/,
        );
        assert.deepEqual(onRequirements?.related[0]?.place.target, {
            kind: 'file',
            file: 'compose.yaml',
        });
    });

    test('links a consequence to its cause and the cause to its consequence', () => {
        const plans = diagnosticPlans([mismatch, corrupt], new Map());
        const onMeta = plans.find((p) => p.findingId === corrupt.id);
        assert.deepEqual(
            onMeta?.related.map((r) => [r.message, r.place.target]),
            [[`Caused by: ${mismatch.title}`, { kind: 'file', file: 'compose.yaml' }]],
        );
        const onCompose = plans.find((p) => p.findingId === mismatch.id);
        assert.ok(onCompose?.related.some((r) => r.message === `Causes: ${corrupt.title}`));
    });

    test('marks root causes and carries the kind as the code and the fix in the message', () => {
        const [plan] = diagnosticPlans([mismatch], new Map());
        assert.equal(plan?.code, 'version-mismatch');
        assert.equal(plan?.rootCause, true);
        assert.equal(plan?.message, `Root cause: ${mismatch.title}\nFix: a fix`);
        assert.equal(plan?.severity, 'error');
    });

    test('a finding without locations has no diagnostic', () => {
        assert.deepEqual(diagnosticPlans([finding({ id: 'x' })], new Map()), []);
    });
});
