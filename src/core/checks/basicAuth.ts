// MLflow's basic-auth app (`--app-name basic-auth`): the admin it creates from the packaged
// basic_auth.ini (whose default password changed in 2.22.0), where it keeps its user database
// (a relative sqlite file in the server's working directory unless configured), the Flask
// secret key 2.20.2+ refuses to start without, the 3.3.x uvicorn bug, and passwords written
// into client code (mlflow-facts.md §5.1, §6.2).

import path from 'node:path';
import { isAtLeast, isBefore } from '../mlflow/versions.js';
import type { Finding, FindingLocation, ServerConfig, StackSnapshot } from '../model.js';
import { type Check, makeFinding, nearestComposeLocation, serverFieldLocation } from './check.js';
import { composeService } from './stackFacts.js';
import { serverVersionOf } from './versionParity.js';

const DEFAULT_DB = 'sqlite:///basic_auth.db';

function defaultAdmin(version: string | undefined): string {
    if (!version) return 'admin / password1234 (2.22.0 and later; admin / password before)';
    return isAtLeast(version, '2.22.0') ? 'admin / password1234' : 'admin / password';
}

/** `database_uri` from an ini text, when it sets one. */
export function iniDatabaseUri(text: string): string | undefined {
    return /^\s*database_uri\s*=\s*(\S.*?)\s*$/m.exec(text)?.[1];
}

/** The workspace file a container path comes from through a bind mount, when one does. */
function hostFileOf(snapshot: StackSnapshot, service: string, containerPath: string) {
    for (const v of composeService(snapshot, service)?.volumes ?? []) {
        if (v.type !== 'bind' || !v.hostPath) continue;
        const target = v.target.replace(/\/+$/, '');
        if (containerPath !== target && !containerPath.startsWith(`${target}/`)) continue;
        const abs = path.join(v.hostPath, containerPath.slice(target.length));
        const rel = path.relative(snapshot.folder, abs).split(path.sep).join('/');
        return rel.startsWith('..') ? undefined : rel;
    }
    return undefined;
}

/** The container path a sqlite URI's file resolves to, from the working directory. */
function sqlitePath(uri: string, workingDir: string): string | undefined {
    const m = /^sqlite:\/\/\/(.*)$/.exec(uri);
    if (!m) return undefined;
    const file = m[1] ?? '';
    return file.startsWith('/') ? file : path.posix.join(workingDir, file);
}

function authFindings(snapshot: StackSnapshot, config: ServerConfig): Finding[] {
    const findings: Finding[] = [];
    const service = composeService(snapshot, config.service);
    const env = service?.environment ?? {};
    const version = serverVersionOf(snapshot, config)?.version;
    const commandAt = serverFieldLocation(snapshot, config, 'appName', '--app-name');
    const serviceAt = service
        ? nearestComposeLocation(snapshot, `services.${config.service}`)
        : commandAt;
    const configPath = env.MLFLOW_AUTH_CONFIG_PATH ?? undefined;
    const iniFile = configPath ? hostFileOf(snapshot, config.service, configPath) : undefined;
    const iniText = iniFile ? snapshot.files?.[iniFile] : undefined;

    if (!configPath) {
        findings.push(
            makeFinding(`${config.service}:default-admin`, {
                kind: 'auth',
                severity: 'info',
                title: `Basic auth creates its admin from the packaged basic_auth.ini: ${defaultAdmin(version)}`,
                evidence: [
                    `The server runs --app-name basic-auth${version ? ` on MLflow ${version}` : ''} without MLFLOW_AUTH_CONFIG_PATH.`,
                    'The packaged basic_auth.ini sets admin_username admin and admin_password password before 2.22.0, password1234 from 2.22.0 (8 characters at least); documentation examples often show the old one.',
                    'The admin is created only when the auth database is new: an existing database keeps the passwords it already has.',
                ],
                fix:
                    'Ship your own ini and point MLFLOW_AUTH_CONFIG_PATH at it (mount it read-only), with [mlflow] ' +
                    'default_permission, database_uri (a path on a volume, for example sqlite:////mlflow/basic_auth.db), ' +
                    'admin_username and admin_password; then change the admin password through the API. Clients send ' +
                    'MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD from their environment.',
                locations: commandAt ? [commandAt] : [],
                service: config.service,
            }),
        );
    }

    // Where the user database lives: it must outlive the container.
    const databaseUri = iniText
        ? (iniDatabaseUri(iniText) ?? DEFAULT_DB)
        : configPath
          ? undefined
          : DEFAULT_DB;
    const workingDir = service?.workingDir ?? '/';
    const dbPath = databaseUri ? sqlitePath(databaseUri, workingDir) : undefined;
    const persisted = dbPath
        ? (service?.volumes ?? []).some((v) => {
              const target = v.target.replace(/\/+$/, '');
              return dbPath === target || dbPath.startsWith(`${target}/`);
          })
        : true;
    if (databaseUri && dbPath && !persisted) {
        const volumes = (service?.volumes ?? []).map((v) => v.target);
        findings.push(
            makeFinding(`${config.service}:auth-db`, {
                kind: 'auth',
                severity: 'warning',
                title: `The basic-auth user database ${databaseUri} is not on a volume: users and passwords vanish when the container is recreated`,
                evidence: [
                    iniFile
                        ? `${iniFile} sets database_uri = ${databaseUri}.`
                        : `Without MLFLOW_AUTH_CONFIG_PATH the packaged basic_auth.ini sets database_uri = ${DEFAULT_DB}, relative to the server's working directory.`,
                    `In the container that is ${dbPath} (working directory ${workingDir}).`,
                    volumes.length > 0
                        ? `"${config.service}" keeps only ${volumes.join(', ')} on volumes.`
                        : `"${config.service}" mounts no volume.`,
                ],
                fix:
                    `Set database_uri in your auth ini (MLFLOW_AUTH_CONFIG_PATH) to a file on the server's volume, for example ` +
                    `sqlite:///${volumes[0] ?? '/mlflow'}/basic_auth.db, or a table in the backend database. An old basic_auth.db ` +
                    'kept elsewhere also keeps its old passwords, which is why a freshly documented password may be refused.',
                locations: serviceAt ? [serviceAt] : [],
                service: config.service,
            }),
        );
    }

    if (version && isAtLeast(version, '2.20.2') && !env.MLFLOW_FLASK_SERVER_SECRET_KEY) {
        const missing = snapshot.compose?.missingVariables?.some(
            (v) =>
                v.key === `services.${config.service}.environment.MLFLOW_FLASK_SERVER_SECRET_KEY`,
        );
        findings.push(
            makeFinding(`${config.service}:secret-key`, {
                kind: 'auth',
                severity: 'error',
                title: 'Basic auth needs MLFLOW_FLASK_SERVER_SECRET_KEY from MLflow 2.20.2 on; the server will not start without it',
                evidence: [
                    missing
                        ? 'MLFLOW_FLASK_SERVER_SECRET_KEY is interpolated from a variable that is set nowhere, so it renders empty.'
                        : `"${config.service}" sets no MLFLOW_FLASK_SERVER_SECRET_KEY.`,
                    'Start-up fails with "A static secret key needs to be set for CSRF protection".',
                ],
                fix: 'Set MLFLOW_FLASK_SERVER_SECRET_KEY on the server to a long random value kept outside the repository (an env_file or a secret), the same value for every worker and replica.',
                locations: serviceAt ? [serviceAt] : [],
                service: config.service,
            }),
        );
    }

    if (
        version &&
        isAtLeast(version, '3.3.0') &&
        isBefore(version, '3.4.0') &&
        !config.gunicornOpts
    ) {
        findings.push(
            makeFinding(`${config.service}:auth-uvicorn`, {
                kind: 'auth',
                severity: 'error',
                title: `Basic auth on MLflow ${version} under uvicorn answers HTTP 500 on / and /health`,
                evidence: [
                    `MLflow 3.3.x runs uvicorn by default, and its basic-auth app fails there with "missing 1 required positional argument: 'start_response'" (fixed in 3.4.0).`,
                ],
                fix: 'Upgrade the server to 3.4.0 or later, or run it with --gunicorn-opts (the Flask app) until then.',
                locations: commandAt ? [commandAt] : [],
                service: config.service,
            }),
        );
    }
    return findings;
}

const PASSWORD_IN_CODE =
    /(MLFLOW_TRACKING_PASSWORD|MLFLOW_TRACKING_TOKEN)["']?\s*\]?\s*(?:=|:|,)\s*["']([^"'\s$][^"']*)["']/;

/** A password or token written into client code, with its value masked. */
function credentialsInCode(snapshot: StackSnapshot): Finding[] {
    const findings: Finding[] = [];
    for (const [file, text] of Object.entries(snapshot.files ?? {})) {
        if (!/\.(py|ipynb)$/.test(file)) continue;
        const lines = text.split(/\r?\n/);
        lines.forEach((line, i) => {
            const m = PASSWORD_IN_CODE.exec(line);
            if (!m) return;
            const name = m[1] ?? '';
            const value = m[2] ?? '';
            const masked = `${value.slice(0, 1)}${'*'.repeat(Math.max(3, value.length - 1))}`;
            const at: FindingLocation = {
                file,
                line: i + 1,
                column: (m.index ?? 0) + 1,
                endLine: i + 1,
                endColumn: line.length + 1,
                key: name,
            };
            findings.push(
                makeFinding(`${file}:${i + 1}:credential`, {
                    kind: 'auth',
                    severity: 'warning',
                    title: `${file} writes ${name} into the code`,
                    evidence: [`${file}:${i + 1} sets ${name} to "${masked}" (masked).`],
                    fix: `Remove the value from ${file} and set ${name} in the environment that runs it (a git-ignored .env or a secret store); rotate it if this file was ever committed.`,
                    locations: [at],
                }),
            );
        });
    }
    return findings;
}

// Not yet: clients of a basic-auth server that set no MLFLOW_TRACKING_USERNAME/PASSWORD are not
// reported before they get their 401.
export const basicAuthCheck: Check = {
    name: 'basic-auth',
    run(snapshot) {
        const findings = snapshot.serverConfigs
            .filter((c) => c.appName === 'basic-auth')
            .flatMap((c) => authFindings(snapshot, c));
        return [...findings, ...credentialsInCode(snapshot)];
    },
};
