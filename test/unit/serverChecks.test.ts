import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { serverNetworkCheck } from '../../src/core/checks/serverNetwork.js';
import { serverResponsesCheck } from '../../src/core/checks/serverResponses.js';
import {
    container,
    emptySnapshot,
    observation,
    probe,
    range,
    serverConfig,
    service,
    trackingUri,
    withCompose,
} from '../support/snapshots.js';

const COMPOSE = `services:
  mlflow:
    image: ghcr.io/mlflow/mlflow:v2.22.0
    command: mlflow server --port 5000 --backend-store-uri /mlruns
    ports:
      - "5000:5000"
`;

/** The trainer service's `MLFLOW_TRACKING_URI: http://localhost:5000` in compose.yaml. */
function trainerEnvironmentUri() {
    return trackingUri('http://localhost:5000', 9, 28, {
        file: 'compose.yaml',
        via: 'compose-environment',
        service: 'trainer',
    });
}

function loopbackStack() {
    const s = withCompose(
        emptySnapshot(),
        [
            service('mlflow', {
                command: ['mlflow', 'server', '--port', '5000', '--backend-store-uri', '/mlruns'],
                commandForm: 'shell',
                ports: [
                    {
                        published: '5000',
                        target: 5000,
                        protocol: 'tcp',
                        key: 'services.mlflow.ports.0',
                    },
                ],
            }),
        ],
        {
            'services.mlflow': range(2, 3, 9),
            'services.mlflow.command': range(4, 14, 67),
            'services.mlflow.ports.0': range(6, 9, 20),
        },
        COMPOSE,
    );
    s.serverConfigs = [serverConfig({ host: undefined })];
    return s;
}

describe('server network check', () => {
    test('reports a server that gives no --host, so it binds 127.0.0.1 in its container', () => {
        const findings = serverNetworkCheck.run(loopbackStack());
        const binding = findings.find((f) => f.kind === 'server-binding');
        assert.ok(binding);
        assert.equal(binding.severity, 'error');
        assert.match(binding.fix, /0\.0\.0\.0/);
        assert.equal(binding.locations[0]?.line, 4);
        assert.equal(binding.locations[0]?.key, 'services.mlflow.command');
    });

    test('offers an edit that inserts --host 0.0.0.0 right after "mlflow server"', () => {
        const s = loopbackStack();
        const edit = serverNetworkCheck.run(s).find((f) => f.kind === 'server-binding')?.edits?.[0];
        assert.ok(edit);
        const line = (s.files?.['compose.yaml'] ?? '').split('\n')[edit.range.line - 1] ?? '';
        const fixed =
            line.slice(0, edit.range.column - 1) +
            edit.newText +
            line.slice(edit.range.endColumn - 1);
        assert.equal(
            fixed,
            '    command: mlflow server --host 0.0.0.0 --port 5000 --backend-store-uri /mlruns',
        );
    });

    test('takes the live listen address from the container log over the command line', () => {
        const s = loopbackStack();
        s.serverConfigs = [serverConfig({ host: '0.0.0.0' })];
        s.docker = {
            reachable: true,
            attempts: [],
            containers: [
                container('mlflow', {
                    logTail: ['[INFO] Listening at: http://127.0.0.1:5000 (9)'],
                }),
            ],
        };
        const binding = serverNetworkCheck.run(s).find((f) => f.kind === 'server-binding');
        assert.ok(binding);
        assert.ok(binding.evidence.some((e) => e.includes('Listening at: http://127.0.0.1:5000')));
    });

    test('does not flag a server bound to 0.0.0.0', () => {
        const s = loopbackStack();
        s.serverConfigs = [serverConfig({ host: '0.0.0.0' })];
        assert.deepEqual(
            serverNetworkCheck.run(s).map((f) => f.kind),
            [],
        );
    });

    test('reports a host client whose port is not the one the server is published on', () => {
        const s = loopbackStack();
        s.serverConfigs = [serverConfig()];
        s.files = {
            ...s.files,
            'train.py': 'import mlflow\nmlflow.set_tracking_uri("http://localhost:5001")\n',
        };
        s.workspace.trackingUris = [trackingUri('http://localhost:5001', 2, 25)];
        const port = serverNetworkCheck.run(s).find((f) => f.kind === 'port-mapping');
        assert.ok(port);
        assert.equal(port.locations[0]?.file, 'train.py');
        assert.equal(port.edits?.[0]?.newText, ':5000');
    });

    test('reports an unpublished server port when a host client needs it', () => {
        const s = loopbackStack();
        s.serverConfigs = [serverConfig()];
        const mlflow = s.compose?.services[0];
        if (mlflow) mlflow.ports = [];
        s.workspace.trackingUris = [trackingUri('http://127.0.0.1:5000', 1, 1)];
        const port = serverNetworkCheck.run(s).find((f) => f.kind === 'port-mapping');
        assert.ok(port);
        assert.match(port.title, /not published/);
    });

    test('reports a client container that uses localhost for the server container', () => {
        const s = loopbackStack();
        s.serverConfigs = [serverConfig()];
        s.compose?.services.push(
            service('trainer', { environment: { MLFLOW_TRACKING_URI: 'http://localhost:5000' } }),
        );
        s.workspace.trackingUris = [trainerEnvironmentUri()];
        const kinds = serverNetworkCheck.run(s).map((f) => f.kind);
        assert.deepEqual(kinds, ['client-loopback-in-container']);
    });

    test('leaves a client container on the host network alone', () => {
        const s = loopbackStack();
        s.serverConfigs = [serverConfig()];
        s.compose?.services.push(service('trainer', { networkMode: 'host' }));
        s.workspace.trackingUris = [trainerEnvironmentUri()];
        assert.deepEqual(serverNetworkCheck.run(s), []);
    });

    test('reports a host client that uses the compose service name', () => {
        const s = loopbackStack();
        s.serverConfigs = [serverConfig()];
        s.host.clientRuns = 'host';
        s.files = { ...s.files, 'train.py': 'mlflow.set_tracking_uri("http://mlflow:5000")\n' };
        s.workspace.trackingUris = [trackingUri('http://mlflow:5000', 1, 25)];
        const found = serverNetworkCheck.run(s).find((f) => f.kind === 'server-unreachable');
        assert.ok(found);
        assert.equal(found.edits?.[0]?.newText, 'localhost:5000');
    });

    test('reports two services publishing the same host port', () => {
        const s = loopbackStack();
        s.serverConfigs = [serverConfig()];
        s.compose?.services.push(
            service('jupyter', {
                ports: [
                    {
                        published: '5000',
                        target: 8888,
                        protocol: 'tcp',
                        key: 'services.jupyter.ports.0',
                    },
                ],
            }),
        );
        const collision = serverNetworkCheck.run(s).find((f) => f.id.includes('collision'));
        assert.ok(collision);
        assert.match(collision.title, /"mlflow" and "jupyter"/);
    });
});

describe('server responses check', () => {
    test('tells a refused connection apart from a dropped one', () => {
        const s = loopbackStack();
        s.servers = [
            probe({
                health: observation('GET /health', 'refused', null, {
                    error: 'connect ECONNREFUSED 127.0.0.1:5000',
                }),
            }),
        ];
        const refused = serverResponsesCheck.run(s)[0];
        assert.match(refused?.title ?? '', /connection refused/);

        s.docker = { reachable: true, attempts: [], containers: [container('mlflow')] };
        s.servers = [
            probe({
                health: observation('GET /health', 'reset', null, { error: 'socket hang up' }),
            }),
        ];
        const reset = serverResponsesCheck.run(s)[0];
        assert.match(reset?.title ?? '', /dropped/);
        assert.match(reset?.fix ?? '', /port proxy/);
    });

    test('calls a server that is still starting a warning, not an outage', () => {
        const s = loopbackStack();
        s.docker = {
            reachable: true,
            attempts: [],
            containers: [container('mlflow', { health: 'starting' })],
        };
        s.servers = [probe({ health: observation('GET /health', 'refused', null) })];
        const f = serverResponsesCheck.run(s)[0];
        assert.equal(f?.severity, 'warning');
        assert.match(f?.fix ?? '', /still starting/);
    });

    test('reports a 500 from the API while /health is fine, with the server log', () => {
        const s = loopbackStack();
        s.docker = {
            reachable: true,
            attempts: [],
            containers: [
                container('mlflow', {
                    logTail: [
                        "TypeError: RunInfo.__init__() missing 1 required positional argument: 'run_uuid'",
                    ],
                }),
            ],
        };
        s.servers = [
            probe({
                health: observation('GET /health', 'ok', 200, { body: 'OK' }),
                runs: observation('POST /api/2.0/mlflow/runs/search', 'http-error', 500, {
                    body: '<!doctype html>',
                }),
            }),
        ];
        const f = serverResponsesCheck.run(s)[0];
        assert.equal(f?.kind, 'server-error');
        assert.ok(f?.evidence.some((e) => e.includes('run_uuid')));
    });

    test('reports the DNS-rebinding 403 as a Host header problem', () => {
        const s = loopbackStack();
        s.servers = [
            probe({
                health: observation('GET /health', 'ok', 200),
                experiments: observation(
                    'GET /api/2.0/mlflow/experiments/search',
                    'http-error',
                    403,
                    {
                        body: 'Invalid Host header - possible DNS rebinding attack detected',
                    },
                ),
            }),
        ];
        assert.deepEqual(
            serverResponsesCheck.run(s).map((f) => f.kind),
            ['host-header'],
        );
    });

    test('reports a client container that logged a refused connection', () => {
        const s = loopbackStack();
        s.serverConfigs = [serverConfig()];
        s.docker = {
            reachable: true,
            attempts: [],
            containers: [
                container('mlflow'),
                container('notebook', {
                    state: 'exited',
                    exitCode: 1,
                    logTail: [
                        'urllib.error.URLError: <urlopen error [Errno 111] Connection refused>',
                    ],
                }),
            ],
        };
        const f = serverResponsesCheck.run(s)[0];
        assert.equal(f?.kind, 'server-unreachable');
        assert.equal(f?.service, 'notebook');
        assert.match(f?.title ?? '', /exited with code 1/);
    });
});
