// Orders findings into causal chains: a fault that explains others comes first, its consequences
// after it. Checks stay independent of each other; the links between their findings live here.

import { type Finding, type FindingKind, SEVERITY_RANK, type Severity } from './model.js';

interface CausalRule {
    cause: FindingKind;
    effect: FindingKind;
    /** `service`: both concern the same compose service; `any`: anywhere in the stack. */
    scope: 'service' | 'any';
    when?: (cause: Finding, effect: Finding) => boolean;
}

const mentions = (f: Finding, text: RegExp) =>
    text.test(f.title) || f.evidence.some((e) => text.test(e)) || text.test(f.fix);

const RUN_UUID = /run_uuid/;

const RULES: CausalRule[] = [
    { cause: 'docker-unreachable', effect: 'probe-failed', scope: 'any' },
    { cause: 'container-state', effect: 'server-unreachable', scope: 'service' },
    { cause: 'missing-dependency', effect: 'container-state', scope: 'service' },
    { cause: 'compose-render', effect: 'container-state', scope: 'service' },
    { cause: 'compose-render', effect: 'server-binding', scope: 'service' },
    { cause: 'server-binding', effect: 'server-unreachable', scope: 'any' },
    { cause: 'port-mapping', effect: 'server-unreachable', scope: 'any' },
    { cause: 'not-mlflow', effect: 'server-unreachable', scope: 'any' },
    { cause: 'startup-order', effect: 'server-unreachable', scope: 'service' },
    // A job that ran too early and died of it.
    { cause: 'startup-order', effect: 'container-state', scope: 'service' },
    { cause: 'filestore-corrupt', effect: 'server-error', scope: 'any' },
    {
        cause: 'version-mismatch',
        effect: 'filestore-corrupt',
        scope: 'any',
        when: (c, e) => mentions(e, RUN_UUID) && /\b3\.\d+/.test(c.title),
    },
    {
        // A client that writes the store itself is what lets its own MLflow version's format in.
        cause: 'artifact-routing',
        effect: 'filestore-corrupt',
        scope: 'any',
        when: (c, e) => c.id.endsWith(':bypass') && mentions(e, RUN_UUID),
    },
    { cause: 'host-header', effect: 'server-error', scope: 'service' },
];

/** Lower comes first among equally severe root causes: the deeper in the stack, the earlier. */
const KIND_ORDER: FindingKind[] = [
    'docker-unreachable',
    'compose-render',
    'container-state',
    'missing-dependency',
    'server-binding',
    'port-mapping',
    'not-mlflow',
    'startup-order',
    'version-mismatch',
    'artifact-routing',
    'mount-sync',
    'mount-path',
    'mount-permission',
    'filestore-corrupt',
    'host-header',
    'proxy-path',
    'tls-mismatch',
    'auth',
    'client-loopback-in-container',
    's3-client-config',
    'server-unreachable',
    'server-error',
    'probe-failed',
];

function applies(rule: CausalRule, cause: Finding, effect: Finding): boolean {
    if (rule.cause !== cause.kind || rule.effect !== effect.kind || cause.id === effect.id)
        return false;
    if (
        rule.scope === 'service' &&
        (cause.service === undefined || cause.service !== effect.service)
    ) {
        return false;
    }
    return rule.when ? rule.when(cause, effect) : true;
}

const maxSeverity = (a: Severity, b: Severity): Severity =>
    SEVERITY_RANK[a] >= SEVERITY_RANK[b] ? a : b;

/**
 * Links causes to effects, marks root causes, raises a cause to the severity of what it caused,
 * and returns the findings with each root followed by its consequences.
 */
type Linked = Finding & { causes: string[]; causedBy: string[] };

export function rankFindings(input: Finding[]): Finding[] {
    const findings: Linked[] = input.map((f) => ({
        ...f,
        causes: [...(f.causes ?? [])],
        causedBy: [...(f.causedBy ?? [])],
    }));
    const byId = new Map(findings.map((f) => [f.id, f]));

    for (const cause of findings) {
        for (const effect of findings) {
            if (!RULES.some((rule) => applies(rule, cause, effect))) continue;
            if (!cause.causes.includes(effect.id)) cause.causes.push(effect.id);
            if (!effect.causedBy.includes(cause.id)) effect.causedBy.push(cause.id);
        }
    }

    // Drop links to findings that are not in this report, and break cycles by keeping the edge
    // from the kind that sits deeper in the stack.
    const order = (f: Finding) => KIND_ORDER.indexOf(f.kind);
    for (const f of findings) {
        f.causes = f.causes.filter((id) => byId.has(id));
        f.causedBy = f.causedBy.filter((id) => {
            const cause = byId.get(id);
            if (!cause) return false;
            const mutual = f.causes.includes(id);
            return !mutual || order(cause) <= order(f);
        });
    }
    for (const f of findings) {
        f.causes = f.causes.filter((id) => byId.get(id)?.causedBy.includes(f.id));
    }

    // Keep only direct links: when A causes B and B causes C, A's own link to C says nothing new.
    for (const f of findings) {
        const via = new Set(f.causes.flatMap((id) => byId.get(id)?.causes ?? []));
        const direct = f.causes.filter((id) => !via.has(id));
        for (const id of f.causes) {
            if (direct.includes(id)) continue;
            const effect = byId.get(id);
            if (effect) effect.causedBy = effect.causedBy.filter((c) => c !== f.id);
        }
        f.causes = direct;
    }

    // A cause is at least as severe as anything it leads to.
    const raise = (f: Linked, seen: Set<string>): Severity => {
        if (seen.has(f.id)) return f.severity;
        seen.add(f.id);
        for (const id of f.causes) {
            const effect = byId.get(id);
            if (effect) f.severity = maxSeverity(f.severity, raise(effect, seen));
        }
        return f.severity;
    };
    for (const f of findings) raise(f, new Set());

    const compare = (a: Finding, b: Finding) =>
        SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] ||
        order(a) - order(b) ||
        a.id.localeCompare(b.id);

    const roots = findings.filter((f) => f.causedBy.length === 0).sort(compare);
    const out: Finding[] = [];
    const placed = new Set<string>();
    const place = (f: Linked, root: boolean) => {
        if (placed.has(f.id)) return;
        placed.add(f.id);
        out.push({
            ...f,
            rootCause: root,
            causes: f.causes.length > 0 ? f.causes : undefined,
            causedBy: f.causedBy.length > 0 ? f.causedBy : undefined,
        });
        const effects = f.causes.flatMap((id) => byId.get(id) ?? []).sort(compare);
        for (const effect of effects) place(effect, false);
    };
    for (const root of roots) place(root, true);
    // Anything left sits in a cycle no rule broke; list it rather than lose it.
    for (const f of findings.sort(compare)) place(f, f.causedBy.length === 0);
    return out;
}
