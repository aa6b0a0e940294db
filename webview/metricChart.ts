// Metric history on a uPlot chart: one run's metric, or the same metric of up to ten runs with a
// legend. uPlot draws on a canvas, so colours are resolved from VS Code's theme variables first
// and the chart is drawn again when the theme or the size changes.

import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

import { alignSeries, SERIES_COLOURS } from './chartData.js';
import type { AlignedChart } from './chartData.js';
import { clear, el, serverText } from './dom.js';
import { legible } from './legible.js';
import type { MetricSeries } from './protocol.js';
import { formatNumber } from './runColumns.js';

const CHART_HEIGHT = 260;

function themeColour(variable: string, fallback: string): string {
    const value = getComputedStyle(document.body).getPropertyValue(variable).trim();
    return value || fallback;
}

export class MetricChart {
    readonly element: HTMLElement;
    private readonly heading: HTMLElement;
    private readonly caption: HTMLElement;
    private readonly plotSlot: HTMLElement;
    private plot: uPlot | undefined;
    private series: MetricSeries[] = [];
    private readonly resize: ResizeObserver;

    constructor() {
        this.heading = el('div', { class: 'chart-heading', 'data-testid': 'chart-heading' });
        this.caption = el('div', { class: 'chart-caption muted' });
        this.plotSlot = el('div', { class: 'chart-plot' });
        this.element = el(
            'figure',
            {
                class: 'metric-chart',
                'data-testid': 'metric-chart',
                'aria-label': 'Metric history chart',
            },
            this.heading,
            this.caption,
            this.plotSlot,
        );
        this.element.hidden = true;
        this.resize = new ResizeObserver(() => {
            const width = this.plotSlot.clientWidth;
            if (this.plot && width > 0 && Math.abs(this.plot.width - width) > 2) {
                this.plot.setSize({ width, height: CHART_HEIGHT });
            }
        });
        this.resize.observe(this.plotSlot);
        // VS Code swaps the body's theme class; a canvas keeps the old colours unless redrawn.
        new MutationObserver(() => {
            if (this.series.length > 0) this.draw();
        }).observe(document.body, { attributes: true, attributeFilter: ['class'] });
    }

    /** `heading` says what the chart compares when it is not just the open run's history. */
    show(series: MetricSeries[], title: string, heading?: HTMLElement): void {
        this.series = series;
        this.heading.replaceChildren(...(heading ? [heading] : []));
        this.heading.hidden = !heading;
        this.element.hidden = false;
        this.element.setAttribute('aria-label', `Chart of ${legible(title).text}`);
        this.draw();
    }

    hide(): void {
        this.series = [];
        clear(this.heading);
        this.plot?.destroy();
        this.plot = undefined;
        clear(this.plotSlot);
        this.element.hidden = true;
    }

    private draw(): void {
        const aligned = alignSeries(this.series);
        this.describe(aligned);
        this.plot?.destroy();
        this.plot = undefined;
        clear(this.plotSlot);
        if (aligned.x.length === 0) {
            this.plotSlot.append(
                el('div', { class: 'muted' }, 'No values logged for this metric.'),
            );
            return;
        }
        const foreground = themeColour('--vscode-foreground', '#cccccc');
        const grid = themeColour('--vscode-editorWidget-border', 'rgba(128,128,128,0.25)');
        const axis = {
            stroke: foreground,
            grid: { stroke: grid, width: 1 },
            ticks: { stroke: grid, width: 1 },
        };
        const options: uPlot.Options = {
            width: Math.max(200, this.plotSlot.clientWidth || 400),
            height: CHART_HEIGHT,
            scales: { x: { time: false } },
            axes: [
                { ...axis, label: 'step' },
                { ...axis, values: (_u, ticks) => ticks.map((t) => formatNumber(t)) },
            ],
            legend: { show: true, live: true },
            cursor: { drag: { x: true, y: false } },
            series: [
                { label: 'step' },
                ...aligned.labels.map((label, i) => {
                    const [variable, fallback] = SERIES_COLOURS[i % SERIES_COLOURS.length] ?? [
                        '--vscode-foreground',
                        '#cccccc',
                    ];
                    return {
                        // uPlot sets legend labels with textContent; legible() shows hidden characters.
                        label: legible(label, 60).text,
                        stroke: themeColour(variable, fallback),
                        width: 1.5,
                        spanGaps: true,
                        points: { show: aligned.x.length < 60 },
                        value: (_u: uPlot, v: number | null) =>
                            v === null ? '—' : formatNumber(v),
                    };
                }),
            ],
        };
        this.plot = new uPlot(
            options,
            [aligned.x, ...aligned.ys] as uPlot.AlignedData,
            this.plotSlot,
        );
    }

    private describe(aligned: AlignedChart): void {
        clear(this.caption);
        const first = this.series[0];
        const key = first ? first.key : '';
        const runs = this.series.length;
        this.caption.append(
            serverText(key, { class: 'chart-key' }, 80),
            ` · ${runs === 1 ? '1 run' : `${runs} runs`} · ${aligned.x.length} steps`,
        );
        if (aligned.sampled) this.caption.append(' · sampled by the server or capped');
        if (aligned.nonFinite > 0) {
            this.caption.append(` · ${aligned.nonFinite} NaN/Infinity values not drawn`);
        }
    }
}
