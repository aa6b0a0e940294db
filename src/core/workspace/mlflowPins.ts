// Where a workspace writes down which MLflow its clients install: requirement files,
// pyproject/Pipfile/conda specs, lock files (the resolved version), Dockerfile `pip install`
// lines and notebook `%pip install` lines. Each pin keeps its file and line.

import type { ClientVersion } from '../model.js';

/** `mlflow`, `mlflow-skinny` and their extras, followed by an optional version spec. */
const PACKAGE = String.raw`(mlflow(?:-skinny)?)(\[[^\]]*\])?`;
const SPEC = String.raw`((?:\s*(?:===|==|>=|<=|~=|!=|>|<|=)\s*[\w.*+!-]+)(?:\s*,\s*(?:===|==|>=|<=|~=|!=|>|<)\s*[\w.*+!-]+)*)?`;

/** The exact version a spec pins (`==2.9.2`, conda's `=2.9.2`), if it pins one. */
export function pinnedVersion(spec: string | undefined): string | undefined {
    const match = /^\s*(?:===|==|=)\s*([0-9][\w.+!-]*)\s*$/.exec(spec ?? '');
    return match && !match[1]?.includes('*') ? match[1] : undefined;
}

function pin(
    source: ClientVersion['source'],
    file: string,
    line: number,
    name: string,
    extras: string | undefined,
    spec: string | undefined,
): ClientVersion {
    const cleanSpec = (spec ?? '').replace(/\s+/g, '');
    return {
        version: pinnedVersion(cleanSpec),
        spec: `${name.toLowerCase()}${extras ?? ''}${cleanSpec}`,
        source,
        file,
        line,
    };
}

/** `requirements*.txt` (and `constraints.txt`): one requirement a line. */
export function pinsInRequirements(text: string, file: string): ClientVersion[] {
    const pattern = new RegExp(String.raw`^\s*${PACKAGE}\s*${SPEC}\s*(?:;.*)?(?:#.*)?$`, 'i');
    return eachLine(text).flatMap(([line, lineNo]) => {
        const match = pattern.exec(line);
        return match ? [pin('requirements', file, lineNo, match[1]!, match[2], match[3])] : [];
    });
}

/**
 * `pyproject.toml` and `Pipfile`: quoted PEP 508 strings in dependency arrays
 * (`"mlflow>=2.9"`), and TOML tables (`mlflow = "^2.9"`, `mlflow = { version = "==2.9.2" }`).
 */
export function pinsInTomlSpecs(text: string, file: string): ClientVersion[] {
    const quoted = new RegExp(String.raw`["']${PACKAGE}\s*${SPEC}\s*(?:;[^"']*)?["']`, 'gi');
    const table = new RegExp(
        String.raw`^\s*["']?(mlflow(?:-skinny)?)["']?\s*=\s*(?:["']([^"']*)["']|\{[^}]*version\s*=\s*["']([^"']*)["'])`,
        'i',
    );
    return eachLine(text).flatMap(([line, lineNo]) => {
        const found: ClientVersion[] = [];
        const tableMatch = table.exec(line);
        if (tableMatch) {
            const raw = tableMatch[2] ?? tableMatch[3] ?? '';
            // Poetry and Pipfile write a bare version for an exact pin; `*` means any.
            const spec = raw === '*' ? '' : /^[0-9]/.test(raw) ? `==${raw}` : raw;
            found.push(pin('pyproject', file, lineNo, tableMatch[1]!, undefined, spec));
        }
        for (const match of line.matchAll(quoted)) {
            found.push(pin('pyproject', file, lineNo, match[1]!, match[2], match[3]));
        }
        return found;
    });
}

/** Conda `environment.yml`: `- mlflow=2.9.2` in dependencies, `- mlflow==2.9.2` under `pip:`. */
export function pinsInCondaEnvironment(text: string, file: string): ClientVersion[] {
    const pattern = new RegExp(String.raw`^\s*-\s*["']?${PACKAGE}\s*${SPEC}["']?\s*(?:#.*)?$`, 'i');
    return eachLine(text).flatMap(([line, lineNo]) => {
        const match = pattern.exec(line);
        return match ? [pin('requirements', file, lineNo, match[1]!, match[2], match[3])] : [];
    });
}

/** `poetry.lock` and `uv.lock`: the `[[package]]` entry named mlflow and its version. */
export function pinsInTomlLock(text: string, file: string): ClientVersion[] {
    const found: ClientVersion[] = [];
    const lines = eachLine(text);
    for (let i = 0; i < lines.length; i++) {
        const name = /^name\s*=\s*"(mlflow(?:-skinny)?)"\s*$/i.exec(lines[i]![0]);
        if (!name) continue;
        for (let j = i + 1; j < lines.length && !lines[j]![0].startsWith('['); j++) {
            const version = /^version\s*=\s*"([^"]+)"/.exec(lines[j]![0]);
            if (version) {
                found.push({
                    version: version[1],
                    spec: `${name[1]!.toLowerCase()}==${version[1]}`,
                    source: 'lock',
                    file,
                    line: lines[j]![1],
                });
                break;
            }
        }
    }
    return found;
}

/** `Pipfile.lock` (JSON): `default.mlflow.version`, and `develop` too. */
export function pinsInPipfileLock(text: string, file: string): ClientVersion[] {
    let lock: Record<string, Record<string, { version?: string }> | undefined>;
    try {
        lock = JSON.parse(text) as typeof lock;
    } catch {
        return [];
    }
    const found: ClientVersion[] = [];
    for (const section of ['default', 'develop']) {
        for (const name of ['mlflow', 'mlflow-skinny']) {
            const spec = lock[section]?.[name]?.version;
            if (typeof spec !== 'string') continue;
            const at = text.search(new RegExp(`"${name}"\\s*:`));
            const line = at < 0 ? 1 : text.slice(0, at).split('\n').length;
            found.push({
                version: pinnedVersion(spec),
                spec: `${name}${spec}`,
                source: 'lock',
                file,
                line,
            });
        }
    }
    return found;
}

/** Package specs on a `pip install` / `uv pip install` / `conda install` command line. */
export function pinsOnInstallCommand(
    command: string,
): { name: string; extras?: string; spec?: string }[] {
    if (!/\b(?:pip3?|uv|conda|mamba|micromamba|poetry)\b[^&|;]*\b(?:install|add)\b/.test(command)) {
        return [];
    }
    const token = new RegExp(
        String.raw`(?:^|[\s"'])${PACKAGE}((?:===|==|>=|<=|~=|!=|>|<|=)[^\s"';&|]+)?(?=$|[\s"';&|])`,
        'gi',
    );
    return [...command.matchAll(token)].map((m) => ({ name: m[1]!, extras: m[2], spec: m[3] }));
}

/** `RUN pip install ... mlflow==...` in a Dockerfile, `${ARG}` defaults substituted. */
export function pinsInDockerfile(
    text: string,
    file: string,
    buildArgs: Record<string, string> = {},
): ClientVersion[] {
    const found: ClientVersion[] = [];
    const args: Record<string, string> = {};
    for (const [instruction, body, lineNo] of dockerInstructions(text)) {
        if (instruction === 'ARG') {
            const arg = /^([A-Za-z_]\w*)(?:=(.*))?$/.exec(body.trim());
            if (arg) args[arg[1]!] = buildArgs[arg[1]!] ?? stripQuotes(arg[2] ?? '');
            continue;
        }
        if (instruction !== 'RUN') continue;
        const expanded = body.replace(
            /\$\{?([A-Za-z_]\w*)\}?/g,
            (m, name: string) => args[name] ?? m,
        );
        for (const spec of pinsOnInstallCommand(expanded)) {
            found.push(pin('dockerfile', file, lineNo, spec.name, spec.extras, spec.spec));
        }
    }
    return found;
}

/** Whether a Dockerfile builds an MLflow server rather than a client. */
export function isServerDockerfile(text: string): boolean {
    return dockerInstructions(text).some(
        ([instruction, body]) =>
            (instruction === 'FROM' && /ghcr\.io\/mlflow\/mlflow|\bmlflow\/mlflow\b/.test(body)) ||
            ((instruction === 'CMD' || instruction === 'ENTRYPOINT') &&
                /\bmlflow["',\s]+(?:server|ui)\b/.test(body)),
    );
}

/** Instructions with continuation lines joined: `[INSTRUCTION, arguments, first line]`. */
function dockerInstructions(text: string): [string, string, number][] {
    const result: [string, string, number][] = [];
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
        const first = i;
        let line = lines[i]!.replace(/\r$/, '');
        if (/^\s*(#|$)/.test(line)) continue;
        while (line.endsWith('\\') && i + 1 < lines.length) {
            i++;
            const next = lines[i]!.replace(/\r$/, '');
            // Docker drops comment lines inside a continued instruction.
            if (!/^\s*#/.test(next)) line = line.slice(0, -1) + ' ' + next;
        }
        const match = /^\s*([A-Za-z]+)\s+(.*)$/.exec(line);
        if (match) result.push([match[1]!.toUpperCase(), match[2]!, first + 1]);
    }
    return result;
}

function eachLine(text: string): [string, number][] {
    return text.split('\n').map((line, i) => [line.replace(/\r$/, ''), i + 1]);
}

function stripQuotes(value: string): string {
    return value.trim().replace(/^(['"])(.*)\1$/, '$2');
}
