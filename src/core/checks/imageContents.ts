// What the server's image must contain for its own command to work: the database driver its
// backend URI names, the SDK of the object store it proxies artifacts to, Flask-WTF for the
// basic-auth app. The official image ships none of them (mlflow-facts.md §1.5). Also: a
// Dockerfile that re-installs `mlflow` without a pin over an MLflow base image.

import path from 'node:path';
import {
    basePackagesOf,
    dockerfilePackages,
    hasPackage,
    type ImagePackages,
    scriptPipPackages,
} from '../mlflow/imagePackages.js';
import { parseImageReference, versionFromTag } from '../mlflow/serverConfig.js';
import { isAtLeast } from '../mlflow/versions.js';
import type { Finding, FindingLocation, FixEdit, ServerConfig, StackSnapshot } from '../model.js';
import { replaceOnKeyLine, replaceOnLine } from './commandEdits.js';
import { type Check, makeFinding, nearestComposeLocation, serverFieldLocation } from './check.js';
import { composeService, logLines } from './stackFacts.js';

/** A package the command needs, the names that provide it and the module it imports. */
interface Need {
    /** What pip installs, as the fix names it. */
    install: string;
    /** Distributions any of which provide the module. */
    provides: string[];
    /** The top-level module the server imports (as `No module named '<module>'` names it). */
    modules: string[];
    /** What in the command asks for it, with its value. */
    why: string;
    /** The same in a few words, for the title. */
    asks: string;
    field: keyof ServerConfig['keys'];
    /** `error` when the server cannot start or serve its main routes without it. */
    severity: 'error' | 'warning';
}

const SCHEMES: {
    pattern: RegExp;
    install: string;
    provides: string[];
    modules: string[];
    backend?: boolean;
}[] = [
    {
        pattern: /^postgres(ql)?(\+psycopg2)?:\/\//i,
        install: 'psycopg2-binary',
        provides: ['psycopg2', 'psycopg2-binary'],
        modules: ['psycopg2'],
        backend: true,
    },
    {
        pattern: /^postgres(ql)?\+psycopg:\/\//i,
        install: 'psycopg[binary]',
        provides: ['psycopg', 'psycopg-binary'],
        modules: ['psycopg'],
        backend: true,
    },
    {
        pattern: /^mysql\+pymysql:\/\//i,
        install: 'PyMySQL',
        provides: ['pymysql'],
        modules: ['pymysql'],
        backend: true,
    },
    {
        // SQLAlchemy's default MySQL driver is mysqlclient (MySQLdb), not PyMySQL.
        pattern: /^mysql(\+mysqldb)?:\/\//i,
        install: 'mysqlclient',
        provides: ['mysqlclient'],
        modules: ['MySQLdb'],
        backend: true,
    },
    {
        pattern: /^mssql\+pymssql:\/\//i,
        install: 'pymssql',
        provides: ['pymssql'],
        modules: ['pymssql'],
        backend: true,
    },
    {
        pattern: /^mssql(\+pyodbc)?:\/\//i,
        install: 'pyodbc',
        provides: ['pyodbc'],
        modules: ['pyodbc'],
        backend: true,
    },
    {
        pattern: /^s3:\/\//i,
        install: 'boto3',
        provides: ['boto3'],
        modules: ['boto3', 'botocore'],
    },
    {
        pattern: /^gs:\/\//i,
        install: 'google-cloud-storage',
        provides: ['google-cloud-storage'],
        modules: ['google.cloud', 'google'],
    },
    {
        pattern: /^wasbs?:\/\//i,
        install: 'azure-storage-blob azure-identity',
        provides: ['azure-storage-blob'],
        modules: ['azure.storage', 'azure'],
    },
];

function needsOf(config: ServerConfig, servesArtifacts: boolean): Need[] {
    const needs: Need[] = [];
    const add = (uri: string | undefined, field: Need['field'], flag: string) => {
        if (!uri) return;
        const scheme = SCHEMES.find((s) => s.pattern.test(uri));
        if (!scheme) return;
        const where = uri.replace(/(\/\/[^:@/]+):[^@/]*@/, '$1:***@');
        const kind = /^[a-z][a-z0-9]*/i.exec(uri)?.[0] ?? '';
        const severity = scheme.backend || field === 'artifactsDestination' ? 'error' : 'warning';
        needs.push({
            install: scheme.install,
            provides: scheme.provides,
            modules: scheme.modules,
            why:
                field === 'defaultArtifactRoot'
                    ? `${flag} ${where}: the server opens that store to list and serve artifacts in the UI`
                    : `${flag} ${where}`,
            asks:
                field === 'backendStoreUri'
                    ? `its ${kind}:// backend store`
                    : field === 'artifactsDestination'
                      ? `its ${kind}:// artifact destination`
                      : `its ${kind}:// artifact root`,
            field,
            severity,
        });
    };
    add(config.backendStoreUri, 'backendStoreUri', '--backend-store-uri');
    if (servesArtifacts)
        add(config.artifactsDestination, 'artifactsDestination', '--artifacts-destination');
    add(config.defaultArtifactRoot, 'defaultArtifactRoot', '--default-artifact-root');
    if (config.appName === 'basic-auth') {
        needs.push({
            install: 'Flask-WTF',
            provides: ['flask-wtf'],
            modules: ['flask_wtf'],
            why: '--app-name basic-auth (the auth extra, mlflow[auth])',
            asks: 'the basic-auth app',
            field: 'appName',
            severity: 'error',
        });
    }
    return needs;
}

/** The compose service's Dockerfile, relative to the diagnosed folder. */
function buildDockerfile(snapshot: StackSnapshot, service: string): string | undefined {
    const build = composeService(snapshot, service)?.build;
    if (!build) return undefined;
    const context = path.resolve(snapshot.compose?.workingDir ?? snapshot.folder, build.context);
    const file = path.resolve(context, build.dockerfile ?? 'Dockerfile');
    return path.relative(snapshot.folder, file).split(path.sep).join('/');
}

interface ImageView extends ImagePackages {
    /** The Dockerfile that builds it, when one does. */
    dockerfile?: string;
    /** The image reference a compose service uses directly. */
    image?: string;
}

/** What the server's image holds, as far as the files say. */
function imageOf(snapshot: StackSnapshot, config: ServerConfig): ImageView | undefined {
    const service = composeService(snapshot, config.service);
    const empty = { added: [], unpinnedMlflow: [], requirementFiles: [] };
    let view: ImageView | undefined;
    if (service) {
        const dockerfile = buildDockerfile(snapshot, config.service);
        const text = dockerfile ? snapshot.files?.[dockerfile] : undefined;
        if (dockerfile && text !== undefined) view = { ...dockerfilePackages(text), dockerfile };
        else if (service.image && !service.build)
            view = { ...basePackagesOf(service.image), ...empty, image: service.image };
        // `sh -c "pip install psycopg2-binary && mlflow server ..."` installs at start-up.
        const script = [...(service.entrypoint ?? []), ...(service.command ?? [])];
        const started = script.flatMap((word) => (/pip/.test(word) ? scriptPipPackages(word) : []));
        const direct = scriptPipPackages(script.join(' '));
        if (view) view.added.push(...started, ...direct);
        return view;
    }
    const written = config.written;
    if (!written) return undefined;
    const dockerfile = /Dockerfile/i.test(written.file) ? written.file : undefined;
    const text = dockerfile ? snapshot.files?.[dockerfile] : undefined;
    if (dockerfile && text !== undefined) view = { ...dockerfilePackages(text), dockerfile };
    else if (written.image) view = { ...basePackagesOf(written.image), ...empty };
    if (view) view.added.push(...(written.pipPackages ?? []));
    return view;
}

/** `No module named 'psycopg2'` lines of the server's container. */
function missingModuleLines(snapshot: StackSnapshot, config: ServerConfig, need: Need): string[] {
    return logLines(snapshot, config.service, /No module named/).filter((line) =>
        need.modules.some((m) => line.includes(`'${m}'`) || line.includes(`'${m}.`)),
    );
}

/** An edit that adds the package to the Dockerfile line that pip installs mlflow. */
function dockerfileEdit(
    snapshot: StackSnapshot,
    dockerfile: string | undefined,
    install: string,
): FixEdit | undefined {
    const text = dockerfile ? snapshot.files?.[dockerfile] : undefined;
    if (!dockerfile || text === undefined) return undefined;
    const lines = text.split(/\r?\n/);
    const at = lines.findIndex((l) => /pip3? install\b.*\bmlflow\b/.test(l));
    if (at < 0) return undefined;
    const word = /\bpip3? install\b/.exec(lines[at] ?? '')?.[0] ?? 'pip install';
    return replaceOnLine(
        snapshot,
        dockerfile,
        at + 1,
        word,
        `${word} ${install}`,
        `Install ${install} in the image`,
    );
}

/** The official image's `-full` variant has the drivers and SDKs (versioned tags: 3.10.0+). */
function fullTagEdit(snapshot: StackSnapshot, config: ServerConfig, image: string) {
    const ref = parseImageReference(image);
    const version = versionFromTag(ref.tag);
    if (!ref.tag || /-full$/.test(ref.tag) || !version || !isAtLeast(version, '3.10.0'))
        return undefined;
    if (!/(^|\/)mlflow\/mlflow$/.test(ref.repository)) return undefined;
    return replaceOnKeyLine(
        snapshot,
        `services.${config.service}.image`,
        `:${ref.tag}`,
        `:${ref.tag}-full`,
        `Use ${ref.repository}:${ref.tag}-full, which has the drivers`,
    );
}

function locationsFor(
    snapshot: StackSnapshot,
    config: ServerConfig,
    need: Need,
    view: ImageView | undefined,
): FindingLocation[] {
    const out: FindingLocation[] = [];
    const service = composeService(snapshot, config.service);
    if (service) {
        const image = nearestComposeLocation(
            snapshot,
            `services.${config.service}.${service.build ? 'build' : 'image'}`,
        );
        if (image) out.push(image);
    }
    const flag = serverFieldLocation(snapshot, config, need.field);
    if (flag) out.push(flag);
    if (view?.dockerfile && !out.some((l) => l.file === view.dockerfile)) {
        const text = snapshot.files?.[view.dockerfile] ?? '';
        const lines = text.split(/\r?\n/);
        let from = 0;
        lines.forEach((l, i) => {
            if (/^\s*FROM\b/i.test(l)) from = i;
        });
        out.push({
            file: view.dockerfile,
            line: from + 1,
            column: 1,
            endLine: from + 1,
            endColumn: (lines[from] ?? '').length + 1,
            key: 'FROM',
        });
    }
    return out;
}

function missingFinding(
    snapshot: StackSnapshot,
    config: ServerConfig,
    need: Need,
    view: ImageView | undefined,
): Finding | undefined {
    const proof = missingModuleLines(snapshot, config, need);
    const verdict = view ? hasPackage(view, need.provides) : 'unknown';
    if (verdict === 'yes' && proof.length === 0) return undefined;
    if (verdict === 'unknown' && proof.length === 0) return undefined;

    const image = view?.dockerfile ?? view?.image ?? config.written?.image ?? 'the image';
    const evidence = [`The server command asks for ${need.install}: ${need.why}.`];
    if (view && verdict === 'no') {
        evidence.push(
            view.dockerfile
                ? `${view.dockerfile} builds on ${view.base || 'its base image'} and pip installs ${view.added.length > 0 ? view.added.join(', ') : 'nothing'}; none of it provides ${need.install}.`
                : `${view.base} has only MLflow itself: the official image ships no database drivers, object-store SDKs or auth extras.`,
        );
    }
    evidence.push(...proof.slice(-2).map((line) => `Server log: ${line.trim()}`));

    const pipLine = `RUN pip install --no-cache-dir ${need.install}`;
    const fix = view?.dockerfile
        ? `Install ${need.install} in ${view.dockerfile} (add it to the pip install line: ${pipLine}) and rebuild.`
        : `Build a derived image: a Dockerfile with FROM ${view?.base || image} and ${pipLine}, used through build: (or docker build) in place of the plain image. ` +
          `A start-up install also works: sh -c "pip install ${need.install} && exec mlflow server ...", but it downloads on every start.` +
          (need.field === 'backendStoreUri' || need.field === 'artifactsDestination'
              ? ' From 3.10.0 the official <version>-full images include the database drivers and boto3.'
              : '');
    const edit =
        dockerfileEdit(snapshot, view?.dockerfile, need.install) ??
        (view?.image ? fullTagEdit(snapshot, config, view.image) : undefined);
    return makeFinding(`${config.service}:${need.install}`, {
        kind: 'missing-dependency',
        severity: proof.length > 0 ? 'error' : need.severity,
        title: `The server image has no ${need.install} for ${need.asks}`,
        evidence,
        fix,
        locations: locationsFor(snapshot, config, need, view),
        edits: edit ? [edit] : undefined,
        service: config.service,
    });
}

/**
 * `pip install "mlflow[auth]"` without a pin on top of an MLflow image: pip keeps the image's
 * version only while nothing forces an upgrade, and `-U` or a conflicting dependency installs
 * the newest release instead of the one the tag promises.
 */
function unpinnedReinstall(
    snapshot: StackSnapshot,
    config: ServerConfig,
    view: ImageView | undefined,
): Finding | undefined {
    if (!view?.dockerfile || view.unpinnedMlflow.length === 0) return undefined;
    const ref = parseImageReference(view.base);
    const version = /(^|\/)mlflow\/mlflow$/.test(ref.repository)
        ? versionFromTag(ref.tag)
        : undefined;
    if (!version) return undefined;
    const first = view.unpinnedMlflow[0];
    if (!first) return undefined;
    const pinned = `${first.word}==${version}`;
    const text = snapshot.files?.[view.dockerfile]?.split(/\r?\n/)[first.line - 1] ?? '';
    const edit = replaceOnLine(
        snapshot,
        view.dockerfile,
        first.line,
        first.word,
        pinned,
        `Pin ${pinned}`,
    );
    return makeFinding(`${config.service}:unpinned-mlflow`, {
        kind: 'version-mismatch',
        severity: 'warning',
        title: `${view.dockerfile} re-installs ${first.word} without a version over MLflow ${version}`,
        evidence: [
            `${view.dockerfile} starts FROM ${view.base} (MLflow ${version}).`,
            `${view.dockerfile}:${first.line}: ${text.trim()}`,
            'An unpinned requirement lets pip pick another release (with -U, or when a dependency conflicts), so the server may not run the version the tag says.',
        ],
        fix: `Pin it to the base image's version: pip install "${pinned}".`,
        locations: [
            {
                file: view.dockerfile,
                line: first.line,
                column: 1,
                endLine: first.line,
                endColumn: text.length + 1,
                key: 'RUN',
            },
        ],
        edits: edit ? [edit] : undefined,
        service: config.service,
    });
}

/** Serving is on unless turned off (the default flipped to on in 2.0). */
function servesArtifacts(config: ServerConfig): boolean {
    if (config.serveArtifacts !== undefined) return config.serveArtifacts;
    const version = config.declaredVersion?.version;
    return version === undefined || isAtLeast(version, '2.0.0');
}

export const imageContentsCheck: Check = {
    name: 'image-contents',
    run(snapshot) {
        const findings: Finding[] = [];
        for (const config of snapshot.serverConfigs) {
            const view = imageOf(snapshot, config);
            for (const need of needsOf(config, servesArtifacts(config))) {
                const finding = missingFinding(snapshot, config, need, view);
                if (finding) findings.push(finding);
            }
            const unpinned = unpinnedReinstall(snapshot, config, view);
            if (unpinned) findings.push(unpinned);
        }
        return findings;
    },
};
