// What the explorer keeps in `vscode.setState` across reloads of the panel: the selection, the
// chosen columns, filters and sort of each experiment. Never a URL or a credential: servers are
// named by the host's opaque key. State comes back from an earlier version of this code or from
// a tampered page, so restoring validates every field and drops what it does not know. Pure.

import type { ColumnRef, FilterClause, LifecycleView, RunStatus } from './protocol.js';
import { FILTER_OPS, LIMITS, RUN_STATUSES } from './protocol.js';
import { cleanColumns, parseColumnId } from './runColumns.js';
import type { RunFilters } from './runQueryBuilder.js';

export const STATE_VERSION = 1;

/** Experiments whose preferences are kept; the least recently used are forgotten. */
export const REMEMBERED_EXPERIMENTS = 50;

export interface ExperimentPrefs {
    experimentId: string;
    columns?: ColumnRef[];
    filters?: RunFilters;
    sort?: { column: ColumnRef; ascending: boolean };
}

export interface PersistedState {
    version: typeof STATE_VERSION;
    serverKey?: string;
    experimentId?: string;
    runId?: string;
    experimentView: LifecycleView;
    experimentSearch: string;
    tab?: string;
    /** Most recently used first. Pairs in an array, so an id such as `__proto__` is data. */
    experiments: ExperimentPrefs[];
}

export function emptyState(): PersistedState {
    return {
        version: STATE_VERSION,
        experimentView: 'active',
        experimentSearch: '',
        experiments: [],
    };
}

const ID = /^[A-Za-z0-9_.:-]{1,256}$/;
const TABS = ['overview', 'params', 'metrics', 'tags', 'artifacts', 'models'];

function obj(value: unknown): Record<string, unknown> | undefined {
    return typeof value === 'object' && value !== null && !Array.isArray(value)
        ? (value as Record<string, unknown>)
        : undefined;
}

function idOf(value: unknown): string | undefined {
    return typeof value === 'string' && ID.test(value) ? value : undefined;
}

function columnOf(value: unknown): ColumnRef | undefined {
    const v = obj(value);
    if (!v || typeof v['kind'] !== 'string' || typeof v['key'] !== 'string') return undefined;
    if (v['key'].length > LIMITS.key) return undefined;
    return parseColumnId(`${v['kind']}:${v['key']}`);
}

function filtersOf(value: unknown): RunFilters | undefined {
    const v = obj(value);
    if (!v) return undefined;
    const statuses = Array.isArray(v['statuses'])
        ? v['statuses'].filter((s): s is RunStatus =>
              (RUN_STATUSES as readonly unknown[]).includes(s),
          )
        : [];
    const nameContains =
        typeof v['nameContains'] === 'string' ? v['nameContains'].slice(0, LIMITS.text) : '';
    const clauses: FilterClause[] = [];
    if (Array.isArray(v['clauses'])) {
        for (const raw of v['clauses'].slice(0, LIMITS.clauses)) {
            const c = obj(raw);
            const column = columnOf(c?.['column']);
            const op = c?.['op'];
            const text = c?.['value'];
            if (!column || typeof text !== 'string' || text.length > LIMITS.text) continue;
            if (!(FILTER_OPS as readonly unknown[]).includes(op)) continue;
            clauses.push({ column, op: op as FilterClause['op'], value: text });
        }
    }
    return { statuses: [...new Set(statuses)], nameContains, clauses };
}

function prefsOf(value: unknown): ExperimentPrefs | undefined {
    const v = obj(value);
    const experimentId = idOf(v?.['experimentId']);
    if (!v || !experimentId) return undefined;
    const prefs: ExperimentPrefs = { experimentId };
    if (Array.isArray(v['columns'])) {
        prefs.columns = cleanColumns(
            v['columns'].map(columnOf).filter((c): c is ColumnRef => c !== undefined),
        );
    }
    const filters = filtersOf(v['filters']);
    if (filters) prefs.filters = filters;
    const sort = obj(v['sort']);
    const sortColumn = columnOf(sort?.['column']);
    if (sort && sortColumn && typeof sort['ascending'] === 'boolean') {
        prefs.sort = { column: sortColumn, ascending: sort['ascending'] };
    }
    return prefs;
}

/** The state `vscode.getState()` returned, validated; anything unreadable gives the defaults. */
export function restoreState(raw: unknown): PersistedState {
    const state = emptyState();
    const v = obj(raw);
    if (!v || v['version'] !== STATE_VERSION) return state;
    const serverKey = idOf(v['serverKey']);
    if (serverKey) state.serverKey = serverKey;
    const experimentId = idOf(v['experimentId']);
    if (experimentId) state.experimentId = experimentId;
    const runId = idOf(v['runId']);
    if (runId) state.runId = runId;
    if (v['experimentView'] === 'deleted' || v['experimentView'] === 'all') {
        state.experimentView = v['experimentView'];
    }
    if (typeof v['experimentSearch'] === 'string') {
        state.experimentSearch = v['experimentSearch'].slice(0, LIMITS.text);
    }
    if (typeof v['tab'] === 'string' && TABS.includes(v['tab'])) state.tab = v['tab'];
    if (Array.isArray(v['experiments'])) {
        const seen = new Set<string>();
        for (const raw of v['experiments']) {
            const prefs = prefsOf(raw);
            if (!prefs || seen.has(prefs.experimentId)) continue;
            seen.add(prefs.experimentId);
            state.experiments.push(prefs);
            if (state.experiments.length >= REMEMBERED_EXPERIMENTS) break;
        }
    }
    return state;
}

export function prefsFor(state: PersistedState, experimentId: string): ExperimentPrefs {
    return state.experiments.find((p) => p.experimentId === experimentId) ?? { experimentId };
}

/** A new state with this experiment's preferences changed and moved to the front. */
export function withPrefs(
    state: PersistedState,
    experimentId: string,
    change: Partial<Omit<ExperimentPrefs, 'experimentId'>>,
): PersistedState {
    const current = prefsFor(state, experimentId);
    const updated: ExperimentPrefs = { ...current, ...change, experimentId };
    const others = state.experiments.filter((p) => p.experimentId !== experimentId);
    return {
        ...state,
        experiments: [updated, ...others].slice(0, REMEMBERED_EXPERIMENTS),
    };
}
