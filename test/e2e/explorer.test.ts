// The MLflow Explorer in real VS Code (code-server + chromium) against real MLflow servers, 2.x
// and 3.x, filled by scripts/test-env/explorer-data.py: find a run, see its params, chart a
// metric and compare runs, open artifacts in VS Code's own editors, the logged model (3.x) or
// the limit sentence (2.x), the hostile corpus shown legibly without anything executing, and
// the 10k-run experiment paged. Screenshots go to .test-artifacts/e2e/explorer-<version>-*.png;
// with STACK_DOCTOR_UPDATE_SCREENSHOTS=1 one also to media/screenshots/explorer.png.

import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';

import { legibleText } from '../../webview/legible.js';
import {
    type ExplorerManifest,
    type ExplorerServer,
    startExplorerServer,
    stopExplorerServer,
} from '../support/explorerData.js';
import { SERVER_MAJORS, venvReady } from '../support/mlflowServer.js';
import { REPO } from '../support/paths.js';
import {
    ARTIFACTS,
    CodeServer,
    leftoverProcesses,
    missingWorkbench,
    productExtension,
} from './codeServer.js';
import { ExplorerPage, type ShownText } from './pages/explorer.js';
import { Workbench } from './pages/workbench.js';

const VERSIONS = (process.env.STACK_DOCTOR_EXPLORER_VERSIONS ?? SERVER_MAJORS.join(' '))
    .split(/\s+/)
    .filter(Boolean);
const README_SHOT_VERSION = '3.17.2';
const README_SHOTS =
    process.env.STACK_DOCTOR_UPDATE_SCREENSHOTS === '1'
        ? [path.join(REPO, 'media', 'screenshots')]
        : [];

const missing = [...missingWorkbench()];
for (const file of ['dist/extension.js', 'dist/webview.js']) {
    if (!existsSync(path.join(REPO, file))) missing.push(`${file} (node esbuild.mjs)`);
}
for (const version of VERSIONS) {
    if (!venvReady(version)) missing.push(`MLflow ${version} venv (scripts/test-env/venvs.sh)`);
}
if (missing.length > 0 && process.env.STACK_DOCTOR_REQUIRE_REAL === '1') {
    throw new Error(`explorer e2e components missing: ${missing.join(', ')}`);
}
const skip = missing.length > 0 ? `explorer e2e components missing: ${missing.join(', ')}` : false;

/** Characters that must never reach the screen raw (legible() turns them into markers). */
const INVISIBLE =
    // eslint-disable-next-line no-control-regex
    /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/u;

/**
 * Whether `shown` is `value` made legible: the whole legible text, or its start cut with `…`
 * (cells cut long strings; the tooltip then holds the legible whole).
 */
function problemWithShown(value: string, shown: ShownText): string | undefined {
    const expected = legibleText(value);
    if (INVISIBLE.test(shown.text))
        return `raw invisible character in ${JSON.stringify(shown.text)}`;
    if (shown.text === expected) return undefined;
    if (shown.text.endsWith('…') && expected.startsWith(shown.text.slice(0, -1))) {
        if (shown.title !== null && !expected.startsWith(shown.title.replace(/…$/, ''))) {
            return `tooltip ${JSON.stringify(shown.title.slice(0, 80))} is not the legible text`;
        }
        return undefined;
    }
    return `shows ${JSON.stringify(shown.text.slice(0, 120))}, expected ${JSON.stringify(expected.slice(0, 120))}`;
}

interface Violation {
    frame: string;
    directive: string;
    blocked: string;
    sample: string;
}

/** Watches every frame created from now on: CSP violations are reported through the console. */
async function watchPage(page: Page) {
    const dialogs: string[] = [];
    const pwnedRequests: string[] = [];
    const violations: Violation[] = [];
    page.on('dialog', (dialog) => {
        dialogs.push(`${dialog.type()}: ${dialog.message()}`);
        void dialog.dismiss().catch(() => undefined);
    });
    page.on('request', (request) => {
        if (/\/pwned\b/.test(request.url())) pwnedRequests.push(request.url());
    });
    page.on('console', (message) => {
        const text = message.text();
        if (!text.startsWith('SD-CSP ')) return;
        try {
            violations.push(JSON.parse(text.slice(7)) as Violation);
        } catch {
            violations.push({ frame: '?', directive: '?', blocked: '?', sample: text });
        }
    });
    // Runs in every frame's new document, the webview's nested frames included; injected by the
    // browser itself, so the page's CSP does not apply to it.
    await page.context().addInitScript(() => {
        const g = globalThis as unknown as {
            document: {
                addEventListener(
                    type: string,
                    listener: (event: {
                        documentURI: string;
                        effectiveDirective: string;
                        blockedURI: string;
                        sample: string;
                    }) => void,
                ): void;
            };
            console: { log(text: string): void };
        };
        g.document.addEventListener('securitypolicyviolation', (event) => {
            g.console.log(
                `SD-CSP ${JSON.stringify({
                    frame: event.documentURI.slice(0, 200),
                    directive: event.effectiveDirective,
                    blocked: event.blockedURI.slice(0, 200),
                    sample: event.sample.slice(0, 200),
                })}`,
            );
        });
    });
    return { dialogs, pwnedRequests, violations };
}

for (const version of VERSIONS) {
    const major = Number(version.split('.')[0]);
    const shot = (name: string) => `explorer-${version}-${name}`;

    void describe(
        `the MLflow Explorer in VS Code against MLflow ${version}`,
        { skip, timeout: 1_800_000 },
        () => {
            let data: ExplorerServer | undefined;
            let manifest: ExplorerManifest;
            let workspace: string;
            let codeServer: CodeServer | undefined;
            let workbench: Workbench;
            let explorer: ExplorerPage;
            let watched: Awaited<ReturnType<typeof watchPage>>;

            before(async () => {
                data = await startExplorerServer(version);
                assert.ok(data.manifest, 'the generator wrote a manifest');
                manifest = data.manifest;
                console.log(
                    `MLflow ${version} at ${data.server.url} (${data.backend} store, copied in ${data.store.copiedMs} ms${data.store.generated ? ', generated first' : ''})`,
                );
                mkdirSync(ARTIFACTS, { recursive: true });
                workspace = mkdtempSync(path.join(os.tmpdir(), 'sd-explorer-ws-'));
                writeFileSync(path.join(workspace, 'README.md'), '# explorer e2e workspace\n');
                codeServer = await CodeServer.start({
                    extensions: [productExtension()],
                    settings: { 'stackDoctor.trackingUri': data.server.url },
                });
                const page = await codeServer.open(workspace);
                watched = await watchPage(page);
                workbench = new Workbench(page);
                await workbench.ready();
                explorer = new ExplorerPage(workbench);
            });
            after(async () => {
                const root = codeServer?.root;
                if (codeServer) {
                    const log = codeServer.extensionLog('Stack Doctor');
                    if (log) writeFileSync(path.join(ARTIFACTS, `${shot('extension')}.log`), log);
                }
                await codeServer?.stop();
                await stopExplorerServer(data);
                if (workspace) rmSync(workspace, { recursive: true, force: true });
                if (root)
                    assert.deepEqual(leftoverProcesses(root), [], 'code-server left processes');
                if (data) {
                    assert.deepEqual(
                        leftoverProcesses(data.server.dir),
                        [],
                        'the MLflow server left processes',
                    );
                }
            });

            async function failWithShot(name: string, error: unknown): Promise<never> {
                await workbench
                    .screenshot(shot(`${name}-failed`), ARTIFACTS)
                    .catch(() => undefined);
                throw error;
            }

            async function openGallery(): Promise<void> {
                const gallery = manifest.showcase.gallery.runId;
                await explorer.selectExperiment(manifest.showcase.experimentId);
                await explorer.filterRunsByName('artifact-gallery');
                await explorer.runRow(gallery).waitFor({ timeout: 30_000 });
                await explorer.openRun(gallery);
            }

            /** The gallery run's Artifacts tab, after an artifact editor took the explorer's place. */
            async function showGalleryArtifacts(): Promise<void> {
                await reopenExplorerTab(explorer);
                const detail = explorer.frame.locator(
                    `[data-testid=run-detail][data-run-id="${manifest.showcase.gallery.runId}"]`,
                );
                if (!(await detail.isVisible().catch(() => false))) await openGallery();
                await explorer.openTab('artifacts');
            }

            void test('opens from the command palette and lists showcase, hostile and ten-thousand', async () => {
                try {
                    await explorer.open();
                    await explorer.waitForState('ready');
                    const tenThousand = await experimentIdByName(explorer, 'ten-thousand');
                    for (const id of [
                        manifest.showcase.experimentId,
                        manifest.hostile.experimentId,
                    ]) {
                        await explorer.waitForExperiment(id);
                    }
                    assert.ok(tenThousand, 'the ten-thousand experiment is listed');
                } catch (error) {
                    await failWithShot('open', error);
                }
                await workbench.screenshot(shot('experiments'), ARTIFACTS);
            });

            void test('finds a run by its name filter and shows its params', async () => {
                const gallery = manifest.showcase.runs[0]!;
                try {
                    await explorer.selectExperiment(manifest.showcase.experimentId);
                    await explorer.firstRunRow.waitFor({ timeout: 30_000 });
                    await explorer.filterRunsByName('artifact-gallery');
                    await explorer.frame.waitForFunction(
                        (id) => {
                            const rows = (
                                globalThis as unknown as {
                                    document: {
                                        querySelectorAll(s: string): ArrayLike<{
                                            getAttribute(n: string): string | null;
                                        }>;
                                    };
                                }
                            ).document.querySelectorAll('[data-testid=run-row]');
                            return rows.length === 1 && rows[0]?.getAttribute('data-run-id') === id;
                        },
                        gallery.runId,
                        { timeout: 30_000 },
                    );
                    await explorer.openRun(gallery.runId);
                    await explorer.openTab('params');
                    await explorer.frame
                        .locator('[data-testid=param-row]')
                        .first()
                        .waitFor({ timeout: 30_000 });
                } catch (error) {
                    await failWithShot('find-run', error);
                }
                const params = await explorer.keyValueRows('param');
                assert.deepEqual(
                    Object.fromEntries(params.map((p) => [p.key, p.valueShown.text])),
                    gallery.params,
                );
                await workbench.screenshot(shot('run-params'), ARTIFACTS);
            });

            void test('charts a metric history on a drawn canvas', async () => {
                try {
                    await explorer.openTab('metrics');
                    await explorer.frame
                        .locator('[data-testid=metric-row][data-key=loss]')
                        .waitFor({ timeout: 30_000 });
                    await explorer.chartMetric('loss');
                    await explorer.frame.waitForFunction(
                        () =>
                            (
                                globalThis as unknown as {
                                    document: { querySelector(s: string): unknown };
                                }
                            ).document.querySelector('[data-testid=metric-chart] canvas') !== null,
                        undefined,
                        { timeout: 30_000 },
                    );
                    await explorer.page.waitForTimeout(500);
                } catch (error) {
                    await failWithShot('chart', error);
                }
                const pixels = await explorer.chartPixels();
                console.log(
                    `chart canvas ${pixels.width}x${pixels.height}, ${pixels.drawn} drawn pixels`,
                );
                assert.ok(pixels.width > 50 && pixels.height > 50, 'the chart has a size');
                assert.ok(pixels.drawn > 200, `the chart is drawn (${pixels.drawn} pixels)`);
                await workbench.screenshot(shot('chart'), ARTIFACTS);
            });

            void test('compares three runs on one chart', async () => {
                const runs = manifest.showcase.runs.slice(1, 4);
                try {
                    await explorer.filterRunsByName('showcase-0');
                    for (const run of runs)
                        await explorer.runRow(run.runId).waitFor({ timeout: 30_000 });
                    await explorer.selectRunsForComparison(runs.map((r) => r.runId));
                    await explorer.compare();
                    await explorer.frame
                        .locator('[data-testid=metric-chart] canvas')
                        .first()
                        .waitFor({ timeout: 30_000 });
                    const until = Date.now() + 30_000;
                    while (Date.now() < until) {
                        const labels = await explorer.chartSeries();
                        if (runs.every((r) => labels.some((l) => l.includes(r.name)))) break;
                        await explorer.page.waitForTimeout(250);
                    }
                } catch (error) {
                    await failWithShot('compare', error);
                }
                const labels = await explorer.chartSeries();
                for (const run of runs) {
                    assert.ok(
                        labels.some((l) => l.includes(run.name)),
                        `the chart's legend names ${run.name}: ${labels.join(' | ')}`,
                    );
                }
                const pixels = await explorer.chartPixels();
                assert.ok(pixels.drawn > 200, `the comparison is drawn (${pixels.drawn} pixels)`);
                await workbench.screenshot(shot('compare'), ARTIFACTS);
            });

            void test('opens artifacts in VS Code: text read-only, the PNG in the image preview, the notebook in the notebook editor', async () => {
                const files = manifest.showcase.gallery.files;
                try {
                    await openGallery();
                    await explorer.openTab('artifacts');
                    await explorer.openArtifact(files.text);
                    const tab = explorer.page
                        .locator(`.tabs-container .tab[data-resource-name="readme.txt"]`)
                        .first();
                    await tab.waitFor({ timeout: 30_000 });
                    await explorer.page
                        .locator('.editor-instance .monaco-editor .view-lines', {
                            hasText: 'Showcase notes',
                        })
                        .first()
                        .waitFor({ timeout: 30_000 });
                } catch (error) {
                    await failWithShot('artifact-text', error);
                }
                const text = await workbench.editorText();
                for (const line of manifest.showcase.gallery.textContent.trim().split('\n')) {
                    assert.ok(
                        text.includes(line),
                        `the editor shows ${JSON.stringify(line)}:\n${text}`,
                    );
                }
                // Read-only: typing changes nothing and leaves the tab clean.
                await workbench.editor.click({ position: { x: 200, y: 10 } });
                await explorer.page.keyboard.type('typed');
                await explorer.page.waitForTimeout(300);
                assert.ok(
                    !(await workbench.editorText()).includes('typed'),
                    'the editor is read-only',
                );
                assert.equal(await explorer.page.locator('.tabs-container .tab.dirty').count(), 0);
                await workbench.screenshot(shot('artifact-text'), ARTIFACTS);

                try {
                    await showGalleryArtifacts();
                    await explorer.openArtifact(files.png);
                    await explorer.page
                        .locator('.tabs-container .tab[data-resource-name="loss.png"]')
                        .first()
                        .waitFor({ timeout: 30_000 });
                    await waitForImagePreview(explorer.page, 96, 64);
                } catch (error) {
                    await failWithShot('artifact-png', error);
                }
                await workbench.screenshot(shot('artifact-png'), ARTIFACTS);

                try {
                    await showGalleryArtifacts();
                    await explorer.openArtifact(files.notebook);
                    await explorer.page
                        .locator('.tabs-container .tab[data-resource-name="analysis.ipynb"]')
                        .first()
                        .waitFor({ timeout: 30_000 });
                    await explorer.page
                        .locator('.notebook-editor .cell-editor-container', {
                            hasText: 'best loss',
                        })
                        .first()
                        .waitFor({ timeout: 30_000 });
                } catch (error) {
                    await failWithShot('artifact-notebook', error);
                }
                await workbench.screenshot(shot('artifact-notebook'), ARTIFACTS);
            });

            void test(
                major >= 3
                    ? 'lists the logged model and links it to the run that logged it'
                    : 'says that a 2.x server has no logged models',
                async () => {
                    try {
                        await reopenExplorerTab(explorer);
                        await openGallery();
                        await explorer.openTab('models');
                        if (major >= 3) {
                            const modelId = manifest.showcase.gallery.model.modelId;
                            assert.ok(modelId, 'the 3.x client returned a model id');
                            const row = explorer.frame.locator(
                                `[data-testid=model-row][data-model-id="${modelId}"]`,
                            );
                            await row.waitFor({ timeout: 30_000 });
                            await workbench.screenshot(shot('models'), ARTIFACTS);
                            // Seen from the run that logged it, the model says so (a link to another run is
                            // offered only when the source run is not the open one).
                            assert.match((await row.textContent()) ?? '', /Logged by this run/);
                            assert.equal(
                                await row.locator('[data-testid=model-source-run]').count(),
                                0,
                            );
                        } else {
                            await explorer
                                .testId('models-limit')
                                .first()
                                .waitFor({ timeout: 30_000 });
                            const sentence = await explorer
                                .testId('models-limit')
                                .first()
                                .textContent();
                            assert.match(sentence ?? '', /logged model/i);
                            const limits = await explorer.serverLimits();
                            assert.ok(
                                limits.some((l) => /logged model/i.test(l)),
                                `a server limit names logged models: ${limits.join(' | ')}`,
                            );
                            await workbench.screenshot(shot('models-limit'), ARTIFACTS);
                        }
                    } catch (error) {
                        await failWithShot('models', error);
                    }
                },
            );

            void test('shows every accepted hostile string legibly, and none executes', async () => {
                const stored = manifest.hostile.stored;
                const problems: string[] = [];
                try {
                    await reopenExplorerTab(explorer);
                    // Experiment names: the list pages; "more" until every hostile experiment is in.
                    const wanted = new Map(stored.experiments.map((e) => [e.id, e.name]));
                    for (let i = 0; i < 20; i++) {
                        const shown = await explorer.experiments();
                        if ([...wanted.keys()].every((id) => shown.some((s) => s.id === id))) break;
                        const more = explorer.testId('experiment-more');
                        if (!(await more.isVisible().catch(() => false))) break;
                        await more.click();
                        await explorer.page.waitForTimeout(500);
                    }
                    const shown = await explorer.experiments();
                    for (const [id, name] of wanted) {
                        const row = shown.find((s) => s.id === id);
                        if (!row)
                            problems.push(
                                `experiment ${id} (${JSON.stringify(name.slice(0, 40))}) not listed`,
                            );
                        else {
                            const problem = problemWithShown(name, row.name);
                            if (problem) problems.push(`experiment ${id}: ${problem}`);
                        }
                    }
                    await workbench.screenshot(shot('hostile-experiments'), ARTIFACTS);

                    // Run names: the grid is virtual; walk it top to bottom.
                    await explorer.selectExperiment(manifest.hostile.experimentId);
                    await explorer.filterRunsByName('');
                    await explorer.firstRunRow.waitFor({ timeout: 30_000 });
                    const seen = new Map<string, ShownText[]>();
                    for (let step = 0; step < 40; step++) {
                        for (const row of await explorer.runRows()) seen.set(row.id, row.cells);
                        const atEnd = await explorer
                            .testId('run-table')
                            .evaluate((grid: unknown) => {
                                const g = grid as {
                                    scrollTop: number;
                                    scrollHeight: number;
                                    clientHeight: number;
                                };
                                const end = g.scrollTop + g.clientHeight >= g.scrollHeight - 2;
                                g.scrollTop += g.clientHeight * 0.7;
                                return end;
                            });
                        await explorer.page.waitForTimeout(150);
                        if (atEnd) break;
                    }
                    for (const run of stored.runs) {
                        const cells = seen.get(run.id);
                        if (!cells) {
                            problems.push(
                                `run ${run.id} (${JSON.stringify(run.name.slice(0, 40))}) not shown`,
                            );
                            continue;
                        }
                        const ok = cells.some(
                            (cell) => problemWithShown(run.name, cell) === undefined,
                        );
                        if (!ok) {
                            problems.push(
                                `run ${run.id}: no cell shows ${JSON.stringify(legibleText(run.name).slice(0, 80))}; cells ${JSON.stringify(cells.map((c) => c.text.slice(0, 40)))}`,
                            );
                        }
                    }
                    await workbench.screenshot(shot('hostile-runs'), ARTIFACTS);

                    // Params, tags and metrics of the run that holds them.
                    await explorer.filterRunsByName('hostile-all');
                    await explorer.runRow(manifest.hostile.allRunId).waitFor({ timeout: 30_000 });
                    await explorer.openRun(manifest.hostile.allRunId);
                    await explorer.openTab('params');
                    await explorer.testId('param-row').first().waitFor({ timeout: 30_000 });
                    const params = await explorer.keyValueRows('param');
                    for (const param of stored.params) {
                        const row = params.find((p) => p.key === param.key);
                        const problem = row
                            ? problemWithShown(param.value, row.valueShown)
                            : 'not shown';
                        if (problem) problems.push(`param ${param.key}: ${problem}`);
                    }
                    await workbench.screenshot(shot('hostile-params'), ARTIFACTS);
                    await explorer.openTab('tags');
                    await explorer.testId('tag-row').first().waitFor({ timeout: 30_000 });
                    const tags = await explorer.keyValueRows('tag');
                    for (const tag of stored.tags) {
                        const row = tags.find((t) => t.key === tag.key);
                        if (!row) {
                            problems.push(`tag ${JSON.stringify(tag.key.slice(0, 40))} not shown`);
                            continue;
                        }
                        const problem =
                            problemWithShown(tag.key, row.keyShown) ??
                            problemWithShown(tag.value, row.valueShown);
                        if (problem)
                            problems.push(
                                `tag ${JSON.stringify(tag.key.slice(0, 40))}: ${problem}`,
                            );
                    }
                    await explorer.openTab('metrics');
                    await explorer.testId('metric-row').first().waitFor({ timeout: 30_000 });
                    const metrics = await explorer.keyValueRows('metric');
                    for (const metric of stored.metrics) {
                        const row = metrics.find((m) => m.key === metric.key);
                        const problem = row
                            ? problemWithShown(metric.key, row.keyShown)
                            : 'not shown';
                        if (problem)
                            problems.push(
                                `metric ${JSON.stringify(metric.key.slice(0, 40))}: ${problem}`,
                            );
                    }

                    // Artifact names: the entries directly under names/.
                    await explorer.openTab('artifacts');
                    const names = await explorer.revealArtifact('names');
                    if ((await names.getAttribute('aria-expanded')) !== 'true') {
                        await names.locator('.artifact-line').first().click();
                    }
                    const direct = stored.artifacts.filter((a) => a.path.split('/').length === 2);
                    if (direct[0])
                        await explorer.artifactEntry(direct[0].path).waitFor({ timeout: 30_000 });
                    const entries = await explorer.artifacts();
                    const leftOut: string[] = [];
                    for (const artifact of direct) {
                        const entry = entries.find((e) => e.path === artifact.path);
                        const name = artifact.path.slice('names/'.length);
                        if (!entry) {
                            leftOut.push(artifact.path);
                            continue;
                        }
                        const problem = problemWithShown(name, entry.name);
                        if (problem) {
                            problems.push(
                                `artifact ${JSON.stringify(artifact.path.slice(0, 60))}: ${problem}`,
                            );
                        }
                    }
                    // Names the host refuses to open (backslashes, control characters, ...) may be left
                    // out, but never silently: the listing says how many.
                    // A folder's note sits in the tree under the folder; the root's in the source line.
                    const source = (
                        await explorer.frame
                            .locator('[data-testid=artifact-source], .artifact-note')
                            .allTextContents()
                    )
                        .join(' ')
                        .trim();
                    if (leftOut.length > 0) {
                        const said = source.match(/(\d+) entr(?:y was|ies were) left out/);
                        console.log(
                            `artifact names left out by the explorer (${leftOut.length}): ${leftOut.map((p) => JSON.stringify(p)).join(', ')}\n  listing says: ${source}`,
                        );
                        if (Number(said?.[1]) !== leftOut.length) {
                            problems.push(
                                `${leftOut.length} artifact names not listed, but the listing says ${JSON.stringify(source)}: ${leftOut.map((p) => JSON.stringify(p)).join(', ')}`,
                            );
                        }
                    }
                    await workbench.screenshot(shot('hostile-artifacts'), ARTIFACTS);

                    // Nothing on screen carries a raw invisible or reordering character.
                    const raw = await explorer.frame.evaluate((pattern: string) => {
                        const re = new RegExp(pattern, 'u');
                        const g = globalThis as unknown as {
                            document: {
                                body: unknown;
                                createTreeWalker(
                                    root: unknown,
                                    what: number,
                                ): {
                                    nextNode(): {
                                        nodeValue: string | null;
                                        parentElement: { tagName: string } | null;
                                    } | null;
                                };
                            };
                        };
                        const walker = g.document.createTreeWalker(g.document.body, 4);
                        const found: string[] = [];
                        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
                            const tag = node.parentElement?.tagName ?? '';
                            if (tag === 'SCRIPT' || tag === 'STYLE') continue;
                            if (re.test(node.nodeValue ?? ''))
                                found.push(JSON.stringify(node.nodeValue?.slice(0, 60)));
                        }
                        return found;
                    }, INVISIBLE.source);
                    problems.push(...raw.map((r) => `raw invisible character on screen: ${r}`));
                } catch (error) {
                    await failWithShot('hostile', error);
                }

                const explorerFrame = explorer.frame.url();
                const inExplorer = watched.violations.filter(
                    (v) => v.frame === explorerFrame.slice(0, 200),
                );
                console.log(
                    `hostile corpus: ${manifest.hostile.entries.length} strings; stored ${stored.experiments.length} experiments, ${stored.runs.length} runs, ${stored.params.length} params, ${stored.tags.length} tags, ${stored.metrics.length} metrics, ${stored.artifacts.length} artifact entries`,
                );
                const rejected = manifest.hostile.entries.flatMap((e) =>
                    Object.entries(e.uses)
                        .filter(([, u]) => !u.accepted)
                        .map(
                            ([role, u]) =>
                                `${e.id} as ${role}: ${u.status} ${u.answer?.slice(0, 100)}`,
                        ),
                );
                console.log(
                    `rejected by the server (${rejected.length}):\n  ${rejected.slice(0, 400).join('\n  ')}`,
                );
                console.log(
                    `CSP violations: ${watched.violations.length} in all frames, ${inExplorer.length} in the explorer's\n  ${watched.violations
                        .map((v) => `${v.directive} blocked ${v.blocked} in ${v.frame}`)
                        .join('\n  ')}`,
                );
                assert.deepEqual(problems, [], 'every accepted hostile string is shown legibly');
                assert.deepEqual(await explorer.pwnedFrames(), [], 'no frame has window.__sdPwned');
                assert.deepEqual(watched.dialogs, [], 'no dialog opened');
                assert.deepEqual(watched.pwnedRequests, [], 'no request to /pwned');
                assert.deepEqual(
                    inExplorer,
                    [],
                    'no CSP violation in the explorer (nothing tried to run)',
                );
                // Every rejection is recorded with the server's answer.
                for (const entry of manifest.hostile.entries) {
                    for (const [role, use] of Object.entries(entry.uses)) {
                        if (!use.accepted)
                            assert.ok(use.answer, `${entry.id} as ${role} has the server's answer`);
                    }
                }
            });

            void test('pages the ten-thousand experiment: the first page within a bound, more when scrolled to the end', async () => {
                // A FileStore (2.x here) reads all 10k runs for every page; SQLite answers at once.
                const boundMs = data?.backend === 'file' ? 40_000 : 5_000;
                let firstMs = 0;
                const counts: string[] = [];
                try {
                    await reopenExplorerTab(explorer);
                    await explorer.filterRunsByName('');
                    const id = await experimentIdByName(explorer, 'ten-thousand');
                    assert.ok(id);
                    await explorer.selectExperiment(manifest.showcase.experimentId);
                    await explorer.firstRunRow.waitFor({ timeout: 30_000 });
                    const started = Date.now();
                    await explorer.selectExperiment(id);
                    await explorer.frame
                        .locator('[data-testid=run-row]', { hasText: /tt-\d{5}/ })
                        .first()
                        .waitFor({ timeout: 120_000 });
                    firstMs = Date.now() - started;
                    await workbench.screenshot(shot('ten-thousand'), ARTIFACTS);
                    let loaded = (await explorer.runCountNumbers()).loaded ?? 0;
                    counts.push(await explorer.runCount());
                    for (let page = 0; page < 3; page++) {
                        await explorer.scrollRunsToEnd();
                        const before = loaded;
                        const until = Date.now() + 90_000;
                        while (Date.now() < until && loaded <= before) {
                            await explorer.page.waitForTimeout(250);
                            loaded = (await explorer.runCountNumbers()).loaded ?? 0;
                        }
                        counts.push(await explorer.runCount());
                        assert.ok(
                            loaded > before,
                            `scrolling to the end loads more (still ${counts.at(-1)})`,
                        );
                    }
                } catch (error) {
                    await failWithShot('ten-thousand', error);
                }
                console.log(
                    `ten-thousand: first rows after ${firstMs} ms; counts ${counts.join(' → ')}`,
                );
                await workbench.screenshot(shot('ten-thousand-scrolled'), ARTIFACTS);
                assert.ok(
                    firstMs <= boundMs,
                    `first page within ${boundMs} ms (took ${firstMs} ms)`,
                );
            });

            // Runs on every version, so the picture's steps stay tested; only the README's
            // version, and only when asked, writes the tracked file in media/screenshots/.
            void test('compares four showcase runs on one chart with the side bar hidden (the README picture)', async () => {
                // The README picture: many runs and a comparison, without the hostile
                // corpus filling the experiment list or VS Code's side bar taking the width
                // the run grid's metric and param columns need.
                const runs = manifest.showcase.runs.slice(1, 5);
                await reopenExplorerTab(explorer);
                await workbench.runCommand('View: Toggle Primary Side Bar Visibility');
                try {
                    await openGallery();
                    await explorer.openTab('metrics');
                    await explorer.chartMetric('loss');
                    await explorer.searchExperiments('showcase');
                    await explorer.filterRunsByName('');
                    for (const run of runs)
                        await explorer.runRow(run.runId).waitFor({ timeout: 30_000 });
                    await explorer.selectRunsForComparison(runs.map((r) => r.runId));
                    await explorer.compare();
                    const until = Date.now() + 30_000;
                    for (;;) {
                        const labels = await explorer.chartSeries();
                        if (runs.every((r) => labels.some((l) => l.includes(r.name)))) break;
                        assert.ok(
                            Date.now() < until,
                            `the comparison names ${runs.map((r) => r.name).join(', ')}: ${labels.join(' | ')}`,
                        );
                        await explorer.page.waitForTimeout(250);
                    }
                    await explorer.page.waitForTimeout(500);
                    await workbench.screenshot(shot('readme'), ARTIFACTS);
                    if (version === README_SHOT_VERSION && README_SHOTS.length > 0)
                        await workbench.screenshot('explorer', ...README_SHOTS);
                } finally {
                    await explorer.searchExperiments('').catch(() => undefined);
                    await workbench
                        .runCommand('View: Toggle Primary Side Bar Visibility')
                        .catch(() => undefined);
                }
            });
        },
    );
}

async function experimentIdByName(
    explorer: ExplorerPage,
    name: string,
): Promise<string | undefined> {
    const until = Date.now() + 30_000;
    for (;;) {
        const row = (await explorer.experiments()).find((e) => e.name.text === name);
        if (row) return row.id;
        if (Date.now() > until) return undefined;
        await explorer.page.waitForTimeout(200);
    }
}

/** Brings the explorer's editor tab to the front after an artifact editor took it. */
async function reopenExplorerTab(explorer: ExplorerPage): Promise<void> {
    const tab = explorer.page
        .locator('.tabs-container .tab', { hasText: 'MLflow Explorer' })
        .first();
    if ((await tab.count()) > 0) await tab.click();
    await explorer.waitForFrame();
    await explorer.waitForState('ready');
}

/** Waits for VS Code's image preview (a webview) to show an image of the given size. */
async function waitForImagePreview(page: Page, width: number, height: number): Promise<void> {
    const until = Date.now() + 30_000;
    for (;;) {
        for (const frame of page.frames()) {
            const shown = await frame
                .evaluate(
                    ([w, h]) => {
                        const img = (
                            globalThis as unknown as {
                                document: {
                                    querySelector(
                                        s: string,
                                    ): { naturalWidth: number; naturalHeight: number } | null;
                                };
                            }
                        ).document.querySelector('img');
                        return img !== null && img.naturalWidth === w && img.naturalHeight === h;
                    },
                    [width, height] as [number, number],
                )
                .catch(() => false);
            if (shown) return;
        }
        if (Date.now() > until)
            throw new Error(`no image preview of ${width}x${height} within 30 s`);
        await page.waitForTimeout(250);
    }
}
