// The runs of the selected experiment as a virtualised grid: fixed row height, only the rows in
// view (plus overscan) exist in the DOM, pages of 200 are fetched as the user nears the end.
// Click a header to sort on the server; pick columns from the keys the loaded runs have; tick up
// to ten runs to compare their metrics on one chart. Keyboard: the grid is one tab stop, arrows
// and Page Up/Down/Home/End move the active row, Enter opens it, Space ticks it.

import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-button/index.js';
import './labelledMultiSelect.js';

import { clear, el, serverText, setServerText } from './dom.js';
import type { HostBridge } from './hostBridge.js';
import type { ColumnRef, LifecycleView, RunRow } from './protocol.js';
import { LIMITS, RUN_ATTRIBUTES } from './protocol.js';
import { LatestOnly, toErrorInfo } from './requestClient.js';
import {
    ColumnDiscovery,
    DEFAULT_COLUMNS,
    cellText,
    cleanColumns,
    columnId,
    columnLabel,
    parseColumnId,
    sameColumn,
    sortable,
} from './runColumns.js';
import { RunFilterBar } from './runFilterBar.js';
import { NO_FILTERS, toRunQuery } from './runQueryBuilder.js';
import type { RunFilters } from './runQueryBuilder.js';
import { rowAfterKey, scrollTopToReveal, shouldLoadMore, virtualWindow } from './virtualWindow.js';

export const ROW_HEIGHT = 26;
export const PAGE_SIZE = 200;
const OVERSCAN = 12;
const LOAD_AHEAD_ROWS = 100;
const SELECT_WIDTH = 32;

export interface GridPrefs {
    columns?: ColumnRef[];
    filters?: RunFilters;
    sort?: { column: ColumnRef; ascending: boolean };
}

export interface RunGridEvents {
    openRun(run: RunRow): void;
    compare(runs: RunRow[]): void;
    prefsChanged(experimentId: string, prefs: GridPrefs): void;
    error(message: string): void;
    problem(message: string): void;
}

function columnWidth(column: ColumnRef): number {
    if (column.kind === 'attribute' && column.key === 'run_name') return 220;
    if (column.kind === 'attribute' && (column.key === 'run_id' || column.key === 'artifact_uri')) {
        return 260;
    }
    if (column.kind === 'attribute' && column.key.endsWith('_time')) return 150;
    if (column.kind === 'metric') return 110;
    return 140;
}

export class RunGrid {
    readonly element: HTMLElement;
    private readonly filterBar: RunFilterBar;
    private readonly picker: HTMLElementTagNameMap['sd-labelled-multi-select'];
    private readonly compareButton: HTMLElementTagNameMap['vscode-button'];
    private readonly count: HTMLElement;
    private readonly grid: HTMLElement;
    private readonly header: HTMLElement;
    private readonly body: HTMLElement;
    private readonly empty: HTMLElement;
    private readonly latest = new LatestOnly();

    private experimentId: string | undefined;
    private view: LifecycleView = 'active';
    private runs: RunRow[] = [];
    private nextPageToken: string | undefined;
    private loading = false;
    private discovery = new ColumnDiscovery();
    private columns: ColumnRef[] = DEFAULT_COLUMNS;
    private columnsChosen = false;
    private filters: RunFilters = NO_FILTERS;
    private sort: { column: ColumnRef; ascending: boolean } | undefined;
    private readonly selected = new Set<string>();
    private activeIndex = -1;
    private openRunId: string | undefined;
    private readonly rendered = new Map<number, HTMLElement>();
    private frame: number | undefined;
    private columnFace = '';

    constructor(
        private readonly bridge: HostBridge,
        private readonly events: RunGridEvents,
    ) {
        this.filterBar = new RunFilterBar(
            (filters) => {
                this.filters = filters;
                this.savePrefs();
                void this.reload();
            },
            (message) => this.events.problem(message),
        );
        this.picker = el('sd-labelled-multi-select', {
            'data-testid': 'column-picker',
            combobox: true,
            'aria-label': 'Columns',
        });
        this.picker.label = 'Columns';
        // The grid scrolls sideways, so the face counts the columns in view, not the ticks.
        this.picker.describe = () => {
            const total = this.columns.length;
            const inView = this.columnsInView();
            return { text: inView < total ? `${inView} of ${total} in view` : `${total} shown` };
        };
        this.picker.addEventListener('change', () => this.onPickColumns());
        this.compareButton = el(
            'vscode-button',
            { 'data-testid': 'compare-button', disabled: true },
            'Compare',
        );
        this.compareButton.addEventListener('click', () => {
            const runs = this.runs.filter((r) => this.selected.has(r.id));
            if (runs.length > 0) this.events.compare(runs);
        });
        this.count = el('span', { class: 'run-count muted', 'data-testid': 'run-count' });

        this.header = el('div', { class: 'grid-row grid-header', role: 'row', 'aria-rowindex': 1 });
        this.body = el('div', { class: 'grid-body', role: 'rowgroup' });
        this.empty = el('div', { class: 'grid-empty muted' });
        this.grid = el(
            'div',
            {
                class: 'run-grid',
                role: 'grid',
                'data-testid': 'run-table',
                tabindex: 0,
                'aria-label': 'Runs',
                'aria-multiselectable': 'true',
            },
            el('div', { role: 'rowgroup', class: 'grid-head' }, this.header),
            this.body,
        );
        this.element = el(
            'section',
            { class: 'runs', 'aria-label': 'Runs' },
            this.filterBar.element,
            el(
                'div',
                { class: 'run-toolbar' },
                el('span', { class: 'label' }, 'Columns'),
                this.picker,
                this.compareButton,
                this.count,
            ),
            this.grid,
            this.empty,
        );

        this.grid.addEventListener('scroll', () => this.schedule(), { passive: true });
        this.grid.addEventListener('keydown', (event) => this.onKey(event));
        new ResizeObserver(() => this.schedule()).observe(this.grid);
        this.renderHeader();
        this.updateCount();
    }

    /** Shows an experiment's runs: the first page is requested at once, before anything else. */
    showExperiment(experimentId: string, prefs: GridPrefs, view: LifecycleView): void {
        this.experimentId = experimentId;
        this.view = view;
        const columns = cleanColumns(prefs.columns ?? []);
        this.columnsChosen = columns.length > 0;
        this.columns = this.columnsChosen ? columns : DEFAULT_COLUMNS;
        this.filters = prefs.filters ?? NO_FILTERS;
        this.sort = prefs.sort;
        this.filterBar.set(this.filters);
        this.selected.clear();
        this.discovery = new ColumnDiscovery();
        this.activeIndex = -1;
        void this.reload();
        this.renderHeader();
        this.fillPicker();
    }

    /** Forgets the experiment, e.g. when the server changes. */
    reset(): void {
        this.latest.invalidate();
        this.experimentId = undefined;
        this.runs = [];
        this.nextPageToken = undefined;
        this.loading = false;
        this.selected.clear();
        this.rerender();
    }

    runById(id: string): RunRow | undefined {
        return this.runs.find((r) => r.id === id);
    }

    /** Marks the run shown in the detail pane. */
    setOpenRun(runId: string | undefined): void {
        this.openRunId = runId;
        for (const row of this.rendered.values()) {
            row.classList.toggle('open', row.dataset['runId'] === runId);
        }
    }

    private async reload(): Promise<void> {
        this.runs = [];
        this.nextPageToken = undefined;
        this.loading = false;
        this.grid.scrollTop = 0;
        this.rerender();
        await this.loadPage();
    }

    private async loadPage(): Promise<void> {
        const experimentId = this.experimentId;
        if (!experimentId || this.loading) return;
        const append = this.runs.length > 0;
        if (append && !this.nextPageToken) return;
        const ticket = this.latest.next();
        this.loading = true;
        this.updateCount();
        try {
            const query = toRunQuery(this.filters);
            const page = await this.bridge.request('searchRuns', {
                experimentIds: [experimentId],
                view: this.view,
                pageSize: PAGE_SIZE,
                ...(query ? { query } : {}),
                ...(this.sort ? { orderBy: this.sort } : {}),
                ...(append && this.nextPageToken ? { pageToken: this.nextPageToken } : {}),
            });
            if (!this.latest.isCurrent(ticket)) return;
            this.loading = false;
            this.runs = append ? this.runs.concat(page.items) : page.items;
            this.nextPageToken = page.nextPageToken;
            const grew = this.discovery.add(page.items);
            if (!this.columnsChosen && !append) this.columns = this.suggestedColumns();
            if (grew || !append) {
                this.renderHeader();
                this.fillPicker();
                this.rerender();
            } else {
                this.schedule();
            }
        } catch (error) {
            if (!this.latest.isCurrent(ticket)) return;
            this.loading = false;
            this.events.error(toErrorInfo(error).message);
        } finally {
            if (this.latest.isCurrent(ticket)) this.updateCount();
        }
    }

    /** Without a choice of the user's: the default attributes, a few metrics and params. */
    private suggestedColumns(): ColumnRef[] {
        const catalog = this.discovery.catalog();
        return [
            ...DEFAULT_COLUMNS,
            ...catalog.metrics.slice(0, 3).map((key) => ({ kind: 'metric' as const, key })),
            ...catalog.params.slice(0, 2).map((key) => ({ kind: 'param' as const, key })),
        ];
    }

    private updateCount(): void {
        const loaded = this.runs.length;
        const more = this.nextPageToken !== undefined;
        let text: string;
        if (!this.experimentId) text = 'No experiment selected';
        else if (this.loading && loaded === 0) text = 'Loading runs…';
        else text = `${loaded} / ${more ? `${loaded}+` : loaded} runs`;
        this.count.textContent = text;
        this.count.dataset['loaded'] = String(loaded);
        this.count.dataset['complete'] = String(!more && !this.loading);
        this.grid.setAttribute('aria-rowcount', more ? '-1' : String(loaded + 1));
        this.grid.setAttribute('aria-busy', String(this.loading));

        const selected = this.selected.size;
        this.compareButton.toggleAttribute('disabled', selected === 0);
        this.compareButton.textContent = selected > 0 ? `Compare (${selected})` : 'Compare';
        this.empty.textContent =
            this.experimentId && !this.loading && loaded === 0
                ? 'No runs match these filters.'
                : '';
        this.empty.hidden = this.empty.textContent === '';
    }

    private template(): { columns: string; width: number } {
        const widths = [SELECT_WIDTH, ...this.columns.map(columnWidth)];
        return {
            columns: widths.map((w) => `${w}px`).join(' '),
            width: widths.reduce((a, b) => a + b, 0),
        };
    }

    private renderHeader(): void {
        const { columns, width } = this.template();
        this.grid.style.setProperty('--grid-columns', columns);
        this.grid.style.setProperty('--grid-width', `${width}px`);
        this.grid.setAttribute('aria-colcount', String(this.columns.length + 1));
        clear(this.header);
        this.header.append(
            el('div', { role: 'columnheader', class: 'cell select-cell', 'aria-label': 'Compare' }),
        );
        for (const column of this.columns) {
            const sorted =
                this.sort && sameColumn(this.sort.column, column) ? this.sort : undefined;
            const cell = el('div', {
                role: 'columnheader',
                class: `cell header-cell kind-${column.kind}`,
                'aria-sort': sorted ? (sorted.ascending ? 'ascending' : 'descending') : 'none',
                'data-column': columnId(column),
            });
            const label = serverText(columnLabel(column), { class: 'header-label' }, 40);
            if (column.kind !== 'attribute') {
                label.prepend(
                    el('span', { class: 'kind-mark', 'aria-hidden': 'true' }, column.kind[0]),
                );
            }
            if (sortable(column)) {
                const button = el(
                    'button',
                    {
                        type: 'button',
                        class: 'sort-button',
                        'aria-label': `Sort by ${column.kind} ${columnLabel(column)}`,
                        'data-testid': 'sort-header',
                    },
                    label,
                    el(
                        'span',
                        { class: 'sort-mark', 'aria-hidden': 'true' },
                        sorted ? (sorted.ascending ? '▲' : '▼') : '',
                    ),
                );
                button.addEventListener('click', () => this.toggleSort(column));
                cell.append(button);
            } else {
                cell.append(label);
            }
            this.header.append(cell);
        }
        // The face's count needs the new layout, which the next frame has.
        this.schedule();
    }

    /** Columns at least half inside the grid's viewport; the checkbox column is not counted. */
    private columnsInView(): number {
        const left = this.grid.scrollLeft;
        const right = left + this.grid.clientWidth;
        // Before the first layout the grid has no width; count every column rather than none.
        if (this.grid.clientWidth === 0) return this.columns.length;
        let x = SELECT_WIDTH;
        let count = 0;
        for (const column of this.columns) {
            const width = columnWidth(column);
            const visible = Math.min(right, x + width) - Math.max(left, x);
            if (visible >= width / 2) count++;
            x += width;
        }
        return count;
    }

    /** Redraws the picker's face only when its text would change (it runs on every scroll). */
    private updateColumnFace(): void {
        const text = this.picker.describe(this.columns.length).text;
        if (text === this.columnFace) return;
        this.columnFace = text;
        this.picker.refreshFace();
    }

    private toggleSort(column: ColumnRef): void {
        const current = this.sort && sameColumn(this.sort.column, column) ? this.sort : undefined;
        // Numbers and times read best largest/latest first; names alphabetically.
        const firstAscending =
            column.kind === 'param' ||
            column.kind === 'tag' ||
            column.key === 'run_name' ||
            column.key === 'user_id' ||
            column.key === 'status';
        this.sort = { column, ascending: current ? !current.ascending : firstAscending };
        this.savePrefs();
        this.renderHeader();
        void this.reload();
    }

    private fillPicker(): void {
        const catalog = this.discovery.catalog();
        const options: ColumnRef[] = [
            ...RUN_ATTRIBUTES.map((key) => ({ kind: 'attribute' as const, key })),
            ...catalog.metrics.map((key) => ({ kind: 'metric' as const, key })),
            ...catalog.params.map((key) => ({ kind: 'param' as const, key })),
            ...catalog.tags.map((key) => ({ kind: 'tag' as const, key })),
        ];
        // Chosen columns stay listed even before a run with that key is loaded.
        for (const column of this.columns) {
            if (!options.some((o) => sameColumn(o, column))) options.push(column);
        }
        clear(this.picker);
        for (const column of options) {
            const option = el('vscode-option', { value: columnId(column) });
            const prefix = column.kind === 'attribute' ? '' : `${column.kind}: `;
            setServerText(option, `${prefix}${columnLabel(column)}`, 60);
            option.selected = this.columns.some((c) => sameColumn(c, column));
            this.picker.append(option);
        }
    }

    private onPickColumns(): void {
        const picked = this.picker.value
            .map(parseColumnId)
            .filter((c): c is ColumnRef => c !== undefined);
        // Keep the order the user had; new picks go to the end.
        const kept = this.columns.filter((c) => picked.some((p) => sameColumn(p, c)));
        const added = picked.filter((p) => !kept.some((c) => sameColumn(c, p)));
        const columns = cleanColumns([...kept, ...added]);
        this.columns = columns.length > 0 ? columns : [{ kind: 'attribute', key: 'run_name' }];
        this.columnsChosen = true;
        this.savePrefs();
        this.renderHeader();
        this.rerender();
    }

    private savePrefs(): void {
        if (!this.experimentId) return;
        this.events.prefsChanged(this.experimentId, {
            ...(this.columnsChosen ? { columns: this.columns } : {}),
            filters: this.filters,
            ...(this.sort ? { sort: this.sort } : {}),
        });
    }

    /** Drops every rendered row (columns or data changed) and renders the window again. */
    private rerender(): void {
        this.rendered.clear();
        clear(this.body);
        this.renderWindow();
        this.updateCount();
    }

    private schedule(): void {
        if (this.frame !== undefined) return;
        this.frame = requestAnimationFrame(() => {
            this.frame = undefined;
            this.renderWindow();
            this.updateColumnFace();
        });
    }

    private viewportRows(): number {
        return Math.max(1, Math.floor((this.grid.clientHeight - ROW_HEIGHT) / ROW_HEIGHT));
    }

    private renderWindow(): void {
        const slice = virtualWindow({
            scrollTop: this.grid.scrollTop,
            viewportHeight: Math.max(0, this.grid.clientHeight - ROW_HEIGHT),
            rowHeight: ROW_HEIGHT,
            rowCount: this.runs.length,
            overscan: OVERSCAN,
        });
        this.body.style.height = `${slice.totalHeight}px`;

        for (const [index, row] of this.rendered) {
            if (index < slice.first || index >= slice.end) {
                row.remove();
                this.rendered.delete(index);
            }
        }
        // New rows go in one fragment: one layout for the whole batch.
        const batch = document.createDocumentFragment();
        for (let index = slice.first; index < slice.end; index++) {
            if (this.rendered.has(index)) continue;
            const run = this.runs[index];
            if (!run) continue;
            const row = this.rowElement(run, index);
            this.rendered.set(index, row);
            batch.append(row);
        }
        this.body.append(batch);

        if (
            shouldLoadMore({
                end: slice.end,
                loaded: this.runs.length,
                hasMore: this.nextPageToken !== undefined,
                loading: this.loading,
                threshold: LOAD_AHEAD_ROWS,
            })
        ) {
            void this.loadPage();
        }
    }

    private rowElement(run: RunRow, index: number): HTMLElement {
        const row = el('div', {
            id: `run-row-${index}`,
            class: 'grid-row',
            role: 'row',
            'aria-rowindex': index + 2,
            'aria-selected': String(this.selected.has(run.id)),
            'data-testid': 'run-row',
            'data-run-id': run.id,
        });
        row.style.transform = `translateY(${index * ROW_HEIGHT}px)`;
        if (index === this.activeIndex) row.classList.add('active');
        if (run.id === this.openRunId) row.classList.add('open');

        const box = el('input', {
            type: 'checkbox',
            tabindex: -1,
            'data-testid': 'run-select',
            'aria-label': 'Select for comparison',
        });
        box.checked = this.selected.has(run.id);
        box.addEventListener('click', (event) => {
            event.stopPropagation();
            this.toggleSelected(run, index);
        });
        row.append(el('div', { role: 'gridcell', class: 'cell select-cell' }, box));

        for (const column of this.columns) {
            const cell = el('div', { role: 'gridcell', class: `cell kind-${column.kind}` });
            setServerText(cell, cellText(run, column), 60);
            if (column.kind === 'attribute' && column.key === 'status') {
                cell.classList.add(`status-${run.status.toLowerCase().replace(/[^a-z]/g, '')}`);
            }
            row.append(cell);
        }
        row.addEventListener('click', () => {
            this.setActive(index, false);
            this.events.openRun(run);
        });
        return row;
    }

    private toggleSelected(run: RunRow, index: number): void {
        if (this.selected.has(run.id)) {
            this.selected.delete(run.id);
        } else if (this.selected.size >= LIMITS.compareRuns) {
            this.events.problem(
                `At most ${LIMITS.compareRuns} runs can be compared on one chart; untick one first.`,
            );
        } else {
            this.selected.add(run.id);
        }
        const row = this.rendered.get(index);
        if (row) {
            const on = this.selected.has(run.id);
            row.setAttribute('aria-selected', String(on));
            const box = row.querySelector('input');
            if (box) box.checked = on;
        }
        this.updateCount();
    }

    private setActive(index: number, reveal: boolean): void {
        this.rendered.get(this.activeIndex)?.classList.remove('active');
        this.activeIndex = index;
        if (reveal) {
            this.grid.scrollTop = scrollTopToReveal(
                index,
                this.grid.scrollTop,
                Math.max(ROW_HEIGHT, this.grid.clientHeight - ROW_HEIGHT),
                ROW_HEIGHT,
            );
            this.renderWindow();
        }
        this.rendered.get(index)?.classList.add('active');
        this.grid.setAttribute('aria-activedescendant', `run-row-${index}`);
    }

    private onKey(event: KeyboardEvent): void {
        if (event.target !== this.grid) return;
        const next = rowAfterKey(
            event.key,
            this.activeIndex,
            this.runs.length,
            this.viewportRows(),
        );
        if (next !== undefined) {
            event.preventDefault();
            this.setActive(next, true);
            return;
        }
        const run = this.runs[this.activeIndex];
        if (!run) return;
        if (event.key === 'Enter') {
            event.preventDefault();
            this.events.openRun(run);
        } else if (event.key === ' ') {
            event.preventDefault();
            this.toggleSelected(run, this.activeIndex);
        }
    }
}
