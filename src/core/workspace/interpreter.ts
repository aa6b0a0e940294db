// Asking the workspace's Python which MLflow it has installed. Package metadata is read
// instead of importing mlflow, which takes seconds and can fail for unrelated reasons.

import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

const VERSION_SCRIPT = [
    'import importlib.metadata as m',
    'for name in ("mlflow", "mlflow-skinny"):',
    '    try:',
    '        print(name, m.version(name)); break',
    '    except m.PackageNotFoundError:',
    '        pass',
    'else:',
    '    print("none")',
].join('\n');

export type InterpreterAnswer =
    | { kind: 'version'; interpreter: string; package: string; version: string }
    | { kind: 'not-installed'; interpreter: string }
    | { kind: 'failed'; interpreter: string; error: string };

/** The interpreter a workspace would use: its own venv, else the configured one, else python3. */
export function workspaceInterpreter(folder: string, pythonPath?: string): string {
    const candidates =
        process.platform === 'win32'
            ? ['.venv/Scripts/python.exe', 'venv/Scripts/python.exe']
            : ['.venv/bin/python', 'venv/bin/python'];
    for (const candidate of candidates) {
        const abs = path.join(folder, candidate);
        if (existsSync(abs)) return abs;
    }
    return pythonPath ?? (process.platform === 'win32' ? 'python' : 'python3');
}

/** Runs `interpreter` once with a timeout and reports the installed MLflow distribution. */
export function probeInterpreterMlflow(
    interpreter: string,
    timeoutMs: number,
): Promise<InterpreterAnswer> {
    return new Promise((resolve) => {
        execFile(
            interpreter,
            ['-c', VERSION_SCRIPT],
            { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 64 * 1024, windowsHide: true },
            (error, stdout, stderr) => {
                if (error) {
                    const timedOut = (error as { killed?: boolean }).killed === true;
                    const reason = timedOut
                        ? `no answer within ${timeoutMs} ms`
                        : (error as NodeJS.ErrnoException).code === 'ENOENT'
                          ? 'not found'
                          : (stderr.trim().split('\n').at(-1) ?? error.message);
                    resolve({ kind: 'failed', interpreter, error: reason });
                    return;
                }
                const answer = stdout.trim().split('\n').at(-1) ?? '';
                const match = /^(mlflow(?:-skinny)?) (\S+)$/.exec(answer);
                if (match) {
                    resolve({
                        kind: 'version',
                        interpreter,
                        package: match[1]!,
                        version: match[2]!,
                    });
                } else if (answer === 'none') {
                    resolve({ kind: 'not-installed', interpreter });
                } else {
                    resolve({
                        kind: 'failed',
                        interpreter,
                        error: `unexpected answer: ${answer.slice(0, 200)}`,
                    });
                }
            },
        );
    });
}
