// The Stack view in the sidebar: its activity bar entry, its tree rows as a user reads them
// (label and description), expanding and waiting for a row.

import type { Locator, Page } from 'playwright-core';

import type { PageElement } from './workbench.js';

export interface StackRow {
    label: string;
    description: string;
    /** Tree depth, 1 for top-level rows. */
    level: number;
    expanded?: boolean;
}

export class StackView {
    constructor(
        readonly page: Page,
        /** The view container's title in the activity bar ("Stack Doctor"). */
        readonly containerTitle: string,
        /** The view's name ("Stack"). */
        readonly viewName: string,
    ) {}

    get pane(): Locator {
        return this.page
            .locator('.pane')
            .filter({ has: this.page.locator(`.pane-header[aria-label^="${this.viewName}"]`) })
            .first();
    }

    /** The sidebar part when it shows this view container. */
    get container(): Locator {
        return this.page.locator('.part.sidebar').filter({
            has: this.page.locator('.composite.title', { hasText: this.containerTitle }),
        });
    }

    async open(): Promise<void> {
        const item = this.page
            .locator(`.activitybar .action-item [aria-label^="${this.containerTitle}"]`)
            .first();
        await item.waitFor({ timeout: 30_000 });
        const checked = await item.locator('..').getAttribute('class');
        if (!checked?.includes('checked')) await item.click();
        await this.container.waitFor({ timeout: 10_000 });
        // The activity bar's hover would sit over the tree's first rows.
        await this.page.mouse.move(700, 450);
        await this.page.keyboard.press('Escape');
    }

    /** Drags the sidebar's edge so that it is `width` pixels wide (long finding titles). */
    async widen(width: number): Promise<void> {
        const box = await this.page.locator('.part.sidebar').boundingBox();
        if (!box || box.width >= width) return;
        const y = box.y + box.height - 40;
        await this.page.mouse.move(box.x + box.width + 1, y);
        await this.page.mouse.down();
        await this.page.mouse.move(box.x + width, y, { steps: 5 });
        await this.page.mouse.up();
        await this.page.mouse.move(box.x + width + 300, y);
    }

    async isShown(): Promise<boolean> {
        return (await this.container.count()) > 0 && this.container.isVisible();
    }

    get rowLocator(): Locator {
        return this.container.locator('.monaco-list-row');
    }

    async rows(): Promise<StackRow[]> {
        return this.rowLocator.evaluateAll((elements: unknown[]) =>
            (elements as PageElement[]).map((row) => {
                const label = row.querySelector('.label-name')?.textContent ?? '';
                const description = row.querySelector('.label-description')?.textContent ?? '';
                const expanded = row.getAttribute('aria-expanded');
                return {
                    label: label.trim(),
                    description: description.trim(),
                    level: Number(row.getAttribute('aria-level') ?? '1'),
                    expanded: expanded === null ? undefined : expanded === 'true',
                };
            }),
        );
    }

    /** Rows as lines: `  label — description`, indented by level. */
    async text(): Promise<string> {
        return (await this.rows())
            .map(
                (r) =>
                    `${'  '.repeat(r.level - 1)}${r.label}${r.description ? ` — ${r.description}` : ''}`,
            )
            .join('\n');
    }

    /** Expands every collapsed row, top to bottom, until none is left (or `limit` clicks). */
    async expandAll(limit = 40): Promise<void> {
        for (let i = 0; i < limit; i++) {
            const collapsed = this.container
                .locator('.monaco-list-row[aria-expanded="false"]')
                .first();
            if ((await collapsed.count()) === 0) return;
            const before = await this.rowLocator.count();
            await collapsed.locator('.monaco-tl-twistie').click();
            await this.page
                .waitForFunction(
                    ([selector, count]) =>
                        (
                            globalThis as unknown as {
                                document: { querySelectorAll(s: string): { length: number } };
                            }
                        ).document.querySelectorAll(selector).length > count,
                    ['.part.sidebar .monaco-list-row', before] as [string, number],
                    { timeout: 2000 },
                )
                .catch(() => undefined);
        }
    }

    /** Waits for a row whose `label — description` matches; returns it. */
    async waitForRow(match: RegExp, timeoutMs = 30_000): Promise<StackRow> {
        const until = Date.now() + timeoutMs;
        for (;;) {
            const row = (await this.rows()).find((r) =>
                match.test(`${r.label} — ${r.description}`),
            );
            if (row) return row;
            if (Date.now() > until) {
                throw new Error(
                    `no Stack row matches ${match} after ${timeoutMs} ms:\n${await this.text()}`,
                );
            }
            await this.page.waitForTimeout(100);
        }
    }
}
