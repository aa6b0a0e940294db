// The Problems panel (Ctrl+Shift+M): file rows and marker rows, each marker read the way VS Code
// shows it, `message [Ln N, Col M]`.

import type { Locator, Page } from 'playwright-core';

import type { PageElement } from './workbench.js';

export interface ProblemRow {
    /** The file rows' name, or the marker's message. */
    text: string;
    /** `related`: a marker's related information (Caused by, Other side), under its marker. */
    kind: 'file' | 'marker' | 'related';
    /** For markers: 1-based line and column, from `[Ln N, Col M]`. */
    line?: number;
    column?: number;
    /** For markers: the file row above it. */
    file?: string;
}

interface RawRow {
    index: number;
    kind: ProblemRow['kind'];
    text: string;
    fileName: string;
}

export class ProblemsPanel {
    constructor(readonly page: Page) {}

    get panel(): Locator {
        return this.page.locator('.markers-panel');
    }

    async open(): Promise<void> {
        if (!(await this.panel.isVisible().catch(() => false))) {
            await this.page.keyboard.press('Control+Shift+M');
        }
        await this.panel.waitFor({ timeout: 10_000 });
    }

    /**
     * Every row, in order. The list is virtual (only the rows in view are in the DOM), so it is
     * scrolled from top to bottom with the mouse wheel and the rows collected by their index.
     */
    async rows(): Promise<ProblemRow[]> {
        // Maximized, the panel shows some 35 rows at once; the wheel covers the rest.
        await this.toggleMaximized();
        try {
            return await this.collectRows();
        } finally {
            await this.toggleMaximized();
        }
    }

    private async toggleMaximized(): Promise<void> {
        await this.page.keyboard.press('F1');
        const input = this.page.locator('.quick-input-widget input');
        await input.fill('>View: Toggle Maximized Panel');
        const row = this.page
            .locator('.quick-input-widget .monaco-list-row')
            .filter({ hasText: 'Toggle Maximized Panel' })
            .first();
        await row.waitFor({ timeout: 10_000 });
        await input.press('Enter');
        await this.page.waitForTimeout(300);
    }

    private async collectRows(): Promise<ProblemRow[]> {
        const list = this.panel.locator('.monaco-list').first();
        const box = await list.boundingBox();
        const byIndex = new Map<number, RawRow>();
        if (box) await this.page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
        if (box) await this.page.mouse.wheel(0, -100_000);
        await this.page.waitForTimeout(150);
        for (let page = 0; page < 50; page++) {
            const before = byIndex.size;
            for (const row of await this.visibleRows()) byIndex.set(row.index, row);
            if (!box || (page > 0 && byIndex.size === before)) break;
            await this.page.mouse.wheel(0, box.height * 0.8);
            await this.page.waitForTimeout(100);
        }
        const rows: ProblemRow[] = [];
        let file: string | undefined;
        for (const r of [...byIndex.values()].sort((a, b) => a.index - b.index)) {
            const position = r.text.match(/\[Ln (\d+), Col (\d+)\]/);
            if (r.kind === 'file') {
                file = r.fileName.trim() || r.text;
                rows.push({ text: file, kind: 'file' });
                continue;
            }
            rows.push({
                text: r.text,
                kind: r.kind,
                line: position ? Number(position[1]) : undefined,
                column: position ? Number(position[2]) : undefined,
                file,
            });
        }
        return rows;
    }

    private async visibleRows(): Promise<RawRow[]> {
        return this.panel.locator('.monaco-list-row').evaluateAll((elements: unknown[]) =>
            (elements as PageElement[]).map((row) => ({
                index: Number(row.getAttribute('data-index') ?? '-1'),
                kind: row.querySelector('.marker-icon')
                    ? ('marker' as const)
                    : row.querySelector('.related-info-resource')
                      ? ('related' as const)
                      : ('file' as const),
                text: row.innerText.replaceAll('\n', ' ').trim(),
                fileName: row.querySelector('.label-name')?.textContent ?? '',
            })),
        );
    }

    async markers(): Promise<ProblemRow[]> {
        return (await this.rows()).filter((r) => r.kind === 'marker');
    }

    /** Waits until a marker matches `match` (and `where`), or none does when `gone` is set. */
    async waitForMarker(
        match: RegExp,
        options: { gone?: boolean; timeoutMs?: number; file?: string } = {},
    ): Promise<ProblemRow | undefined> {
        const until = Date.now() + (options.timeoutMs ?? 30_000);
        for (;;) {
            const found = (await this.collectRows()).find(
                (m) =>
                    m.kind === 'marker' &&
                    match.test(m.text) &&
                    (!options.file || m.file === options.file),
            );
            if (options.gone ? !found : found) return found;
            if (Date.now() > until) {
                const all = (await this.rows()).map((r) => `${r.kind}: ${r.text}`).join('\n');
                throw new Error(
                    `${options.gone ? 'still a' : 'no'} Problems row matching ${match}:\n${all}`,
                );
            }
            await this.page.waitForTimeout(200);
        }
    }
}
