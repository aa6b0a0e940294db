// The streaming tar reader against archives written by the system's own `tar`: ustar, GNU long
// names, pax headers; and against truncated and garbage input, which must fail clearly and fast.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { after, describe, test } from 'node:test';
import { readTar, type TarEntry, TarFormatError } from '../../src/core/artifacts/tarReader.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'sd-artifact-tar-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const LONG_NAME = `${'deep-folder-name/'.repeat(8)}${'x'.repeat(150)}.txt`;
const HOSTILE = '<img src=x onerror=alert(1)> "q" \u202etxt.exe ünï.txt';

function buildTree(): string {
    const dir = path.join(tmp, 'tree');
    mkdirSync(path.join(dir, 'nested', 'inner'), { recursive: true });
    mkdirSync(path.join(dir, path.dirname(LONG_NAME)), { recursive: true });
    writeFileSync(path.join(dir, 'hello.txt'), 'hello\n');
    writeFileSync(path.join(dir, 'nested', 'inner', 'data.bin'), Buffer.alloc(70_000, 7));
    writeFileSync(path.join(dir, LONG_NAME), 'long');
    writeFileSync(path.join(dir, HOSTILE), 'hostile');
    writeFileSync(path.join(dir, 'empty'), '');
    symlinkSync('/etc/passwd', path.join(dir, 'link'));
    return dir;
}

const tree = buildTree();

function tarOf(format: 'gnu' | 'pax' | 'ustar', names: string[]): Buffer {
    return execFileSync('tar', ['-c', `--format=${format}`, '-C', tree, ...names], {
        maxBuffer: 64 * 1024 * 1024,
    });
}

/** Feeds the archive in small odd-sized chunks so headers and bodies straddle chunk borders. */
function chunked(bytes: Buffer, size = 777): Readable {
    const parts: Buffer[] = [];
    for (let at = 0; at < bytes.length; at += size) parts.push(bytes.subarray(at, at + size));
    return Readable.from(parts);
}

async function readAll(source: Readable): Promise<{ entry: TarEntry; body: Buffer }[]> {
    const out: { entry: TarEntry; body: Buffer }[] = [];
    for await (const { entry, body } of readTar(source)) {
        const chunks: Buffer[] = [];
        for await (const chunk of body) chunks.push(chunk);
        out.push({ entry, body: Buffer.concat(chunks) });
    }
    return out;
}

void describe('readTar', () => {
    for (const format of ['gnu', 'pax'] as const) {
        test(`reads every entry of a ${format} archive with long and hostile names`, async () => {
            const items = await readAll(chunked(tarOf(format, ['.'])));
            const byName = new Map(
                items.map((item) => [
                    item.entry.name.replace(/^\.\//, '').replace(/\/$/, ''),
                    item,
                ]),
            );
            assert.equal(byName.get('hello.txt')?.body.toString(), 'hello\n');
            assert.deepEqual(
                byName.get('nested/inner/data.bin')?.body,
                readFileSync(path.join(tree, 'nested', 'inner', 'data.bin')),
            );
            assert.equal(byName.get(LONG_NAME)?.body.toString(), 'long');
            assert.equal(byName.get(HOSTILE)?.body.toString(), 'hostile');
            assert.equal(byName.get('empty')?.entry.size, 0);
            assert.equal(byName.get('nested/inner')?.entry.type, 'directory');
            const link = byName.get('link')?.entry;
            assert.equal(link?.type, 'symlink');
            assert.equal(link?.linkName, '/etc/passwd');
        });
    }

    test('reads a ustar archive whose long name is split into prefix and name', async () => {
        const shortEnough = `${'p'.repeat(120)}/${'n'.repeat(90)}`;
        mkdirSync(path.join(tree, 'p'.repeat(120)), { recursive: true });
        writeFileSync(path.join(tree, shortEnough), 'split');
        const items = await readAll(chunked(tarOf('ustar', [shortEnough])));
        assert.equal(items.length, 1);
        assert.equal(items[0]!.entry.name, shortEnough);
        assert.equal(items[0]!.body.toString(), 'split');
    });

    test('skips the bodies a caller does not read', async () => {
        const names: string[] = [];
        for await (const { entry } of readTar(chunked(tarOf('gnu', ['.'])))) names.push(entry.name);
        assert.ok(names.includes('./hello.txt'));
        assert.ok(names.includes('./nested/inner/data.bin'));
    });

    test('stops reading the source when the caller stops after the entry it wanted', async () => {
        const archive = tarOf('gnu', ['hello.txt', 'nested']);
        let pulled = 0;
        const source = Readable.from(
            (function* () {
                for (let at = 0; at < archive.length; at += 512) {
                    pulled++;
                    yield archive.subarray(at, at + 512);
                }
            })(),
        );
        for await (const { entry, body } of readTar(source)) {
            assert.equal(entry.name, 'hello.txt');
            for await (const chunk of body) assert.equal(chunk.toString(), 'hello\n');
            break;
        }
        assert.ok(pulled < archive.length / 512 / 2, `pulled ${pulled} blocks`);
    });

    test('reports an archive cut inside a body, naming the entry', async () => {
        const archive = tarOf('gnu', ['nested/inner/data.bin']);
        const cut = archive.subarray(0, 512 * 2 + 1000);
        await assert.rejects(readAll(chunked(cut)), (error: unknown) => {
            assert.ok(error instanceof TarFormatError);
            assert.match(error.message, /ended inside "nested\/inner\/data\.bin"/);
            return true;
        });
    });

    test('reports an archive cut inside a header and one without its end marker', async () => {
        const archive = tarOf('gnu', ['hello.txt']);
        await assert.rejects(readAll(chunked(archive.subarray(0, 300))), /inside a header/);
        await assert.rejects(readAll(chunked(archive.subarray(0, 1024))), /without its end marker/);
    });

    test('refuses garbage that is not tar', async () => {
        const garbage = Buffer.from('<html><body>502 Bad Gateway</body></html>'.padEnd(2048, ' '));
        await assert.rejects(readAll(chunked(garbage)), /not a tar archive: bad header checksum/);
        await assert.rejects(readAll(chunked(Buffer.from('short'))), /inside a header/);
    });

    test('gives up on a source that goes silent instead of hanging', async () => {
        const silent = new PassThrough();
        silent.write(tarOf('gnu', ['hello.txt']).subarray(0, 512));
        const started = Date.now();
        await assert.rejects(
            (async () => {
                for await (const item of readTar(silent, { idleTimeoutMs: 200 })) {
                    for await (const chunk of item.body) void chunk;
                }
            })(),
            /sent nothing for 200 ms/,
        );
        assert.ok(Date.now() - started < 2000);
        silent.destroy();
    });
});
