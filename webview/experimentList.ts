// The experiments column: a search field (debounced), the lifecycle view, the paged list and
// "Load more". Arrow keys move between experiments, Enter or Space (or a click) selects one.

import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-button/index.js';

import { clear, debounce, el, serverText } from './dom.js';
import type { ExperimentRow, LifecycleView } from './protocol.js';
import type { HostBridge } from './hostBridge.js';
import { LatestOnly, toErrorInfo } from './requestClient.js';

export interface ExperimentListEvents {
    select(experiment: { id: string; name?: string }): void;
    filtersChanged(search: string, view: LifecycleView): void;
    error(message: string): void;
}

export const SEARCH_DEBOUNCE_MS = 250;

export class ExperimentList {
    readonly element: HTMLElement;
    private readonly search: HTMLElementTagNameMap['vscode-textfield'];
    private readonly view: HTMLElementTagNameMap['vscode-single-select'];
    private readonly list: HTMLElement;
    private readonly more: HTMLElementTagNameMap['vscode-button'];
    private readonly status: HTMLElement;
    private readonly latest = new LatestOnly();
    private rows: ExperimentRow[] = [];
    private nextPageToken: string | undefined;
    private loading = false;
    private selectedId: string | undefined;

    constructor(
        private readonly bridge: HostBridge,
        private readonly events: ExperimentListEvents,
        initial: { search: string; view: LifecycleView },
    ) {
        this.search = el('vscode-textfield', {
            'data-testid': 'experiment-search',
            placeholder: 'Search experiments',
            'aria-label': 'Search experiments by name',
        });
        this.search.value = initial.search;
        this.view = el('vscode-single-select', {
            'data-testid': 'experiment-view',
            'aria-label': 'Which experiments',
        });
        for (const [value, label] of [
            ['active', 'Active'],
            ['deleted', 'Deleted'],
            ['all', 'All'],
        ] as const) {
            const option = el('vscode-option', { value }, label);
            if (value === initial.view) option.selected = true;
            this.view.append(option);
        }
        this.list = el('div', {
            class: 'experiment-list',
            role: 'listbox',
            'aria-label': 'Experiments',
        });
        this.more = el(
            'vscode-button',
            { secondary: true, 'data-testid': 'experiment-more' },
            'Load more',
        );
        this.more.hidden = true;
        this.status = el('div', { class: 'muted', 'aria-live': 'polite' });
        this.element = el(
            'section',
            { class: 'experiments', 'aria-label': 'Experiments' },
            el('h2', {}, 'Experiments'),
            this.search,
            this.view,
            this.status,
            this.list,
            this.more,
        );

        const reload = debounce(() => {
            this.events.filtersChanged(this.search.value, this.currentView());
            void this.load(false);
        }, SEARCH_DEBOUNCE_MS);
        this.search.addEventListener('input', reload);
        this.view.addEventListener('change', () => {
            this.events.filtersChanged(this.search.value, this.currentView());
            void this.load(false);
        });
        this.more.addEventListener('click', () => void this.load(true));
        this.list.addEventListener('keydown', (event) => this.onKey(event));
    }

    private currentView(): LifecycleView {
        const value = this.view.value;
        return value === 'deleted' || value === 'all' ? value : 'active';
    }

    /** The first page (append=false) or the next one. */
    async load(append: boolean): Promise<void> {
        if (append && (!this.nextPageToken || this.loading)) return;
        const ticket = this.latest.next();
        this.loading = true;
        this.status.textContent = 'Loading…';
        try {
            const search = this.search.value.trim();
            const page = await this.bridge.request('listExperiments', {
                view: this.currentView(),
                ...(search ? { search } : {}),
                ...(append && this.nextPageToken ? { pageToken: this.nextPageToken } : {}),
            });
            if (!this.latest.isCurrent(ticket)) return;
            this.rows = append ? [...this.rows, ...page.items] : page.items;
            this.nextPageToken = page.nextPageToken;
            this.render(append ? page.items : this.rows, append);
            this.status.textContent = this.rows.length === 0 ? 'No experiments match.' : '';
        } catch (error) {
            if (!this.latest.isCurrent(ticket)) return;
            this.status.textContent = 'Experiments could not be loaded.';
            this.events.error(toErrorInfo(error).message);
        } finally {
            if (this.latest.isCurrent(ticket)) this.loading = false;
        }
    }

    get experiments(): readonly ExperimentRow[] {
        return this.rows;
    }

    private render(rows: readonly ExperimentRow[], append: boolean): void {
        if (!append) clear(this.list);
        for (const row of rows) this.list.append(this.rowElement(row));
        this.more.hidden = !this.nextPageToken;
        this.markSelected();
    }

    private rowElement(row: ExperimentRow): HTMLElement {
        const item = el(
            'div',
            {
                class: 'experiment-row',
                role: 'option',
                tabindex: -1,
                'data-testid': 'experiment-row',
                'data-experiment-id': row.id,
                'aria-selected': 'false',
            },
            serverText(row.name, { class: 'experiment-name' }, 80),
            row.lifecycleStage === 'deleted'
                ? el('span', { class: 'badge' }, 'deleted')
                : undefined,
            serverText(`#${row.id}`, { class: 'muted experiment-id' }),
        );
        item.addEventListener('click', () => this.choose(row));
        return item;
    }

    private choose(row: ExperimentRow): void {
        this.selectedId = row.id;
        this.markSelected();
        this.events.select({ id: row.id, name: row.name });
    }

    /** Marks an experiment as selected without announcing it (a restored or focused one). */
    setSelected(id: string | undefined): void {
        this.selectedId = id;
        this.markSelected();
    }

    private markSelected(): void {
        const items = [...this.list.querySelectorAll<HTMLElement>('[role=option]')];
        for (const item of items) {
            item.setAttribute(
                'aria-selected',
                String(item.dataset['experimentId'] === this.selectedId),
            );
        }
        // Roving tabindex: Tab enters the list once, on the selected (or first) experiment.
        const entry = items.find((i) => i.dataset['experimentId'] === this.selectedId) ?? items[0];
        for (const item of items) item.tabIndex = item === entry ? 0 : -1;
    }

    private onKey(event: KeyboardEvent): void {
        const items = [...this.list.querySelectorAll<HTMLElement>('[role=option]')];
        if (items.length === 0) return;
        const at = items.indexOf(document.activeElement as HTMLElement);
        let next: number | undefined;
        if (event.key === 'ArrowDown') next = Math.min(items.length - 1, at + 1);
        else if (event.key === 'ArrowUp') next = Math.max(0, at - 1);
        else if (event.key === 'Home') next = 0;
        else if (event.key === 'End') next = items.length - 1;
        else if ((event.key === 'Enter' || event.key === ' ') && at >= 0) {
            event.preventDefault();
            const row = this.rows.find((r) => r.id === items[at]?.dataset['experimentId']);
            if (row) this.choose(row);
            return;
        }
        if (next === undefined) return;
        event.preventDefault();
        for (const item of items) item.tabIndex = -1;
        const target = items[next];
        if (target) {
            target.tabIndex = 0;
            target.focus();
        }
        if (next === items.length - 1 && this.nextPageToken) void this.load(true);
    }
}
