// Path confinement: every traversal attempt is refused by normaliseArtifactPath or confined by
// resolveInside, and legal hostile-looking names pass through unchanged.

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import {
    ArtifactPathError,
    joinArtifactPath,
    normaliseAbsolutePath,
    normaliseArtifactPath,
    resolveInside,
} from '../../src/core/artifacts/artifactPath.js';

const TRAVERSALS = [
    '..',
    '../x',
    '../../etc/passwd',
    'a/../../x',
    'a/b/../../../x',
    'a/..',
    './../x',
    '..\\x',
    'a\\..\\..\\x',
    '/etc/passwd',
    '//etc/passwd',
    '/',
    'C:\\x',
    'C:/x',
    'c:x',
    'a\0b',
    '\0',
    'a/\0/b',
    '%2e%2e/x',
    '%2E%2E/x',
    '..%2fx',
    '..%2Fx',
    'a/..%2f..%2fx',
    '%2e%2e%2fx',
    '%252e%252e/x',
    '%25252e%25252e/x',
    '%2fetc%2fpasswd',
    '..%5cx',
    'a%00b',
    '\u2024\u2024/x',
    '\uff0e\uff0e/x',
    'a/\uff0e\uff0e/\uff0e\uff0e/x',
    'a\uff0fb/\u2025',
    'x'.repeat(5000),
    `${'a'.repeat(300)}/x`,
    'a/\u001b[31m/x',
    'a\u007fb',
    'line\nbreak',
] as const;

void describe('normaliseArtifactPath', () => {
    test(`refuses each of ${TRAVERSALS.length} traversal attempts with an ArtifactPathError`, () => {
        assert.ok(TRAVERSALS.length >= 30);
        for (const attempt of TRAVERSALS) {
            assert.throws(
                () => normaliseArtifactPath(attempt),
                ArtifactPathError,
                `accepted ${JSON.stringify(attempt)}`,
            );
        }
    });

    test('names what is wrong with the path in the error', () => {
        assert.throws(() => normaliseArtifactPath('a/../../x'), /climbs out with "\.\."/);
        assert.throws(() => normaliseArtifactPath('/etc/passwd'), /is absolute/);
        assert.throws(() => normaliseArtifactPath('..%2fx'), /once percent-decoded/);
        assert.throws(() => normaliseArtifactPath('\uff0e\uff0e/x'), /Unicode normalisation/);
    });

    test('collapses empty and dot segments and trailing slashes', () => {
        assert.equal(normaliseArtifactPath(''), '');
        assert.equal(normaliseArtifactPath('.'), '');
        assert.equal(normaliseArtifactPath('./a//b/./c/'), 'a/b/c');
    });

    test('keeps legal hostile names exactly as written', () => {
        const names = [
            '<img src=x onerror=alert(1)>.txt',
            '<script>alert(1)<script>',
            `quote"s and 'apostrophes'.txt`,
            'bidi \u202egnp.exe',
            'spaces  and\ttabs'.replace('\t', ' '),
            'ünïcödé 文件 🚀.bin',
            '%41.txt',
            '100%.txt',
            '..foo',
            'a..b',
            '...',
            '#hash?query&amp.txt',
            'javascript:alert(1)',
        ];
        for (const name of names) {
            assert.equal(normaliseArtifactPath(name), name);
            assert.equal(normaliseArtifactPath(`dir/${name}`), `dir/${name}`);
        }
    });

    test('joins paths and refuses a join that climbs out', () => {
        assert.equal(
            joinArtifactPath('1/abc/artifacts', '', 'notes/a.txt'),
            '1/abc/artifacts/notes/a.txt',
        );
        assert.throws(() => joinArtifactPath('root', '../x'), ArtifactPathError);
    });

    test('checks absolute server paths the same way', () => {
        assert.equal(normaliseAbsolutePath('/mlruns/1/abc/artifacts/'), '/mlruns/1/abc/artifacts');
        assert.throws(() => normaliseAbsolutePath('/mlruns/../etc'), ArtifactPathError);
        assert.throws(() => normaliseAbsolutePath('mlruns/1'), ArtifactPathError);
    });
});

void describe('resolveInside', () => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'sd-artifact-path-'));
    const root = path.join(tmp, 'root');
    const outside = path.join(tmp, 'outside');
    mkdirSync(path.join(root, 'sub'), { recursive: true });
    mkdirSync(outside);
    writeFileSync(path.join(root, 'sub', 'ok.txt'), 'ok');
    writeFileSync(path.join(outside, 'secret.txt'), 'secret');
    symlinkSync(outside, path.join(root, 'escape-dir'));
    symlinkSync(path.join(outside, 'secret.txt'), path.join(root, 'escape-file'));
    symlinkSync('../outside/secret.txt', path.join(root, 'sub', 'relative-escape'));
    symlinkSync(path.join(tmp, 'nowhere'), path.join(root, 'dangling'));
    symlinkSync('ok.txt', path.join(root, 'sub', 'inner-link'));
    symlinkSync(root, path.join(tmp, 'root-link'));
    after(() => rmSync(tmp, { recursive: true, force: true }));

    test('resolves a file inside the root to its real path', () => {
        assert.equal(resolveInside(root, 'sub/ok.txt'), path.join(root, 'sub', 'ok.txt'));
        assert.equal(resolveInside(root, ''), root);
    });

    test('follows a symlink that stays inside the root', () => {
        assert.equal(resolveInside(root, 'sub/inner-link'), path.join(root, 'sub', 'ok.txt'));
    });

    test('refuses symlinks inside the root that point outside it', () => {
        for (const attempt of [
            'escape-dir',
            'escape-dir/secret.txt',
            'escape-file',
            'sub/relative-escape',
            'escape-dir/not-yet-there.txt',
            'dangling',
            'dangling/x',
        ]) {
            assert.throws(() => resolveInside(root, attempt), ArtifactPathError, attempt);
        }
    });

    test('refuses every traversal attempt of the corpus', () => {
        for (const attempt of TRAVERSALS) {
            assert.throws(() => resolveInside(root, attempt), ArtifactPathError, attempt);
        }
    });

    test('confines a path that does not exist yet under its real parent', () => {
        assert.equal(
            resolveInside(root, 'sub/new/file.txt'),
            path.join(root, 'sub', 'new', 'file.txt'),
        );
    });

    test('accepts a root reached through a symlink and answers with real paths', () => {
        assert.equal(
            resolveInside(path.join(tmp, 'root-link'), 'sub/ok.txt'),
            path.join(root, 'sub', 'ok.txt'),
        );
    });

    test('says so when the root itself does not exist', () => {
        assert.throws(() => resolveInside(path.join(tmp, 'missing'), 'a'), /cannot be resolved/);
    });
});
