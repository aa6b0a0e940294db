// One run in detail, in tabs: Overview (attributes, copyable id), Params, Metrics (click one to
// chart its history; Compare charts the ticked runs' same metric), Tags, Artifacts (lazy tree)
// and Logged models (MLflow 3, each with its own artifacts and a link to its source run).

import '@vscode-elements/elements/dist/vscode-tab-header/index.js';
import '@vscode-elements/elements/dist/vscode-tab-panel/index.js';
import '@vscode-elements/elements/dist/vscode-button/index.js';

import { VscodeTabs } from '@vscode-elements/elements/dist/vscode-tabs/vscode-tabs.js';

import { ArtifactTree } from './artifactTree.js';
import { clear, el, onActivate, serverText } from './dom.js';
import type { HostBridge } from './hostBridge.js';
import { MetricChart } from './metricChart.js';
import type {
    ArtifactSourceKind,
    Capabilities,
    KeyValue,
    LoggedModelRow,
    MetricValue,
    RunDetail,
    RunRow,
} from './protocol.js';
import { LatestOnly, toErrorInfo } from './requestClient.js';
import { formatDuration, formatMetric, formatTime } from './runColumns.js';

export const TABS = ['overview', 'params', 'metrics', 'tags', 'artifacts', 'models'] as const;
export type DetailTab = (typeof TABS)[number];

const TAB_LABELS: Record<DetailTab, string> = {
    overview: 'Overview',
    params: 'Params',
    metrics: 'Metrics',
    tags: 'Tags',
    artifacts: 'Artifacts',
    models: 'Logged models',
};

export interface RunDetailEvents {
    /** The user followed a link to another run (a logged model's source run). */
    openRunById(runId: string): void;
    tabChanged(tab: DetailTab): void;
    error(message: string): void;
}

// Six tab headers are wider than the pane at its usual width. The stock tab list neither wraps
// nor shrinks, so it pushed the pane into sideways scrolling; this one wraps onto a second line.
const wrappingTabList = new CSSStyleSheet();
wrappingTabList.replaceSync('.tablist { flex-wrap: wrap; min-width: 0; }');

class RunDetailTabs extends VscodeTabs {
    static override styles = [VscodeTabs.styles, wrappingTabList];
}
customElements.define('sd-run-detail-tabs', RunDetailTabs);

declare global {
    interface HTMLElementTagNameMap {
        'sd-run-detail-tabs': RunDetailTabs;
    }
}

const LOGGED_MODELS_LIMIT =
    'This server has no logged models (an MLflow 3 feature); models logged by a 2.x client are under the run’s artifacts.';

export class RunDetailView {
    readonly element: HTMLElement;
    private readonly heading: HTMLElement;
    private readonly tabs: RunDetailTabs;
    private readonly panels = new Map<DetailTab, HTMLElement>();
    private readonly chart = new MetricChart();
    private readonly metricList: HTMLElement;
    private readonly latest = new LatestOnly();
    private readonly chartTicket = new LatestOnly();
    private detail: RunDetail | undefined;
    private artifactTrees: ArtifactTree[] = [];
    private artifactsLoaded = false;
    private modelsLoaded = false;
    /** The detail is the grid's row, getRun has not answered yet. */
    private preliminary = false;
    private tab: DetailTab = 'overview';
    private chartKey: string | undefined;
    private compareRuns: RunRow[] = [];

    constructor(
        private readonly bridge: HostBridge,
        private readonly capabilities: () => Capabilities | undefined,
        private readonly events: RunDetailEvents,
    ) {
        this.heading = el('h2', { class: 'detail-heading' });
        this.tabs = el('sd-run-detail-tabs', { 'aria-label': 'Run details' });
        for (const tab of TABS) {
            const header = el(
                'vscode-tab-header',
                { slot: 'header', 'data-testid': `tab-${tab}` },
                TAB_LABELS[tab],
            );
            const panel = el('vscode-tab-panel', { 'data-tab': tab });
            this.panels.set(tab, panel);
            this.tabs.append(header, panel);
        }
        this.tabs.addEventListener('vsc-tabs-select', (event) => {
            const tab =
                TABS[(event as CustomEvent<{ selectedIndex: number }>).detail.selectedIndex];
            if (tab) this.onTab(tab);
        });
        this.metricList = el('div', { class: 'kv-table', role: 'table', 'aria-label': 'Metrics' });
        this.element = el(
            'section',
            { class: 'run-detail', 'data-testid': 'run-detail', 'aria-label': 'Run detail' },
            this.heading,
            this.tabs,
        );
        this.showEmpty();
    }

    /** The pane with no run: a prompt instead of the previous run's tabs. */
    private showEmpty(): void {
        this.heading.textContent = 'Select a run';
        this.heading.classList.add('muted');
        this.tabs.hidden = true;
    }

    get runId(): string | undefined {
        return this.detail?.run.id;
    }

    get currentTab(): DetailTab {
        return this.tab;
    }

    selectTab(tab: DetailTab): void {
        const index = TABS.indexOf(tab);
        if (index >= 0) this.tabs.selectedIndex = index;
        this.onTab(tab);
    }

    /** Loads and shows a run; the row from the grid paints at once while getRun is in flight. */
    async show(runId: string, row?: RunRow): Promise<RunDetail | undefined> {
        const ticket = this.latest.next();
        this.heading.classList.remove('muted');
        this.tabs.hidden = false;
        this.element.dataset['runId'] = runId;
        this.compareRuns = [];
        this.chart.hide();
        this.chartKey = undefined;
        if (row) this.render({ run: row, loggedModels: [], inputModelIds: [], datasets: [] }, true);
        else this.heading.textContent = 'Loading run…';
        try {
            const detail = await this.bridge.request('getRun', { runId });
            if (!this.latest.isCurrent(ticket)) return undefined;
            this.render(detail, false);
            return detail;
        } catch (error) {
            if (!this.latest.isCurrent(ticket)) return undefined;
            const message = toErrorInfo(error).message;
            if (!row) {
                this.heading.textContent = 'The run could not be loaded';
                this.element.dataset['runId'] = runId;
            }
            this.events.error(message);
            return undefined;
        }
    }

    /** Forgets the open run, e.g. when another experiment is selected: none of it stays shown. */
    hide(): void {
        this.latest.invalidate();
        this.chartTicket.invalidate();
        this.detail = undefined;
        this.compareRuns = [];
        this.chartKey = undefined;
        this.chart.hide();
        for (const panel of this.panels.values()) clear(panel);
        this.artifactTrees = [];
        this.artifactsLoaded = false;
        this.modelsLoaded = false;
        this.showEmpty();
        delete this.element.dataset['runId'];
    }

    /** Charts `key` (or the first common metric) for the ticked runs on one chart. */
    compare(runs: RunRow[]): void {
        this.compareRuns = runs.slice(0, 10);
        const current = this.detail?.run;
        const keyed = (run: RunRow, key: string) => run.metrics.some((m) => m.key === key);
        let key = this.chartKey;
        if (!key || !this.compareRuns.some((r) => keyed(r, key!))) {
            key =
                this.compareRuns.flatMap((r) => r.metrics.map((m) => m.key))[0] ??
                current?.metrics[0]?.key;
        }
        this.selectTab('metrics');
        if (!key) {
            this.events.error('None of the selected runs has a metric to compare.');
            return;
        }
        void this.chartMetric(key);
    }

    artifactOpened(path: string, source: ArtifactSourceKind): void {
        for (const tree of this.artifactTrees) tree.markOpened(path, source);
    }

    private onTab(tab: DetailTab): void {
        this.tab = tab;
        this.events.tabChanged(tab);
        if (!this.detail) return;
        // Artifacts and models cost requests; they load when their tab is first shown.
        if (tab === 'artifacts' && !this.artifactsLoaded) {
            this.artifactsLoaded = true;
            void this.renderArtifacts();
        }
        // Models come with getRun's answer, so they wait for it.
        if (tab === 'models' && !this.modelsLoaded && !this.preliminary) {
            this.modelsLoaded = true;
            void this.renderModels();
        }
    }

    private render(detail: RunDetail, preliminary: boolean): void {
        const sameRun = this.detail?.run.id === detail.run.id;
        this.detail = detail;
        this.preliminary = preliminary;
        const run = detail.run;
        if (!sameRun) {
            clear(this.panel('artifacts'));
            this.artifactTrees = [];
            this.artifactsLoaded = false;
        }
        if (!sameRun || !preliminary) {
            clear(this.panel('models'));
            this.modelsLoaded = false;
        }
        clear(this.heading);
        this.heading.append(serverText(run.name || run.id, {}, 80));
        this.renderOverview(detail, preliminary);
        this.fillPairs('params', run.params, 'param-row', 'Params');
        this.renderMetrics(run.metrics);
        this.fillPairs('tags', run.tags, 'tag-row', 'Tags');
        this.onTab(this.tab);
    }

    private panel(tab: DetailTab): HTMLElement {
        return this.panels.get(tab)!;
    }

    private renderOverview(detail: RunDetail, preliminary: boolean): void {
        const run = detail.run;
        const panel = this.panel('overview');
        clear(panel);
        const copy = el(
            'vscode-button',
            { secondary: true, 'data-testid': 'copy-run-id' },
            'Copy id',
        );
        copy.addEventListener('click', () => this.bridge.send({ type: 'copyText', text: run.id }));
        const rows: [string, Node | string][] = [
            ['Name', serverText(run.name)],
            [
                'Run id',
                el('span', { class: 'copyable' }, serverText(run.id, { class: 'mono' }), copy),
            ],
            ['Status', serverText(run.status)],
            ['Lifecycle', serverText(run.lifecycleStage)],
            ['User', serverText(run.user ?? '')],
            ['Started', formatTime(run.startTime)],
            ['Ended', formatTime(run.endTime)],
            ['Duration', formatDuration(run.startTime, run.endTime)],
            ['Experiment id', serverText(run.experimentId)],
            ['Artifact URI', serverText(run.artifactUri ?? '', { class: 'mono' }, 200)],
        ];
        if (!preliminary) {
            if (detail.datasets.length > 0) {
                rows.push([
                    'Datasets',
                    el(
                        'span',
                        {},
                        ...detail.datasets.map((d) =>
                            serverText(
                                `${d.name}${d.context ? ` (${d.context})` : ''}${d.digest ? ` #${d.digest}` : ''}`,
                                { class: 'list-item' },
                            ),
                        ),
                    ),
                ]);
            }
            if (detail.inputModelIds.length > 0) {
                rows.push([
                    'Input models',
                    el(
                        'span',
                        {},
                        ...detail.inputModelIds.map((id) =>
                            serverText(id, { class: 'mono list-item' }),
                        ),
                    ),
                ]);
            }
        }
        const table = el('div', {
            class: 'kv-table',
            role: 'table',
            'aria-label': 'Run attributes',
        });
        for (const [label, value] of rows) {
            table.append(
                el(
                    'div',
                    { class: 'kv-row', role: 'row', 'data-testid': 'attribute-row' },
                    el('span', { class: 'kv-key', role: 'rowheader' }, label),
                    el('span', { class: 'kv-value', role: 'cell' }, value),
                ),
            );
        }
        panel.append(table);
    }

    private fillPairs(
        tab: DetailTab,
        pairs: readonly KeyValue[],
        testid: string,
        label: string,
    ): void {
        const panel = this.panel(tab);
        clear(panel);
        if (pairs.length === 0) {
            panel.append(el('div', { class: 'muted' }, `No ${label.toLowerCase()}.`));
            return;
        }
        const table = el('div', { class: 'kv-table', role: 'table', 'aria-label': label });
        for (const pair of [...pairs].sort((a, b) =>
            a.key < b.key ? -1 : a.key > b.key ? 1 : 0,
        )) {
            table.append(
                el(
                    'div',
                    { class: 'kv-row', role: 'row', 'data-testid': testid, 'data-key': pair.key },
                    serverText(pair.key, { class: 'kv-key', role: 'rowheader' }, 80),
                    serverText(pair.value, { class: 'kv-value', role: 'cell' }, 300),
                ),
            );
        }
        panel.append(table);
    }

    private renderMetrics(metrics: readonly MetricValue[]): void {
        const panel = this.panel('metrics');
        clear(panel);
        clear(this.metricList);
        for (const metric of [...metrics].sort((a, b) =>
            a.key < b.key ? -1 : a.key > b.key ? 1 : 0,
        )) {
            const row = el(
                'div',
                {
                    class: 'kv-row metric-row',
                    role: 'row',
                    tabindex: 0,
                    'data-testid': 'metric-row',
                    'data-key': metric.key,
                    'aria-label': `Chart ${metric.key}`,
                },
                serverText(metric.key, { class: 'kv-key', role: 'rowheader' }, 80),
                serverText(formatMetric(metric), { class: 'kv-value', role: 'cell' }),
                el(
                    'span',
                    { class: 'muted', role: 'cell' },
                    metric.step !== undefined ? `step ${metric.step}` : '',
                ),
            );
            onActivate(row, () => void this.chartMetric(metric.key));
            this.metricList.append(row);
        }
        panel.append(
            metrics.length === 0 ? el('div', { class: 'muted' }, 'No metrics.') : this.metricList,
            this.chart.element,
        );
    }

    /** Charts `key` for the compared runs, or for this run alone. */
    private async chartMetric(key: string): Promise<void> {
        const run = this.detail?.run;
        const comparing = this.compareRuns.length > 0;
        const runs = comparing ? this.compareRuns : run ? [run] : [];
        if (runs.length === 0) return;
        this.chartKey = key;
        for (const row of this.metricList.querySelectorAll<HTMLElement>(
            '[data-testid=metric-row]',
        )) {
            row.classList.toggle('charted', row.dataset['key'] === key);
        }
        const ticket = this.chartTicket.next();
        try {
            const series = await this.bridge.request('metricHistory', {
                runIds: runs.map((r) => r.id),
                key,
            });
            if (!this.chartTicket.isCurrent(ticket)) return;
            this.chart.show(series, key, comparing ? this.compareHeading(runs) : undefined);
        } catch (error) {
            if (!this.chartTicket.isCurrent(ticket)) return;
            this.events.error(toErrorInfo(error).message);
        }
    }

    /** The chart of a comparison need not hold the open run, whose values the table lists. */
    private compareHeading(runs: readonly RunRow[]): HTMLElement {
        const heading = el(
            'span',
            {},
            `Comparing ${runs.length === 1 ? '1 run' : `${runs.length} runs`}`,
        );
        const open = this.detail?.run;
        if (open && !runs.some((r) => r.id === open.id)) {
            heading.append(
                ' (the open run, ',
                serverText(open.name || open.id, {}, 60),
                ', is not one of them)',
            );
        }
        return heading;
    }

    private async renderArtifacts(): Promise<void> {
        const run = this.detail?.run;
        if (!run) return;
        const panel = this.panel('artifacts');
        clear(panel);
        const tree = new ArtifactTree(this.bridge, { kind: 'run', runId: run.id }, (m) =>
            this.events.error(m),
        );
        this.artifactTrees.push(tree);
        panel.append(tree.element);
        await tree.load();
    }

    private async renderModels(): Promise<void> {
        const detail = this.detail;
        if (!detail) return;
        const panel = this.panel('models');
        clear(panel);
        const capabilities = this.capabilities();
        if (capabilities && !capabilities.loggedModels) {
            const limit =
                capabilities.limits.find((l) => /logged.?model/i.test(l)) ?? LOGGED_MODELS_LIMIT;
            panel.append(
                serverText(limit, { class: 'limit-sentence', 'data-testid': 'models-limit' }, 400),
            );
            return;
        }
        let models = detail.loggedModels;
        if (models.length === 0) {
            // getRun's answer had no models; ask the search, which also finds models by source run.
            try {
                const page = await this.bridge.request('loggedModels', {
                    experimentIds: [detail.run.experimentId],
                    runId: detail.run.id,
                });
                if (this.detail !== detail) return;
                models = page.items;
                // Not yet: only the first page of a run's logged models is shown.
            } catch (error) {
                if (this.detail !== detail) return;
                panel.append(
                    serverText(toErrorInfo(error).message, { class: 'artifact-error' }, 400),
                );
                return;
            }
        }
        if (models.length === 0) {
            panel.append(el('div', { class: 'muted' }, 'This run logged no models.'));
            return;
        }
        const list = el('div', {
            class: 'model-list',
            role: 'list',
            'aria-label': 'Logged models',
        });
        for (const model of models) list.append(this.modelElement(model));
        panel.append(list);
    }

    private modelElement(model: LoggedModelRow): HTMLElement {
        const item = el('div', {
            class: 'model-row',
            role: 'listitem',
            'data-testid': 'model-row',
            'data-model-id': model.id,
        });
        const expand = el(
            'button',
            { type: 'button', class: 'model-expand', 'aria-expanded': 'false' },
            '▸ Artifacts',
        );
        const body = el('div', { class: 'model-body' });
        body.hidden = true;
        const summary = el(
            'div',
            { class: 'model-summary' },
            serverText(model.name || model.id, { class: 'model-name' }, 80),
            serverText(model.id, { class: 'mono muted' }),
            model.status ? serverText(model.status, { class: 'badge' }) : undefined,
            model.modelType ? serverText(model.modelType, { class: 'muted' }) : undefined,
            serverText(formatTime(model.creationTime), { class: 'muted' }),
        );
        item.append(summary);
        if (model.sourceRunId && model.sourceRunId !== this.detail?.run.id) {
            const link = el(
                'button',
                { type: 'button', class: 'link-button', 'data-testid': 'model-source-run' },
                'Open source run ',
            );
            link.append(serverText(model.sourceRunId, { class: 'mono' }));
            const sourceRunId = model.sourceRunId;
            link.addEventListener('click', () => this.events.openRunById(sourceRunId));
            item.append(link);
        } else if (model.sourceRunId) {
            item.append(el('span', { class: 'muted' }, 'Logged by this run'));
        }
        if (model.metrics.length + model.params.length > 0) {
            const facts = el('div', { class: 'model-facts muted' });
            for (const p of model.params.slice(0, 20))
                facts.append(serverText(`${p.key}=${p.value}`, { class: 'list-item' }, 60));
            for (const m of model.metrics.slice(0, 20))
                facts.append(serverText(`${m.key}=${formatMetric(m)}`, { class: 'list-item' }, 60));
            item.append(facts);
        }
        item.append(expand, body);
        let loaded = false;
        expand.addEventListener('click', () => {
            const open = expand.getAttribute('aria-expanded') !== 'true';
            expand.setAttribute('aria-expanded', String(open));
            expand.textContent = open ? '▾ Artifacts' : '▸ Artifacts';
            body.hidden = !open;
            if (open && !loaded) {
                loaded = true;
                const tree = new ArtifactTree(
                    this.bridge,
                    { kind: 'model', modelId: model.id },
                    (m) => this.events.error(m),
                );
                this.artifactTrees.push(tree);
                body.append(tree.element);
                void tree.load();
            }
        });
        return item;
    }
}
