// The run filters a user builds (statuses, name contains, clauses) turned into the RunQuery the
// host sends to MLflow, with a sentence for each clause the server would refuse. Pure.

import type { ColumnKind, FilterClause, FilterOp, RunQuery, RunStatus } from './protocol.js';
import { FILTER_OPS, LIMITS, RUN_ATTRIBUTES, RUN_STATUSES } from './protocol.js';

/** The operators MLflow's filter grammar accepts for each kind of column. */
export function opsFor(kind: ColumnKind, key: string): readonly FilterOp[] {
    if (kind === 'metric') return ['=', '!=', '>', '>=', '<', '<='];
    if (kind === 'attribute' && (key === 'start_time' || key === 'end_time')) {
        return ['=', '!=', '>', '>=', '<', '<='];
    }
    if (kind === 'attribute' && key === 'run_id') return ['=', '!='];
    if (kind === 'param' || kind === 'tag' || kind === 'attribute') {
        return ['=', '!=', 'LIKE', 'ILIKE'];
    }
    return FILTER_OPS;
}

/** Why the server would refuse this clause, or undefined when it is fine. */
export function clauseProblem(clause: FilterClause): string | undefined {
    const { column, op, value } = clause;
    if (column.key.trim() === '') return 'Choose a key for the filter.';
    if (column.key.length > LIMITS.key) return `The key is longer than ${LIMITS.key} characters.`;
    if (value.length > LIMITS.text) return `The value is longer than ${LIMITS.text} characters.`;
    if (
        column.kind === 'attribute' &&
        !(RUN_ATTRIBUTES as readonly string[]).includes(column.key)
    ) {
        return `MLflow cannot filter runs by the attribute "${column.key}".`;
    }
    if (!opsFor(column.kind, column.key).includes(op)) {
        return `MLflow does not accept ${op} on ${column.kind === 'attribute' ? column.key : `a ${column.kind}`}.`;
    }
    const numeric =
        column.kind === 'metric' ||
        (column.kind === 'attribute' && (column.key === 'start_time' || column.key === 'end_time'));
    if (numeric && (value.trim() === '' || !Number.isFinite(Number(value)))) {
        return `"${value}" is not a number; ${column.kind === 'metric' ? 'metrics' : 'times (ms since 1970)'} compare with numbers.`;
    }
    return undefined;
}

export interface RunFilters {
    statuses: RunStatus[];
    nameContains: string;
    clauses: FilterClause[];
}

export const NO_FILTERS: RunFilters = { statuses: [], nameContains: '', clauses: [] };

/** The query for the host; only valid clauses, and no empty parts. */
export function toRunQuery(filters: RunFilters): RunQuery | undefined {
    const query: RunQuery = {};
    const statuses = filters.statuses.filter((s) =>
        (RUN_STATUSES as readonly string[]).includes(s),
    );
    // All statuses selected is the same as none: leave the filter out.
    if (statuses.length > 0 && statuses.length < RUN_STATUSES.length) query.statuses = statuses;
    const name = filters.nameContains.trim();
    if (name !== '') query.nameContains = name.slice(0, LIMITS.text);
    const clauses = filters.clauses
        .filter((c) => clauseProblem(c) === undefined)
        .slice(0, LIMITS.clauses);
    if (clauses.length > 0) query.clauses = clauses;
    return Object.keys(query).length > 0 ? query : undefined;
}

/** A clause as the user reads it: `metric accuracy > 0.9`. */
export function describeClause(clause: FilterClause): string {
    return `${clause.column.kind} ${clause.column.key} ${clause.op} ${clause.value}`;
}
