// The webview renders server data as text only. This guard reads every webview source file and
// fails on the DOM sinks that turn a string into markup or code, so a future edit that reaches
// for one has to face this test (and the hostile corpus of the end-to-end suite) first.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { REPO } from '../support/paths.js';

const SINKS: [RegExp, string][] = [
    [/\.innerHTML\b/, 'innerHTML'],
    [/\.outerHTML\b/, 'outerHTML'],
    [/insertAdjacentHTML/, 'insertAdjacentHTML'],
    [/document\.write/, 'document.write'],
    [/unsafeHTML|unsafeSVG/, "lit's unsafe directives"],
    [/\beval\s*\(/, 'eval'],
    [/new\s+Function\s*\(/, 'new Function'],
    [/createContextualFragment|DOMParser/, 'HTML parsing'],
    [/\.(href|src|srcdoc|action|formAction)\s*=/, 'a URL-bearing property'],
    [/setAttribute\(\s*['"](on\w+|href|src|srcdoc|style)['"]/, 'an event or URL attribute'],
    [/setTimeout\(\s*['"`]|setInterval\(\s*['"`]/, 'a string timer'],
];

function sources(dir: string): string[] {
    return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) return sources(full);
        return /\.(ts|js)$/.test(entry.name) ? [full] : [];
    });
}

void test('no webview source uses a sink that turns text into markup, code or a URL', () => {
    const files = sources(path.join(REPO, 'webview'));
    assert.ok(files.length >= 10, `expected the webview's sources, found ${files.length}`);
    const hits: string[] = [];
    for (const file of files) {
        const lines = readFileSync(file, 'utf8').split('\n');
        lines.forEach((line, index) => {
            // Comments may name a sink to explain why it is not used.
            const code = line.replace(/\/\/.*$/, '').replace(/^\s*\*.*$/, '');
            for (const [pattern, name] of SINKS) {
                if (pattern.test(code)) {
                    hits.push(`${path.relative(REPO, file)}:${index + 1}: ${name}`);
                }
            }
        });
    }
    assert.deepEqual(hits, []);
});

void test('the guard itself catches each sink', () => {
    const samples = [
        'el.innerHTML = name;',
        'row.insertAdjacentHTML("beforeend", x);',
        'link.href = run.artifactUri;',
        "node.setAttribute('onclick', code);",
        'eval(text);',
        'render(unsafeHTML(value));',
    ];
    for (const sample of samples) {
        assert.ok(
            SINKS.some(([pattern]) => pattern.test(sample)),
            `no pattern caught: ${sample}`,
        );
    }
});
