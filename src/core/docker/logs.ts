// Container output as the Engine sends it: without a TTY, stdout and stderr arrive multiplexed in
// frames (an 8-byte header: stream type, three zero bytes, big-endian length). Log lines can carry
// credentials, so everything kept from them is masked first.

import { maskSecrets } from '../secrets.js';

export { maskSecrets };

export type DockerStreamName = 'stdin' | 'stdout' | 'stderr';

export interface DockerStreamFrame {
    stream: DockerStreamName;
    data: Buffer;
}

const STREAM_NAMES: Record<number, DockerStreamName> = { 0: 'stdin', 1: 'stdout', 2: 'stderr' };

/**
 * Splits a multiplexed stream into its frames, in order. A buffer that does not start with a valid
 * header (a TTY container, or a truncated tail) is returned as one stdout frame from that point.
 */
export function splitDockerFrames(buffer: Buffer): DockerStreamFrame[] {
    const frames: DockerStreamFrame[] = [];
    let offset = 0;
    while (offset < buffer.length) {
        const remaining = buffer.length - offset;
        const type = buffer[offset];
        const headerValid =
            remaining >= 8 &&
            type !== undefined &&
            STREAM_NAMES[type] !== undefined &&
            buffer[offset + 1] === 0 &&
            buffer[offset + 2] === 0 &&
            buffer[offset + 3] === 0;
        if (!headerValid) {
            frames.push({ stream: 'stdout', data: buffer.subarray(offset) });
            break;
        }
        const length = buffer.readUInt32BE(offset + 4);
        const start = offset + 8;
        const end = Math.min(start + length, buffer.length);
        frames.push({ stream: STREAM_NAMES[type] ?? 'stdout', data: buffer.subarray(start, end) });
        offset = end;
    }
    return frames;
}

/** stdout and stderr of a multiplexed buffer, each as text. */
export function demuxDockerStream(buffer: Buffer): { stdout: string; stderr: string } {
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    for (const frame of splitDockerFrames(buffer)) {
        if (frame.stream === 'stderr') stderr.push(frame.data);
        else if (frame.stream === 'stdout') stdout.push(frame.data);
    }
    return {
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
    };
}

/**
 * The last `maxLines` lines of a container log, in the order they were written, secrets masked.
 * `multiplexed` is false for containers created with a TTY.
 */
export function logTailLines(buffer: Buffer, multiplexed: boolean, maxLines: number): string[] {
    const text = multiplexed
        ? splitDockerFrames(buffer)
              .map((frame) => frame.data.toString('utf8'))
              .join('')
        : buffer.toString('utf8');
    const lines = text
        .split(/\r?\n/)
        .map((line) => line.replace(/\r$/, ''))
        .filter((line, index, all) => !(index === all.length - 1 && line === ''));
    return lines.slice(-maxLines).map(maskSecrets);
}
