// A suite for checking the harness itself: one test that passes only inside the extension host,
// one that fails on purpose. Bundled next to the harness; the e2e test runs it before the
// extension's own suite, so a broken harness is told apart from a broken extension.
/// <reference types="mocha" />

import assert from 'node:assert/strict';
import * as vscode from 'vscode';

suite('harness fixture', () => {
    test('runs inside the extension host with a workspace open', () => {
        assert.match(vscode.version, /^1\.\d+\.\d+/);
        assert.ok(vscode.workspace.workspaceFolders?.length, 'a folder is open');
    });

    test('reports a failing test as failed', () => {
        assert.fail('failed on purpose');
    });
});
