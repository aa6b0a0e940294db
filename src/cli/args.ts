// Command-line arguments of `stack-doctor`, parsed without a dependency: the grammar is small.

import type { DiagnoseOptions } from '../core/diagnose.js';

export const USAGE = `Usage:
  stack-doctor diagnose [folder] [options]   find out why the MLflow stack in folder is broken
  stack-doctor snapshot [folder] -o FILE     save what was gathered (secrets removed) as JSON

Options:
  --json                 print {"findings": [...]} instead of the report
  --markdown             print the report as Markdown
  --snapshot FILE        diagnose a saved snapshot instead of the live stack
  --context FILE         recorded live facts (a case's context.json) in place of live probes
  --timeout MS           per-probe timeout (default 4000)
  --no-write             do not write sync-probe sentinels into bind mounts
  --no-exec              do not run read-only commands inside containers
  --offline              files only: no Docker, no HTTP
  --docker-host URL      Docker endpoint (otherwise DOCKER_HOST, the Docker context, the socket)
  --tracking-uri URI     the MLflow server to probe, in addition to what the stack publishes
  --probe-remote         also probe tracking URIs that point at other hosts (off by default)
  -o, --output FILE      where snapshot writes (default stdout)
  -q, --quiet            no progress on stderr

Exit codes: 0 no problems, 1 problems found, 2 could not diagnose.`;

export interface CliArgs {
    command: 'diagnose' | 'snapshot' | 'help' | 'version';
    folder: string;
    format: 'text' | 'json' | 'markdown';
    snapshot?: string;
    context?: string;
    output?: string;
    quiet: boolean;
    options: Omit<DiagnoseOptions, 'folder'>;
}

export class UsageError extends Error {}

export function parseArgs(argv: string[]): CliArgs {
    const args: CliArgs = {
        command: 'help',
        folder: '.',
        format: 'text',
        quiet: false,
        options: {},
    };
    const rest = [...argv];
    const first = rest[0];
    if (first === 'diagnose' || first === 'snapshot') {
        args.command = first;
        rest.shift();
    } else if (first === '--version' || first === '-v') {
        return { ...args, command: 'version' };
    } else if (first === undefined || first === 'help' || first === '--help' || first === '-h') {
        return args;
    } else if (first.startsWith('-') || !['diagnose', 'snapshot'].includes(first)) {
        // `stack-doctor ./folder` and `stack-doctor --json` mean diagnose.
        args.command = 'diagnose';
    }
    const value = (flag: string) => {
        const v = rest.shift();
        if (v === undefined || v.startsWith('--')) throw new UsageError(`${flag} needs a value`);
        return v;
    };
    let folderSeen = false;
    while (rest.length > 0) {
        const arg = rest.shift() as string;
        switch (arg) {
            case '--json':
            case '--markdown': {
                const format = arg === '--json' ? 'json' : 'markdown';
                if (args.format !== 'text' && args.format !== format) {
                    throw new UsageError('--json and --markdown cannot be combined; choose one');
                }
                args.format = format;
                break;
            }
            case '--snapshot':
                args.snapshot = value(arg);
                break;
            case '--context':
                args.context = value(arg);
                break;
            case '--timeout': {
                const ms = Number(value(arg));
                if (!Number.isFinite(ms) || ms <= 0)
                    throw new UsageError('--timeout takes milliseconds');
                args.options.timeoutMs = ms;
                break;
            }
            case '--no-write':
                args.options.allowWrites = false;
                break;
            case '--no-exec':
                args.options.allowExec = false;
                break;
            case '--offline':
                args.options.offline = true;
                break;
            case '--docker-host':
                args.options.dockerHost = value(arg);
                break;
            case '--tracking-uri': {
                const uri = value(arg);
                // A typo here would otherwise be probed as nothing at all, and the report
                // would silently lack the server the user asked about.
                if (!/^https?:\/\/[^/\s]+/i.test(uri)) {
                    throw new UsageError(
                        `--tracking-uri needs an http(s) URL such as http://127.0.0.1:5000 (got ${JSON.stringify(uri)})`,
                    );
                }
                args.options.trackingUri = uri;
                break;
            }
            case '--probe-remote':
                args.options.probeRemote = true;
                break;
            case '-o':
            case '--output':
                args.output = value(arg);
                break;
            case '-q':
            case '--quiet':
                args.quiet = true;
                break;
            case '-h':
            case '--help':
                return { ...args, command: 'help' };
            default:
                if (arg.startsWith('-')) throw new UsageError(`unknown option ${arg}`);
                if (folderSeen)
                    throw new UsageError(`one folder only (got ${args.folder} and ${arg})`);
                args.folder = arg;
                folderSeen = true;
        }
    }
    return args;
}
