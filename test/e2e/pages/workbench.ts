// The VS Code workbench as a user drives it: the command palette, quick open, the editor, the
// lightbulb menu, notifications. Selectors are the workbench's own class names and ARIA roles
// of VS Code 1.100; nothing here knows about Stack Doctor.

import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Locator, Page } from 'playwright-core';

/** The few DOM members read in the page (the tests compile without the DOM library). */
export interface PageElement {
    getAttribute(name: string): string | null;
    querySelector(selector: string): { textContent: string | null } | null;
    innerText: string;
}

export class Workbench {
    constructor(readonly page: Page) {}

    /** Waits until the workbench is laid out and the extension host has connected. */
    async ready(timeoutMs = 60_000): Promise<void> {
        await this.page.locator('.monaco-workbench').waitFor({ timeout: timeoutMs });
        await this.page
            .locator('.part.statusbar .statusbar-item')
            .first()
            .waitFor({ timeout: timeoutMs });
    }

    /** Runs a command through the command palette by its title ("Stack Doctor: Diagnose Now"). */
    async runCommand(title: string): Promise<void> {
        await this.page.keyboard.press('F1');
        const input = this.quickInput.locator('input');
        await input.waitFor();
        await input.fill(`>${title}`);
        const row = this.quickInput.locator('.monaco-list-row').filter({ hasText: title }).first();
        await row.waitFor({ timeout: 10_000 });
        await row.click();
        await this.quickInput.waitFor({ state: 'hidden' });
    }

    /** Opens a workspace file through quick open and waits for its editor tab. */
    async openFile(relativePath: string): Promise<void> {
        await this.page.keyboard.press('Control+P');
        const input = this.quickInput.locator('input');
        await input.waitFor();
        await input.fill(relativePath);
        const row = this.quickInput
            .locator('.monaco-list-row')
            .filter({ hasText: path.basename(relativePath) })
            .first();
        await row.waitFor({ timeout: 10_000 });
        await input.press('Enter');
        await this.page
            .locator(`.tabs-container .tab[data-resource-name="${path.basename(relativePath)}"]`)
            .first()
            .waitFor({ timeout: 10_000 });
        await this.editor.click({ position: { x: 200, y: 10 } }).catch(() => undefined);
    }

    get editor(): Locator {
        return this.page.locator('.editor-instance .monaco-editor').first();
    }

    get quickInput(): Locator {
        return this.page.locator('.quick-input-widget');
    }

    /** Moves the cursor of the active editor to a line (1-based) with "Go to Line". */
    async goToLine(line: number, column = 1): Promise<void> {
        await this.page.keyboard.press('Control+G');
        const input = this.quickInput.locator('input');
        await input.waitFor();
        await input.fill(`:${line}:${column}`);
        await input.press('Enter');
        await this.quickInput.waitFor({ state: 'hidden' });
    }

    /** The text of the active editor's model, read from the editor's visible lines. */
    async editorText(): Promise<string> {
        return (await this.editor.locator('.view-lines').innerText()).replaceAll('\u00a0', ' ');
    }

    /**
     * Opens the quick-fix menu at the cursor (Ctrl+.) and picks the action whose title matches;
     * returns the titles that were offered.
     */
    async applyQuickFix(title: RegExp): Promise<string[]> {
        await this.page.keyboard.press('Control+.');
        const menu = this.page.locator('.action-widget');
        await menu.waitFor({ timeout: 10_000 });
        const rows = menu.locator('.monaco-list-row.action');
        await rows.first().waitFor({ timeout: 10_000 });
        const offered = (await rows.allInnerTexts()).map((t) => t.trim());
        const index = offered.findIndex((t) => title.test(t));
        if (index < 0) {
            await this.page.keyboard.press('Escape');
            return offered;
        }
        // The menu sits under a pointer block while it opens; the keyboard is what a user of
        // Ctrl+. uses anyway: move the focus to the action, then Enter.
        const focused = menu.locator('.monaco-list-row.action.focused');
        for (let step = 0; step <= offered.length; step++) {
            const text = (await focused.innerText().catch(() => '')).trim();
            if (title.test(text)) break;
            await this.page.keyboard.press('ArrowDown');
        }
        assert.match((await focused.innerText()).trim(), title);
        await this.page.keyboard.press('Enter');
        await menu.waitFor({ state: 'hidden', timeout: 10_000 });
        return offered;
    }

    async save(): Promise<void> {
        await this.page.keyboard.press('Control+S');
        await this.page
            .locator('.tabs-container .tab.active.dirty')
            .waitFor({ state: 'detached', timeout: 10_000 })
            .catch(() => undefined);
    }

    /** The texts of the visible notification toasts. */
    async notifications(): Promise<string[]> {
        return this.page
            .locator('.notification-toast .notification-list-item-message')
            .allInnerTexts();
    }

    /** Shows a built-in view container (Explorer) so the extension's views are hidden. */
    async showExplorer(): Promise<void> {
        await this.page.locator('.activitybar [aria-label^="Explorer"]').first().click();
        await this.page
            .locator('.pane-header[aria-label^="Explorer"], .explorer-folders-view')
            .first()
            .waitFor();
    }

    /** Saves a screenshot into each of `folders` as `<name>.png`. */
    async screenshot(name: string, ...folders: string[]): Promise<string[]> {
        const files: string[] = [];
        const shot = await this.page.screenshot();
        for (const folder of folders) {
            mkdirSync(folder, { recursive: true });
            const file = path.join(folder, `${name}.png`);
            writeFileSync(file, shot);
            files.push(file);
        }
        return files;
    }
}
