// Commands that Compose renders differently from what their author meant: an empty variable that
// shifts the next option into a flag's value, a service's own environment variable interpolated
// from the host at render time, `$VAR` handed to a program that no shell expands, folded YAML
// that joins a script's lines into one command, and shell operators with no shell to run them.

import type { ComposeService, Finding, FindingLocation, FixEdit, StackSnapshot } from '../model.js';
import { type Check, locateText, makeFinding, nearestComposeLocation } from './check.js';

type Field = 'command' | 'entrypoint';

interface Reference {
    name: string;
    /** `${NAME:-x}` and friends carry a modifier; plain `${NAME}` and `$NAME` do not. */
    modifier: string;
    /** Offset in the raw text. */
    at: number;
    length: number;
}

/** `$NAME` and `${NAME...}` in compose text, skipping `$$` escapes. */
function references(raw: string): Reference[] {
    const found: Reference[] = [];
    for (let i = 0; i < raw.length; i++) {
        if (raw[i] !== '$') continue;
        if (raw[i + 1] === '$') {
            i++;
            continue;
        }
        const braced = /^\$\{([A-Za-z_]\w*)([^}]*)\}/.exec(raw.slice(i));
        const bare = braced ? undefined : /^\$([A-Za-z_]\w*)/.exec(raw.slice(i));
        const m = braced ?? bare;
        if (!m) continue;
        found.push({
            name: m[1] as string,
            modifier: braced?.[2] ?? '',
            at: i,
            length: m[0].length,
        });
        i += m[0].length - 1;
    }
    return found;
}

/** The raw text of a compose key as written, with the file and where it starts. */
function rawOf(snapshot: StackSnapshot, key: string) {
    const range = snapshot.compose?.ranges[key];
    const text = range ? snapshot.files?.[range.file] : undefined;
    if (!range || text === undefined) return undefined;
    const lines = text.split('\n');
    const start =
        lines.slice(0, range.line - 1).reduce((n, l) => n + l.length + 1, 0) + range.column - 1;
    const end =
        lines.slice(0, range.endLine - 1).reduce((n, l) => n + l.length + 1, 0) +
        range.endColumn -
        1;
    return { range, file: range.file, raw: text.slice(start, end) };
}

/** `needle` inside a key's range, or the key's own location: none when neither is known. */
function locationsAt(snapshot: StackSnapshot, key: string, needle: string): FindingLocation[] {
    const range = snapshot.compose?.ranges[key];
    if (!range) {
        const nearest = nearestComposeLocation(snapshot, key);
        return nearest ? [nearest] : [];
    }
    const found = locateText(snapshot, range.file, needle, range.line);
    return [found && found.line <= range.endLine ? { ...found, key } : { ...range, key }];
}

const SHELL = /^(?:.*\/)?(?:sh|bash|ash|dash|zsh)$/;

/** The index of a `sh -c` script in argv, if argv runs one. */
function scriptIndex(argv: string[]): number | undefined {
    const shell = argv.findIndex((w) => SHELL.test(w));
    if (shell < 0) return undefined;
    const c = argv.findIndex((w, i) => i > shell && /^-[a-z]*c[a-z]*$/.test(w));
    return c >= 0 && c + 1 < argv.length ? c + 1 : undefined;
}

const OPERATORS = new Set(['&&', '||', ';', '|', '>', '>>', '<', '&']);

function isEmpty(snapshot: StackSnapshot, name: string): boolean {
    const missing = snapshot.compose?.missingVariables?.some((m) => m.name === name);
    return missing === true || snapshot.compose?.variables[name]?.value === '';
}

function argvOf(service: ComposeService): string[] {
    return [...(service.entrypoint ?? []), ...(service.command ?? [])];
}

/** An empty `${VAR}` after a flag: unquoted, the next word becomes the flag's value. */
function shiftedArguments(
    snapshot: StackSnapshot,
    service: ComposeService,
    field: Field,
): Finding[] {
    const key = `services.${service.name}.${field}`;
    const written = rawOf(snapshot, key);
    const argv = service[field];
    if (!written || !argv) return [];
    const findings: Finding[] = [];
    for (const ref of references(written.raw)) {
        if (ref.modifier !== '' || !isEmpty(snapshot, ref.name)) continue;
        // The service's own variable has its own, better explanation below.
        if (ref.name in service.environment) continue;
        const before = written.raw.slice(0, ref.at);
        const flag = /(--?[A-Za-z][\w-]*)[ \t]+(["']?)$/.exec(before);
        if (!flag) continue;
        const quoted = flag[2] !== '' || service[`${field}Form`] === 'exec';
        const index = argv.lastIndexOf(flag[1] as string);
        const next = index >= 0 ? argv[index + 1] : undefined;
        const takes = next === undefined ? 'nothing' : `"${next}"`;
        const shifted = !quoted && (next === undefined || next.startsWith('-'));
        if (!quoted && !shifted) continue;
        findings.push(
            makeFinding(`${service.name}:${field}:empty:${ref.name}`, {
                kind: 'compose-render',
                severity: shifted ? 'error' : 'warning',
                title: shifted
                    ? `${flag[1]} takes ${takes} as its value: \${${ref.name}} renders empty in "${service.name}"`
                    : `${flag[1]} gets an empty value: \${${ref.name}} is not set for "${service.name}"`,
                evidence: [
                    `${written.file}:${written.range.line}: ${key} writes ${flag[1]} ${written.raw.slice(ref.at, ref.at + ref.length)}.`,
                    `${ref.name} is set neither in the shell that runs docker compose nor in .env, so Compose renders it as an empty string.`,
                    `Rendered: ${argv.join(' ')}`,
                ],
                fix:
                    `Set ${ref.name} in .env (or the shell that runs docker compose), or give it a default: ` +
                    `\${${ref.name}:-<value>}, or \${${ref.name}:?${ref.name} must be set} to stop with a clear error.`,
                locations: locationsAt(snapshot, key, `${flag[1]}`),
                service: service.name,
            }),
        );
    }
    return findings;
}

/** `${VAR}` naming the service's own environment variable: Compose fills it from the host. */
function ownVariableInterpolated(
    snapshot: StackSnapshot,
    service: ComposeService,
    field: Field,
): Finding[] {
    const key = `services.${service.name}.${field}`;
    const written = rawOf(snapshot, key);
    if (!written) return [];
    const findings: Finding[] = [];
    const seen = new Set<string>();
    for (const ref of references(written.raw)) {
        if (!(ref.name in service.environment) || seen.has(ref.name)) continue;
        const hostValue = snapshot.compose?.variables[ref.name]?.value;
        const own = service.environment[ref.name];
        const empty = isEmpty(snapshot, ref.name);
        if (!empty && hostValue === own) continue;
        seen.add(ref.name);
        const text = written.raw.slice(ref.at, ref.at + ref.length);
        const wrapped = scriptIndex(argvOf(service)) !== undefined;
        findings.push(
            makeFinding(`${service.name}:${field}:own-env:${ref.name}`, {
                kind: 'compose-render',
                severity: empty ? 'error' : 'warning',
                title: `${text} in "${service.name}"'s ${field} is filled from the host, not from its environment: (${ref.name}=${own ?? ''})`,
                evidence: [
                    `${written.file}:${written.range.line}: ${key} uses ${text}.`,
                    `"${service.name}" sets ${ref.name} in environment:, but Compose interpolates ${text} when it renders the file, from the shell and .env${empty ? ', where it is not set: it renders empty' : `, where it is ${JSON.stringify(hostValue)}`}.`,
                    `Rendered: ${argvOf(service).join(' ')}`,
                ],
                fix:
                    `Write $$${ref.name} so Compose leaves it to the container` +
                    (wrapped
                        ? ', whose shell expands it.'
                        : `, and run the command through a shell, for example ["sh", "-c", "... $$${ref.name} ..."]: without one, the program gets the literal text $${ref.name}.`) +
                    ` Or move the value into .env if it is meant to be the same on both sides.`,
                locations: locationsAt(snapshot, key, text),
                service: service.name,
            }),
        );
    }
    return findings;
}

/** `$VAR` in the rendered argv of a command that no shell runs: it arrives literally. */
function unexpandedVariables(snapshot: StackSnapshot, service: ComposeService): Finding[] {
    const argv = argvOf(service);
    if (argv.length === 0 || scriptIndex(argv) !== undefined) return [];
    const literal = argv.find((w) => /\$\{?[A-Za-z_]\w*/.test(w));
    if (!literal) return [];
    const name = /\$\{?([A-Za-z_]\w*)/.exec(literal)?.[1] ?? '';
    const field: Field = (service.command ?? []).includes(literal) ? 'command' : 'entrypoint';
    const key = `services.${service.name}.${field}`;
    return [
        makeFinding(`${service.name}:${field}:literal:${name}`, {
            kind: 'compose-render',
            severity: 'warning',
            title: `"${service.name}" passes the literal text ${literal} to ${argv[0]}: no shell expands it`,
            evidence: [
                `Rendered ${field}: ${JSON.stringify(argv)} (${service[`${field}Form`] ?? 'exec'} form).`,
                `Compose runs a command as argv without a shell, in shell form too (it only splits the string into words), so $${name} is not replaced by the container's ${name}.`,
            ],
            fix:
                `Run it through a shell so the container expands it: ["sh", "-c", "<the command, with $$${name} written as here>"]. ` +
                "(Not needed when the image's entrypoint runs its arguments through a shell.)",
            locations: locationsAt(snapshot, key, name),
            service: service.name,
        }),
    ];
}

/** Lines of a folded (`>`) block scalar, as written. */
function foldedLines(raw: string): string[] | undefined {
    const m = /(?:^|[:-]\s*)>[-+]?\d*[ \t]*\n([\s\S]*)$/.exec(raw);
    if (!m) return undefined;
    return (m[1] as string)
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l !== '' && !l.startsWith('#'));
}

const CONTINUES = /(?:&&|\|\||[;|&\\(])\s*$/;

/** A folded script whose lines YAML joins into one command line. */
function foldedScript(snapshot: StackSnapshot, service: ComposeService, field: Field): Finding[] {
    const argv = service[field];
    if (!argv) return [];
    const whole = argvOf(service);
    const script = scriptIndex(whole);
    const offset = field === 'command' ? (service.entrypoint?.length ?? 0) : 0;
    const findings: Finding[] = [];
    argv.forEach((word, i) => {
        const key =
            service[`${field}Form`] === 'exec'
                ? `services.${service.name}.${field}.${i}`
                : `services.${service.name}.${field}`;
        const written = rawOf(snapshot, key);
        const lines = written ? foldedLines(written.raw) : undefined;
        if (!written || !lines || lines.length < 2) return;
        const isScript = script === offset + i;
        if (isScript) {
            // Folding keeps a newline only before more-indented lines; the script has none here.
            if (word.trim().includes('\n')) return;
            const joined = lines.findIndex(
                (line, k) => k > 0 && !line.startsWith('-') && !CONTINUES.test(lines[k - 1] ?? ''),
            );
            if (joined < 0) return;
            findings.push(
                makeFinding(`${service.name}:${field}:folded-script`, {
                    kind: 'compose-render',
                    severity: 'error',
                    title: `The folded (>) script of "${service.name}" runs as one command: "${lines[joined]}" becomes arguments of the line before`,
                    evidence: [
                        `${written.file}:${written.range.line}: the script is a folded block scalar, which joins its lines with spaces.`,
                        `Rendered script: ${word.trim()}`,
                    ],
                    fix: `Use a literal block (| instead of >) so each line stays a command, or join the commands with && on one logical line.`,
                    locations: locationsAt(snapshot, key, lines[joined] as string),
                    service: service.name,
                }),
            );
        } else if (service[`${field}Form`] === 'exec' && /\s/.test(word.trim())) {
            findings.push(
                makeFinding(`${service.name}:${field}:folded-item:${i}`, {
                    kind: 'compose-render',
                    severity: 'error',
                    title: `"${service.name}" passes "${word.trim()}" as one argument: a folded list item is a single word`,
                    evidence: [
                        `${written.file}:${written.range.line}: item ${i} of ${field} is a folded block scalar; exec form passes each item as one argument, spaces included.`,
                    ],
                    fix: 'Write each word as its own list item, or use the shell form (a plain string) that Compose splits into words.',
                    locations: [{ ...written.range, key }],
                    service: service.name,
                }),
            );
        }
    });
    return findings;
}

/** `a && b` with no shell: Compose passes `&&` and `b` to `a` as arguments. */
function operatorsWithoutShell(snapshot: StackSnapshot, service: ComposeService): Finding[] {
    const argv = argvOf(service);
    const script = scriptIndex(argv);
    const after = script === undefined ? argv : argv.slice(script + 1);
    const operator = after.find((w) => OPERATORS.has(w) || /^[^'"]*;$/.test(w));
    if (!operator) return [];
    const field: Field =
        (service.command ?? []).includes(operator) || !service.entrypoint
            ? 'command'
            : 'entrypoint';
    const key = `services.${service.name}.${field}`;
    const edit = script === undefined ? wrapInShell(snapshot, service, field) : undefined;
    return [
        makeFinding(`${service.name}:${field}:operator`, {
            kind: 'compose-render',
            severity: 'error',
            title:
                script === undefined
                    ? `"${service.name}" runs ${argv[0]} with "${operator}" as an argument: there is no shell to run the rest`
                    : `Only the first word after -c is "${service.name}"'s script; "${operator}" and what follows are its $0, $1...`,
            evidence: [
                `Rendered: ${JSON.stringify(argv)}.`,
                script === undefined
                    ? 'Compose splits a shell-form command into words but runs it without a shell, so && ; | and > are plain arguments and only the first command runs.'
                    : `sh -c takes one script; the words after it are positional parameters, not more of the script.`,
            ],
            fix:
                script === undefined
                    ? 'Run the line through a shell: command: ["sh", "-c", "<the whole line>"], or split the steps (an init service, or the image entrypoint).'
                    : 'Put the whole script in the one item after -c.',
            locations: locationsAt(snapshot, key, operator),
            ...(edit ? { edits: [edit] } : {}),
            service: service.name,
        }),
    ];
}

/** `command: a && b` on one line → `command: ["sh", "-c", "a && b"]`, the text kept as written. */
function wrapInShell(
    snapshot: StackSnapshot,
    service: ComposeService,
    field: Field,
): FixEdit | undefined {
    if (service[`${field}Form`] !== 'shell') return undefined;
    const written = rawOf(snapshot, `services.${service.name}.${field}`);
    if (!written || written.range.line !== written.range.endLine) return undefined;
    const m = new RegExp(`^${field}:[ \\t]*(.*?)[ \\t]*$`).exec(written.raw);
    const value = m?.[1];
    // Only a plain scalar is rewritten; quoted and block forms keep their own escaping.
    if (!value || /^["'>|[]/.test(value)) return undefined;
    const start = written.raw.indexOf(value);
    const column = written.range.column + start;
    return {
        file: written.file,
        range: {
            file: written.file,
            line: written.range.line,
            column,
            endLine: written.range.line,
            endColumn: column + value.length,
        },
        newText: `["sh", "-c", ${JSON.stringify(value)}]`,
        label: `Run the ${field} of "${service.name}" through sh -c`,
    };
}

export const composeRenderCheck: Check = {
    name: 'compose-render',
    run(snapshot) {
        const findings: Finding[] = [];
        for (const service of snapshot.compose?.services ?? []) {
            for (const field of ['entrypoint', 'command'] as const) {
                findings.push(
                    ...shiftedArguments(snapshot, service, field),
                    ...ownVariableInterpolated(snapshot, service, field),
                    ...foldedScript(snapshot, service, field),
                );
            }
            findings.push(
                ...unexpandedVariables(snapshot, service),
                ...operatorsWithoutShell(snapshot, service),
            );
        }
        return findings;
    },
};
