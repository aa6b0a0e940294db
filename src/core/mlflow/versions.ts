// MLflow versions: parsing PEP 440 version strings and pip requirement specs, and the small
// knowledge table of what breaks between a client and a server. Every version boundary below
// names the section of /work/shared/notes/mlflow-facts.md (or the upstream changelog) it rests on,
// so a wrong boundary can be traced and fixed in one place.

import type { Severity } from '../model.js';
import { SEVERITY_RANK } from '../model.js';

/** Pre-release phases in PEP 440 order; `dev` sorts before the others. */
export type PreReleaseKind = 'dev' | 'a' | 'b' | 'rc';

export interface MlflowVersion {
    major: number;
    minor: number;
    patch: number;
    /** `rc1` → `{ kind: 'rc', number: 1 }`; a `.dev0` build → `{ kind: 'dev', number: 0 }`. */
    pre?: { kind: PreReleaseKind; number: number };
    /** `.post1` releases come after the final release. */
    post?: number;
    /** The text as given, trimmed. */
    raw: string;
}

const PRE_RANK: Record<PreReleaseKind, number> = { dev: 0, a: 1, b: 2, rc: 3 };

const PRE_ALIASES: Record<string, PreReleaseKind> = {
    dev: 'dev',
    a: 'a',
    alpha: 'a',
    b: 'b',
    beta: 'b',
    rc: 'rc',
    c: 'rc',
    pre: 'rc',
    preview: 'rc',
};

// Accepts what users and images write: `2.22.0`, `v3.3.0` (image tags), `3.0.0rc1`, `3.0.0.rc1`,
// `2.22.1.dev0`, `3`, `3.1`, `1.30.1.post1`, `2.9.2+local`.
const VERSION_RE =
    /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:\.\d+)*(?:[-_.]?(dev|alpha|beta|preview|pre|a|b|rc|c)[-_.]?(\d*))?(?:[-_.]?(?:post|rev|r)[-_.]?(\d*))?(?:[-_.]?dev[-_.]?(\d*))?(?:\+[a-z0-9.]+)?$/i;

/** Parses a version string, or returns undefined when it is not one. */
export function parseVersion(text: string): MlflowVersion | undefined {
    const raw = text.trim();
    const match = VERSION_RE.exec(raw);
    if (!match) return undefined;
    const [, major, minor, patch, preKind, preNumber, post, trailingDev] = match;
    const version: MlflowVersion = {
        major: Number(major),
        minor: minor === undefined ? 0 : Number(minor),
        patch: patch === undefined ? 0 : Number(patch),
        raw,
    };
    if (preKind !== undefined) {
        const kind = PRE_ALIASES[preKind.toLowerCase()] ?? 'rc';
        version.pre = { kind, number: preNumber ? Number(preNumber) : 0 };
    }
    if (post !== undefined) version.post = post ? Number(post) : 0;
    // `3.0.0rc1.dev0` is a dev build of the rc: it sorts before the rc, so treat it as dev.
    if (trailingDev !== undefined) {
        version.pre = { kind: 'dev', number: trailingDev ? Number(trailingDev) : 0 };
    }
    return version;
}

function asVersion(value: string | MlflowVersion): MlflowVersion | undefined {
    return typeof value === 'string' ? parseVersion(value) : value;
}

function requireVersion(value: string | MlflowVersion): MlflowVersion {
    const parsed = asVersion(value);
    if (!parsed) throw new Error(`not an MLflow version: ${JSON.stringify(value)}`);
    return parsed;
}

/**
 * Orders two versions: negative when `a` is older, 0 when equal, positive when newer. Throws on
 * text that is not a version, because silently ordering garbage would hide a bad input.
 */
export function compareVersions(a: string | MlflowVersion, b: string | MlflowVersion): number {
    const x = requireVersion(a);
    const y = requireVersion(b);
    if (x.major !== y.major) return x.major - y.major;
    if (x.minor !== y.minor) return x.minor - y.minor;
    if (x.patch !== y.patch) return x.patch - y.patch;

    // A final release sorts after its pre-releases; post releases after the final release.
    const xPre = x.pre ? PRE_RANK[x.pre.kind] : 4;
    const yPre = y.pre ? PRE_RANK[y.pre.kind] : 4;
    if (xPre !== yPre) return xPre - yPre;
    if (x.pre && y.pre && x.pre.number !== y.pre.number) return x.pre.number - y.pre.number;
    return (x.post ?? -1) - (y.post ?? -1);
}

/** `compare` under the name the rest of the code reads best with. */
export const compare = compareVersions;

export function isAtLeast(version: string | MlflowVersion, floor: string): boolean {
    return compareVersions(version, floor) >= 0;
}

export function isBefore(version: string | MlflowVersion, ceiling: string): boolean {
    return compareVersions(version, ceiling) < 0;
}

export function majorOf(version: string | MlflowVersion): number | undefined {
    return asVersion(version)?.major;
}

export function formatVersion(version: MlflowVersion): string {
    let text = `${version.major}.${version.minor}.${version.patch}`;
    if (version.pre) {
        text += version.pre.kind === 'dev' ? `.dev${version.pre.number}` : version.pre.kind;
        if (version.pre.kind !== 'dev') text += String(version.pre.number);
    }
    if (version.post !== undefined) text += `.post${version.post}`;
    return text;
}

// ---------------------------------------------------------------------------------------------
// Requirement specs

export type SpecOperator = '==' | '===' | '!=' | '>=' | '<=' | '>' | '<' | '~=';

export interface SpecClause {
    op: SpecOperator;
    /** The version text after the operator; may end in `.*` for `==` and `!=`. */
    version: string;
}

export interface Requirement {
    /** The distribution name, lower-cased with `_` and `.` folded to `-` (`mlflow-skinny`). */
    name: string;
    extras: string[];
    clauses: SpecClause[];
    /** The environment marker after `;`, when there is one. */
    marker?: string;
    /** The text as given. */
    raw: string;
}

const REQUIREMENT_RE = /^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?\s*(.*)$/;
const CLAUSE_RE = /^\s*(===|==|!=|>=|<=|~=|>|<)\s*([0-9vV][^\s,]*)\s*$/;

/**
 * Parses one requirement line (`mlflow==3.1.0`, `mlflow[extras]>=2,<3`, `mlflow ~= 2.9`,
 * `mlflow>=2 ; python_version >= "3.8"`), or returns undefined when it is not a requirement.
 * A URL or a bare version list is not a requirement.
 */
export function parseRequirement(text: string): Requirement | undefined {
    const withoutComment = text.replace(/\s+#.*$/, '').trim();
    if (!withoutComment || withoutComment.startsWith('#') || withoutComment.startsWith('-')) {
        return undefined;
    }
    const [body = '', ...markerParts] = withoutComment.split(';');
    const match = REQUIREMENT_RE.exec(body);
    if (!match) return undefined;
    const [, name = '', extras, rest = ''] = match;
    if (rest.trim().startsWith('@')) return undefined;

    const clauses: SpecClause[] = [];
    // pip also accepts a parenthesised spec (`mlflow (>=2.0)`).
    const specText = rest.trim().replace(/^\((.*)\)$/, '$1');
    if (specText) {
        for (const part of specText.split(',')) {
            const clause = CLAUSE_RE.exec(part);
            if (!clause) return undefined;
            clauses.push({ op: clause[1] as SpecOperator, version: clause[2] ?? '' });
        }
    }
    const marker = markerParts.join(';').trim();
    return {
        name: name.toLowerCase().replace(/[._]+/g, '-'),
        extras: extras
            ? extras
                  .split(',')
                  .map((extra) => extra.trim())
                  .filter(Boolean)
            : [],
        clauses,
        ...(marker ? { marker } : {}),
        raw: text.trim(),
    };
}

/** One end of a version range; `version` is a full version string. */
export interface VersionBound {
    version: string;
    inclusive: boolean;
}

/**
 * What version a requirement means: an exact pin, a range (with the lowest and the highest bound
 * where there is one), or any version at all (`mlflow` unpinned).
 */
export type MeantVersion =
    | { kind: 'exact'; version: string }
    | { kind: 'range'; lowest?: VersionBound; highest?: VersionBound; excluded: string[] }
    | { kind: 'any' };

function wildcardRange(prefix: string): { lowest: VersionBound; highest: VersionBound } {
    // `==2.9.*` is `>=2.9.0.dev0,<2.10`; bounds are written as plain releases here.
    const parts = prefix.split('.').map(Number);
    const lowest = [...parts];
    while (lowest.length < 3) lowest.push(0);
    const upper = [...parts];
    const last = upper.length - 1;
    upper[last] = (upper[last] ?? 0) + 1;
    while (upper.length < 3) upper.push(0);
    return {
        lowest: { version: lowest.join('.'), inclusive: true },
        highest: { version: upper.join('.'), inclusive: false },
    };
}

function compatibleRange(version: string): { lowest: VersionBound; highest: VersionBound } {
    // `~=2.9` means `>=2.9,==2.*`; `~=2.9.1` means `>=2.9.1,==2.9.*` (PEP 440).
    const release = version.split(/[^\d.]/)[0]?.replace(/\.$/, '') ?? version;
    const parts = release.split('.');
    const prefix = parts.slice(0, Math.max(1, parts.length - 1)).join('.');
    return {
        lowest: { version: normaliseRelease(version), inclusive: true },
        highest: wildcardRange(prefix).highest,
    };
}

function normaliseRelease(version: string): string {
    const parsed = parseVersion(version);
    return parsed ? formatVersion(parsed) : version;
}

function tighterLow(a: VersionBound | undefined, b: VersionBound): VersionBound {
    if (!a) return b;
    const order = compareVersions(a.version, b.version);
    if (order !== 0) return order > 0 ? a : b;
    return a.inclusive ? b : a;
}

function tighterHigh(a: VersionBound | undefined, b: VersionBound): VersionBound {
    if (!a) return b;
    const order = compareVersions(a.version, b.version);
    if (order !== 0) return order < 0 ? a : b;
    return a.inclusive ? b : a;
}

/**
 * Which version a requirement means. Accepts a `Requirement` or its text (`mlflow==3.1.0`,
 * `>=2,<3`, `~=2.9`, `mlflow[extras]==2.22.0`). Returns undefined for text that is not a spec.
 */
export function meantVersion(spec: string | Requirement): MeantVersion | undefined {
    let clauses: SpecClause[];
    if (typeof spec === 'string') {
        const trimmed = spec.trim();
        // A bare spec without a name (`>=2,<3`) is common in pyproject tables and settings.
        const parsed = /^[<>=!~]/.test(trimmed)
            ? parseRequirement(`mlflow${trimmed}`)
            : parseRequirement(trimmed);
        if (!parsed) return undefined;
        clauses = parsed.clauses;
    } else {
        clauses = spec.clauses;
    }
    if (clauses.length === 0) return { kind: 'any' };

    const exact = clauses.find(
        (clause) => (clause.op === '==' || clause.op === '===') && !clause.version.endsWith('.*'),
    );
    if (exact && parseVersion(exact.version)) {
        return { kind: 'exact', version: normaliseRelease(exact.version) };
    }

    let lowest: VersionBound | undefined;
    let highest: VersionBound | undefined;
    const excluded: string[] = [];
    for (const clause of clauses) {
        const base = clause.version.replace(/\.\*$/, '');
        if (!parseVersion(base)) return undefined;
        switch (clause.op) {
            case '>=':
                lowest = tighterLow(lowest, { version: normaliseRelease(base), inclusive: true });
                break;
            case '>':
                lowest = tighterLow(lowest, { version: normaliseRelease(base), inclusive: false });
                break;
            case '<=':
                highest = tighterHigh(highest, {
                    version: normaliseRelease(base),
                    inclusive: true,
                });
                break;
            case '<':
                highest = tighterHigh(highest, {
                    version: normaliseRelease(base),
                    inclusive: false,
                });
                break;
            case '~=': {
                const range = compatibleRange(base);
                lowest = tighterLow(lowest, range.lowest);
                highest = tighterHigh(highest, range.highest);
                break;
            }
            case '==':
            case '===': {
                const range = wildcardRange(base);
                lowest = tighterLow(lowest, range.lowest);
                highest = tighterHigh(highest, range.highest);
                break;
            }
            case '!=':
                excluded.push(clause.version);
                break;
        }
    }
    return {
        kind: 'range',
        ...(lowest ? { lowest } : {}),
        ...(highest ? { highest } : {}),
        excluded,
    };
}

/** True when `version` satisfies every clause of the spec. */
export function satisfies(version: string, spec: string | Requirement): boolean {
    const meant = meantVersion(spec);
    if (!meant) return false;
    if (meant.kind === 'any') return true;
    if (meant.kind === 'exact') return compareVersions(version, meant.version) === 0;
    if (meant.lowest) {
        const order = compareVersions(version, meant.lowest.version);
        if (order < 0 || (order === 0 && !meant.lowest.inclusive)) return false;
    }
    if (meant.highest) {
        const order = compareVersions(version, meant.highest.version);
        if (order > 0 || (order === 0 && !meant.highest.inclusive)) return false;
    }
    return !meant.excluded.some((excluded) =>
        excluded.endsWith('.*')
            ? satisfies(version, `==${excluded}`)
            : compareVersions(version, excluded) === 0,
    );
}

/** The majors a spec allows, when it bounds them (`>=2,<3` → [2]); undefined when open-ended. */
export function majorsAllowed(spec: string | Requirement): number[] | undefined {
    const meant = meantVersion(spec);
    if (!meant || meant.kind === 'any') return undefined;
    if (meant.kind === 'exact') return [requireVersion(meant.version).major];
    if (!meant.lowest || !meant.highest) return undefined;
    const low = requireVersion(meant.lowest.version).major;
    const highVersion = requireVersion(meant.highest.version);
    // `<3` (that is `<3.0.0`) stops at 2.x; `<3.1` still allows some 3.x.
    const high =
        !meant.highest.inclusive && highVersion.minor === 0 && highVersion.patch === 0
            ? highVersion.major - 1
            : highVersion.major;
    const majors: number[] = [];
    for (let major = low; major <= high; major++) majors.push(major);
    return majors;
}

// ---------------------------------------------------------------------------------------------
// What a server version has

/**
 * True when a server of this version cannot read FileStore runs whose meta.yaml lacks
 * `run_uuid` (runs written by MLflow 3): 2.x up to 2.22.0 raise
 * `TypeError: RunInfo.__init__() missing 1 required positional argument: 'run_uuid'`;
 * fixed in 2.22.1 by #16030 (facts §4.6, §7.2). 3.x readers filter the key out, so they are fine.
 */
export function serverRequiresRunUuid(serverVersion: string | MlflowVersion): boolean {
    return isBefore(serverVersion, '2.22.1');
}

interface RouteRule {
    /** Matched against the path without the query string and without any static prefix. */
    pattern: RegExp;
    since?: string;
    /** First version without the route. */
    removedIn?: string;
    source: string;
}

const ROUTE_RULES: RouteRule[] = [
    { pattern: /^\/health$/, source: 'facts §1.2: present in every version read' },
    { pattern: /^\/version$/, since: '2.1.0', source: 'facts §1.1, #7273' },
    {
        pattern: /^\/server-info$/,
        since: '3.9.0',
        removedIn: '3.10.0',
        source: 'facts §1.3, #20323 (moved to /api/3.0 in 3.10.0, #20716)',
    },
    {
        pattern: /^\/(?:ajax-)?api\/3\.0\/mlflow\/server-info$/,
        since: '3.10.0',
        source: 'facts §1.3, #20716',
    },
    {
        pattern: /^\/(?:ajax-)?api\/2\.0\/mlflow\/logged-models(?:\/.*)?$/,
        since: '3.0.0',
        source: 'facts §2.6: none at [m2.22], 9 routes at [m3.0]',
    },
    {
        pattern: /^\/(?:ajax-)?api\/2\.0\/mlflow\/runs\/outputs$/,
        since: '3.0.0',
        source: 'facts §2.6',
    },
    {
        pattern: /^\/(?:ajax-)?api\/3\.0\//,
        since: '3.2.0',
        source: 'facts §2.1, #16438',
    },
    {
        pattern: /^\/(?:ajax-)?api\/2\.0\/mlflow\/experiments\/search$/,
        since: '1.28.0',
        source: 'facts §2.2',
    },
    {
        pattern: /^\/(?:ajax-)?api\/2\.0\/(?:preview\/)?mlflow\/experiments\/list$/,
        removedIn: '2.0.0',
        source: 'facts §2.2, §7.2 ([CL2] 2.0.1 Breaking Changes)',
    },
    {
        pattern: /^\/(?:ajax-)?api\/2\.0\/(?:preview\/)?mlflow\/registered-models\/list$/,
        removedIn: '2.0.0',
        source: 'facts §2.7, §7.2',
    },
    {
        pattern: /^\/(?:ajax-)?api\/2\.0\/preview\//,
        removedIn: '2.0.0',
        source: 'facts §2.2, §7.2 (#6667)',
    },
    {
        pattern: /^\/ajax-api\/2\.0\/mlflow\/metrics\/get-history-bulk$/,
        since: '2.2.0',
        source: 'facts §2.4 (ajax only)',
    },
    {
        pattern: /^\/(?:ajax-)?api\/2\.0\/mlflow\/metrics\/get-history-bulk-interval$/,
        since: '2.11.0',
        source: 'facts §2.4',
    },
    {
        pattern: /^\/(?:ajax-)?api\/2\.0\/mlflow\/registered-models\/alias$/,
        since: '2.3.0',
        source: 'facts §2.7',
    },
    {
        pattern: /^\/(?:ajax-)?api\/2\.0\/mlflow-artifacts\/mpu\//,
        since: '2.9.0',
        source: 'facts §2.5',
    },
    {
        pattern: /^\/(?:ajax-)?api\/2\.0\/mlflow-artifacts\/presigned\//,
        since: '3.11.1',
        source: 'facts §2.5, #20352',
    },
    {
        // The upstream CHANGELOG lists #5320 (`--serve-artifacts`) under 1.24.0 (2022-02-27);
        // facts §2.5 says 1.23.0 but only checked that v1.22.0 lacks it. 1.24.0 is used here.
        pattern: /^\/(?:ajax-)?api\/2\.0\/mlflow-artifacts\/artifacts(?:\/.*)?$/,
        since: '1.24.0',
        source: 'upstream CHANGELOG 1.24.0 (#5320); facts §2.5',
    },
];

/**
 * Whether a server of this version serves a route: true, false, or undefined when the route is
 * not in the table (unknown, not absent). `route` may carry a method (`POST /api/...`) and a
 * query string; both are ignored.
 */
export function routeAvailable(
    version: string | MlflowVersion,
    route: string,
): boolean | undefined {
    const path = route
        .replace(/^[A-Z]+\s+/, '')
        .replace(/[?#].*$/, '')
        .replace(/\/+$/, '');
    const rule = ROUTE_RULES.find((candidate) => candidate.pattern.test(path));
    if (!rule) return undefined;
    if (rule.since && isBefore(version, rule.since)) return false;
    if (rule.removedIn && isAtLeast(version, rule.removedIn)) return false;
    return true;
}

interface FlagRule {
    /** Canonical long option, with the leading dashes. */
    flag: string;
    since?: string;
    removedIn?: string;
    /**
     * Known to exist at this version, with the first release not known: older versions answer
     * undefined instead of false so a check never claims a flag is missing on a guess.
     */
    presentAt?: string;
    source: string;
}

const FLAG_RULES: FlagRule[] = [
    { flag: '--host', since: '0.2.0', source: 'upstream CHANGELOG 0.2.0; facts §5.1' },
    { flag: '--port', presentAt: '1.30.0', source: 'facts §5.1 [1.30.0 cli_args.py:150-154]' },
    {
        flag: '--default-artifact-root',
        since: '0.3.0',
        source: 'upstream CHANGELOG 0.3.0 (renamed from --artifact-root, #165)',
    },
    {
        // The first database schema users could run is 0.9.1's (the repo's initial-models
        // snapshot), and case C22 shows 0.8.2 without the option.
        flag: '--backend-store-uri',
        since: '0.9.0',
        source: 'facts §5.1; case C22; mlflow/store/db_migrations initial models (0.9.1)',
    },
    {
        flag: '--registry-store-uri',
        presentAt: '2.9.2',
        source: 'facts §5.1 (first release not recorded)',
    },
    {
        // Upstream CHANGELOG: 1.24.0 "Support uploading, downloading, and listing artifacts
        // through the MLflow server via `mlflow server --serve-artifacts` (#5320)". Facts §2.5
        // and §3.1 say 1.23; they only checked that v1.22.0 lacks it.
        flag: '--serve-artifacts',
        since: '1.24.0',
        source: 'upstream CHANGELOG 1.24.0 (#5320); facts §3.1',
    },
    {
        flag: '--artifacts-destination',
        since: '1.24.0',
        source: 'same PR as --serve-artifacts (#5320); facts §3.1 [1.30.0 cli_args.py:178-182]',
    },
    {
        flag: '--no-serve-artifacts',
        since: '2.0.0',
        source: 'facts §3.1: 1.x had a plain flag, 2.0 made it an on/off pair (#6502)',
    },
    {
        flag: '--artifacts-only',
        presentAt: '2.9.2',
        source: 'facts §3.1 [2.9.2 server_cli_utils.py:50-58] (first release not recorded)',
    },
    {
        flag: '--static-prefix',
        presentAt: '1.30.0',
        source: 'facts §5.1 (first release not recorded)',
    },
    {
        flag: '--expose-prometheus',
        presentAt: '2.9.2',
        source: 'facts §5.1 (first release not recorded)',
    },
    { flag: '--workers', presentAt: '2.9.2', source: 'facts §5.1' },
    { flag: '--gunicorn-opts', presentAt: '2.9.2', source: 'facts §5.1, §5.2' },
    { flag: '--waitress-opts', presentAt: '2.9.2', source: 'facts §5.1, §5.2' },
    { flag: '--app-name', since: '2.5.0', source: 'facts §5.1 ([CL2] 2.5.0, #9000)' },
    { flag: '--uvicorn-opts', since: '3.3.0', source: 'facts §5.1, §5.2 (#17038)' },
    { flag: '--dev', since: '3.3.0', source: 'facts §5.1' },
    { flag: '--allowed-hosts', since: '3.5.0', source: 'facts §5.1, §5.3 (#17910)' },
    { flag: '--cors-allowed-origins', since: '3.5.0', source: 'facts §5.1, §5.3 (#17910)' },
    {
        flag: '--disable-security-middleware',
        since: '3.5.0',
        source: 'facts §5.1, §5.3 (#17910)',
    },
    { flag: '--x-frame-options', since: '3.5.0', source: 'facts §5.1, §5.3 (#17910)' },
];

/**
 * Whether `mlflow server` of this version accepts a flag (`--allowed-hosts` or `allowed-hosts`;
 * an `=value` suffix is ignored): true, false, or undefined when the table does not know.
 */
export function flagAvailable(version: string | MlflowVersion, flag: string): boolean | undefined {
    const name = `--${flag.replace(/^-+/, '').replace(/=.*$/, '').trim()}`;
    const rule = FLAG_RULES.find((candidate) => candidate.flag === name);
    // Not yet: flags outside the table (for example --file-store) answer undefined, so a check
    // cannot report them as missing.
    if (!rule) return undefined;
    if (rule.removedIn && isAtLeast(version, rule.removedIn)) return false;
    if (rule.since) return isAtLeast(version, rule.since);
    if (rule.presentAt) return isAtLeast(version, rule.presentAt) ? true : undefined;
    return true;
}

/** The first release known to have a flag, when the table records one. */
export function flagSince(flag: string): string | undefined {
    const name = `--${flag.replace(/^-+/, '').replace(/=.*$/, '')}`;
    return FLAG_RULES.find((candidate) => candidate.flag === name)?.since;
}

/** The source a flag's boundary rests on, for evidence lines. */
export function flagSource(flag: string): string | undefined {
    const name = `--${flag.replace(/^-+/, '').replace(/=.*$/, '')}`;
    return FLAG_RULES.find((candidate) => candidate.flag === name)?.source;
}

// ---------------------------------------------------------------------------------------------
// Python client APIs

/** A Python API that appeared, went away or changed meaning at a version. */
export interface ApiRule {
    /** Matched against the qualified call (`MlflowClient.list_experiments`, `RunInfo.run_uuid`). */
    api: RegExp;
    /** Only calls that pass this keyword argument. */
    keyword?: string;
    since?: string;
    removedIn?: string;
    /** Still works, with a warning, from this version. */
    deprecatedIn?: string;
    /** Known to exist at this version, first release unknown: older versions are not judged. */
    presentAt?: string;
    /** What the user's code gets on a version that lacks it (or, deprecated, what it warns). */
    symptom: string;
    /** What to write instead. */
    instead: string;
    source: string;
}

// Boundaries of the Python SDK that user code trips over. The REST removals of 2.0 are in
// ROUTE_RULES; these are the Python names that went with them.
const API_RULES: ApiRule[] = [
    {
        api: /(^|\.)(MlflowClient|mlflow|mlflow\.tracking)\.list_experiments$/,
        removedIn: '2.0.0',
        symptom: "AttributeError: no attribute 'list_experiments'",
        instead: 'search_experiments() (1.28.0 and later)',
        source: 'facts §7.2 ([CL2] 2.0.1 Breaking Changes); mlflow-export-import#45',
    },
    {
        api: /(^|\.)(MlflowClient|mlflow)\.list_registered_models$/,
        removedIn: '2.0.0',
        symptom: "AttributeError: no attribute 'list_registered_models'",
        instead: 'search_registered_models()',
        source: 'facts §7.2 ([CL2] 2.0.1 Breaking Changes); mlflow-export-import#45',
    },
    {
        api: /(^|\.)(MlflowClient|mlflow)\.list_run_infos$/,
        removedIn: '2.0.0',
        symptom: "AttributeError: no attribute 'list_run_infos'",
        instead: 'search_runs()',
        source: 'facts §7.2 ([CL2] 2.0.1 Breaking Changes); mlflow-export-import#45',
    },
    {
        api: /(^|\.)(MlflowClient|mlflow)\.search_experiments$/,
        since: '1.28.0',
        symptom: "AttributeError: no attribute 'search_experiments'",
        instead: 'list_experiments() on this version, or an MLflow client of 1.28.0 or later',
        source: 'facts §2.2 (experiments/search since 1.28.0); mlflow-export-import#45',
    },
    {
        api: /(^|\.)run_uuid$/,
        removedIn: '3.0.0',
        symptom:
            "AttributeError: 'RunInfo' object has no attribute 'run_uuid'. Did you mean: 'run_id'?",
        instead: 'run.info.run_id (the same value)',
        source: 'facts §7.2 (Morpheus#2315)',
    },
    {
        api: /(^|\.)(mlflow|MlflowClient)\.(search_logged_models|get_logged_model|initialize_logged_model|finalize_logged_model|last_logged_model|set_active_model|log_outputs)$/,
        since: '3.0.0',
        symptom: 'AttributeError: the logged-model API does not exist before MLflow 3',
        instead:
            'the run-based model API of 2.x (runs:/<run_id>/<path>), or an MLflow 3 client and server',
        source: 'facts §2.6, §3.4',
    },
    {
        api: /(^|\.)log_model$/,
        keyword: 'name',
        since: '3.0.0',
        symptom: "TypeError: log_model() missing 1 required positional argument: 'artifact_path'",
        instead: 'artifact_path= on MLflow 2.x',
        source: 'facts §3.4 (3.0 adds name= and deprecates artifact_path=)',
    },
    {
        api: /(^|\.)log_model$/,
        keyword: 'artifact_path',
        deprecatedIn: '3.0.0',
        symptom: 'FutureWarning: `artifact_path` is deprecated. Please use `name` instead.',
        instead: 'name=',
        source: 'facts §3.4',
    },
    {
        api: /(^|\.)search_runs$/,
        keyword: 'output_format',
        presentAt: '2.0.0',
        symptom: "TypeError: search_runs() got an unexpected keyword argument 'output_format'",
        instead: 'the default pandas output',
        source: 'first release not recorded',
    },
];

export interface ApiVerdict {
    status: 'missing' | 'removed' | 'deprecated';
    rule: ApiRule;
}

/**
 * What a client of this version makes of a call: missing (not there yet), removed, deprecated,
 * or undefined when it works or the table does not know. `keywords` are the call's keyword
 * arguments.
 */
export function apiVerdict(
    version: string | MlflowVersion,
    api: string,
    keywords: readonly string[] = [],
): ApiVerdict | undefined {
    if (!asVersion(version)) return undefined;
    for (const rule of API_RULES) {
        if (!rule.api.test(api)) continue;
        if (rule.keyword !== undefined && !keywords.includes(rule.keyword)) continue;
        if (rule.since && isBefore(version, rule.since)) return { status: 'missing', rule };
        if (rule.removedIn && isAtLeast(version, rule.removedIn))
            return { status: 'removed', rule };
        if (rule.deprecatedIn && isAtLeast(version, rule.deprecatedIn))
            return { status: 'deprecated', rule };
    }
    return undefined;
}

/** MLflow 3's `log_model` returns `models:/m-<id>` URIs, where 2.x returned `runs:/` ones. */
export function logModelReturnsModelsUri(version: string | MlflowVersion): boolean {
    // facts §3.4, §7.2: `Model.log` registers through the logged model from 3.0.
    return isAtLeast(version, '3.0.0');
}

/**
 * The newest MLflow major a Python interpreter can install: 2.0 requires Python 3.8 (#7161), so
 * an unpinned `mlflow` on Python 3.7 resolves to 1.x. undefined when any current major fits.
 */
export function newestMlflowForPython(
    python: string,
): { major: number; needs: string; source: string } | undefined {
    const m = /(\d+)\.(\d+)/.exec(python);
    if (!m) return undefined;
    const [major, minor] = [Number(m[1]), Number(m[2])];
    if (major < 3 || (major === 3 && minor < 8))
        return { major: 1, needs: '3.8', source: 'mlflow#7161 (2.0 raised the floor to 3.8)' };
    return undefined;
}

// ---------------------------------------------------------------------------------------------
// The file backend

/**
 * How a version treats a file (`./mlruns`) tracking backend: supported; deprecated (3.6.0+, a
 * FutureWarning); or refused (3.13.0rc0+, an MlflowException unless MLFLOW_ALLOW_FILE_STORE=true).
 * facts §4.7. 3.12 is taken as warning only, which the facts could not confirm.
 */
export function fileStoreSupport(
    version: string | MlflowVersion,
): 'supported' | 'deprecated' | 'refused' {
    if (isAtLeast(version, '3.13.0rc0')) return 'refused';
    if (isAtLeast(version, '3.6.0')) return 'deprecated';
    return 'supported';
}

/** `mlflow migrate-filestore` copies a FileStore into a database: 3.10.0+ (#20615, facts §4.7). */
export function hasMigrateFilestore(version: string | MlflowVersion): boolean {
    return isAtLeast(version, '3.10.0');
}

/** 3.7.0+ defaults the backend to `sqlite:///mlflow.db` in the working directory (facts §4.7). */
export function defaultsToSqlite(version: string | MlflowVersion): boolean {
    return isAtLeast(version, '3.7.0');
}

// ---------------------------------------------------------------------------------------------
// Client against server

export interface CompatibilityProblem {
    severity: Severity;
    /** What breaks and how it shows, in the user's terms. */
    message: string;
    /** Only true when client and server share one FileStore (`mlruns/`) directly. */
    sharedFileStoreOnly?: boolean;
    source: string;
}

export interface Compatibility {
    /** False when any problem is an error. */
    compatible: boolean;
    /** The worst severity among the problems; `info` when there are none. */
    severity: Severity;
    problems: string[];
    /** The problems with their severity and source. */
    details: CompatibilityProblem[];
}

interface CompatibilityRule {
    applies(client: MlflowVersion, server: MlflowVersion): boolean;
    problem(client: MlflowVersion, server: MlflowVersion): CompatibilityProblem;
}

const COMPATIBILITY_RULES: CompatibilityRule[] = [
    {
        applies: (client, server) => client.major >= 3 && server.major === 2,
        problem: (client, server) => ({
            severity: 'error',
            message:
                `A ${client.raw} client logs models through the MLflow 3 logged-model API, ` +
                `which a ${server.raw} server does not have: \`log_model\` and autolog fail with ` +
                '`API request to endpoint /api/2.0/mlflow/logged-models failed with error code ' +
                '404 != 200` (metrics and params still log).',
            source: 'facts §2.6, §7.2',
        }),
    },
    {
        applies: (client, server) =>
            client.major >= 3 && server.major === 2 && serverRequiresRunUuid(server),
        problem: (_client, server) => ({
            severity: 'error',
            sharedFileStoreOnly: true,
            message:
                'On a shared FileStore, runs written by MLflow 3 have no `run_uuid` in ' +
                `meta.yaml, which a ${server.raw} server cannot read: runs/search and runs/get ` +
                "return HTTP 500 with `TypeError: RunInfo.__init__() missing 1 required positional argument: 'run_uuid'` " +
                '(fixed in 2.22.1).',
            source: 'facts §4.6, §7.2 (#15401, fixed by #16030)',
        }),
    },
    {
        applies: (client, server) => client.major >= 3 && server.major === 2,
        problem: (_client, server) => ({
            severity: 'warning',
            sharedFileStoreOnly: true,
            message:
                'On a shared FileStore, metrics that MLflow 3 logs with dataset information are ' +
                `written as 5-field lines, which a ${server.raw} server rejects: ` +
                "`Metric '<key>' is malformed; persisted metric data contained 5 fields. " +
                'Expected 2 or 3 fields.`',
            source: 'facts §4.4, §4.6, §7.2 (checked at 2.17.2)',
        }),
    },
    {
        applies: (client, server) => client.major === 2 && server.major >= 3,
        problem: (client) => ({
            severity: 'info',
            message:
                `A ${client.raw} client works against an MLflow 3 server for runs and ` +
                'experiments, but cannot load models logged by MLflow 3 through ' +
                '`runs:/<run_id>/<name>`: they live under the logged model, not the run.',
            source: 'facts §7.1, §7.2',
        }),
    },
    {
        applies: (client, server) => client.major <= 1 && server.major >= 2,
        problem: (client, server) => ({
            severity: 'error',
            message:
                `A ${client.raw} client calls routes that ${server.raw} removed: ` +
                '`experiments/list`, `registered-models/list` and `/api/2.0/preview/...` ' +
                'return 404 (removed in 2.0), so listing experiments and registering models fail.',
            source: 'facts §2.2, §7.2 ([CL2] 2.0.1 Breaking Changes)',
        }),
    },
    {
        // The scheme arrived with the proxied artifact service, #5320, listed under 1.24.0 in
        // the upstream CHANGELOG (facts §3.2 says 1.23).
        applies: (client, server) => isBefore(client, '1.24.0') && server.major >= 2,
        problem: (client) => ({
            severity: 'error',
            message:
                `A ${client.raw} client does not know the \`mlflow-artifacts:\` scheme that a ` +
                '2.x+ server gives new runs by default (artifact serving is on since 2.0): ' +
                'logging artifacts fails with `Could not find a registered artifact repository ' +
                'for: mlflow-artifacts:/...`.',
            source: 'facts §3.1, §3.2, §7.2; upstream CHANGELOG 1.24.0 (#5320)',
        }),
    },
    {
        applies: (client, server) => server.major - client.major >= 2,
        problem: (client, server) => ({
            severity: 'warning',
            message:
                `The ${client.raw} client is more than one major version behind the ` +
                `${server.raw} server; MLflow supports SDKs at most one major version older ` +
                'than the server.',
            source: 'facts §7.1',
        }),
    },
    {
        applies: (client, server) =>
            client.major === server.major && compareVersions(client, server) > 0,
        problem: (client, server) => ({
            severity: 'info',
            message:
                `The ${client.raw} client is newer than the ${server.raw} server; a server may ` +
                'not support features of newer SDKs. Pinning both to the same version avoids it.',
            source: 'facts §7.1',
        }),
    },
];

/**
 * What a given client/server pair breaks, from the table above. Versions that do not parse give
 * an incompatible-with-warning answer that says so, rather than a silent "compatible".
 */
export function compatibility(
    client: string | MlflowVersion,
    server: string | MlflowVersion,
): Compatibility {
    const clientVersion = asVersion(client);
    const serverVersion = asVersion(server);
    if (!clientVersion || !serverVersion) {
        const text = (value: string | MlflowVersion): string =>
            typeof value === 'string' ? value : value.raw;
        const bad = !clientVersion ? `client ${text(client)}` : `server ${text(server)}`;
        const problem: CompatibilityProblem = {
            severity: 'warning',
            message: `Cannot judge compatibility: the ${bad} version is not a version number.`,
            source: 'input',
        };
        return {
            compatible: false,
            severity: 'warning',
            problems: [problem.message],
            details: [problem],
        };
    }

    const details = COMPATIBILITY_RULES.filter((rule) =>
        rule.applies(clientVersion, serverVersion),
    ).map((rule) => rule.problem(clientVersion, serverVersion));
    const severity = details.reduce<Severity>(
        (worst, problem) =>
            SEVERITY_RANK[problem.severity] > SEVERITY_RANK[worst] ? problem.severity : worst,
        'info',
    );
    return {
        compatible: !details.some((problem) => problem.severity === 'error'),
        severity,
        problems: details.map((problem) => problem.message),
        details,
    };
}
