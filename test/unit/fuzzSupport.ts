// What the fuzz suites share: one seed for the whole run (FUZZ_SEED overrides it, and every
// failure names it so the run can be repeated), bounded run parameters, and the mutations that
// turn a valid input into the kinds of damage real files show (flipped bytes, truncation, tabs,
// BOMs, CRLF, NUL bytes, huge lines, bidi controls, non-UTF-8, deep nesting, alias bombs).

import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const FUZZ_SEED = Number(process.env.FUZZ_SEED ?? 20_250_611);

/**
 * Runs a property with the suite's seed. The time limit stops generating new inputs (it is not
 * a failure: the suite must fit CI), `timeout` fails any single run that hangs.
 */
export async function checkProperty<Ts extends unknown[]>(
    property: fc.IAsyncPropertyWithHooks<Ts> | fc.IPropertyWithHooks<Ts>,
    options: { numRuns: number; timeLimitMs: number; runTimeoutMs?: number },
): Promise<void> {
    try {
        await fc.assert(property, {
            seed: FUZZ_SEED,
            numRuns: options.numRuns,
            interruptAfterTimeLimit: options.timeLimitMs,
            markInterruptAsFailure: false,
            ...(options.runTimeoutMs ? { timeout: options.runTimeoutMs } : {}),
            endOnFailure: true,
            verbose: process.env.FUZZ_VERBOSE ? 2 : 0,
        });
    } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        const cause =
            error instanceof Error && error.cause instanceof Error ? error.cause : undefined;
        throw new Error(
            `fuzz failure (repeat with FUZZ_SEED=${FUZZ_SEED}):\n${message}` +
                (cause ? `\ncause: ${cause.stack ?? cause.message}` : ''),
            { cause: error },
        );
    }
}

const ALIAS_BOMB = [
    'x-a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]',
    'x-b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]',
    'x-c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]',
    'x-d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]',
    'x-e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]',
    'x-f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]',
    'x-g: [*f, *f, *f, *f, *f, *f, *f, *f, *f]',
    '',
].join('\n');

/** Text that breaks parsers: structure characters, encodings, templates and sheer size. */
export const NASTY_SNIPPETS: readonly string[] = [
    '\t',
    '\uFEFF',
    '\r\n',
    '\r',
    '\0',
    '\u202E',
    '\u2066',
    '\u200B',
    '\u0085',
    '\u2028',
    'é',
    '😀',
    '\uD800',
    'x'.repeat(100_000),
    '['.repeat(600),
    '{a: '.repeat(300),
    Array.from({ length: 200 }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n'),
    '&a ',
    '*a',
    '*nowhere',
    '<<: *a',
    '!!binary ',
    '!!python/object/apply:os.system ',
    '!custom ',
    '${',
    '${VAR:?boom}',
    '$$',
    '${A:-${B:-${C}}}',
    '$',
    '"',
    "'",
    ':',
    ': ',
    '\n  ',
    '\n- ',
    '\n\t- ',
    '#',
    '---\n',
    '...\n',
    '%YAML 1.1\n',
    '? ',
    '|',
    '>-\n',
    '~',
    'null',
    '0x1F',
    '1e999',
    '-.inf',
    '2024-13-45',
    '\\',
    '\\u',
    ',',
    '}',
    ']',
    '\n' + ALIAS_BOMB,
];

export type Mutation =
    | { op: 'flip'; at: number; bit: number }
    | { op: 'truncate'; at: number }
    | { op: 'insert'; at: number; snippet: string }
    | { op: 'delete'; at: number; length: number }
    | { op: 'duplicate'; at: number; length: number }
    | { op: 'invalid-utf8'; at: number }
    | { op: 'crlf' }
    | { op: 'bom' }
    | { op: 'tabs' }
    | { op: 'utf16' };

const position = fc.nat({ max: 1_000_000 });

export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
    fc.record({
        op: fc.constant('flip' as const),
        at: position,
        bit: fc.integer({ min: 0, max: 7 }),
    }),
    fc.record({ op: fc.constant('truncate' as const), at: position }),
    fc.record({
        op: fc.constant('insert' as const),
        at: position,
        snippet: fc.oneof(fc.constantFrom(...NASTY_SNIPPETS), fc.string({ unit: 'binary' })),
    }),
    fc.record({ op: fc.constant('delete' as const), at: position, length: fc.nat({ max: 64 }) }),
    fc.record({
        op: fc.constant('duplicate' as const),
        at: position,
        length: fc.nat({ max: 400 }),
    }),
    fc.record({ op: fc.constant('invalid-utf8' as const), at: position }),
    fc.constant({ op: 'crlf' as const }),
    fc.constant({ op: 'bom' as const }),
    fc.constant({ op: 'tabs' as const }),
    fc.constant({ op: 'utf16' as const }),
);

export const mutationsArb = fc.array(mutationArb, { minLength: 1, maxLength: 4 });

/** Applies mutations to bytes; the result may be any byte sequence, not only valid UTF-8. */
export function mutate(input: Buffer, mutations: readonly Mutation[]): Buffer {
    let bytes = Buffer.from(input);
    for (const m of mutations) {
        const at = 'at' in m ? m.at % (bytes.length + 1) : 0;
        switch (m.op) {
            case 'flip':
                if (bytes.length > 0) {
                    const i = at % bytes.length;
                    bytes[i] = bytes[i]! ^ (1 << m.bit);
                }
                break;
            case 'truncate':
                bytes = bytes.subarray(0, at);
                break;
            case 'insert':
                bytes = Buffer.concat([
                    bytes.subarray(0, at),
                    Buffer.from(m.snippet, 'utf8'),
                    bytes.subarray(at),
                ]);
                break;
            case 'delete':
                bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + m.length)]);
                break;
            case 'duplicate':
                bytes = Buffer.concat([
                    bytes.subarray(0, at + m.length),
                    bytes.subarray(at, at + m.length),
                    bytes.subarray(at + m.length),
                ]);
                break;
            case 'invalid-utf8':
                bytes = Buffer.concat([
                    bytes.subarray(0, at),
                    Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xe2, 0x82]),
                    bytes.subarray(at),
                ]);
                break;
            case 'crlf':
                bytes = Buffer.from(bytes.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1');
                break;
            case 'bom':
                bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), bytes]);
                break;
            case 'tabs':
                bytes = Buffer.from(
                    bytes
                        .toString('latin1')
                        .replace(/^( {2})+/gm, (s) => '\t'.repeat(s.length / 2)),
                    'latin1',
                );
                break;
            case 'utf16':
                bytes = Buffer.concat([
                    Buffer.from([0xff, 0xfe]),
                    Buffer.from(bytes.toString('utf8'), 'utf16le'),
                ]);
                break;
        }
    }
    return bytes;
}

/** A mutated copy of `text`, as the bytes a damaged file would hold. */
export function mutatedBytesArb(text: string): fc.Arbitrary<Buffer> {
    const base = Buffer.from(text, 'utf8');
    return mutationsArb.map((mutations) => mutate(base, mutations));
}

/** A mutated copy of `text` as a string (invalid bytes decode to U+FFFD, as a reader sees them). */
export function mutatedTextArb(text: string): fc.Arbitrary<string> {
    return mutatedBytesArb(text).map((bytes) => bytes.toString('utf8'));
}

/** A scratch folder for one suite, removed when `done` is called. */
export function scratchFolder(prefix: string): { root: string; next(): string; done(): void } {
    const root = mkdtempSync(path.join(os.tmpdir(), `stack-doctor-${prefix}-`));
    let count = 0;
    return {
        root,
        next: () => {
            count++;
            return path.join(root, String(count));
        },
        done: () => rmSync(root, { recursive: true, force: true }),
    };
}

/** Number of lines an editor shows for these bytes (a final newline opens one more line). */
export function lineCount(text: string): number {
    return text.split(/\r\n|\r|\n/).length;
}
