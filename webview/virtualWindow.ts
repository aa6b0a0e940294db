// The arithmetic of the run grid's virtual list: which rows to render for a scroll position,
// where to put them, when to fetch the next page and how to scroll a row into view. Rows have a
// fixed height, so all of it is O(1) whatever the number of runs. Pure, unit-tested in node.

export interface ViewportInput {
    scrollTop: number;
    viewportHeight: number;
    rowHeight: number;
    rowCount: number;
    /** Rows rendered above and below the visible ones, so fast scrolling shows no gap. */
    overscan: number;
}

export interface VirtualWindow {
    /** First rendered row index. */
    first: number;
    /** One past the last rendered row index. */
    end: number;
    /** Pixel offset of the first rendered row from the top of the scroll content. */
    offsetTop: number;
    /** Height of the whole scroll content. */
    totalHeight: number;
}

function finite(value: number, fallback: number): number {
    return Number.isFinite(value) ? value : fallback;
}

export function virtualWindow(input: ViewportInput): VirtualWindow {
    const rowHeight = Math.max(1, finite(input.rowHeight, 1));
    const rowCount = Math.max(0, Math.floor(finite(input.rowCount, 0)));
    const overscan = Math.max(0, Math.floor(finite(input.overscan, 0)));
    const viewportHeight = Math.max(0, finite(input.viewportHeight, 0));
    const totalHeight = rowCount * rowHeight;

    // A scroll position past the end (the list just shrank) is clamped to the last full page.
    const maxScroll = Math.max(0, totalHeight - viewportHeight);
    const scrollTop = Math.min(Math.max(0, finite(input.scrollTop, 0)), maxScroll);

    const firstVisible = Math.floor(scrollTop / rowHeight);
    const visibleCount = Math.ceil((scrollTop + viewportHeight) / rowHeight) - firstVisible;
    const first = Math.max(0, firstVisible - overscan);
    const end = Math.min(rowCount, firstVisible + visibleCount + overscan);
    return { first, end: Math.max(first, end), offsetTop: first * rowHeight, totalHeight };
}

export interface LoadMoreInput {
    /** One past the last rendered row. */
    end: number;
    loaded: number;
    hasMore: boolean;
    loading: boolean;
    /** Fetch when the rendered window comes within this many rows of the loaded end. */
    threshold: number;
}

export function shouldLoadMore(input: LoadMoreInput): boolean {
    if (!input.hasMore || input.loading) return false;
    return input.end >= input.loaded - input.threshold;
}

/** The scrollTop that makes row `index` fully visible, moving as little as possible. */
export function scrollTopToReveal(
    index: number,
    scrollTop: number,
    viewportHeight: number,
    rowHeight: number,
): number {
    const top = index * rowHeight;
    const bottom = top + rowHeight;
    if (top < scrollTop) return top;
    if (bottom > scrollTop + viewportHeight) return Math.max(0, bottom - viewportHeight);
    return scrollTop;
}

/** The row index a key moves the focus to, or undefined for keys the grid does not handle. */
export function rowAfterKey(
    key: string,
    current: number,
    rowCount: number,
    pageRows: number,
): number | undefined {
    if (rowCount <= 0) return undefined;
    const last = rowCount - 1;
    const page = Math.max(1, pageRows);
    const from = Math.min(Math.max(0, current), last);
    switch (key) {
        case 'ArrowDown':
            return Math.min(last, current < 0 ? 0 : from + 1);
        case 'ArrowUp':
            return Math.max(0, from - 1);
        case 'PageDown':
            return Math.min(last, from + page);
        case 'PageUp':
            return Math.max(0, from - page);
        case 'Home':
            return 0;
        case 'End':
            return last;
        default:
            return undefined;
    }
}
