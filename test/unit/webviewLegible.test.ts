import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';

import { DISPLAY_LIMIT, TITLE_LIMIT, legible, legibleText } from '../../webview/legible.js';

// Every code point the explorer must never render as is.
const HIDDEN =
    // eslint-disable-next-line no-control-regex
    /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u2069\ufeff\ufff9-\ufffb]|[\u{e0000}-\u{e007f}]/u;

describe('legible', () => {
    test('shows a right-to-left override as a visible marker instead of reordering the text', () => {
        assert.equal(legibleText('invoice\u202Efdp.exe'), 'invoice⟨U+202E⟩fdp.exe');
    });

    test('marks every bidi control, including isolates and the Arabic letter mark', () => {
        for (const code of [
            0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069, 0x200e, 0x200f,
            0x61c,
        ]) {
            const hex = code.toString(16).toUpperCase().padStart(4, '0');
            assert.equal(legibleText(`a${String.fromCodePoint(code)}b`), `a⟨U+${hex}⟩b`);
        }
    });

    test('marks C0 and C1 control characters, newlines and tabs included', () => {
        assert.equal(legibleText('a\nb\tc\u0000d'), 'a⟨U+000A⟩b⟨U+0009⟩c⟨U+0000⟩d');
        assert.equal(legibleText('x\u0085y\u009bz\u007f'), 'x⟨U+0085⟩y⟨U+009B⟩z⟨U+007F⟩');
    });

    test('marks zero-width characters that would hide text', () => {
        assert.equal(legibleText('ad\u200Bmin'), 'ad⟨U+200B⟩min');
        assert.equal(legibleText('\uFEFFkey'), '⟨U+FEFF⟩key');
        assert.equal(legibleText('a\u200Db\u2060c'), 'a⟨U+200D⟩b⟨U+2060⟩c');
    });

    test('marks Unicode tag characters used to smuggle hidden instructions', () => {
        assert.equal(legibleText('ok\u{E0041}\u{E0042}'), 'ok⟨U+E0041⟩⟨U+E0042⟩');
    });

    test('marks a lone surrogate but keeps a real emoji', () => {
        assert.equal(legibleText('a\uD800b'), 'a⟨U+D800⟩b');
        assert.equal(legibleText('run 🚀'), 'run 🚀');
    });

    test('leaves HTML-looking names as plain text for textContent', () => {
        const name = '<img src=x onerror=alert(1)>';
        assert.deepEqual(legible(name), { text: name, title: name, truncated: false });
    });

    test('keeps ordinary text from any script unchanged', () => {
        for (const name of ['accuracy', 'точность', '精度', 'دقة', 'f1 score (macro)']) {
            assert.equal(legibleText(name), name);
        }
    });

    test('cuts a long string with an ellipsis and keeps the whole text in the title', () => {
        const long = 'x'.repeat(500);
        const shown = legible(long, 20);
        assert.equal(shown.text, `${'x'.repeat(19)}…`);
        assert.equal(shown.title, long);
        assert.equal(shown.truncated, true);
        assert.equal(legible('y'.repeat(DISPLAY_LIMIT)).truncated, false);
    });

    test('never cuts a marker or an emoji in half', () => {
        const shown = legible('\u202E'.repeat(10), 4);
        assert.equal(shown.text, '⟨U+202E⟩⟨U+202E⟩⟨U+202E⟩…');
        assert.equal(legible('🚀'.repeat(10), 3).text, '🚀🚀…');
    });

    test('caps the title of a megabyte string and says it was cut', () => {
        const shown = legible('z'.repeat(1_000_000));
        assert.ok(shown.title.length <= TITLE_LIMIT + 1);
        assert.ok(shown.title.endsWith('…'));
        assert.equal(shown.truncated, true);
    });

    test('gives empty text for values that are not strings or numbers', () => {
        assert.equal(legible(undefined).text, '');
        assert.equal(legible({ toString: () => '<b>' }).text, '');
        assert.equal(legible(42).text, '42');
    });

    test('leaves no invisible or reordering character in any output', () => {
        fc.assert(
            fc.property(
                fc.string({ unit: 'binary', maxLength: 300 }),
                fc.integer({ min: 1, max: 400 }),
                (value, limit) => {
                    const shown = legible(value, limit);
                    assert.doesNotMatch(shown.text, HIDDEN);
                    assert.doesNotMatch(shown.title, HIDDEN);
                    assert.equal(shown.truncated, shown.text !== shown.title);
                },
            ),
            { numRuns: 500 },
        );
    });
});
