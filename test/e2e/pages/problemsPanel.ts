// The Problems panel (Ctrl+Shift+M): file rows and marker rows, each marker read the way VS Code
// shows it, `message [Ln N, Col M]`.

import type { Locator, Page } from 'playwright-core';

export interface ProblemRow {
    /** The file rows' name, or the marker's message. */
    text: string;
    kind: 'file' | 'marker';
    /** For markers: 1-based line and column, from `[Ln N, Col M]`. */
    line?: number;
    column?: number;
    /** For markers: the file row above it. */
    file?: string;
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

    async rows(): Promise<ProblemRow[]> {
        const raw = await this.panel.locator('.monaco-list-row').evaluateAll((elements) =>
            elements.map((row) => ({
                marker: row.querySelector('.marker-message-details, .marker-message') !== null,
                text: (row as unknown as { innerText: string }).innerText.replaceAll('\n', ' ').trim(),
                aria: row.getAttribute('aria-label') ?? '',
                fileName: row.querySelector('.label-name')?.textContent ?? '',
            })),
        );
        const rows: ProblemRow[] = [];
        let file: string | undefined;
        for (const r of raw) {
            const position = r.text.match(/\[Ln (\d+), Col (\d+)\]/);
            if (!position) {
                const name = r.fileName.trim() || r.text;
                file = name;
                rows.push({ text: name, kind: 'file' });
                continue;
            }
            rows.push({
                text: r.text,
                kind: 'marker',
                line: Number(position[1]),
                column: Number(position[2]),
                file,
            });
        }
        return rows;
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
            const found = (await this.markers()).find(
                (m) => match.test(m.text) && (!options.file || m.file === options.file),
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
