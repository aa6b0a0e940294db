// A streaming reader for the tar archives the Docker Engine's archive endpoint sends: ustar
// headers with pax (`x`) and GNU (`L`/`K`) long names. Entry bodies are handed out as they arrive
// and never collected, so a multi-gigabyte file passes through in chunk-sized pieces, and a caller
// that found what it wanted simply stops iterating.

const BLOCK = 512;
/** Pax and GNU long-name bodies are held in memory; real ones are a few hundred bytes. */
const MAX_META_BYTES = 1024 * 1024;
const EMPTY = Buffer.alloc(0);

export class TarFormatError extends Error {
    constructor(message: string) {
        super(message);
        this.name = 'TarFormatError';
    }
}

export type TarEntryType = 'file' | 'directory' | 'symlink' | 'hardlink' | 'other';

export interface TarEntry {
    /** As written in the archive (pax or GNU long name applied), not yet checked or normalised. */
    name: string;
    type: TarEntryType;
    size: number;
    mode: number;
    /** Seconds since the epoch. */
    mtime: number;
    linkName?: string;
}

export interface TarItem {
    entry: TarEntry;
    /** The entry's bytes. Read it before asking for the next item, or leave it to be skipped. */
    body: AsyncGenerator<Buffer>;
}

export interface TarReadOptions {
    /** Longest wait for the next chunk from the source. Default 30 s. */
    idleTimeoutMs?: number;
}

/** Pulls exact byte counts out of a chunked source without copying more than a header. */
class ByteSource {
    private pending: Buffer = EMPTY;
    private ended = false;
    /** Bytes consumed so far, for error messages. */
    offset = 0;

    constructor(
        private readonly iterator: AsyncIterator<Buffer | Uint8Array | string>,
        private readonly idleTimeoutMs: number,
    ) {}

    private async pull(): Promise<boolean> {
        if (this.ended) return false;
        let timer: NodeJS.Timeout | undefined;
        const idle = new Promise<never>((_, reject) => {
            timer = setTimeout(
                () =>
                    reject(
                        new TarFormatError(
                            `the archive stream sent nothing for ${this.idleTimeoutMs} ms ` +
                                `(after ${this.offset} bytes)`,
                        ),
                    ),
                this.idleTimeoutMs,
            );
        });
        try {
            const next = await Promise.race([this.iterator.next(), idle]);
            if (next.done) {
                this.ended = true;
                return false;
            }
            const chunk = Buffer.isBuffer(next.value)
                ? next.value
                : Buffer.from(next.value as Uint8Array);
            this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
            return true;
        } finally {
            clearTimeout(timer);
        }
    }

    /** Exactly `n` bytes, or fewer when the source ends first. */
    async take(n: number): Promise<Buffer> {
        while (this.pending.length < n && (await this.pull()));
        const out = this.pending.subarray(0, n);
        this.pending = this.pending.subarray(out.length);
        this.offset += out.length;
        return out;
    }

    /** Up to `max` bytes: what is pending, or the next chunk; empty only at the end. */
    async slice(max: number): Promise<Buffer> {
        if (this.pending.length === 0 && !(await this.pull())) return EMPTY;
        const out = this.pending.subarray(0, max);
        this.pending = this.pending.subarray(out.length);
        this.offset += out.length;
        return out;
    }

    async skip(n: number): Promise<boolean> {
        let left = n;
        while (left > 0) {
            const chunk = await this.slice(left);
            if (chunk.length === 0) return false;
            left -= chunk.length;
        }
        return true;
    }
}

function text(block: Buffer, start: number, length: number): string {
    const field = block.subarray(start, start + length);
    const end = field.indexOf(0);
    return field.subarray(0, end < 0 ? field.length : end).toString('utf8');
}

function octal(block: Buffer, start: number, length: number, what: string): number {
    const field = block.subarray(start, start + length);
    // GNU base-256 for values that do not fit the octal field (files of 8 GiB and more).
    if (field[0] !== undefined && (field[0] & 0x80) !== 0) {
        let value = field[0] & 0x7f;
        for (let i = 1; i < field.length; i++) value = value * 256 + field[i]!;
        if (!Number.isSafeInteger(value)) throw new TarFormatError(`tar ${what} is too large`);
        return value;
    }
    const digits = text(block, start, length).trim();
    if (digits === '') return 0;
    if (!/^[0-7]+$/.test(digits)) {
        throw new TarFormatError(`tar header ${what} ${JSON.stringify(digits)} is not octal`);
    }
    return parseInt(digits, 8);
}

function checksumMatches(block: Buffer): boolean {
    const stored = octal(block, 148, 8, 'checksum');
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i]!;
    return sum === stored;
}

/** Pax records: `<length> <key>=<value>\n`, length counting the whole record. */
function paxRecords(body: Buffer): Record<string, string> {
    const records: Record<string, string> = {};
    let at = 0;
    while (at < body.length) {
        const space = body.indexOf(0x20, at);
        if (space < 0) break;
        const length = Number(body.subarray(at, space).toString('ascii'));
        if (!Number.isInteger(length) || length <= space - at || at + length > body.length) {
            throw new TarFormatError('tar pax header has a malformed record');
        }
        const record = body.subarray(space + 1, at + length - 1).toString('utf8');
        const equals = record.indexOf('=');
        if (equals > 0) records[record.slice(0, equals)] = record.slice(equals + 1);
        at += length;
    }
    return records;
}

function entryType(flag: string): TarEntryType {
    switch (flag) {
        case '0':
        case '':
        case '7':
            return 'file';
        case '5':
            return 'directory';
        case '2':
            return 'symlink';
        case '1':
            return 'hardlink';
        default:
            return 'other';
    }
}

function padding(size: number): number {
    return (BLOCK - (size % BLOCK)) % BLOCK;
}

/**
 * The entries of a tar stream, in order. Throws TarFormatError for a header that is not tar, a
 * stream that ends inside an entry or before the end-of-archive marker, and a source that goes
 * quiet for longer than the idle timeout.
 */
export async function* readTar(
    source: AsyncIterable<Buffer | Uint8Array | string>,
    options: TarReadOptions = {},
): AsyncGenerator<TarItem> {
    const bytes = new ByteSource(source[Symbol.asyncIterator](), options.idleTimeoutMs ?? 30_000);
    let longName: string | undefined;
    let longLink: string | undefined;
    let pax: Record<string, string> = {};

    const readMeta = async (size: number, what: string): Promise<Buffer> => {
        if (size > MAX_META_BYTES) throw new TarFormatError(`tar ${what} of ${size} bytes`);
        const body = await bytes.take(size);
        if (body.length < size || !(await bytes.skip(padding(size)))) {
            throw new TarFormatError(`tar stream ended inside a ${what}`);
        }
        return body;
    };

    for (;;) {
        const at = bytes.offset;
        const block = await bytes.take(BLOCK);
        if (block.length === 0) {
            throw new TarFormatError(`tar stream ended after ${at} bytes without its end marker`);
        }
        if (block.length < BLOCK) {
            throw new TarFormatError(`tar stream ended inside a header at byte ${at}`);
        }
        if (block.every((byte) => byte === 0)) return;
        if (!checksumMatches(block)) {
            throw new TarFormatError(`not a tar archive: bad header checksum at byte ${at}`);
        }

        const flag = text(block, 156, 1);
        const size = octal(block, 124, 12, 'size');
        if (flag === 'x') {
            pax = paxRecords(await readMeta(size, 'pax header'));
            continue;
        }
        if (flag === 'g') {
            await readMeta(size, 'global pax header');
            continue;
        }
        if (flag === 'L') {
            longName = text(await readMeta(size, 'GNU long name'), 0, size);
            continue;
        }
        if (flag === 'K') {
            longLink = text(await readMeta(size, 'GNU long link name'), 0, size);
            continue;
        }

        const prefix = text(block, 257, 6).startsWith('ustar') ? text(block, 345, 155) : '';
        const shortName = text(block, 0, 100);
        const name = pax['path'] ?? longName ?? (prefix ? `${prefix}/${shortName}` : shortName);
        const link = pax['linkpath'] ?? longLink ?? text(block, 157, 100);
        const paxSize = pax['size'] !== undefined ? Number(pax['size']) : undefined;
        const entrySize = paxSize !== undefined && Number.isSafeInteger(paxSize) ? paxSize : size;
        const type = entryType(flag);
        const entry: TarEntry = {
            name,
            type,
            size: type === 'file' || type === 'other' ? entrySize : 0,
            mode: octal(block, 100, 8, 'mode'),
            mtime:
                pax['mtime'] !== undefined ? Number(pax['mtime']) : octal(block, 136, 12, 'mtime'),
            ...(link ? { linkName: link } : {}),
        };
        longName = undefined;
        longLink = undefined;
        pax = {};

        let remaining = entry.size;
        const body = (async function* (): AsyncGenerator<Buffer> {
            while (remaining > 0) {
                const chunk = await bytes.slice(remaining);
                if (chunk.length === 0) {
                    throw new TarFormatError(
                        `tar stream ended inside ${JSON.stringify(name)} ` +
                            `(${remaining} of ${entry.size} bytes missing)`,
                    );
                }
                remaining -= chunk.length;
                yield chunk;
            }
        })();
        yield { entry, body };

        if (!(await bytes.skip(remaining + padding(entry.size)))) {
            throw new TarFormatError(`tar stream ended inside ${JSON.stringify(name)}`);
        }
        remaining = 0;
    }
}
