// Asking the workspace's Python which MLflow it has installed. Package metadata is read
// instead of importing mlflow, which takes seconds and can fail for unrelated reasons. In a
// plain venv the metadata file is read straight from site-packages: starting Python costs
// 100-500 ms (more behind a pyenv shim), which was most of a diagnose.

import { execFile } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';
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

/**
 * Reports the installed MLflow distribution: read from the venv's site-packages when
 * `interpreter` belongs to a venv whose answer the files settle, else by running it once with a
 * timeout.
 */
export function probeInterpreterMlflow(
    interpreter: string,
    timeoutMs: number,
): Promise<InterpreterAnswer> {
    // process.env: the environment the interpreter would be run with.
    const read = mlflowInVenv(interpreter, process.env);
    if (read) return Promise.resolve({ kind: 'version', interpreter, ...read });
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

/**
 * The `mlflow` distribution in the site-packages of the venv `interpreter` belongs to, as
 * importlib.metadata would find it first; undefined whenever the files alone do not settle the
 * answer, so the caller runs Python: not a venv, system site-packages included, PYTHONPATH set
 * (its entries come first), several Python versions or several mlflow dist-infos, or no `mlflow`
 * dist-info there (mlflow-skinny alone, or mlflow on a path a `.pth` file adds, are the
 * interpreter's to say).
 */
export function mlflowInVenv(
    interpreter: string,
    env: Record<string, string | undefined> = process.env,
): { package: 'mlflow'; version: string } | undefined {
    // A bare command name is found on PATH by the spawn; only a path names a venv's python.
    if (env.PYTHONPATH || env.PYTHONHOME || !path.isAbsolute(interpreter)) return undefined;
    const venv = path.dirname(path.dirname(interpreter));
    let config: string;
    try {
        config = readFileSync(path.join(venv, 'pyvenv.cfg'), 'utf8');
    } catch {
        return undefined;
    }
    if (!/^\s*include-system-site-packages\s*=\s*false\s*$/im.test(config)) return undefined;
    let sitePackages: string;
    try {
        if (process.platform === 'win32') {
            sitePackages = path.join(venv, 'Lib', 'site-packages');
        } else {
            const versions = readdirSync(path.join(venv, 'lib')).filter((name) =>
                /^python\d+\.\d+t?$/.test(name),
            );
            if (versions.length !== 1) return undefined;
            sitePackages = path.join(venv, 'lib', versions[0]!, 'site-packages');
        }
        const dists = readdirSync(sitePackages).filter((name) =>
            /^mlflow-[^-]+\.(?:dist-info|egg-info)$/i.test(name),
        );
        if (dists.length !== 1 || !dists[0]!.endsWith('.dist-info')) return undefined;
        const version = metadataVersion(path.join(sitePackages, dists[0]!, 'METADATA'));
        return version ? { package: 'mlflow', version } : undefined;
    } catch {
        return undefined;
    }
}

/** The `Version:` header of a METADATA file, read from its first 16 KB (headers come first). */
function metadataVersion(file: string): string | undefined {
    const buffer = Buffer.alloc(16 * 1024);
    const fd = openSync(file, 'r');
    let size: number;
    try {
        size = readSync(fd, buffer, 0, buffer.length, 0);
    } finally {
        closeSync(fd);
    }
    const headers = buffer.toString('utf8', 0, size).split(/\r?\n\r?\n/)[0] ?? '';
    if (!/^Name:\s*mlflow\s*$/im.test(headers)) return undefined;
    return /^Version:\s*(\S+)\s*$/im.exec(headers)?.[1];
}
