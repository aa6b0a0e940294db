// The terminal entry point: `stack-doctor diagnose [folder]`, `stack-doctor snapshot [folder]`.
// Exit codes: 0 healthy, 1 something is wrong, 2 could not diagnose.

import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
    diagnose,
    diagnoseSnapshot,
    gatherSnapshot,
    type DiagnoseOptions,
} from '../core/diagnose.js';
import { parseContext } from '../core/recordedFacts.js';
import { redactSnapshot } from '../core/snapshotFile.js';
import { renderMarkdown, renderText, reportJson } from '../core/report.js';
import { type CliArgs, parseArgs, USAGE, UsageError } from './args.js';

function readJsonFile(file: string, what: string): unknown {
    let text: string;
    try {
        text = readFileSync(file, 'utf8');
    } catch (err) {
        throw new UsageError(`cannot read ${what} ${file}: ${(err as Error).message}`);
    }
    try {
        return JSON.parse(text) as unknown;
    } catch (err) {
        throw new UsageError(`${what} ${file} is not JSON: ${(err as Error).message}`);
    }
}

export async function main(argv: string[]): Promise<number> {
    let args: CliArgs;
    try {
        args = parseArgs(argv);
    } catch (err) {
        process.stderr.write(`stack-doctor: ${(err as Error).message}\n\n${USAGE}\n`);
        return 2;
    }
    if (args.command === 'help') {
        process.stdout.write(`${USAGE}\n`);
        return 0;
    }
    if (args.command === 'version') {
        process.stdout.write(`${VERSION}\n`);
        return 0;
    }

    const folder = path.resolve(args.folder);
    const progress = args.quiet
        ? undefined
        : (message: string) => process.stderr.write(`stack-doctor: ${message}\n`);
    try {
        const options: DiagnoseOptions = { ...args.options, folder, progress };
        if (args.context)
            options.context = parseContext(readJsonFile(args.context, 'context file'));

        if (args.command === 'snapshot') {
            const snapshot = redactSnapshot(await gatherSnapshot(options));
            const text = JSON.stringify(snapshot, null, 2) + '\n';
            if (args.output) writeFileSync(args.output, text);
            else process.stdout.write(text);
            return 0;
        }

        const report = args.snapshot
            ? diagnoseSnapshot(readJsonFile(args.snapshot, 'snapshot'))
            : await diagnose(options);
        const out =
            args.format === 'json'
                ? reportJson(report) + '\n'
                : args.format === 'markdown'
                  ? renderMarkdown(report)
                  : renderText(report, { color: process.stdout.isTTY === true });
        process.stdout.write(out);
        return report.findings.length === 0 ? 0 : 1;
    } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        process.stderr.write(`stack-doctor: could not diagnose ${folder}: ${message}\n`);
        if (process.env.STACK_DOCTOR_DEBUG) process.stderr.write(`${(err as Error).stack}\n`);
        return 2;
    }
}

declare const __VERSION__: string | undefined;
const VERSION = typeof __VERSION__ === 'string' ? __VERSION__ : 'dev';

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => {
            process.exitCode = code;
        },
        (err: unknown) => {
            process.stderr.write(`stack-doctor: internal error: ${String(err)}\n`);
            process.exitCode = 2;
        },
    );
}
