// The search-runs filter and order_by builder. A small tokenizer with sqlparse's own regular
// expressions for strings, symbols and backtick names (sqlparse/keywords.py, 0.6.1, the version
// both server venvs carry) reads the output back, so a property test can check that every input
// condition comes out as exactly one clause whose key and value MLflow reads back unchanged. The
// integration test feeds the same builder's output to MLflow's real parser.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { FilterClause, RunRow } from '../../webview/protocol.js';
import { FILTER_OPS, RUN_STATUSES } from '../../webview/protocol.js';
import {
    buildOrderBy,
    buildRunFilter,
    containsClause,
    InvalidFilterError,
    likeMatches,
    numberLiteral,
    quoteFilterKey,
    runPassesChecks,
    stringLiteral,
} from '../../src/core/explorer/runFilter.js';

const ENTITY: Record<string, string> = { param: 'params', tag: 'tags', metric: 'metrics' };

type Token = { type: string; text: string };

const TOKEN_RULES: [string, RegExp][] = [
    ['ws', /\s+/y],
    ['name', /`(``|[^`])*`/y],
    ['string', /'(''|\\'|[^'])*'/y],
    ['symbol', /"(""|\\"|[^"])*"/y],
    ['op', /!=|>=|<=|=|<|>/y],
    ['number', /-?(?:\d+\.?\d*|\.\d+)(?:e-?\d+)?/iy],
    ['dot', /\./y],
    ['word', /[A-Za-z_]\w*/y],
];

function tokenize(text: string): Token[] {
    const tokens: Token[] = [];
    let at = 0;
    while (at < text.length) {
        let matched = false;
        for (const [type, rule] of TOKEN_RULES) {
            rule.lastIndex = at;
            const match = rule.exec(text);
            if (!match || match[0].length === 0) continue;
            if (type !== 'ws') tokens.push({ type, text: match[0] });
            at += match[0].length;
            matched = true;
            break;
        }
        if (!matched)
            throw new Error(`cannot tokenize at ${at}: ${JSON.stringify(text.slice(at))}`);
    }
    return tokens;
}

interface ReadClause {
    entity: string;
    key: string;
    op: string;
    value: string;
}

/** What MLflow does after sqlparse: split on AND, trim one pair of quotes, undo nothing. */
function readFilter(filter: string): ReadClause[] {
    const tokens = tokenize(filter);
    const clauses: ReadClause[] = [];
    let i = 0;
    const unquote = (token: Token) =>
        token.type === 'word' || token.type === 'number' ? token.text : token.text.slice(1, -1);
    // Keys: the quotes off, then a pair of backticks off (`_trim_backticks(_strip_quotes(key))`).
    const unquoteKey = (token: Token) => {
        const text = unquote(token);
        if (token.type === 'name') return text;
        return text.length >= 2 && text.startsWith('`') && text.endsWith('`')
            ? text.slice(1, -1)
            : text;
    };
    while (i < tokens.length) {
        const [entity, dot, key, op, value] = tokens.slice(i, i + 5);
        assert.ok(entity && dot && key && op && value, `short clause in ${filter}`);
        assert.equal(entity.type, 'word');
        assert.equal(dot.type, 'dot');
        assert.ok(['name', 'string', 'symbol', 'word'].includes(key.type), `key ${key.text}`);
        assert.ok(
            op.type === 'op' || /^I?LIKE$/.test(op.text),
            `operator token ${JSON.stringify(op)} in ${filter}`,
        );
        assert.ok(['string', 'symbol', 'number'].includes(value.type), `value ${value.text}`);
        clauses.push({
            entity: entity.text,
            key: unquoteKey(key),
            op: op.text,
            value: unquote(value),
        });
        i += 5;
        if (i < tokens.length) {
            assert.equal(tokens[i]?.text, 'AND', `clauses joined by AND in ${filter}`);
            i++;
        }
    }
    return clauses;
}

function run(overrides: Partial<RunRow>): RunRow {
    return {
        id: 'r1',
        experimentId: '1',
        name: 'run',
        status: 'FINISHED',
        lifecycleStage: 'active',
        params: [],
        metrics: [],
        tags: [],
        ...overrides,
    };
}

const HOSTILE = [
    "'",
    '"',
    '`',
    '\\',
    '%',
    '_',
    ' AND ',
    "' OR '1'='1",
    'é',
    '😀',
    '\n',
    '/*',
    '--',
];

describe('search-runs filter', () => {
    test('writes an empty query as no filter', () => {
        assert.deepEqual(buildRunFilter(undefined), { filter: '', clauses: 0, exact: [] });
        assert.deepEqual(buildRunFilter({ statuses: [], clauses: [] }).filter, '');
    });

    test('writes one status as an equality and several as "none of the others"', () => {
        assert.equal(
            buildRunFilter({ statuses: ['FAILED'] }).filter,
            "attributes.status = 'FAILED'",
        );
        assert.equal(
            buildRunFilter({ statuses: ['FAILED', 'KILLED'] }).filter,
            "attributes.status != 'RUNNING' AND attributes.status != 'SCHEDULED' AND attributes.status != 'FINISHED'",
        );
        assert.equal(buildRunFilter({ statuses: [...RUN_STATUSES] }).filter, '');
    });

    test('quotes keys in backticks and string values in single quotes', () => {
        const filter = buildRunFilter({
            clauses: [
                { column: { kind: 'param', key: 'lr' }, op: '=', value: '0.01' },
                { column: { kind: 'tag', key: 'mlflow.runName' }, op: 'LIKE', value: 'run-%' },
                { column: { kind: 'metric', key: 'val loss' }, op: '<=', value: '0.5' },
                { column: { kind: 'attribute', key: 'user_id' }, op: '!=', value: 'bob' },
            ],
        });
        assert.equal(
            filter.filter,
            "params.`lr` = '0.01' AND tags.`mlflow.runName` LIKE 'run-%' AND metrics.`val loss` <= 0.5 AND attributes.user_id != 'bob'",
        );
        assert.deepEqual(filter.exact, []);
    });

    test('writes a value with a single quote in double quotes, since MLflow undoes no escape', () => {
        assert.equal(stringLiteral("it's"), `"it's"`);
        assert.equal(stringLiteral('say "hi"'), `'say "hi"'`);
        assert.equal(stringLiteral('a\\b'), `'a\\b'`);
        assert.equal(stringLiteral(`both ' and "`), undefined);
        assert.equal(stringLiteral('trailing\\'), undefined);
    });

    test('sends a value it cannot write exactly as a wider LIKE and checks it exactly here', () => {
        const value = `it's a "quote" \\ back`;
        const filter = buildRunFilter({
            clauses: [{ column: { kind: 'param', key: 'weird' }, op: '=', value }],
        });
        assert.equal(filter.filter, `params.\`weird\` LIKE 'it_s a "quote" _ back'`);
        assert.deepEqual(filter.exact, [
            { column: { kind: 'param', key: 'weird' }, test: 'equals', value },
        ]);
        const hit = run({ params: [{ key: 'weird', value }] });
        const decoy = run({ params: [{ key: 'weird', value: `itXs a "quote" \\ back` }] });
        assert.equal(runPassesChecks(hit, filter.exact), true);
        assert.equal(runPassesChecks(decoy, filter.exact), false);
        assert.equal(runPassesChecks(run({}), filter.exact), false);
    });

    test('treats % and _ in an equality as literal characters', () => {
        const filter = buildRunFilter({
            clauses: [{ column: { kind: 'tag', key: 'path' }, op: '=', value: 'C:\\dir\\' }],
        });
        assert.equal(filter.filter, "tags.`path` LIKE 'C:_dir_'");
        assert.equal(
            runPassesChecks(run({ tags: [{ key: 'path', value: 'C:\\dir\\' }] }), filter.exact),
            true,
        );
        assert.equal(
            runPassesChecks(run({ tags: [{ key: 'path', value: 'C:/dir/' }] }), filter.exact),
            false,
        );
    });

    test('widens a LIKE pattern with regular-expression characters a 2.x FileStore would obey', () => {
        const filter = buildRunFilter({
            clauses: [{ column: { kind: 'param', key: 'opt' }, op: 'LIKE', value: 'adam(b=0.9)%' }],
        });
        assert.equal(filter.filter, "params.`opt` LIKE 'adam_b=0_9_%'");
        const param = (value: string) => run({ params: [{ key: 'opt', value }] });
        assert.equal(runPassesChecks(param('adam(b=0.9), eps'), filter.exact), true);
        assert.equal(runPassesChecks(param('adamXb=0X9X, eps'), filter.exact), false);
    });

    test('refuses != with a value it cannot write exactly, saying what to use instead', () => {
        assert.throws(
            () =>
                buildRunFilter({
                    clauses: [{ column: { kind: 'param', key: 'p' }, op: '!=', value: `'"` }],
                }),
            (error: unknown) =>
                error instanceof InvalidFilterError && /use = or LIKE/.test(error.message),
        );
    });

    test('rejects a metric compared with text, naming the value and the metric', () => {
        assert.throws(
            () =>
                buildRunFilter({
                    clauses: [
                        { column: { kind: 'metric', key: 'loss' }, op: '>', value: "1' OR '1" },
                    ],
                }),
            (error: unknown) =>
                error instanceof InvalidFilterError &&
                error.message.includes('is not a number') &&
                error.message.includes('metric "loss"'),
        );
        assert.throws(
            () =>
                buildRunFilter({
                    clauses: [{ column: { kind: 'metric', key: 'loss' }, op: 'LIKE', value: '1' }],
                }),
            InvalidFilterError,
        );
        assert.throws(
            () =>
                buildRunFilter({
                    clauses: [
                        {
                            column: { kind: 'attribute', key: 'start_time' },
                            op: '>',
                            value: 'yesterday',
                        },
                    ],
                }),
            InvalidFilterError,
        );
    });

    test('rejects ordering comparisons on params and tags, which MLflow compares as text', () => {
        assert.throws(
            () =>
                buildRunFilter({
                    clauses: [{ column: { kind: 'param', key: 'lr' }, op: '>', value: '1' }],
                }),
            (error: unknown) =>
                error instanceof InvalidFilterError && /=, !=, LIKE or ILIKE/.test(error.message),
        );
    });

    test('writes numbers as sqlparse reads one number token', () => {
        assert.equal(numberLiteral('+1'), '1');
        assert.equal(numberLiteral(' -1.5e-3 '), '-0.0015');
        assert.equal(numberLiteral('1e+21'), '1e21');
        assert.equal(numberLiteral('.5'), '0.5');
        assert.equal(numberLiteral('NaN'), undefined);
        assert.equal(numberLiteral('Infinity'), undefined);
        assert.equal(numberLiteral('1e999'), undefined);
        assert.equal(numberLiteral('0x10'), undefined);
        assert.equal(numberLiteral(''), undefined);
    });

    test('quotes a key with a backtick in the quote it lacks, and refuses one it cannot write', () => {
        assert.equal(quoteFilterKey('a`b'), "'`a`b`'");
        assert.equal(quoteFilterKey('`ab`'), "'``ab``'");
        assert.equal(quoteFilterKey("a`b'"), `"\`a\`b'\`"`);
        assert.throws(() => quoteFilterKey(`a\`'"`), InvalidFilterError);
    });

    test('widens a name search with wildcards or quotes and checks it exactly', () => {
        assert.deepEqual(containsClause('attributes.run_name', 'run-01'), {
            clause: "attributes.run_name ILIKE '%run-01%'",
            exact: true,
        });
        const filter = buildRunFilter({ nameContains: "50%_o'ff" });
        assert.equal(filter.filter, "attributes.run_name ILIKE '%50__o_ff%'");
        assert.equal(runPassesChecks(run({ name: "Sale 50%_O'FF now" }), filter.exact), true);
        assert.equal(runPassesChecks(run({ name: "Sale 50xxo'ff" }), filter.exact), false);
    });

    test('takes an underscore in a name search literally, not as any one character', () => {
        // Seen on 3.17.2: "_" matched every run and "r_n" matched run'1 before this check.
        assert.equal(containsClause('name', '_').exact, false);
        assert.equal(containsClause('name', 'n_rmal').exact, false);
        for (const [text, hit, decoys] of [
            ['_', 'run_5', ['run-1', "run'1", 'run5']],
            ['r_n', 'R_N-2', ['run_5', "run'1", 'rn']],
            ['n_rmal', 'abn_rmal', ['normal', 'n-rmal', 'n%rmal']],
        ] as const) {
            const filter = buildRunFilter({ nameContains: text });
            assert.equal(filter.filter, `attributes.run_name ILIKE '%${text}%'`);
            assert.deepEqual(filter.exact, [
                { column: { kind: 'attribute', key: 'run_name' }, test: 'contains', value: text },
            ]);
            assert.equal(runPassesChecks(run({ name: hit }), filter.exact), true, hit);
            for (const name of decoys) {
                assert.equal(runPassesChecks(run({ name }), filter.exact), false, name);
            }
        }
    });

    test('sends a name search without wildcards or quotes as it is, with no check', () => {
        assert.deepEqual(buildRunFilter({ nameContains: 'run-01' }).exact, []);
    });

    test('every condition becomes exactly one clause MLflow reads back unchanged', () => {
        const text = fc.string({
            unit: fc.oneof(
                fc.constantFrom(...HOSTILE),
                fc.string({ unit: 'grapheme', maxLength: 2 }),
            ),
            maxLength: 12,
        });
        const clause = fc.record({
            column: fc.record({
                kind: fc.constantFrom('param' as const, 'tag' as const, 'metric' as const),
                key: text,
            }),
            op: fc.constantFrom(...FILTER_OPS),
            value: fc.oneof(text, fc.double({ noNaN: true, noDefaultInfinity: true }).map(String)),
        });
        fc.assert(
            fc.property(fc.array(clause, { maxLength: 6 }), (clauses: FilterClause[]) => {
                let built;
                try {
                    built = buildRunFilter({ clauses });
                } catch (error) {
                    // Refusals are allowed, but only as the sentence type, never a crash.
                    assert.ok(error instanceof InvalidFilterError, String(error));
                    return;
                }
                const read = readFilter(built.filter);
                assert.equal(read.length, clauses.length);
                assert.equal(built.clauses, clauses.length);
                clauses.forEach((input, i) => {
                    const out = read[i]!;
                    assert.equal(out.entity, ENTITY[input.column.kind]);
                    assert.equal(out.key, input.column.key);
                    if (input.column.kind === 'metric') {
                        assert.equal(Number(out.value), Number(input.value));
                        assert.equal(out.op, input.op);
                    } else if (out.value === input.value && out.op === input.op) {
                        // Sent as is; nothing left to check here.
                    } else {
                        // The wider form: same length, every difference a `_` wildcard, and
                        // an exact check kept for the returned runs.
                        assert.ok(
                            built.exact.some(
                                (check) =>
                                    check.column.key === input.column.key &&
                                    check.value === input.value,
                            ),
                        );
                        assert.ok(['LIKE', 'ILIKE'].includes(out.op));
                        const comparable = input.op === '=' || input.op === '!=';
                        assert.ok(!comparable || stringLiteral(input.value) === undefined);
                        assert.equal([...out.value].length, [...input.value].length);
                        assert.ok(!out.value.includes("'") && !out.value.includes('\\'));
                        assert.ok(likeMatches(out.value, input.value, out.op === 'ILIKE'));
                    }
                });
            }),
            { numRuns: 500 },
        );
    });
});

describe('search-runs order_by', () => {
    test('sorts attributes bare and other keys in escaped double quotes', () => {
        assert.equal(
            buildOrderBy({ kind: 'attribute', key: 'start_time' }, false),
            'attributes.start_time DESC',
        );
        assert.equal(
            buildOrderBy({ kind: 'metric', key: 'val loss' }, true),
            'metrics."val loss" ASC',
        );
        assert.equal(
            buildOrderBy({ kind: 'param', key: 'a"b\\c' }, true),
            'params."a\\"b\\\\c" ASC',
        );
    });

    test('refuses to sort by a key with a backtick, which MLflow turns into a quote', () => {
        assert.throws(() => buildOrderBy({ kind: 'tag', key: 'a`b' }, true), InvalidFilterError);
    });

    test('refuses to sort by a key ending in white space, which MLflow trims', () => {
        assert.throws(
            () => buildOrderBy({ kind: 'param', key: 'loss ' }, true),
            (error: unknown) => error instanceof InvalidFilterError && /trims/.test(error.message),
        );
        assert.equal(buildOrderBy({ kind: 'param', key: ' loss' }, true), 'params." loss" ASC');
    });
});

describe('LIKE as SQLite applies it', () => {
    test('matches % as any run and _ as one character, with no escape character', () => {
        assert.equal(likeMatches('run-%', 'run-001', false), true);
        assert.equal(likeMatches('run-_', 'run-😀', false), true);
        assert.equal(likeMatches('run-_', 'run-01', false), false);
        assert.equal(likeMatches('a\\%', 'a\\xyz', false), true);
        assert.equal(likeMatches('(x)+.*', '(x)+.*', false), true);
        assert.equal(likeMatches('ABC', 'abc', false), false);
        assert.equal(likeMatches('ABC', 'abc', true), true);
    });
});
