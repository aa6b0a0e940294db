import assert from 'node:assert/strict';
import { suite, test } from 'mocha';
import * as vscode from 'vscode';

import { RUN_ID } from '../seedWorkspace.js';
import { codeOf, diagnosedApi, file, ourDiagnostics } from './workspace.js';

type Span = [number, number, number, number];
const span = (d: vscode.Diagnostic | undefined): Span | undefined =>
    d && [d.range.start.line, d.range.start.character, d.range.end.line, d.range.end.character];

function find(relative: string, kind: string): vscode.Diagnostic | undefined {
    return ourDiagnostics(file(relative)).find((d) => codeOf(d) === kind);
}

suite('diagnostics in the Problems panel', () => {
    test('puts the seed findings at the exact ranges in compose.yaml', async () => {
        await diagnosedApi();
        // compose.yaml line 8 `image: ghcr.io/mlflow/mlflow:v2.22.0`, line 26 `- mlflow`.
        assert.deepEqual(span(find('compose.yaml', 'version-mismatch')), [7, 4, 7, 40]);
        assert.deepEqual(span(find('compose.yaml', 'startup-order')), [25, 8, 25, 14]);
        assert.deepEqual(span(find('compose.yaml', 'artifact-routing')), [8, 4, 11, 37]);
        assert.equal(
            find('compose.yaml', 'version-mismatch')?.severity,
            vscode.DiagnosticSeverity.Error,
        );
    });

    test('points at the other side of the version mismatch in requirements.txt', async () => {
        await diagnosedApi();
        const onRequirements = find('requirements.txt', 'version-mismatch');
        assert.deepEqual(span(onRequirements), [0, 0, 0, 14]);
        const related = find('compose.yaml', 'version-mismatch')?.relatedInformation ?? [];
        assert.ok(
            related.some(
                (r) =>
                    r.location.uri.path.endsWith('/requirements.txt') &&
                    r.location.range.start.line === 0,
            ),
            related.map((r) => `${r.location.uri.path}: ${r.message}`).join('\n'),
        );
    });

    test('puts a notebook finding on the raw .ipynb line while the notebook is not open', async () => {
        await diagnosedApi();
        const onFile = find('notebooks/train.ipynb', 'artifact-routing');
        assert.deepEqual(span(onFile), [22, 31, 22, 45]);
    });

    test('puts the run_uuid finding on the meta.yaml line', async () => {
        await diagnosedApi();
        assert.deepEqual(span(find(`mlruns/1/${RUN_ID}/meta.yaml`, 'filestore-corrupt'))?.[0], 5);
    });

    test('links each code to its section of the findings page', async () => {
        await diagnosedApi();
        const code = find('compose.yaml', 'startup-order')?.code;
        assert.ok(code && typeof code === 'object');
        assert.match(code.target.path, /\/media\/docs\/findings\.md$/);
        assert.match(code.target.fragment, /^L\d+$/);
        const page = await vscode.workspace.openTextDocument(code.target.with({ fragment: '' }));
        const line = Number(code.target.fragment.slice(1));
        assert.equal(page.lineAt(line - 1).text, '## `startup-order`');
    });
});
