// Short commands run inside a container, to learn what its processes see (a bind mount's view
// from inside can differ from the host folder it was created from).

import type Dockerode from 'dockerode';

import { DeadlineError, withDeadline } from './deadline.js';
import { demuxDockerStream } from './logs.js';

export interface ExecResult {
    /** null when the command did not finish within the deadline or its status is unknown. */
    exitCode: number | null;
    stdout: string;
    stderr: string;
    timedOut: boolean;
    /** The executable does not exist in the container (exit 126/127 from the runtime). */
    notFound: boolean;
}

export interface ExecOptions {
    timeoutMs: number;
    /** Run as this user instead of the container's configured one. */
    user?: string;
}

/**
 * Runs `argv` in a running container as its configured user and returns its demultiplexed output.
 * Meant for short read-only commands (`ls`, `stat`, `id`); the probe that writes sentinels uses it
 * too, for one-line writes it removes again.
 * Rejects when the container does not exist or is not running; resolves with `timedOut` when the
 * command outlives the deadline.
 */
export async function execReadOnly(
    container: Dockerode.Container,
    argv: string[],
    options: ExecOptions,
): Promise<ExecResult> {
    const started = Date.now();
    const remaining = (): number => Math.max(1, options.timeoutMs - (Date.now() - started));

    const createOptions: Dockerode.ExecCreateOptions = {
        Cmd: argv,
        AttachStdout: true,
        AttachStderr: true,
        AttachStdin: false,
        Tty: false,
    };
    if (options.user) createOptions.User = options.user;
    const exec = await withDeadline(`creating exec ${argv[0] ?? ''}`, remaining(), (abortSignal) =>
        container.exec({ ...createOptions, abortSignal }),
    );

    const chunks: Buffer[] = [];
    let stream: NodeJS.ReadWriteStream & { destroy?: () => void };
    try {
        stream = await withDeadline(`starting exec ${argv[0] ?? ''}`, remaining(), (abortSignal) =>
            exec.start({ hijack: true, stdin: false, abortSignal }),
        );
    } catch (error) {
        if (error instanceof DeadlineError) return timedOut(chunks);
        throw error;
    }

    const finished = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), remaining());
        const done = (): void => {
            clearTimeout(timer);
            resolve(true);
        };
        stream.on('data', (chunk: Buffer) => chunks.push(Buffer.from(chunk)));
        stream.on('end', done);
        stream.on('close', done);
        stream.on('error', done);
    });
    if (!finished) {
        // Not yet: the command keeps running inside the container after a timeout (the Engine has no
        // API to kill an exec); only the connection is dropped.
        stream.destroy?.();
        return timedOut(chunks);
    }

    const { stdout, stderr } = demuxDockerStream(Buffer.concat(chunks));
    const exitCode = await exitCodeOf(exec, remaining);
    const output = `${stdout}\n${stderr}`;
    const notFound =
        (exitCode === 126 || exitCode === 127) &&
        /executable file not found|no such file or directory|not found/i.test(output);
    return { exitCode, stdout, stderr, timedOut: exitCode === null, notFound };
}

/** The exec's exit code; the Engine can report it a moment after the output stream closed. */
async function exitCodeOf(exec: Dockerode.Exec, remaining: () => number): Promise<number | null> {
    for (let attempt = 0; attempt < 20; attempt++) {
        let info: Dockerode.ExecInspectInfo;
        try {
            info = await withDeadline('inspecting exec', remaining(), () => exec.inspect());
        } catch {
            return null;
        }
        if (!info.Running && typeof info.ExitCode === 'number') return info.ExitCode;
        await new Promise((resolve) => setTimeout(resolve, 25));
    }
    return null;
}

function timedOut(chunks: Buffer[]): ExecResult {
    const { stdout, stderr } = demuxDockerStream(Buffer.concat(chunks));
    return { exitCode: null, stdout, stderr, timedOut: true, notFound: false };
}
