import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';

import {
    rowAfterKey,
    scrollTopToReveal,
    shouldLoadMore,
    virtualWindow,
} from '../../webview/virtualWindow.js';

describe('virtual window', () => {
    test('renders only the visible rows plus overscan at the top of 10k runs', () => {
        const w = virtualWindow({
            scrollTop: 0,
            viewportHeight: 520,
            rowHeight: 26,
            rowCount: 10_000,
            overscan: 10,
        });
        assert.deepEqual(w, { first: 0, end: 30, offsetTop: 0, totalHeight: 260_000 });
    });

    test('renders the rows around a scroll position in the middle', () => {
        const w = virtualWindow({
            scrollTop: 26 * 5000 + 13,
            viewportHeight: 260,
            rowHeight: 26,
            rowCount: 10_000,
            overscan: 5,
        });
        assert.equal(w.first, 4995);
        assert.equal(w.end, 5016);
        assert.equal(w.offsetTop, 4995 * 26);
    });

    test('clamps a scroll position past the end after the list shrank', () => {
        const w = virtualWindow({
            scrollTop: 1_000_000,
            viewportHeight: 260,
            rowHeight: 26,
            rowCount: 20,
            overscan: 3,
        });
        assert.equal(w.end, 20);
        assert.equal(w.first, 7);
    });

    test('renders nothing for an empty list and survives NaN input', () => {
        assert.deepEqual(
            virtualWindow({
                scrollTop: 0,
                viewportHeight: 500,
                rowHeight: 26,
                rowCount: 0,
                overscan: 5,
            }),
            {
                first: 0,
                end: 0,
                offsetTop: 0,
                totalHeight: 0,
            },
        );
        const w = virtualWindow({
            scrollTop: NaN,
            viewportHeight: NaN,
            rowHeight: NaN,
            rowCount: 10,
            overscan: NaN,
        });
        assert.ok(w.first >= 0 && w.end <= 10 && w.first <= w.end);
    });

    test('always covers the visible rows and never more than visible plus overscan', () => {
        fc.assert(
            fc.property(
                fc.integer({ min: 0, max: 200_000 }),
                fc.integer({ min: 0, max: 5_000_000 }),
                fc.integer({ min: 0, max: 3000 }),
                fc.integer({ min: 1, max: 80 }),
                fc.integer({ min: 0, max: 50 }),
                (rowCount, scrollTop, viewportHeight, rowHeight, overscan) => {
                    const w = virtualWindow({
                        scrollTop,
                        viewportHeight,
                        rowHeight,
                        rowCount,
                        overscan,
                    });
                    assert.ok(w.first >= 0 && w.first <= w.end && w.end <= rowCount);
                    assert.equal(w.totalHeight, rowCount * rowHeight);
                    const top = Math.min(scrollTop, Math.max(0, w.totalHeight - viewportHeight));
                    const firstVisible = Math.floor(top / rowHeight);
                    const lastVisible = Math.min(
                        rowCount,
                        Math.ceil((top + viewportHeight) / rowHeight),
                    );
                    if (rowCount > 0) {
                        assert.ok(w.first <= firstVisible);
                        assert.ok(w.end >= lastVisible);
                    }
                    assert.ok(
                        w.end - w.first <= Math.ceil(viewportHeight / rowHeight) + 1 + 2 * overscan,
                    );
                },
            ),
            { numRuns: 1000 },
        );
    });
});

describe('paging and keyboard', () => {
    test('asks for the next page when the window nears the loaded end', () => {
        const base = { loaded: 200, hasMore: true, loading: false, threshold: 100 };
        assert.equal(shouldLoadMore({ ...base, end: 99 }), false);
        assert.equal(shouldLoadMore({ ...base, end: 100 }), true);
        assert.equal(shouldLoadMore({ ...base, end: 150, loading: true }), false);
        assert.equal(shouldLoadMore({ ...base, end: 200, hasMore: false }), false);
    });

    test('scrolls as little as possible to reveal a row', () => {
        assert.equal(scrollTopToReveal(10, 0, 260, 26), 26);
        assert.equal(scrollTopToReveal(2, 260, 260, 26), 52);
        assert.equal(scrollTopToReveal(12, 260, 260, 26), 260);
    });

    test('moves the active row with arrows, pages, Home and End, within bounds', () => {
        assert.equal(rowAfterKey('ArrowDown', -1, 50, 10), 0);
        assert.equal(rowAfterKey('ArrowDown', 49, 50, 10), 49);
        assert.equal(rowAfterKey('ArrowUp', 0, 50, 10), 0);
        assert.equal(rowAfterKey('PageDown', 5, 50, 10), 15);
        assert.equal(rowAfterKey('PageUp', 5, 50, 10), 0);
        assert.equal(rowAfterKey('End', 5, 50, 10), 49);
        assert.equal(rowAfterKey('Home', 5, 50, 10), 0);
        assert.equal(rowAfterKey('a', 5, 50, 10), undefined);
        assert.equal(rowAfterKey('ArrowDown', 0, 0, 10), undefined);
    });
});
