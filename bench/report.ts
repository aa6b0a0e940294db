// How the benchmarks report: median and p90 of each series, a table on stdout, and the figures
// as JSON under bench/results/ (gitignored).

import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface Stats {
    median: number;
    p90: number;
    min: number;
    max: number;
}

export interface Series {
    name: string;
    runs: number;
    /** What the series produced (runs listed, findings reported), to show like is compared. */
    count?: number;
    ms: Stats;
    wallMs?: Stats;
    maxRssMb?: number;
}

export function stats(values: number[]): Stats {
    const sorted = [...values].sort((a, b) => a - b);
    const at = (q: number) =>
        sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? NaN;
    const mid = sorted.length / 2;
    const median =
        sorted.length % 2 === 1
            ? sorted[Math.floor(mid)]!
            : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
    return { median, p90: at(0.9), min: sorted[0] ?? NaN, max: sorted.at(-1) ?? NaN };
}

const ms = (value: number | undefined) => (value === undefined ? '-' : value.toFixed(1));

export function printTable(title: string, rows: Series[]): void {
    const header = ['series', 'n', 'count', 'median ms', 'p90 ms', 'wall median', 'max RSS MB'];
    const lines = rows.map((r) => [
        r.name,
        String(r.runs),
        r.count === undefined ? '-' : String(r.count),
        ms(r.ms.median),
        ms(r.ms.p90),
        ms(r.wallMs?.median),
        r.maxRssMb === undefined ? '-' : r.maxRssMb.toFixed(0),
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
    const format = (cells: string[]) =>
        cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
    console.log(`\n${title}`);
    console.log(format(header));
    console.log(widths.map((w) => '-'.repeat(w)).join('  '));
    for (const line of lines) console.log(format(line));
}

export function writeResults(name: string, data: unknown): void {
    const dir = path.join(process.env.STACK_DOCTOR_REPO ?? process.cwd(), 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `${name}.json`);
    writeFileSync(
        file,
        `${JSON.stringify({ name, at: new Date().toISOString(), ...(data as object) }, null, 2)}\n`,
    );
    console.log(`results: ${path.relative(process.cwd(), file)}`);
}
