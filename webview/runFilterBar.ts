// The filters above the run grid: name contains, a status multi-select, and a small clause
// builder (kind, key, operator, value) whose clauses show as removable chips. Every change is
// reported as a whole RunFilters; the grid turns it into a new search.

import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-button/index.js';
import './labelledMultiSelect.js';

import { clear, debounce, el, serverText } from './dom.js';
import type { ColumnKind, FilterClause, FilterOp, RunStatus } from './protocol.js';
import { LIMITS, RUN_ATTRIBUTES, RUN_STATUSES } from './protocol.js';
import { clauseProblem, describeClause, opsFor } from './runQueryBuilder.js';
import type { RunFilters } from './runQueryBuilder.js';

export const NAME_DEBOUNCE_MS = 300;

export class RunFilterBar {
    readonly element: HTMLElement;
    private readonly name: HTMLElementTagNameMap['vscode-textfield'];
    private readonly statuses: HTMLElementTagNameMap['sd-labelled-multi-select'];
    private readonly kind: HTMLElementTagNameMap['vscode-single-select'];
    private readonly key: HTMLElementTagNameMap['vscode-textfield'];
    private readonly op: HTMLElementTagNameMap['vscode-single-select'];
    private readonly value: HTMLElementTagNameMap['vscode-textfield'];
    private readonly chips: HTMLElement;
    private clauses: FilterClause[] = [];

    constructor(
        private readonly onChange: (filters: RunFilters) => void,
        private readonly onProblem: (message: string) => void,
    ) {
        this.name = el('vscode-textfield', {
            'data-testid': 'run-name-filter',
            placeholder: 'Run name contains',
            'aria-label': 'Run name contains',
        });
        this.statuses = el('sd-labelled-multi-select', {
            'data-testid': 'run-status-filter',
            'aria-label': 'Run status',
        });
        this.statuses.label = 'Run status';
        // No status ticked filters nothing out, the same as all of them ticked.
        this.statuses.describe = (count) =>
            count === 0 || count === RUN_STATUSES.length
                ? { text: 'All statuses', plain: true }
                : count === 1
                  ? { text: this.statuses.value[0] ?? '1 status' }
                  : { text: `${count} statuses` };
        for (const status of RUN_STATUSES) {
            this.statuses.append(el('vscode-option', { value: status }, status));
        }

        this.kind = el('vscode-single-select', {
            'data-testid': 'clause-kind',
            'aria-label': 'Filter on',
        });
        for (const kind of ['param', 'metric', 'tag', 'attribute'] as const) {
            this.kind.append(el('vscode-option', { value: kind }, kind));
        }
        this.key = el('vscode-textfield', {
            'data-testid': 'clause-key',
            placeholder: 'key',
            'aria-label': 'Filter key',
        });
        this.op = el('vscode-single-select', {
            'data-testid': 'clause-op',
            'aria-label': 'Operator',
        });
        this.value = el('vscode-textfield', {
            'data-testid': 'clause-value',
            placeholder: 'value',
            'aria-label': 'Filter value',
        });
        const add = el(
            'vscode-button',
            { secondary: true, 'data-testid': 'clause-add' },
            'Add filter',
        );
        this.chips = el('div', { class: 'chips', role: 'list', 'aria-label': 'Filters' });
        this.fillOps();

        this.element = el(
            'div',
            { class: 'run-filters', role: 'search', 'aria-label': 'Filter runs' },
            this.name,
            this.statuses,
            el('div', { class: 'clause-builder' }, this.kind, this.key, this.op, this.value, add),
            this.chips,
        );

        const changed = debounce(() => this.emit(), NAME_DEBOUNCE_MS);
        this.name.addEventListener('input', changed);
        this.statuses.addEventListener('change', () => this.emit());
        this.kind.addEventListener('change', () => this.fillOps());
        this.key.addEventListener('input', () => this.fillOps());
        add.addEventListener('click', () => this.addClause());
        for (const field of [this.key, this.value]) {
            field.addEventListener('keydown', (event) => {
                if (event.key === 'Enter') this.addClause();
            });
        }
    }

    private currentKind(): ColumnKind {
        const v = this.kind.value;
        return v === 'metric' || v === 'tag' || v === 'attribute' ? v : 'param';
    }

    /** The operators the chosen kind allows; the selection is kept when it still applies. */
    private fillOps(): void {
        const ops = opsFor(this.currentKind(), this.key.value.trim());
        const previous = this.op.value;
        if (
            this.op.childElementCount === ops.length &&
            [...this.op.children].every(
                (o, i) => (o as HTMLElement).getAttribute('value') === ops[i],
            )
        ) {
            return;
        }
        clear(this.op);
        for (const op of ops) {
            const option = el('vscode-option', { value: op }, op);
            if (op === previous) option.selected = true;
            this.op.append(option);
        }
    }

    private addClause(): void {
        const kind = this.currentKind();
        const key = this.key.value.trim();
        const clause: FilterClause = {
            column: { kind, key },
            op: (this.op.value || '=') as FilterOp,
            value: this.value.value,
        };
        const problem =
            kind === 'attribute' && !(RUN_ATTRIBUTES as readonly string[]).includes(key)
                ? `Attributes to filter on: ${RUN_ATTRIBUTES.join(', ')}.`
                : clauseProblem(clause);
        if (problem) {
            this.onProblem(problem);
            return;
        }
        if (this.clauses.length >= LIMITS.clauses) {
            this.onProblem(`At most ${LIMITS.clauses} filters; remove one first.`);
            return;
        }
        this.clauses = [...this.clauses, clause];
        this.value.value = '';
        this.renderChips();
        this.emit();
    }

    private renderChips(): void {
        clear(this.chips);
        this.clauses.forEach((clause, index) => {
            const remove = el(
                'button',
                { type: 'button', class: 'chip-remove', 'aria-label': 'Remove filter' },
                '×',
            );
            remove.addEventListener('click', () => {
                this.clauses = this.clauses.filter((_, i) => i !== index);
                this.renderChips();
                this.emit();
            });
            this.chips.append(
                el(
                    'span',
                    { class: 'chip', role: 'listitem', 'data-testid': 'filter-chip' },
                    serverText(describeClause(clause), {}, 80),
                    remove,
                ),
            );
        });
    }

    current(): RunFilters {
        return {
            statuses: this.statuses.value.filter((s): s is RunStatus =>
                (RUN_STATUSES as readonly string[]).includes(s),
            ),
            nameContains: this.name.value,
            clauses: this.clauses,
        };
    }

    /** Shows restored filters without announcing a change. */
    set(filters: RunFilters): void {
        this.name.value = filters.nameContains;
        this.statuses.value = [...filters.statuses];
        this.clauses = [...filters.clauses];
        this.renderChips();
    }

    private emit(): void {
        this.onChange(this.current());
    }
}
