// Start-up races in a compose project. `depends_on` without a condition only waits until the
// other container has *started*: a database still initialising, MinIO not yet listening or an
// MLflow server still importing its modules all refuse connections at that point. One-shot
// helpers (bucket creators, migrations) must be waited on until they *finish*.

import { parseImageReference } from '../mlflow/serverConfig.js';
import { parseTrackingUri } from '../mlflow/trackingUri.js';
import type {
    ComposeDependency,
    ComposeService,
    DependsOnCondition,
    Finding,
    FixEdit,
    Severity,
    SourceRange,
    StackSnapshot,
} from '../model.js';
import { type Check, makeFinding, nearestComposeLocation } from './check.js';
import { composeService, containerOf, serverServices } from './stackFacts.js';

type Role = 'server' | 'client' | 'init-job';

/** Log lines that show a dependent gave up because its dependency was not ready. */
const NOT_READY_LOG =
    /connection refused|could not connect|can't connect|connect: connection|operation will be retried|is the server running|name or service not known|no route to host/i;

function imageName(service: ComposeService): string {
    const repo = service.image ? parseImageReference(service.image).repository : '';
    return repo.toLowerCase();
}

function lastPart(repo: string): string {
    return repo.slice(repo.lastIndexOf('/') + 1);
}

function runsText(service: ComposeService): string {
    return [...(service.entrypoint ?? []), ...(service.command ?? [])].join(' ');
}

/** A helper that runs once and exits: Compose has to wait for it to finish, not to start. */
export function isOneShotJob(service: ComposeService): boolean {
    const repo = imageName(service);
    if (repo === 'minio/mc' || repo.endsWith('/minio/mc') || lastPart(repo) === 'aws-cli')
        return true;
    const script = runsText(service);
    if (
        /\bmc\s+(mb|alias)\b|\baws\s+(--\S+\s+)*s3(api)?\s+(mb|create-bucket)\b|\bmlflow\s+db\s+upgrade\b/.test(
            script,
        )
    ) {
        return true;
    }
    return /(^|[-_])(init|setup|migrate|migrations|create[-_]?buckets?|make[-_]?bucket)([-_]|$)/i.test(
        service.name,
    );
}

function roleOf(snapshot: StackSnapshot, service: ComposeService): Role | undefined {
    if (serverServices(snapshot).has(service.name)) return 'server';
    if (isOneShotJob(service)) return 'init-job';
    if (typeof service.environment.MLFLOW_TRACKING_URI === 'string') return 'client';
    const said = `${service.name} ${imageName(service)}`;
    if (/notebook|jupyter|train/i.test(said)) return 'client';
    return undefined;
}

/** A healthcheck test that tells when a known kind of service accepts connections. */
function knownHealthTest(snapshot: StackSnapshot, service: ComposeService): string[] | undefined {
    const server = snapshot.serverConfigs.find((c) => c.service === service.name);
    if (server) {
        const prefix = server.staticPrefix ?? '';
        return [
            'CMD',
            'python3',
            '-c',
            `import urllib.request; urllib.request.urlopen('http://localhost:${server.port}${prefix}/health')`,
        ];
    }
    const name = lastPart(imageName(service));
    if (name === 'postgres' || name === 'postgis') {
        const user = service.environment.POSTGRES_USER ?? 'postgres';
        const db = service.environment.POSTGRES_DB;
        return ['CMD-SHELL', `pg_isready -U ${user}${db ? ` -d ${db}` : ''}`];
    }
    if (name === 'mysql') return ['CMD', 'mysqladmin', 'ping', '-h', 'localhost'];
    if (name === 'mariadb') return ['CMD', 'healthcheck.sh', '--connect', '--innodb_initialized'];
    if (name === 'minio') return ['CMD', 'mc', 'ready', 'local'];
    if (name === 'redis') return ['CMD', 'redis-cli', 'ping'];
    return undefined;
}

function hasHealthcheck(service: ComposeService): boolean {
    return (
        service.healthcheck !== undefined &&
        !service.healthcheck.disable &&
        (service.healthcheck.test?.length ?? 0) > 0
    );
}

/** The condition a dependent should wait for, given what the dependency is. */
function wantedCondition(dependency: ComposeService): DependsOnCondition {
    return isOneShotJob(dependency) ? 'service_completed_successfully' : 'service_healthy';
}

// ---------------------------------------------------------------------------------------------
// Edits, planned on the compose file's text so indentation and the rest of the file stay as they are.

interface FileText {
    file: string;
    lines: string[];
    newline: string;
}

function fileText(snapshot: StackSnapshot, file: string): FileText | undefined {
    const text = snapshot.files?.[file];
    if (text === undefined) return undefined;
    return { file, lines: text.split(/\r?\n/), newline: text.includes('\r\n') ? '\r\n' : '\n' };
}

function rangeOf(snapshot: StackSnapshot, key: string): SourceRange | undefined {
    return snapshot.compose?.ranges[key];
}

/** The indentation one level of nesting adds in this file, from a service and its first key. */
function indentStep(snapshot: StackSnapshot, service: string): number {
    const own = rangeOf(snapshot, `services.${service}`);
    const prefix = `services.${service}.`;
    if (!own) return 2;
    // The first key written under the service, in its own file: anchored keys sit elsewhere.
    const child = Object.entries(snapshot.compose?.ranges ?? {})
        .filter(
            ([key, range]) =>
                key.startsWith(prefix) &&
                !key.slice(prefix.length).includes('.') &&
                range.file === own.file &&
                range.line > own.line &&
                range.line <= own.endLine,
        )
        .map(([, range]) => range)
        .sort((a, b) => a.line - b.line)[0];
    const step = child ? child.column - own.column : 2;
    return step > 0 ? step : 2;
}

function yamlFlowList(items: string[]): string {
    return `[${items.map((item) => JSON.stringify(item)).join(', ')}]`;
}

/** The edit giving a dependency the healthcheck we know for its kind, when one can be written. */
function healthcheckEditFor(
    snapshot: StackSnapshot,
    dependency: ComposeService,
): FixEdit | undefined {
    const test = knownHealthTest(snapshot, dependency);
    return test ? addHealthcheckEdit(snapshot, dependency, test) : undefined;
}

/** Inserts a `healthcheck:` block after the last line of the dependency's service mapping. */
function addHealthcheckEdit(
    snapshot: StackSnapshot,
    dependency: ComposeService,
    test: string[],
): FixEdit | undefined {
    const service = rangeOf(snapshot, `services.${dependency.name}`);
    if (!service || service.endLine === service.line) return undefined;
    const text = fileText(snapshot, service.file);
    if (!text) return undefined;
    const step = indentStep(snapshot, dependency.name);
    const indent = ' '.repeat(service.column - 1 + step);
    const inner = indent + ' '.repeat(step);
    const lastLine = text.lines[service.endLine - 1] ?? '';
    const at = { file: service.file, line: service.endLine, column: lastLine.length + 1 };
    const nl = text.newline;
    const block = [
        `${indent}healthcheck:`,
        `${inner}test: ${yamlFlowList(test)}`,
        `${inner}interval: 5s`,
        `${inner}timeout: 5s`,
        `${inner}retries: 20`,
    ].join(nl);
    return {
        file: service.file,
        range: { ...at, endLine: at.line, endColumn: at.column },
        newText: nl + block,
        label: `Add a healthcheck to "${dependency.name}"`,
    };
}

/**
 * Rewrites the dependent's depends_on so the flagged entries wait for `conditions`. A list
 * (`- db`) becomes a mapping, keeping the other entries at `service_started`, which is what the
 * list form means; in a mapping only the one entry's condition changes.
 */
function conditionEdit(
    snapshot: StackSnapshot,
    dependent: ComposeService,
    dep: ComposeDependency,
    conditions: Map<string, DependsOnCondition>,
): FixEdit | undefined {
    const wanted = conditions.get(dep.service);
    if (!wanted) return undefined;
    const label = `Wait for "${dep.service}" with condition: ${wanted}`;
    const listKey = `services.${dependent.name}.depends_on`;
    const step = indentStep(snapshot, dependent.name);

    if (dep.syntax === 'short') {
        const range = rangeOf(snapshot, listKey);
        if (!range || !fileText(snapshot, range.file)) return undefined;
        const entryIndent = ' '.repeat(range.column - 1 + step);
        const conditionIndent = entryIndent + ' '.repeat(step);
        const nl = fileText(snapshot, range.file)?.newline ?? '\n';
        const lines = ['depends_on:'];
        for (const entry of dependent.dependsOn) {
            lines.push(`${entryIndent}${entry.service}:`);
            lines.push(
                `${conditionIndent}condition: ${conditions.get(entry.service) ?? entry.condition}`,
            );
        }
        return { file: range.file, range, newText: lines.join(nl), label };
    }

    const condition = rangeOf(snapshot, `${dep.key}.condition`);
    if (condition)
        return { file: condition.file, range: condition, newText: `condition: ${wanted}`, label };
    const entry = rangeOf(snapshot, dep.key);
    const hasOtherKeys = Object.keys(snapshot.compose?.ranges ?? {}).some((k) =>
        k.startsWith(`${dep.key}.`),
    );
    if (!entry || hasOtherKeys || !fileText(snapshot, entry.file)) return undefined;
    const nl = fileText(snapshot, entry.file)?.newline ?? '\n';
    const conditionIndent = ' '.repeat(entry.column - 1 + step);
    return {
        file: entry.file,
        range: entry,
        newText: `${dep.service}:${nl}${conditionIndent}condition: ${wanted}`,
        label,
    };
}

// ---------------------------------------------------------------------------------------------

function restartRetries(service: ComposeService): boolean {
    return service.restart !== undefined && service.restart !== 'no';
}

/** What the live containers show about the dependent: an exit, and the log lines that explain it. */
function observed(snapshot: StackSnapshot, service: string): string[] {
    const container = containerOf(snapshot, service);
    if (!container) return [];
    const facts: string[] = [];
    if (
        container.state === 'exited' &&
        container.exitCode !== undefined &&
        container.exitCode !== 0
    ) {
        facts.push(`The "${service}" container exited with code ${container.exitCode}.`);
    } else if (container.restartCount > 0) {
        facts.push(`The "${service}" container has restarted ${container.restartCount} times.`);
    }
    const lines = (container.logTail ?? []).filter((line) => NOT_READY_LOG.test(line)).slice(-2);
    for (const line of lines) facts.push(`"${service}" logged: ${line.trim()}`);
    return facts;
}

function where(snapshot: StackSnapshot, key: string): string {
    const range = rangeOf(snapshot, key);
    return range ? `${range.file}:${range.line}` : 'the compose file';
}

function dependencyFindings(
    snapshot: StackSnapshot,
    dependent: ComposeService,
    role: Role,
): Finding[] {
    const findings: Finding[] = [];
    const flagged: {
        dep: ComposeDependency;
        dependency: ComposeService;
        wanted: DependsOnCondition;
    }[] = [];

    for (const dep of dependent.dependsOn) {
        const dependency = composeService(snapshot, dep.service);
        if (!dependency) continue;
        const wanted = wantedCondition(dependency);
        const missingHealthcheck = wanted === 'service_healthy' && !hasHealthcheck(dependency);
        if (dep.condition === wanted && !missingHealthcheck) continue;
        if (dep.condition === 'service_completed_successfully' && wanted === 'service_healthy')
            continue;
        flagged.push({ dep, dependency, wanted });
    }

    // Conditions the edits may set: waiting on a healthcheck that does not exist and that we
    // cannot write would make `docker compose up` refuse to start.
    const conditions = new Map<string, DependsOnCondition>();
    for (const { dep, dependency, wanted } of flagged) {
        if (
            wanted === 'service_completed_successfully' ||
            hasHealthcheck(dependency) ||
            healthcheckEditFor(snapshot, dependency) !== undefined
        ) {
            conditions.set(dep.service, wanted);
        }
    }

    for (const { dep, dependency, wanted } of flagged) {
        const evidence: string[] = [];
        const listed =
            dep.syntax === 'short'
                ? `lists "${dep.service}" without a condition, which means service_started`
                : `sets condition: ${dep.condition}`;
        evidence.push(
            `${where(snapshot, dep.key)}: "${dependent.name}" depends_on ${listed}: Compose waits only until the "${dep.service}" container has started.`,
        );
        const healthTest = knownHealthTest(snapshot, dependency);
        const lacksHealthcheck = wanted === 'service_healthy' && !hasHealthcheck(dependency);
        if (lacksHealthcheck) {
            evidence.push(
                `"${dep.service}" has no healthcheck in ${where(snapshot, `services.${dep.service}`)}, so nothing can wait for it to accept connections.`,
            );
        }
        if (wanted === 'service_completed_successfully') {
            evidence.push(
                `"${dep.service}" is a one-shot job (${dependency.image ?? runsText(dependency)}) that exits when done.`,
            );
        }
        evidence.push(...observed(snapshot, dependent.name), ...observed(snapshot, dep.service));

        const retried = restartRetries(dependent);
        if (retried)
            evidence.push(
                `"${dependent.name}" has restart: ${dependent.restart}, so it retries after a failed start.`,
            );
        const severity: Severity = retried && wanted === 'service_healthy' ? 'info' : 'warning';

        let title: string;
        let fix: string;
        const waitsFor = `depends_on: {${dep.service}: {condition: ${wanted}}}`;
        if (wanted === 'service_completed_successfully') {
            title = `"${dependent.name}" starts before the one-shot job "${dep.service}" has finished`;
            fix = `Make "${dependent.name}" wait until "${dep.service}" has exited successfully: ${waitsFor}.`;
        } else if (dep.condition === 'service_healthy') {
            title = `"${dependent.name}" waits for "${dep.service}" to be healthy, but "${dep.service}" has no healthcheck`;
            fix =
                `Add a healthcheck to "${dep.service}"` +
                (healthTest
                    ? ` (test: ${yamlFlowList(healthTest)})`
                    : ' that succeeds once it accepts connections') +
                '; without one, Compose cannot tell when it is healthy.';
        } else {
            title =
                role === 'server'
                    ? `The MLflow server "${dependent.name}" may start before "${dep.service}" is ready`
                    : `"${dependent.name}" may start before "${dep.service}" is ready`;
            const addHealth = lacksHealthcheck
                ? `Give "${dep.service}" a healthcheck` +
                  (healthTest
                      ? ` (test: ${yamlFlowList(healthTest)})`
                      : ' that succeeds once it accepts connections') +
                  ', then make '
                : 'Make ';
            fix = `${addHealth}"${dependent.name}" wait for it: ${waitsFor}, so Compose starts "${dependent.name}" only once the healthcheck passes.`;
        }
        if (!retried && wanted === 'service_healthy' && role === 'server') {
            fix += ` Optionally add restart: unless-stopped to "${dependent.name}" so it recovers from a slow start.`;
        }

        const edits: FixEdit[] = [];
        if (lacksHealthcheck && healthTest) {
            const health = addHealthcheckEdit(snapshot, dependency, healthTest);
            if (health) edits.push(health);
        }
        if (dep.condition !== wanted) {
            const rewrite = conditionEdit(snapshot, dependent, dep, conditions);
            if (rewrite) edits.push(rewrite);
        }
        const location = nearestComposeLocation(snapshot, dep.key);
        findings.push(
            makeFinding(`${dependent.name}->${dep.service}`, {
                kind: 'startup-order',
                severity,
                title,
                evidence,
                fix,
                locations: location ? [location] : [],
                ...(edits.length > 0 ? { edits } : {}),
                service: dependent.name,
            }),
        );
    }
    return findings;
}

/** A client whose tracking URI names a compose server it does not wait for at all. */
function unorderedClientFinding(
    snapshot: StackSnapshot,
    client: ComposeService,
): Finding | undefined {
    const uri = client.environment.MLFLOW_TRACKING_URI;
    if (typeof uri !== 'string') return undefined;
    const host = parseTrackingUri(uri).host;
    const server = snapshot.compose?.services.find(
        (s) =>
            serverServices(snapshot).has(s.name) && (s.name === host || s.containerName === host),
    );
    if (!server || server.name === client.name) return undefined;
    if (client.dependsOn.some((d) => d.service === server.name)) return undefined;

    const uriKey = `services.${client.name}.environment.MLFLOW_TRACKING_URI`;
    const evidence = [
        `${where(snapshot, uriKey)}: "${client.name}" uses MLFLOW_TRACKING_URI=${uri}, the "${server.name}" service.`,
        `"${client.name}" has no depends_on entry for "${server.name}", so Compose may start it first.`,
        ...observed(snapshot, client.name),
    ];
    const edits: FixEdit[] = [];
    const healthTest = hasHealthcheck(server) ? undefined : knownHealthTest(snapshot, server);
    if (healthTest) {
        const health = addHealthcheckEdit(snapshot, server, healthTest);
        if (health) edits.push(health);
    }
    const insert = addDependsOnEdit(snapshot, client, server.name);
    if (insert && (hasHealthcheck(server) || edits.length > 0)) edits.push(insert);
    else edits.length = 0;
    const location = nearestComposeLocation(snapshot, `services.${client.name}.depends_on`);
    return makeFinding(`${client.name}->${server.name}`, {
        kind: 'startup-order',
        severity: 'info',
        title: `"${client.name}" does not wait for the MLflow server "${server.name}"`,
        evidence,
        fix:
            (hasHealthcheck(server)
                ? ''
                : `Give "${server.name}" a healthcheck on /health, then add `) +
            (hasHealthcheck(server) ? 'Add ' : '') +
            `depends_on: {${server.name}: {condition: service_healthy}} to "${client.name}", so its first request does not meet a refused connection.`,
        locations: location ? [location] : [],
        ...(edits.length > 0 ? { edits } : {}),
        service: client.name,
    });
}

/** Appends a `depends_on:` mapping to a service that has none. */
function addDependsOnEdit(
    snapshot: StackSnapshot,
    service: ComposeService,
    on: string,
): FixEdit | undefined {
    const range = rangeOf(snapshot, `services.${service.name}`);
    if (!range || range.endLine === range.line) return undefined;
    const text = fileText(snapshot, range.file);
    if (!text) return undefined;
    const step = indentStep(snapshot, service.name);
    const indent = ' '.repeat(range.column - 1 + step);
    const lastLine = text.lines[range.endLine - 1] ?? '';
    const at = { file: range.file, line: range.endLine, column: lastLine.length + 1 };
    const nl = text.newline;
    const block = [
        `${indent}depends_on:`,
        `${indent}${' '.repeat(step)}${on}:`,
        `${indent}${' '.repeat(step * 2)}condition: service_healthy`,
    ].join(nl);
    return {
        file: range.file,
        range: { ...at, endLine: at.line, endColumn: at.column },
        newText: nl + block,
        label: `Wait for "${on}" to be healthy`,
    };
}

export const startupOrderCheck: Check = {
    name: 'startup-order',
    run(snapshot) {
        const findings: Finding[] = [];
        for (const service of snapshot.compose?.services ?? []) {
            const role = roleOf(snapshot, service);
            if (!role) continue;
            findings.push(...dependencyFindings(snapshot, service, role));
            if (role === 'client') {
                const unordered = unorderedClientFinding(snapshot, service);
                if (unordered) findings.push(unordered);
            }
        }
        return findings;
    },
};
