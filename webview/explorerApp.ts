// The explorer page: header, experiments, runs and the run detail, wired to the host. It renders
// after the host's `init`, follows `focus` (open the run of a finding), shows `notice`s, and
// keeps the selection, columns and filters in the webview state.

import { el, serverText } from './dom.js';
import { ExperimentList } from './experimentList.js';
import { HostBridge } from './hostBridge.js';
import { prefsFor, restoreState, withPrefs, type PersistedState } from './persistedState.js';
import { PROTOCOL_VERSION } from './protocol.js';
import type { Focus, HostMessage, LifecycleView, RunRow, ServerInfo } from './protocol.js';
import { RunDetailView, TABS, type DetailTab } from './runDetail.js';
import { RunGrid } from './runGrid.js';
import { Notices, ServerHeader, type NoticeLevel } from './serverHeader.js';

type PageState = 'loading' | 'ready' | 'no-server';

export class ExplorerApp {
    private readonly bridge = new HostBridge();
    private state: PersistedState;
    private readonly header: ServerHeader;
    private readonly notices = new Notices();
    private readonly main: HTMLElement;
    private readonly noServer: HTMLElement;
    private experiments: ExperimentList | undefined;
    private grid: RunGrid | undefined;
    private detail: RunDetailView | undefined;
    private server: ServerInfo | undefined;
    private experimentId: string | undefined;
    private saveTimer: ReturnType<typeof setTimeout> | undefined;

    constructor(private readonly root: HTMLElement) {
        this.state = restoreState(this.bridge.loadState());
        this.header = new ServerHeader((key) => this.selectServer(key));
        this.main = el('main', { class: 'explorer-main' });
        this.noServer = el('div', { class: 'no-server', 'data-testid': 'no-server' });
        this.noServer.hidden = true;
        root.append(this.header.element, this.notices.element, this.noServer, this.main);
        this.setPageState('loading');
        this.main.append(el('div', { class: 'muted loading' }, 'Connecting to the extension…'));
        this.bridge.onMessage((message) => this.onHostMessage(message));
        this.bridge.ready();
    }

    private setPageState(state: PageState): void {
        document.body.dataset['state'] = state;
    }

    notify(level: NoticeLevel, message: string): void {
        this.notices.show(level, message);
    }

    private onHostMessage(message: Exclude<HostMessage, { type: 'response' }>): void {
        switch (message.type) {
            case 'init':
                this.init(message);
                break;
            case 'focus':
                this.applyFocus(message.focus);
                break;
            case 'notice':
                this.notify(message.level, message.message);
                break;
            case 'artifactOpened':
                this.detail?.artifactOpened(message.path, message.source);
                break;
        }
    }

    private init(message: Extract<HostMessage, { type: 'init' }>): void {
        // Answers to requests made for the previous server must not land in the new page.
        this.bridge.requests.failAll({ message: 'The server changed.', kind: 'cancelled' });
        this.main.replaceChildren();
        this.notices.clear();
        if (message.protocol !== PROTOCOL_VERSION) {
            this.notify(
                'warning',
                `The extension speaks explorer protocol ${message.protocol}, this page ${PROTOCOL_VERSION}; reload the window if the explorer misbehaves.`,
            );
        }
        const servers = Array.isArray(message.servers) ? message.servers : [];
        this.server = servers.find((s) => s.key === message.current);
        this.header.show(servers, this.server);
        if (!this.server) {
            this.showNoServer(message.problem?.message);
            return;
        }
        this.noServer.hidden = true;

        if (this.state.serverKey !== this.server.key) {
            // A selection on another server means nothing here.
            // Not yet: column and filter preferences are kept by experiment id only, so two servers with the same experiment id share them.
            this.state = { ...this.state, serverKey: this.server.key };
            delete this.state.experimentId;
            delete this.state.runId;
        }
        this.build();
        this.setPageState('ready');

        const focus: Focus = message.focus ?? {};
        const experimentId =
            focus.experimentId ?? (focus.runId ? undefined : this.state.experimentId);
        const runId = focus.runId ?? (focus.experimentId ? undefined : this.state.runId);
        this.applyFocus({
            ...(experimentId ? { experimentId } : {}),
            ...(runId ? { runId } : {}),
        });
        void this.experiments?.load(false);
    }

    private showNoServer(problem: string | undefined): void {
        this.setPageState('no-server');
        this.noServer.replaceChildren(
            el('h2', {}, 'No MLflow server to explore'),
            serverText(
                problem ??
                    'Stack Doctor found no MLflow tracking server. Run “Diagnose Now”, or set stackDoctor.trackingUri.',
                { class: 'no-server-text' },
                600,
            ),
        );
        this.noServer.hidden = false;
        if (problem) this.notify('error', problem);
    }

    private build(): void {
        this.experiments = new ExperimentList(
            this.bridge,
            {
                select: (experiment) => this.selectExperiment(experiment.id, undefined),
                filtersChanged: (search, view) => {
                    this.state = { ...this.state, experimentSearch: search, experimentView: view };
                    this.save();
                },
                error: (message) => this.notify('error', message),
            },
            { search: this.state.experimentSearch, view: this.state.experimentView },
        );
        this.grid = new RunGrid(this.bridge, {
            openRun: (run) => this.openRun(run.id, run),
            compare: (runs) => this.compare(runs),
            prefsChanged: (experimentId, prefs) => {
                this.state = withPrefs(this.state, experimentId, prefs);
                this.save();
            },
            error: (message) => this.notify('error', message),
            problem: (message) => this.notify('warning', message),
        });
        this.detail = new RunDetailView(this.bridge, () => this.server?.capabilities, {
            openRunById: (runId) => void this.openRunAnywhere(runId),
            tabChanged: (tab) => {
                this.state = { ...this.state, tab };
                this.save();
            },
            error: (message) => this.notify('error', message),
        });
        const tab = this.state.tab;
        if (tab && (TABS as readonly string[]).includes(tab))
            this.detail.selectTab(tab as DetailTab);
        this.main.replaceChildren(this.experiments.element, this.grid.element, this.detail.element);
    }

    private experimentView(): LifecycleView {
        // Runs of a deleted experiment are shown whatever their own lifecycle.
        return this.state.experimentView === 'deleted' ? 'all' : 'active';
    }

    private selectExperiment(experimentId: string, runId: string | undefined): void {
        if (!this.grid || !this.detail) return;
        if (experimentId !== this.experimentId) {
            this.experimentId = experimentId;
            this.experiments?.setSelected(experimentId);
            this.grid.showExperiment(
                experimentId,
                prefsFor(this.state, experimentId),
                this.experimentView(),
            );
            // The open run belongs to the previous experiment: its detail must not stay on screen.
            if (!runId) {
                this.detail.hide();
                this.grid.setOpenRun(undefined);
            }
        }
        this.state = { ...this.state, experimentId };
        if (!runId) delete this.state.runId;
        this.save();
    }

    private openRun(runId: string, row: RunRow | undefined): void {
        if (!this.detail) return;
        this.grid?.setOpenRun(runId);
        this.state = { ...this.state, runId };
        this.save();
        void this.detail.show(runId, row);
    }

    /** Opens a run by id; its experiment is selected from getRun's answer when it differs. */
    private async openRunAnywhere(runId: string): Promise<void> {
        if (!this.detail) return;
        this.grid?.setOpenRun(runId);
        this.state = { ...this.state, runId };
        this.save();
        const detail = await this.detail.show(runId, this.grid?.runById(runId));
        const experimentId = detail?.run.experimentId;
        if (experimentId && experimentId !== this.experimentId) {
            this.selectExperiment(experimentId, runId);
            this.grid?.setOpenRun(runId);
        }
    }

    private applyFocus(focus: Focus): void {
        if (focus.experimentId) this.selectExperiment(focus.experimentId, focus.runId);
        if (focus.runId) void this.openRunAnywhere(focus.runId);
    }

    private compare(runs: RunRow[]): void {
        if (!this.detail) return;
        const first = runs[0];
        if (!this.detail.runId && first) this.openRun(first.id, first);
        this.detail.compare(runs);
    }

    private selectServer(key: string): void {
        this.bridge.send({ type: 'selectServer', key });
        this.setPageState('loading');
    }

    /** State writes are batched: typing in a filter must not write on every key. */
    private save(): void {
        if (this.saveTimer !== undefined) return;
        this.saveTimer = setTimeout(() => {
            this.saveTimer = undefined;
            this.bridge.saveState(this.state);
        }, 200);
    }
}

export function startExplorer(root: HTMLElement): ExplorerApp {
    return new ExplorerApp(root);
}
