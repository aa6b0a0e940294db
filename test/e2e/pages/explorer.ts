// The MLflow Explorer webview as a user drives it, over the DOM hooks the webview promises
// (data-testid attributes): experiments, the run grid, a run's tabs, artifacts, the chart. The
// webview is two nested iframes inside the workbench; the explorer's frame is found by its
// content, not by VS Code's frame names, which change between releases.

import type { Frame, Locator, Page } from 'playwright-core';

import type { Workbench } from './workbench.js';

/** The few DOM members read inside the webview (the tests compile without the DOM library). */
interface Node {
    textContent: string | null;
    getAttribute(name: string): string | null;
    querySelector(selector: string): Node | null;
    querySelectorAll(selector: string): ArrayLike<Node>;
}
interface Canvas {
    width: number;
    height: number;
    getContext(kind: '2d'): {
        getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> };
    } | null;
}
interface Doc {
    body: Node & { dataset: Record<string, string | undefined> };
    querySelector(selector: string): Node | null;
}

export type ExplorerState = 'loading' | 'ready' | 'no-server';
export type DetailTab = 'overview' | 'params' | 'metrics' | 'tags' | 'artifacts' | 'models';

/** A server string as the webview shows it: the visible text and the tooltip's full text. */
export interface ShownText {
    text: string;
    title: string | null;
}

export interface KeyValueRow {
    key: string;
    keyShown: ShownText;
    valueShown: ShownText;
}

export interface ArtifactRow {
    path: string;
    isDir: boolean;
    name: ShownText;
}

export interface ChartPixels {
    width: number;
    height: number;
    /** Pixels that differ from the most common colour (the background). */
    drawn: number;
}

export class ExplorerPage {
    private current?: Frame;

    constructor(readonly workbench: Workbench) {}

    get page(): Page {
        return this.workbench.page;
    }

    /**
     * Opens the explorer through the command palette and waits for its frame. The palette lists
     * an extension's commands only once the remote extension host has registered it, some
     * seconds after the workbench shows, so the command is retried until then.
     */
    async open(commandTitle = 'Stack Doctor: Open MLflow Explorer', timeoutMs = 60_000) {
        const until = Date.now() + timeoutMs;
        for (;;) {
            try {
                await this.workbench.runCommand(commandTitle);
                break;
            } catch (error) {
                await this.page.keyboard.press('Escape');
                if (Date.now() > until) throw error;
                await this.page.waitForTimeout(1000);
            }
        }
        await this.waitForFrame(Math.max(10_000, until - Date.now()));
    }

    /** The frame that holds the explorer's document (a body with `data-state`). */
    async waitForFrame(timeoutMs = 60_000): Promise<Frame> {
        const until = Date.now() + timeoutMs;
        for (;;) {
            for (const frame of this.page.frames()) {
                if (frame.isDetached()) continue;
                const found = await frame
                    .evaluate(
                        () =>
                            (globalThis as unknown as { document: Doc }).document.body?.dataset[
                                'state'
                            ] !== undefined &&
                            (globalThis as unknown as { document: Doc }).document.querySelector(
                                '[data-testid=run-table], [data-testid=no-server]',
                            ) !== null,
                    )
                    .catch(() => false);
                if (found) {
                    this.current = frame;
                    return frame;
                }
            }
            if (Date.now() > until) {
                throw new Error(
                    `no explorer webview frame (a body with data-state) after ${timeoutMs} ms; frames: ${this.page
                        .frames()
                        .map((f) => f.url().slice(0, 120))
                        .join(', ')}`,
                );
            }
            await this.page.waitForTimeout(200);
        }
    }

    get frame(): Frame {
        if (!this.current || this.current.isDetached()) {
            throw new Error('the explorer frame is not open (call open() or waitForFrame())');
        }
        return this.current;
    }

    testId(id: string): Locator {
        return this.frame.locator(`[data-testid=${id}]`);
    }

    async state(): Promise<string | undefined> {
        return this.frame.evaluate(
            () => (globalThis as unknown as { document: Doc }).document.body.dataset['state'],
        );
    }

    async waitForState(state: ExplorerState, timeoutMs = 60_000): Promise<void> {
        await this.frame
            .waitForFunction(
                (s) =>
                    (globalThis as unknown as { document: Doc }).document.body.dataset['state'] ===
                    s,
                state,
                {
                    timeout: timeoutMs,
                },
            )
            .catch(async (error: Error) => {
                throw new Error(
                    `explorer state is ${await this.state().catch(() => '?')}, not ${state}: ${error.message}\nnotices: ${(
                        await this.notices()
                    ).join(' | ')}`,
                );
            });
    }

    async notices(): Promise<string[]> {
        return (await this.testId('notice').allTextContents()).map((t) => t.trim());
    }

    async serverLimits(): Promise<string[]> {
        return (
            await this.testId('server-limits').locator('li, [role=listitem], div').allTextContents()
        )
            .map((t) => t.trim())
            .filter(Boolean);
    }

    // --- experiments ---------------------------------------------------------------------------

    /** Experiment rows as listed: id and the shown name. */
    async experiments(): Promise<{ id: string; name: ShownText }[]> {
        return this.testId('experiment-row').evaluateAll((rows: unknown[]) =>
            (rows as Node[]).map((row) => {
                const name = row.querySelector('.experiment-name') ?? row;
                return {
                    id: row.getAttribute('data-experiment-id') ?? '',
                    name: { text: name.textContent ?? '', title: name.getAttribute('title') },
                };
            }),
        );
    }

    experimentRow(id: string): Locator {
        return this.frame.locator(`[data-testid=experiment-row][data-experiment-id="${id}"]`);
    }

    async waitForExperiment(id: string, timeoutMs = 30_000): Promise<void> {
        await this.experimentRow(id).first().waitFor({ timeout: timeoutMs });
    }

    /** Types into the experiment search field (a vscode-textfield: its input is in a shadow root). */
    async searchExperiments(text: string): Promise<void> {
        const input = this.testId('experiment-search').locator('input');
        await input.fill(text);
    }

    async selectExperiment(id: string): Promise<void> {
        await this.experimentRow(id).first().scrollIntoViewIfNeeded();
        await this.experimentRow(id).first().click();
    }

    // --- runs ----------------------------------------------------------------------------------

    runRow(runId: string): Locator {
        return this.frame.locator(`[data-testid=run-row][data-run-id="${runId}"]`);
    }

    get firstRunRow(): Locator {
        return this.testId('run-row').first();
    }

    /** The rendered window of the virtual list: run ids and each row's cell texts. */
    async runRows(): Promise<{ id: string; cells: ShownText[] }[]> {
        return this.testId('run-row').evaluateAll((rows: unknown[]) =>
            (rows as Node[]).map((row) => ({
                id: row.getAttribute('data-run-id') ?? '',
                cells: Array.from(row.querySelectorAll('[role=gridcell]')).map((cell) => ({
                    text: cell.textContent ?? '',
                    title: cell.getAttribute('title'),
                })),
            })),
        );
    }

    async runCount(): Promise<string> {
        return ((await this.testId('run-count').textContent()) ?? '').trim();
    }

    /** `loaded` and `total` read from the count text ("100 of 10,000 runs", "12 runs"). */
    async runCountNumbers(): Promise<{ loaded?: number; total?: number; text: string }> {
        const text = await this.runCount();
        const numbers = [...text.matchAll(/\d[\d,.\u202f\u00a0]*/g)].map((m) =>
            Number(m[0].replace(/[^\d]/g, '')),
        );
        return { loaded: numbers[0], total: numbers[1], text };
    }

    async filterRunsByName(text: string): Promise<void> {
        const filter = this.testId('run-name-filter');
        const input = filter.locator('input');
        if ((await input.count()) > 0) await input.first().fill(text);
        else await filter.fill(text);
    }

    async openRun(runId: string): Promise<void> {
        await this.runRow(runId).first().click();
        await this.frame
            .locator(`[data-testid=run-detail][data-run-id="${runId}"]`)
            .waitFor({ timeout: 30_000 });
    }

    async selectRunsForComparison(runIds: string[]): Promise<void> {
        for (const id of runIds) {
            const box = this.runRow(id).locator('[data-testid=run-select]');
            if (!(await box.isChecked())) await box.click();
        }
    }

    async compare(): Promise<void> {
        await this.testId('compare-button').click();
    }

    /** Scrolls the run grid to its end with the mouse wheel (the virtual list loads more). */
    async scrollRunsToEnd(): Promise<void> {
        const table = this.testId('run-table');
        // The grid element is the scroller (its body is as tall as all rows).
        await table.evaluate((grid: unknown) => {
            const scroller = grid as { scrollTop: number; scrollHeight: number };
            scroller.scrollTop = scroller.scrollHeight;
        });
        const box = await table.boundingBox();
        if (box) {
            await this.page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
            await this.page.mouse.wheel(0, 100_000);
        }
    }

    // --- run detail ----------------------------------------------------------------------------

    async openTab(tab: DetailTab): Promise<void> {
        await this.testId(`tab-${tab}`).click();
    }

    /** Param, tag or metric rows of the open run: key, and key and value as shown. */
    async keyValueRows(kind: 'param' | 'tag' | 'metric'): Promise<KeyValueRow[]> {
        return this.testId(`${kind}-row`).evaluateAll((rows: unknown[]) =>
            (rows as Node[]).map((row) => {
                const key = row.querySelector('.kv-key');
                const value = row.querySelector('.kv-value');
                return {
                    key: row.getAttribute('data-key') ?? '',
                    keyShown: {
                        text: key?.textContent ?? '',
                        title: key?.getAttribute('title') ?? null,
                    },
                    valueShown: {
                        text: value?.textContent ?? '',
                        title: value?.getAttribute('title') ?? null,
                    },
                };
            }),
        );
    }

    async chartMetric(key: string): Promise<void> {
        await this.frame.locator(`[data-testid=metric-row][data-key="${cssString(key)}"]`).click();
    }

    /** How much of the chart's canvas is drawn: 0 when it is blank. */
    async chartPixels(): Promise<ChartPixels> {
        const canvas = this.testId('metric-chart').locator('canvas').first();
        await canvas.waitFor({ timeout: 30_000 });
        return canvas.evaluate((element: unknown) => {
            const c = element as Canvas;
            const data = c.getContext('2d')?.getImageData(0, 0, c.width, c.height).data ?? [];
            const counts = new Map<number, number>();
            for (let i = 0; i + 3 < data.length; i += 4) {
                const rgba =
                    ((data[i] ?? 0) << 24) | ((data[i + 1] ?? 0) << 16) | ((data[i + 2] ?? 0) << 8);
                const colour = rgba | (data[i + 3] ?? 0);
                counts.set(colour, (counts.get(colour) ?? 0) + 1);
            }
            const background = Math.max(0, ...counts.values());
            return { width: c.width, height: c.height, drawn: data.length / 4 - background };
        });
    }

    /** The chart's legend labels (uPlot's series names: one per compared run). */
    async chartSeries(): Promise<string[]> {
        return (
            await this.testId('metric-chart')
                .locator('.u-legend .u-series .u-label')
                .allTextContents()
        )
            .map((t) => t.trim())
            .filter(Boolean);
    }

    // --- artifacts and models ------------------------------------------------------------------

    artifactEntry(path: string): Locator {
        return this.frame
            .locator(`[data-testid=artifact-entry][data-path="${cssString(path)}"]`)
            .first();
    }

    async artifacts(): Promise<ArtifactRow[]> {
        return this.testId('artifact-entry').evaluateAll((items: unknown[]) =>
            (items as Node[]).map((item) => {
                const name = item.querySelector('.artifact-name');
                return {
                    path: item.getAttribute('data-path') ?? '',
                    isDir: item.getAttribute('data-dir') === 'true',
                    name: {
                        text: name?.textContent ?? '',
                        title: name?.getAttribute('title') ?? null,
                    },
                };
            }),
        );
    }

    /** Expands the folders on the way to `path` (`a/b/c.txt` expands `a` and `a/b`). */
    async revealArtifact(path: string, timeoutMs = 30_000): Promise<Locator> {
        const parts = path.split('/');
        for (let i = 1; i < parts.length; i++) {
            const dir = parts.slice(0, i).join('/');
            const entry = this.artifactEntry(dir);
            await entry.waitFor({ timeout: timeoutMs });
            if ((await entry.getAttribute('aria-expanded')) !== 'true') {
                await entry.locator('.artifact-line').first().click();
            }
        }
        const target = this.artifactEntry(path);
        await target.waitFor({ timeout: timeoutMs });
        return target;
    }

    async openArtifact(path: string): Promise<void> {
        const entry = await this.revealArtifact(path);
        await entry.locator('.artifact-line').first().click();
    }

    async models(): Promise<{ id: string; text: string }[]> {
        return this.testId('model-row').evaluateAll((rows: unknown[]) =>
            (rows as Node[]).map((row) => ({
                id: row.getAttribute('data-model-id') ?? '',
                text: (row.textContent ?? '').trim(),
            })),
        );
    }

    // --- safety --------------------------------------------------------------------------------

    /** Frames (by URL) in which a hostile payload set `window.__sdPwned`. */
    async pwnedFrames(): Promise<string[]> {
        const hit: string[] = [];
        for (const frame of this.page.frames()) {
            if (frame.isDetached()) continue;
            const pwned = await frame
                .evaluate(
                    () =>
                        (globalThis as unknown as { __sdPwned?: unknown }).__sdPwned !== undefined,
                )
                .catch(() => false);
            if (pwned) hit.push(frame.url());
        }
        return hit;
    }
}

/** A value for a quoted CSS attribute selector. */
function cssString(value: string): string {
    return value.replace(/["\\]/g, (c) => `\\${c}`).replace(/\n/g, '\\a ');
}
