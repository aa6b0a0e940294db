// The diagnosed stack of the workspace: the last snapshot and report, the diagnosis that runs
// now, and the live Docker subscription that keeps container states current while the Stack
// view is visible. The tree, the Problems panel and the status bar all render from here.

import { existsSync } from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';

import type { ContainerEvent } from '../core/docker/events.js';
import type { StackSnapshot } from '../core/model.js';
import type { Report } from '../core/report.js';
import { isTrusted, readSettings, type Settings } from './config.js';
import type { Ctx } from './ctx.js';
import { loadEngine, type Engine } from './engine.js';
import { applyContainerEvent } from './liveState.js';
import { RefreshSchedule } from './refreshSchedule.js';
import type { ViewState } from './stackModel.js';

const COMPOSE_NAMES = ['compose.yaml', 'compose.yml', 'docker-compose.yaml', 'docker-compose.yml'];

export interface DiagnoseRequest {
    /** Why it runs, for the log. */
    reason: string;
    /** Automatic runs (on open, on save) never write sentinels. */
    automatic: boolean;
    progress?: (message: string) => void;
}

export class StackSession implements vscode.Disposable {
    private readonly changed = new vscode.EventEmitter<void>();
    readonly onDidChange = this.changed.event;

    snapshot?: StackSnapshot;
    report?: Report;
    offline = false;
    error?: string;
    diagnosing = false;

    private running?: Promise<void>;
    private again?: DiagnoseRequest;
    private watching = false;
    private readonly schedule: RefreshSchedule;

    constructor(private readonly ctx: Ctx) {
        this.schedule = new RefreshSchedule({
            recheck: () => this.recheck(),
            poll: () => void this.poll(),
            subscribe: () => void this.subscribe(),
            unsubscribe: () => this.unsubscribe(),
        });
    }

    get viewState(): ViewState {
        return {
            snapshot: this.snapshot,
            report: this.report,
            offline: this.offline,
            error: this.error,
        };
    }

    /** The folder diagnosed: the first workspace folder with a compose file, else the first. */
    folder(): vscode.Uri | undefined {
        const folders = vscode.workspace.workspaceFolders ?? [];
        // Not yet: a multi-root workspace is diagnosed one folder only, the first with a stack.
        const withCompose = folders.find(
            (f) =>
                f.uri.scheme === 'file' &&
                COMPOSE_NAMES.some((name) => existsSync(path.join(f.uri.fsPath, name))),
        );
        return (withCompose ?? folders.find((f) => f.uri.scheme === 'file'))?.uri;
    }

    private engine(): Engine {
        return loadEngine(this.ctx.extensionPath);
    }

    /** Runs a diagnosis; one at a time, and a request during a run runs once more after it. */
    diagnose(request: DiagnoseRequest): Promise<void> {
        if (this.running) {
            this.again = request;
            return this.running;
        }
        this.running = this.run(request).finally(() => {
            this.running = undefined;
            const next = this.again;
            this.again = undefined;
            if (next) void this.diagnose(next);
        });
        return this.running;
    }

    private async run(request: DiagnoseRequest): Promise<void> {
        const folder = this.folder();
        if (!folder) {
            this.error = 'Open a folder to diagnose its stack.';
            this.changed.fire();
            return;
        }
        const settings = readSettings();
        const trusted = isTrusted();
        this.diagnosing = true;
        this.changed.fire();
        const started = performance.now();
        try {
            const engine = this.engine();
            this.ctx.log.info(
                `diagnosing ${folder.fsPath} (${request.reason}${trusted ? '' : ', restricted mode: files only'})`,
            );
            const diagnosis = await engine.diagnoseStack({
                folder: folder.fsPath,
                ...this.engineOptions(settings, trusted, request.automatic),
                progress: (message) => {
                    this.ctx.log.debug(message);
                    request.progress?.(message);
                },
            });
            this.offline = !trusted;
            this.error = undefined;
            this.accept(diagnosis.snapshot, diagnosis.report);
            this.logOutcome(diagnosis.snapshot, diagnosis.report, performance.now() - started);
            if (this.schedule.isVisible) void this.subscribe();
        } catch (error) {
            this.error = error instanceof Error ? error.message : String(error);
            this.ctx.log.error('the diagnosis failed', error);
        } finally {
            this.diagnosing = false;
            this.changed.fire();
        }
    }

    engineOptions(settings: Settings, trusted: boolean, automatic: boolean) {
        return {
            timeoutMs: settings.timeoutMs,
            offline: !trusted,
            allowWrites: trusted && settings.allowWrites && !automatic,
            allowExec: trusted && settings.allowExec,
            runInterpreter: trusted,
            dockerHost: trusted ? settings.dockerHost : undefined,
            trackingUri: trusted ? settings.trackingUri : undefined,
        };
    }

    private logOutcome(snapshot: StackSnapshot, report: Report, ms: number): void {
        const docker = snapshot.docker;
        if (docker?.reachable && docker.endpoint) {
            this.ctx.log.info(
                `connected to Docker at ${docker.endpoint.address} (${docker.endpoint.source})`,
            );
        } else if (docker) {
            this.ctx.log.warn(
                `Docker not reachable; tried ${docker.attempts.map((a) => `${a.endpoint.address}: ${a.error ?? 'no answer'}`).join('; ')}`,
            );
        }
        for (const server of snapshot.servers) {
            if (server.serverVersion) {
                this.ctx.log.info(`MLflow ${server.serverVersion} at ${server.baseUrl}`);
            }
        }
        for (const probe of snapshot.probes) {
            this.ctx.log.debug(
                `probe ${probe.probe}: ${probe.status}${probe.detail ? ` (${probe.detail})` : ''}${probe.durationMs !== undefined ? ` in ${probe.durationMs} ms` : ''}`,
            );
        }
        this.ctx.log.info(`${report.findings.length} finding(s) in ${Math.round(ms)} ms`);
    }

    private accept(snapshot: StackSnapshot, report: Report): void {
        this.snapshot = snapshot;
        this.report = report;
    }

    /** Re-runs the sync probe alone, with the user's write setting. */
    async reprobeMounts(): Promise<void> {
        if (!this.snapshot || !isTrusted()) return;
        const settings = readSettings();
        const diagnosis = await this.engine().reprobeMounts(this.snapshot, {
            ...this.dockerTarget(settings),
            allowWrites: settings.allowWrites,
            allowExec: settings.allowExec,
        });
        for (const result of diagnosis.snapshot.syncProbes) {
            this.ctx.log.info(
                `sync probe ${result.container}:${result.destination}: ${result.verdict}`,
            );
        }
        this.accept(diagnosis.snapshot, diagnosis.report);
        this.changed.fire();
    }

    private dockerTarget(settings: Settings) {
        return {
            dockerHost: settings.dockerHost,
            project: this.snapshot?.compose?.name,
            workingDir: this.snapshot?.compose?.workingDir,
            serviceNames: this.snapshot?.compose?.services.map((s) => s.name),
            timeoutMs: settings.timeoutMs,
        };
    }

    // -----------------------------------------------------------------------------------------
    // Live updates

    setViewVisible(visible: boolean): void {
        this.schedule.setVisible(visible);
    }

    private canWatch(): boolean {
        return (
            isTrusted() && !this.offline && this.snapshot?.compose !== undefined && !this.watching
        );
    }

    private async subscribe(): Promise<void> {
        if (!this.canWatch()) return;
        this.watching = true;
        try {
            const watch = await this.engine().watchContainerEvents(
                this.dockerTarget(readSettings()),
                (event) => this.onContainerEvent(event),
                (error) => {
                    this.ctx.log.warn(`Docker events stopped: ${error.message}`);
                    this.unsubscribe();
                    this.schedule.setEventsLive(false);
                },
            );
            if (!watch.address) {
                this.watching = false;
                this.schedule.setEventsLive(false);
                return;
            }
            this.ctx.ownLive(watch);
            this.ctx.log.info(`watching container events at ${watch.address}`);
            this.schedule.setEventsLive(true);
        } catch (error) {
            this.watching = false;
            this.ctx.log.warn(
                `could not subscribe to Docker events: ${error instanceof Error ? error.message : String(error)}`,
            );
            this.schedule.setEventsLive(false);
        }
    }

    private unsubscribe(): void {
        this.ctx.endLive();
        this.watching = false;
    }

    private onContainerEvent(event: ContainerEvent): void {
        if (!this.snapshot) return;
        this.ctx.log.debug(
            `event ${event.kind}${event.health ? ` ${event.health}` : ''} ${event.service ?? event.name ?? event.containerId}`,
        );
        const patched = applyContainerEvent(this.snapshot, event);
        if (!patched.known) {
            void this.poll();
            return;
        }
        this.snapshot = patched.snapshot;
        // The state is on screen now; the findings follow after the burst.
        this.changed.fire();
        this.schedule.containerChanged();
    }

    private recheck(): void {
        if (!this.snapshot) return;
        const { report } = this.engine().recheck(this.snapshot);
        this.report = report;
        this.changed.fire();
    }

    private async poll(): Promise<void> {
        if (!this.snapshot || !this.canPoll()) return;
        try {
            const docker = await this.engine().readContainers(this.dockerTarget(readSettings()));
            if (!this.snapshot) return;
            this.snapshot = { ...this.snapshot, docker };
            this.recheck();
        } catch (error) {
            this.ctx.log.debug(
                `poll failed: ${error instanceof Error ? error.message : String(error)}`,
            );
        }
    }

    private canPoll(): boolean {
        return isTrusted() && !this.offline && this.snapshot?.compose !== undefined;
    }

    dispose(): void {
        this.schedule.dispose();
        this.unsubscribe();
        this.changed.dispose();
    }
}
