import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
    findComposeFiles,
    interpolate,
    loadComposeProject,
    parseDotenv,
    parseShortPort,
    parseShortVolume,
    scriptCommands,
    shellSplit,
} from '../../src/core/compose/index.js';
import type { ComposeProject, ComposeService } from '../../src/core/model.js';
import { casesFolder } from '../fixtures/compose/sharedCases.js';

const FIXTURES = path.resolve(process.cwd(), 'test/fixtures/compose');

const scratch: string[] = [];
after(() => {
    for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

function folderWith(files: Record<string, string>): string {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'compose-test-'));
    scratch.push(dir);
    for (const [name, text] of Object.entries(files)) {
        mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
        writeFileSync(path.join(dir, name), text);
    }
    return dir;
}

async function render(
    yaml: string,
    env: Record<string, string> = {},
    extra: Record<string, string> = {},
) {
    const dir = folderWith({ 'compose.yaml': yaml, ...extra });
    const loaded = await loadComposeProject(dir, { env });
    return { dir, ...loaded };
}

function service(project: ComposeProject | undefined, name: string): ComposeService {
    const found = project?.services.find((s) => s.name === name);
    assert.ok(found, `service ${name} rendered`);
    return found;
}

void describe('interpolate', () => {
    const vars = { SET: 'value', EMPTY: '' };

    void test('substitutes $VAR and ${VAR}', () => {
        assert.equal(interpolate('a $SET b ${SET}c', vars).value, 'a value b valuec');
    });

    void test('renders an unset variable empty and records it as missing', () => {
        const result = interpolate('x${NOPE}y$ALSO_NOT', vars);
        assert.equal(result.value, 'xy');
        assert.deepEqual(result.missing, ['NOPE', 'ALSO_NOT']);
    });

    void test('applies :- to unset and empty values, - only to unset ones', () => {
        assert.equal(
            interpolate('${EMPTY:-d}|${EMPTY-d}|${NOPE-d}|${SET:-d}', vars).value,
            'd||d|value',
        );
    });

    void test('applies :+ to set non-empty values, + to any set value', () => {
        assert.equal(
            interpolate('${SET:+alt}|${EMPTY:+alt}|${EMPTY+alt}|${NOPE+alt}', vars).value,
            'alt||alt|',
        );
    });

    void test('reports ${VAR:?err} and ${VAR?err} failures with their message', () => {
        const result = interpolate('${NOPE:?set NOPE first}', vars);
        assert.equal(result.errors.length, 1);
        assert.match(result.errors[0] ?? '', /NOPE.*set NOPE first/);
        assert.equal(interpolate('${EMPTY?x}', vars).errors.length, 0);
        assert.equal(interpolate('${EMPTY:?x}', vars).errors.length, 1);
    });

    void test('resolves nested defaults', () => {
        assert.equal(interpolate('${NOPE:-${ALSO:-${SET}}}', vars).value, 'value');
        assert.equal(interpolate('${NOPE:-http://${SET}:5000}', vars).value, 'http://value:5000');
    });

    void test('turns $$ into a literal $ and leaves a lone $ alone', () => {
        assert.equal(interpolate('$$SET costs $5 and $', vars).value, '$SET costs $5 and $');
    });

    void test('reports an unclosed or malformed brace without throwing', () => {
        assert.equal(interpolate('${SET', vars).errors.length, 1);
        assert.equal(interpolate('${1BAD}', vars).errors.length, 1);
    });
});

void describe('parseDotenv', () => {
    void test('reads export, quotes, comments and substitution like Compose', () => {
        const result = parseDotenv(
            [
                '# comment',
                'export A=1',
                'B="two words # kept" ',
                "C='${A} literal'",
                'D=${A}-x # dropped',
                'E="line\\nbreak"',
                'F=',
                'G="multi',
                'line"',
                'BARE',
            ].join('\n'),
        );
        assert.deepEqual(result.values, {
            A: '1',
            B: 'two words # kept',
            C: '${A} literal',
            D: '1-x',
            E: 'line\nbreak',
            F: '',
            G: 'multi\nline',
        });
        assert.deepEqual(result.bare, ['BARE']);
        assert.equal(result.lines.D, 5);
    });

    void test('lets the outer environment win when a value refers to a variable', () => {
        const result = parseDotenv('A=file\nB=${A}', { A: 'shell' });
        assert.equal(result.values.B, 'shell');
    });

    void test('reports an unterminated quote', () => {
        assert.equal(parseDotenv('A="open').problems.length, 1);
    });
});

void describe('shellSplit', () => {
    void test('splits on whitespace and newlines, honouring quotes and backslashes', () => {
        assert.deepEqual(shellSplit(`a "b c" 'd e' f\\ g\nh`), ['a', 'b c', 'd e', 'f g', 'h']);
        assert.deepEqual(shellSplit(`"a\\"b" 'x\\y' ""`), ['a"b', 'x\\y', '']);
    });

    void test('keeps shell operators as words, since Compose runs no shell', () => {
        assert.deepEqual(shellSplit('pip install x && mlflow server'), [
            'pip',
            'install',
            'x',
            '&&',
            'mlflow',
            'server',
        ]);
    });

    void test('splits a script into its simple commands', () => {
        assert.deepEqual(
            scriptCommands('pip install "mlflow==2.9.2"&&mlflow server --port 5000; echo "a;b"'),
            [
                ['pip', 'install', 'mlflow==2.9.2'],
                ['mlflow', 'server', '--port', '5000'],
                ['echo', 'a;b'],
            ],
        );
    });
});

void describe('short port and volume syntax', () => {
    void test('reads host ip, published port, target and protocol', () => {
        assert.deepEqual(parseShortPort('127.0.0.1:5000:5000/tcp', 'k'), [
            { target: 5000, protocol: 'tcp', key: 'k', published: '5000', hostIp: '127.0.0.1' },
        ]);
        assert.deepEqual(parseShortPort('5000', 'k'), [
            { target: 5000, protocol: 'tcp', key: 'k' },
        ]);
        assert.deepEqual(parseShortPort('[::1]:8080:80/udp', 'k'), [
            { target: 80, protocol: 'udp', key: 'k', published: '8080', hostIp: '::1' },
        ]);
        assert.deepEqual(parseShortPort('127.0.0.1::5000', 'k'), [
            { target: 5000, protocol: 'tcp', key: 'k', hostIp: '127.0.0.1' },
        ]);
    });

    void test('expands equal port ranges pairwise', () => {
        const ports = parseShortPort('5000-5001:6000-6001', 'k');
        assert.deepEqual(
            ports?.map((p) => [p.published, p.target]),
            [
                ['5000', 6000],
                ['5001', 6001],
            ],
        );
        assert.equal(parseShortPort('5000-5005:80', 'k')?.[0]?.published, '5000-5005');
        assert.equal(parseShortPort('abc:80', 'k'), undefined);
    });

    void test('tells bind mounts, named volumes and Windows paths apart', () => {
        assert.deepEqual(parseShortVolume('./mlruns:/mlruns:ro'), {
            readOnly: true,
            type: 'bind',
            source: './mlruns',
            target: '/mlruns',
        });
        assert.equal(parseShortVolume('data:/data').type, 'volume');
        assert.deepEqual(parseShortVolume('C:\\Users\\x\\proj:/work'), {
            readOnly: false,
            type: 'bind',
            source: 'C:\\Users\\x\\proj',
            target: '/work',
        });
        assert.equal(parseShortVolume('C:/x:/y:rw').source, 'C:/x');
        assert.equal(parseShortVolume('/anon').target, '/anon');
        assert.match(parseShortVolume('ab:/cd:ro:gh').error ?? '', /too many colons/);
    });
});

void describe('findComposeFiles', () => {
    void test('prefers compose.yaml and adds its override', async () => {
        const dir = folderWith({
            'compose.yaml': 'services: {}\n',
            'docker-compose.yml': '',
            'compose.override.yml': '',
        });
        const list = await findComposeFiles(dir, {});
        assert.deepEqual(
            list.files.map((f) => path.basename(f)),
            ['compose.yaml', 'compose.override.yml'],
        );
    });

    void test('uses COMPOSE_FILE from .env with COMPOSE_PATH_SEPARATOR', async () => {
        const dir = folderWith({
            '.env': 'COMPOSE_FILE=base.yml;extra.yml\nCOMPOSE_PATH_SEPARATOR=;\n',
            'base.yml': '',
            'compose.yaml': '',
        });
        const list = await findComposeFiles(dir, {});
        assert.equal(list.source, 'COMPOSE_FILE');
        assert.deepEqual(
            list.files.map((f) => path.basename(f)),
            ['base.yml', 'extra.yml'],
        );
        assert.deepEqual(
            list.missing.map((f) => path.basename(f)),
            ['extra.yml'],
        );
    });

    void test('lets COMPOSE_FILE from the environment win over .env', async () => {
        const dir = folderWith({ '.env': 'COMPOSE_FILE=a.yml\n', 'a.yml': '', 'b.yml': '' });
        const list = await findComposeFiles(dir, { COMPOSE_FILE: 'b.yml' });
        assert.deepEqual(
            list.files.map((f) => path.basename(f)),
            ['b.yml'],
        );
    });

    void test('finds nothing in a folder without compose files', async () => {
        const loaded = await loadComposeProject(folderWith({ 'README.md': '' }), { env: {} });
        assert.equal(loaded.project, undefined);
        assert.deepEqual(loaded.problems, []);
    });
});

void describe('loadComposeProject', () => {
    void test('merges a file with its override and interpolates from .env', async () => {
        const { project, problems } = await loadComposeProject(path.join(FIXTURES, 'multi-file'), {
            env: { FROM_SHELL: 'shell-value' },
        });
        assert.deepEqual(problems, []);
        assert.ok(project);
        assert.equal(project.name, 'demo');
        assert.deepEqual(project.files, ['compose.yaml', 'compose.override.yaml']);
        const mlflow = service(project, 'mlflow');
        assert.equal(mlflow.image, 'ghcr.io/mlflow/mlflow:v2.20.0');
        // The override's exec form replaces the shell form.
        assert.deepEqual(mlflow.command, [
            'mlflow',
            'server',
            '--host',
            '0.0.0.0',
            '--port',
            '5001',
        ]);
        assert.equal(mlflow.commandForm, 'exec');
        // environment: overrides env_file; a bare name takes the shell's value, as
        // `docker compose config` shows; the override adds a key.
        assert.deepEqual(mlflow.environment, {
            MLFLOW_BACKEND_STORE_URI: 'sqlite:////mlflow/mlflow.db',
            MLFLOW_TRACKING_URI: 'http://localhost:5000',
            FROM_SHELL: 'shell-value',
            EXTRA: '1',
        });
        assert.deepEqual(mlflow.envFiles, ['mlflow.env', 'optional.env']);
        // Ports append; volumes merge by container path.
        assert.deepEqual(
            mlflow.ports.map((p) => [p.hostIp, p.published, p.target]),
            [
                ['127.0.0.1', '5000', 5000],
                [undefined, '5001', 5001],
            ],
        );
        assert.deepEqual(
            mlflow.volumes.map((v) => [v.type, v.source, v.target, v.readOnly]),
            [
                ['bind', './mlruns', '/mlruns', true],
                ['bind', './other', '/data', false],
            ],
        );
        assert.equal(mlflow.volumes[0]?.hostPath, path.join(FIXTURES, 'multi-file', 'mlruns'));
        const trainer = service(project, 'trainer');
        assert.deepEqual(trainer.build, { context: './trainer', args: { MLFLOW_PIN: '2.20.0' } });
        assert.deepEqual(trainer.dependsOn, [
            {
                service: 'mlflow',
                condition: 'service_healthy',
                key: 'services.trainer.depends_on.mlflow',
                syntax: 'long',
            },
        ]);
        // The later file's range wins for a key both files set.
        assert.equal(project.ranges['services.mlflow.command']?.file, 'compose.override.yaml');
        assert.equal(project.ranges['services.mlflow.image']?.file, 'compose.yaml');
        assert.deepEqual(project.variables.MLFLOW_VERSION, { value: '2.20.0', from: 'dotenv' });
        assert.equal(
            project.variables.FROM_SHELL,
            undefined,
            'an unused shell variable is not kept',
        );
        assert.deepEqual(project.variables.QUOTED, {
            value: 'two words # not a comment',
            from: 'dotenv',
        });
        assert.deepEqual(project.variables.SINGLE, {
            value: '${MLFLOW_VERSION} stays',
            from: 'dotenv',
        });
        assert.deepEqual(project.variables.DERIVED, { value: '2.20.0-derived', from: 'dotenv' });
    });

    void test('lets the process environment win over .env and uses COMPOSE_PROJECT_NAME', async () => {
        const { project } = await loadComposeProject(path.join(FIXTURES, 'multi-file'), {
            env: { MLFLOW_VERSION: '3.1.0', COMPOSE_PROJECT_NAME: 'from-env' },
        });
        assert.equal(service(project, 'mlflow').image, 'ghcr.io/mlflow/mlflow:v3.1.0');
        assert.deepEqual(project?.variables.MLFLOW_VERSION, {
            value: '3.1.0',
            from: 'environment',
        });
        assert.equal(project?.name, 'from-env');
    });

    void test('resolves anchors, merge keys, folded and literal block scalars', async () => {
        const { project, problems } = await loadComposeProject(path.join(FIXTURES, 'anchors'), {
            env: {},
        });
        assert.deepEqual(problems, []);
        const ui = service(project, 'ui');
        assert.equal(ui.restart, 'unless-stopped');
        assert.deepEqual(ui.environment, { SHARED: 'yes' });
        // A folded scalar's line breaks become spaces, then the words split.
        assert.deepEqual(ui.command, [
            'mlflow',
            'ui',
            '--backend-store-uri',
            'file:///mlruns',
            '--host',
            '0.0.0.0',
        ]);
        assert.equal(ui.commandForm, 'shell');
        assert.deepEqual(ui.healthcheck, {
            disable: false,
            test: ['CMD-SHELL', 'curl -f http://localhost:5000/health'],
        });
        const shell = service(project, 'shell');
        assert.deepEqual(shell.entrypoint, [
            'sh',
            '-c',
            'pip install mlflow==2.9.2 &&\nmlflow server --port 6000',
        ]);
        assert.equal(shell.entrypointForm, 'shell');
        assert.equal(project?.name, 'anchors');
    });

    void test('records unset variables with the key that used them and renders them empty', async () => {
        const { project, problems } = await render(
            'services:\n  app:\n    image: "python:${PY_TAG}"\n    environment:\n      URI: http://${HOST}:5000\n',
        );
        assert.deepEqual(problems, []);
        assert.equal(service(project, 'app').image, 'python:');
        assert.deepEqual(project?.missingVariables, [
            { name: 'PY_TAG', key: 'services.app.image' },
            { name: 'HOST', key: 'services.app.environment.URI' },
        ]);
    });

    void test('reports ${VAR:?message} as an interpolation problem at its line', async () => {
        const { problems } = await render(
            'services:\n  app:\n    image: x\n    user: ${APP_USER:?set APP_USER}\n',
        );
        assert.equal(problems.length, 1);
        assert.equal(problems[0]?.type, 'interpolation');
        assert.equal(problems[0]?.key, 'services.app.user');
        assert.equal(problems[0]?.range?.line, 4);
        assert.match(problems[0]?.message ?? '', /APP_USER/);
    });

    void test('reads every service field', async () => {
        const { project, dir, problems } = await render(
            [
                'services:',
                '  s:',
                '    build: ./ctx',
                '    user: "1000:1000"',
                '    network_mode: host',
                '    networks: [front, back]',
                '    container_name: my-s',
                '    restart: "no"',
                '    profiles: [debug]',
                '    working_dir: /app',
                '    expose: ["5000", 6000-6001]',
                '    env_file: s.env',
                '    ports:',
                '      - target: 5000',
                '        published: "8080"',
                '        host_ip: 127.0.0.1',
                '        protocol: udp',
                '    volumes:',
                '      - type: bind',
                '        source: ./data',
                '        target: /data',
                '        read_only: true',
                '      - type: volume',
                '        source: cache',
                '        target: /cache',
                '      - C:\\Users\\user\\proj:/proj',
                '    healthcheck:',
                '      test: ["NONE"]',
                '  t:',
                '    image: x',
                '    healthcheck:',
                '      disable: true',
                '      interval: 5s',
                '      retries: 3',
                '    command: []',
            ].join('\n'),
            {},
            { 's.env': 'K=v\n' },
        );
        assert.deepEqual(problems, []);
        const s = service(project, 's');
        assert.deepEqual(s.build, { context: './ctx' });
        assert.equal(s.user, '1000:1000');
        assert.equal(s.networkMode, 'host');
        assert.deepEqual(s.networks, ['front', 'back']);
        assert.equal(s.containerName, 'my-s');
        assert.equal(s.restart, 'no');
        assert.deepEqual(s.profiles, ['debug']);
        assert.equal(s.workingDir, '/app');
        assert.deepEqual(s.expose, [5000, 6000, 6001]);
        assert.deepEqual(s.environment, { K: 'v' });
        assert.deepEqual(s.ports, [
            {
                target: 5000,
                protocol: 'udp',
                key: 'services.s.ports.0',
                published: '8080',
                hostIp: '127.0.0.1',
            },
        ]);
        assert.deepEqual(s.volumes, [
            {
                type: 'bind',
                target: '/data',
                readOnly: true,
                key: 'services.s.volumes.0',
                source: './data',
                hostPath: path.join(dir, 'data'),
            },
            {
                type: 'volume',
                target: '/cache',
                readOnly: false,
                key: 'services.s.volumes.1',
                source: 'cache',
            },
            {
                type: 'bind',
                target: '/proj',
                readOnly: false,
                key: 'services.s.volumes.2',
                source: 'C:\\Users\\user\\proj',
                hostPath: 'C:\\Users\\user\\proj',
            },
        ]);
        assert.deepEqual(s.healthcheck, { disable: true, test: ['NONE'] });
        const t = service(project, 't');
        assert.deepEqual(t.healthcheck, { disable: true, interval: '5s', retries: 3 });
        assert.deepEqual(t.command, []);
        assert.equal(t.commandForm, 'exec');
    });

    void test('reads depends_on as a list and as a mapping with conditions', async () => {
        const { project } = await render(
            [
                'services:',
                '  a: {image: x, depends_on: [b]}',
                '  b:',
                '    image: x',
                '    depends_on:',
                '      c:',
                '        condition: service_completed_successfully',
                '      a:',
                '        restart: true',
                '  c: {image: x}',
            ].join('\n'),
        );
        assert.deepEqual(service(project, 'a').dependsOn, [
            {
                service: 'b',
                condition: 'service_started',
                key: 'services.a.depends_on.b',
                syntax: 'short',
            },
        ]);
        assert.deepEqual(
            service(project, 'b').dependsOn.map((d) => [d.service, d.condition]),
            [
                ['c', 'service_completed_successfully'],
                ['a', 'service_started'],
            ],
        );
    });

    void test('points ranges at the line and column each node was written at', async () => {
        const { project } = await render(
            [
                'services:', //                                              1
                '  mlflow:', //                                              2
                '    image: ghcr.io/mlflow/mlflow:v2.20.0', //               3
                '    command:', //                                           4
                '      - mlflow', //                                         5
                '      - server', //                                         6
                '      - --host', //                                         7
                '    environment:', //                                       8
                '      - MLFLOW_TRACKING_URI=http://mlflow:5000', //         9
                '    ports:', //                                             10
                '      - "5000:5000"', //                                    11
                '    volumes:', //                                           12
                '      - ./mlruns:/mlruns', //                               13
                '    depends_on:', //                                        14
                '      db:', //                                              15
                '        condition: service_started', //                     16
                '    healthcheck:', //                                       17
                '      test: ["CMD", "true"]', //                            18
                '', //                                                       19
                '  db:', //                                                  20
                '    image: postgres', //                                    21
            ].join('\n'),
        );
        const r = project?.ranges ?? {};
        assert.deepEqual(r['services.mlflow'], {
            file: 'compose.yaml',
            line: 2,
            column: 3,
            endLine: 18,
            endColumn: 28,
        });
        assert.deepEqual(r['services.mlflow.image'], {
            file: 'compose.yaml',
            line: 3,
            column: 5,
            endLine: 3,
            endColumn: 41,
        });
        assert.equal(r['services.mlflow.command']?.line, 4);
        assert.equal(r['services.mlflow.command']?.endLine, 7);
        assert.deepEqual(r['services.mlflow.command.2'], {
            file: 'compose.yaml',
            line: 7,
            column: 9,
            endLine: 7,
            endColumn: 15,
        });
        assert.equal(r['services.mlflow.environment.MLFLOW_TRACKING_URI']?.line, 9);
        assert.equal(r['services.mlflow.environment.MLFLOW_TRACKING_URI']?.column, 9);
        assert.equal(r['services.mlflow.ports.0']?.line, 11);
        assert.equal(r['services.mlflow.volumes.0']?.line, 13);
        assert.equal(r['services.mlflow.depends_on.db']?.line, 15);
        assert.equal(r['services.mlflow.depends_on.db']?.endLine, 16);
        assert.equal(r['services.mlflow.depends_on.db.condition']?.line, 16);
        assert.equal(r['services.mlflow.healthcheck']?.line, 17);
        assert.equal(r['services.db']?.line, 20);
    });

    void test('points a folded command at all of its lines', async () => {
        const { project } = await render(
            'services:\n  m:\n    command: >-\n      mlflow server\n      --port 5000\n\n  n: {image: x}\n',
        );
        const range = project?.ranges['services.m.command'];
        assert.equal(range?.line, 3);
        assert.equal(range?.endLine, 5);
        assert.deepEqual(service(project, 'm').command, ['mlflow', 'server', '--port', '5000']);
    });

    void test('normalises the folder name into the project name', async () => {
        const dir = folderWith({ 'My Stack.v2/compose.yaml': 'services: {a: {image: x}}\n' });
        const { project } = await loadComposeProject(path.join(dir, 'My Stack.v2'), { env: {} });
        assert.equal(project?.name, 'mystackv2');
    });
});

void describe('compose files that cannot be rendered', () => {
    void test('reports a tab used for indentation with its line', async () => {
        const { project, problems } = await render('services:\n  a:\n\timage: x\n');
        assert.equal(project, undefined);
        assert.ok(problems.length > 0);
        assert.equal(problems[0]?.type, 'parse');
        assert.equal(problems[0]?.range?.file, 'compose.yaml');
        assert.equal(problems[0]?.range?.line, 3);
    });

    void test('reports broken YAML without throwing', async () => {
        const { project, problems } = await render('services:\n  a: [unclosed\n');
        assert.equal(project, undefined);
        assert.equal(problems[0]?.type, 'parse');
    });

    void test('reports a top level that is not a mapping', async () => {
        const { project, problems } = await render('- just\n- a list\n');
        assert.equal(project, undefined);
        assert.equal(problems[0]?.type, 'schema');
        assert.equal(problems[0]?.range?.line, 1);
    });

    void test('reports services that are not a mapping', async () => {
        const { project, problems } = await render('services:\n  - a\n  - b\n');
        assert.equal(project, undefined);
        assert.equal(problems[0]?.key, 'services');
        assert.equal(problems[0]?.range?.line, 1);
    });

    void test('reports a missing required env_file and a bad port at their entries', async () => {
        const { project, problems } = await render(
            'services:\n  a:\n    image: x\n    env_file: [missing.env]\n    ports: ["no:such:port:here"]\n',
        );
        assert.ok(project);
        assert.deepEqual(
            problems.map((p) => [p.type, p.key, p.range?.line]),
            [
                ['schema', 'services.a.env_file.0', 4],
                ['schema', 'services.a.ports.0', 5],
            ],
        );
    });

    void test('stops an alias bomb instead of expanding it', async () => {
        const lines = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
        for (let i = 1; i < 9; i++) {
            lines.push(
                `a${i}: &a${i} [${Array.from({ length: 10 }, () => `*a${i - 1}`).join(', ')}]`,
            );
        }
        lines.push('services:\n  s:\n    image: x\n    labels: *a8');
        const { problems } = await render(lines.join('\n'));
        assert.ok(problems.some((p) => /aliases expand/.test(p.message)));
    });
});

void describe('the shared cases', () => {
    void test('every case compose file renders without problems', async () => {
        const root = casesFolder();
        let rendered = 0;
        for (const name of readdirSync(root).sort()) {
            const folder = path.join(root, name);
            if (
                !['compose.yaml', 'docker-compose.yml'].some((f) =>
                    existsSync(path.join(folder, f)),
                )
            )
                continue;
            const { project, problems } = await loadComposeProject(folder, { env: {} });
            assert.deepEqual(problems, [], `${name} renders without problems`);
            assert.ok(project && project.services.length > 0, `${name} has services`);
            assert.equal(
                project.missingVariables,
                undefined,
                `${name} sets every variable it uses`,
            );
            rendered++;
        }
        assert.ok(rendered >= 15, `rendered ${rendered} case projects`);
    });

    void test('C03 keeps the $$ in the bucket script as one $ and its list items in order', async () => {
        const { project } = await loadComposeProject(
            path.join(casesFolder(), 'C03-minio-init-race'),
            { env: {} },
        );
        const bucket = service(project, 'create-bucket');
        assert.equal(bucket.entrypointForm, 'exec');
        assert.match(bucket.entrypoint?.[2] ?? '', /"\$MINIO_ROOT_USER" "\$MINIO_ROOT_PASSWORD"/);
        assert.equal(
            service(project, 'minio').environment.MINIO_ROOT_PASSWORD,
            'minioadmin-change-me',
        );
    });
});
