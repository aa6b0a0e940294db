// The `filter` and `order_by` strings of MLflow's search from the explorer's queries.
//
// MLflow tokenises a filter with sqlparse and then only trims the quotes off keys and values: no
// escape sequence is ever undone, so `'it''s'` searches for `it''s` and `'a\'b'` for `a\'b`
// (mlflow/utils/search_utils.py, `_strip_quotes`, `_trim_backticks`). A key or value is therefore
// written in whichever quotes it does not contain. What cannot be written exactly (a value with
// both quote characters, a trailing backslash that would swallow the closing quote, a `%` or `_`
// meant literally, since SQLite's LIKE has no escape character, a pattern character a 2.x
// FileStore would read as a regular expression) is sent as a wider LIKE, and the exact comparison
// is made here on the runs the server returns.

import type {
    ColumnRef,
    FilterClause,
    FilterOp,
    RunQuery,
    RunRow,
    RunStatus,
} from '../../../webview/protocol.js';
import { RUN_STATUSES } from '../../../webview/protocol.js';

/** A query MLflow's search cannot express; the message is a sentence for the user. */
export class InvalidFilterError extends Error {
    constructor(message: string) {
        super(message);
        this.name = 'InvalidFilterError';
    }
}

/** A comparison the server could only approximate, checked exactly on each returned run. */
export interface ExactCheck {
    column: ColumnRef;
    test: 'equals' | 'like' | 'ilike' | 'contains';
    value: string;
}

export interface RunFilter {
    /** The `filter` string for runs/search; '' when the query has no condition. */
    filter: string;
    /** How many clauses `filter` has (one per condition of the query, statuses may add several). */
    clauses: number;
    /** Checks to apply to returned runs; empty when the server's answer is exact. */
    exact: ExactCheck[];
}

const NUMERIC_ATTRIBUTES = new Set(['start_time', 'end_time']);
const COMPARISONS: readonly FilterOp[] = ['=', '!=', '>', '>=', '<', '<='];
const STRING_OPS: readonly FilterOp[] = ['=', '!=', 'LIKE', 'ILIKE'];
const PREFIX: Record<Exclude<ColumnRef['kind'], 'attribute'>, string> = {
    param: 'params',
    metric: 'metrics',
    tag: 'tags',
};

// What sqlparse accepts as a number token: a leading `+` or an exponent `e+5` splits it in two.
const NUMBER_TEXT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * A key inside a filter: in backticks, or, when it has a backtick itself, in the quote it does
 * not contain with one more backtick at each end, because MLflow trims the quotes and then a pair
 * of backticks (`_trim_backticks(_strip_quotes(key))`).
 */
export function quoteFilterKey(key: string): string {
    if (!key.includes('`')) return `\`${key}\``;
    const quoted = stringLiteral(`\`${key}\``);
    if (quoted === undefined) {
        throw new InvalidFilterError(
            `MLflow's search cannot name the key ${JSON.stringify(key)}: it contains a backtick ` +
                'and both quote characters.',
        );
    }
    return quoted;
}

/**
 * A value in the quotes it does not contain, or undefined when no quoting keeps it exact: both
 * quote characters, or a trailing backslash (sqlparse reads `\'` as an escaped quote and runs on
 * to the next one).
 */
export function stringLiteral(value: string): string | undefined {
    if (value.endsWith('\\')) return undefined;
    if (!value.includes("'")) return `'${value}'`;
    if (!value.includes('"')) return `"${value}"`;
    return undefined;
}

// Replaced by LIKE's one-character wildcard in a widened pattern: the quote and backslash that
// sqlparse cannot carry, and the regular-expression characters that a 2.x FileStore hands to
// Python's `re` unescaped (`_convert_like_pattern_to_regex`, escaped only from 3.x on), where
// `(` alone is an HTTP 500 and `a+` stops matching "a+".
const UNSAFE_IN_PATTERN = /['\\.^$*+?()[\]{}|]/g;
const UNSAFE_OR_WILDCARD = /['\\.^$*+?()[\]{}|%_]/g;

// Not yet: a 2.x FileStore's `%` does not cross a line break (Python's `.` without DOTALL), so a
// search there misses values with a newline before the text; only the SQL stores find them.
/** The pattern with every unsafe character (and, for literal text, `%` and `_`) as `_`. */
function widen(text: string, wildcardsToo: boolean): string {
    return text.replace(wildcardsToo ? UNSAFE_OR_WILDCARD : UNSAFE_IN_PATTERN, '_');
}

/** A number as sqlparse tokenises it as one number, or undefined for anything else. */
export function numberLiteral(text: string): string | undefined {
    const trimmed = text.trim();
    if (!NUMBER_TEXT.test(trimmed)) return undefined;
    const value = Number(trimmed);
    if (!Number.isFinite(value)) return undefined;
    return String(value).replace('e+', 'e');
}

/** The left side of a clause: `attributes.status`, `params.\`lr\``. */
export function filterIdentifier(column: ColumnRef): string {
    if (column.kind === 'attribute') return `attributes.${column.key}`;
    return `${PREFIX[column.kind]}.${quoteFilterKey(column.key)}`;
}

function describeColumn(column: ColumnRef): string {
    const kind = column.kind === 'attribute' ? 'attribute' : column.kind;
    return `${kind} ${JSON.stringify(column.key)}`;
}

/** `<identifier> ILIKE '%text%'`, widened where the text has quotes, backslashes or wildcards. */
export function containsClause(
    identifier: string,
    text: string,
): { clause: string; exact: boolean } {
    const pattern = widen(text, true);
    // Comparing the pattern with the text would miss a literal `_`, which widens to itself and
    // still matches any one character on the server.
    const exact = !text.includes('_') && pattern === text;
    return { clause: `${identifier} ILIKE '%${pattern}%'`, exact };
}

function clauseFor(clause: FilterClause, exact: ExactCheck[]): string {
    const { column, op, value } = clause;
    const identifier = filterIdentifier(column);
    const numeric =
        column.kind === 'metric' ||
        (column.kind === 'attribute' && NUMERIC_ATTRIBUTES.has(column.key));

    if (numeric) {
        if (!COMPARISONS.includes(op)) {
            throw new InvalidFilterError(
                `The ${describeColumn(column)} is a number: compare it with =, !=, <, <=, > or >=, not ${op}.`,
            );
        }
        const number = numberLiteral(value);
        if (number === undefined) {
            throw new InvalidFilterError(
                `${JSON.stringify(value)} is not a number, so it cannot be compared with the ` +
                    `${describeColumn(column)}. Write a number such as 0.5, -3 or 1e-4.`,
            );
        }
        return `${identifier} ${op} ${number}`;
    }

    if (!STRING_OPS.includes(op)) {
        throw new InvalidFilterError(
            `The ${describeColumn(column)} is text: MLflow compares it with =, !=, LIKE or ILIKE, not ${op}.`,
        );
    }
    const literal = stringLiteral(value);
    const isPattern = op === 'LIKE' || op === 'ILIKE';
    if (literal !== undefined && !(isPattern && widen(value, false) !== value)) {
        return `${identifier} ${op} ${literal}`;
    }

    if (op === '!=') {
        throw new InvalidFilterError(
            `MLflow's search cannot write ${JSON.stringify(value)} exactly (it has both quote ` +
                'characters or ends with a backslash), so != cannot be used with it; use = or LIKE.',
        );
    }
    if (op === '=') {
        exact.push({ column, test: 'equals', value });
        return `${identifier} LIKE '${widen(value, true)}'`;
    }
    exact.push({ column, test: op === 'LIKE' ? 'like' : 'ilike', value });
    return `${identifier} ${op} '${widen(value, false)}'`;
}

/**
 * Statuses as clauses. MLflow's filter has no OR and allows IN only for run_id, so several
 * statuses are written as "not any of the others", which selects exactly the same runs.
 */
function statusClauses(statuses: readonly RunStatus[] | undefined): string[] {
    const wanted = new Set(statuses ?? []);
    if (wanted.size === 0 || wanted.size === RUN_STATUSES.length) return [];
    if (wanted.size === 1) return [`attributes.status = '${[...wanted][0]}'`];
    return RUN_STATUSES.filter((status) => !wanted.has(status)).map(
        (status) => `attributes.status != '${status}'`,
    );
}

/** The search-runs filter for a query, with the exact checks for what the server approximates. */
export function buildRunFilter(query: RunQuery | undefined): RunFilter {
    const parts = statusClauses(query?.statuses);
    const exact: ExactCheck[] = [];

    if (query?.nameContains) {
        const { clause, exact: isExact } = containsClause(
            'attributes.run_name',
            query.nameContains,
        );
        parts.push(clause);
        if (!isExact) {
            exact.push({
                column: { kind: 'attribute', key: 'run_name' },
                test: 'contains',
                value: query.nameContains,
            });
        }
    }
    for (const clause of query?.clauses ?? []) parts.push(clauseFor(clause, exact));

    return { filter: parts.join(' AND '), clauses: parts.length, exact };
}

/**
 * One `order_by` entry. MLflow turns backticks into double quotes and splits the entry with
 * Python's shlex, so a key is written in double quotes with `\` and `"` escaped, and a key with
 * a backtick, or with white space at its end, cannot be sorted by.
 */
export function buildOrderBy(column: ColumnRef, ascending: boolean): string {
    const direction = ascending ? 'ASC' : 'DESC';
    if (column.kind === 'attribute') return `attributes.${column.key} ${direction}`;
    if (column.key.includes('`')) {
        throw new InvalidFilterError(
            `MLflow cannot sort by the ${describeColumn(column)}: keys with a backtick cannot be written in order_by.`,
        );
    }
    // The entry is stripped before the key is read, so a key's trailing space would be lost.
    // eslint-disable-next-line no-control-regex
    if (/[\s\x1c-\x1f\x85]$/u.test(column.key)) {
        throw new InvalidFilterError(
            `MLflow cannot sort by the ${describeColumn(column)}: it trims the space at the end of an order_by key.`,
        );
    }
    const key = column.key.replace(/["\\]/g, (char) => `\\${char}`);
    return `${PREFIX[column.kind]}."${key}" ${direction}`;
}

/** SQL LIKE with no escape character (SQLite's): `%` any run, `_` any one character. */
export function likeMatches(pattern: string, text: string, ignoreCase: boolean): boolean {
    let source = '';
    for (const char of pattern) {
        if (char === '%') source += '[\\s\\S]*';
        else if (char === '_') source += '[\\s\\S]';
        else source += char.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    }
    return new RegExp(`^${source}$`, ignoreCase ? 'iu' : 'u').test(text);
}

function columnText(run: RunRow, column: ColumnRef): string | undefined {
    switch (column.kind) {
        case 'param':
            return run.params.find((p) => p.key === column.key)?.value;
        case 'tag':
            return run.tags.find((t) => t.key === column.key)?.value;
        case 'metric':
            return undefined;
        case 'attribute':
            switch (column.key) {
                case 'run_name':
                    return run.name;
                case 'status':
                    return run.status;
                case 'user_id':
                    return run.user;
                case 'run_id':
                    return run.id;
                case 'artifact_uri':
                    return run.artifactUri;
                default:
                    return undefined;
            }
    }
}

/** Whether a returned run passes a check the server could only approximate. */
export function passesExactCheck(text: string | undefined, check: ExactCheck): boolean {
    if (text === undefined) return false;
    switch (check.test) {
        case 'equals':
            return text === check.value;
        case 'like':
            return likeMatches(check.value, text, false);
        case 'ilike':
            return likeMatches(check.value, text, true);
        case 'contains':
            return text.toLowerCase().includes(check.value.toLowerCase());
    }
}

export function runPassesChecks(run: RunRow, checks: readonly ExactCheck[]): boolean {
    return checks.every((check) => passesExactCheck(columnText(run, check.column), check));
}
