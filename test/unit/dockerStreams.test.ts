import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { EventLineSplitter, parseContainerEvent } from '../../src/core/docker/events.js';
import {
    demuxDockerStream,
    logTailLines,
    maskSecrets,
    splitDockerFrames,
} from '../../src/core/docker/logs.js';

function frame(stream: 1 | 2, text: string): Buffer {
    const data = Buffer.from(text);
    const header = Buffer.alloc(8);
    header.writeUInt8(stream, 0);
    header.writeUInt32BE(data.length, 4);
    return Buffer.concat([header, data]);
}

void describe('multiplexed streams', () => {
    void test('splits stdout and stderr frames in order', () => {
        const buffer = Buffer.concat([frame(1, 'one\n'), frame(2, 'two\n'), frame(1, 'three\n')]);
        assert.deepEqual(
            splitDockerFrames(buffer).map((f) => [f.stream, f.data.toString()]),
            [
                ['stdout', 'one\n'],
                ['stderr', 'two\n'],
                ['stdout', 'three\n'],
            ],
        );
        assert.deepEqual(demuxDockerStream(buffer), { stdout: 'one\nthree\n', stderr: 'two\n' });
    });

    void test('keeps a truncated last frame', () => {
        const whole = frame(1, 'hello world');
        const cut = whole.subarray(0, whole.length - 6);
        assert.deepEqual(demuxDockerStream(cut), { stdout: 'hello', stderr: '' });
    });

    void test('passes a TTY stream without headers through as stdout', () => {
        assert.deepEqual(demuxDockerStream(Buffer.from('plain text\n')), {
            stdout: 'plain text\n',
            stderr: '',
        });
    });

    void test('keeps the last lines of a log across frames, interleaved as written', () => {
        const buffer = Buffer.concat([
            frame(1, 'a\nb\n'),
            frame(2, 'c\r\n'),
            frame(1, 'd'),
            frame(1, 'e\n'),
        ]);
        assert.deepEqual(logTailLines(buffer, true, 3), ['b', 'c', 'de']);
    });

    void test('reads a TTY log as plain text', () => {
        assert.deepEqual(logTailLines(Buffer.from('x\ny\n'), false, 50), ['x', 'y']);
    });
});

void describe('maskSecrets', () => {
    const cases: [string, string][] = [
        ['MLFLOW_TRACKING_PASSWORD=hunter2', 'MLFLOW_TRACKING_PASSWORD=***'],
        ['AWS_SECRET_ACCESS_KEY: abc/def+ghi', 'AWS_SECRET_ACCESS_KEY: ***'],
        ['export GITHUB_TOKEN="ghp_123" && run', 'export GITHUB_TOKEN="***" && run'],
        [
            'mlflow server --backend-store-uri postgresql://mlflow:pw123@db:5432/mlflow',
            'mlflow server --backend-store-uri postgresql://mlflow:***@db:5432/mlflow',
        ],
        ['GET http://admin:password1234@mlflow:5000/api', 'GET http://admin:***@mlflow:5000/api'],
        ['minio --password minioadmin --console', 'minio --password *** --console'],
        ['Authorization: Basic YWRtaW46cGFzcw==', 'Authorization: Basic ***'],
        ['{"api_key": "sk-live-1"}', '{"api_key": "***"}'],
    ];
    for (const [input, expected] of cases) {
        void test(`masks ${input.split(/[=: ]/)[0] ?? input}`, () => {
            assert.equal(maskSecrets(input), expected);
        });
    }

    void test('leaves ordinary log lines alone', () => {
        const line =
            '2024/02/06 09:12:40 WARNING mlflow.store.db.utils: SQLAlchemy engine could not be created. key=value';
        assert.equal(maskSecrets(line), line);
        assert.equal(
            maskSecrets('Listening at: http://0.0.0.0:5000 (42)'),
            'Listening at: http://0.0.0.0:5000 (42)',
        );
    });

    void test('does not mask twice', () => {
        assert.equal(maskSecrets(maskSecrets('PASSWORD=x')), 'PASSWORD=***');
    });
});

void describe('parseContainerEvent', () => {
    const actor = {
        ID: 'abc123',
        Attributes: {
            name: 'proj-mlflow-1',
            'com.docker.compose.project': 'proj',
            'com.docker.compose.service': 'mlflow',
        },
    };

    void test('reads a health_status event with its status after the colon', () => {
        const line = JSON.stringify({
            Type: 'container',
            Action: 'health_status: unhealthy',
            Actor: actor,
            time: 1700000000,
            timeNano: 1700000000500000000,
        });
        assert.deepEqual(parseContainerEvent(line), {
            kind: 'health_status',
            containerId: 'abc123',
            name: 'proj-mlflow-1',
            project: 'proj',
            service: 'mlflow',
            health: 'unhealthy',
            time: 1700000000.5,
        });
    });

    void test('reads the exit code of a die event', () => {
        const line = JSON.stringify({
            Type: 'container',
            Action: 'die',
            Actor: { ID: 'x', Attributes: { exitCode: '137' } },
            time: 5,
        });
        assert.deepEqual(parseContainerEvent(line), {
            kind: 'die',
            containerId: 'x',
            exitCode: 137,
            time: 5,
        });
    });

    void test('reads the old status/id fields of older Engines', () => {
        const event = parseContainerEvent(JSON.stringify({ status: 'start', id: 'old1', time: 9 }));
        assert.deepEqual(event, { kind: 'start', containerId: 'old1', time: 9 });
    });

    void test('ignores other event types, other actions and broken lines', () => {
        assert.equal(
            parseContainerEvent(
                JSON.stringify({ Type: 'network', Action: 'connect', Actor: actor }),
            ),
            undefined,
        );
        assert.equal(
            parseContainerEvent(
                JSON.stringify({ Type: 'container', Action: 'exec_start: ls', Actor: actor }),
            ),
            undefined,
        );
        assert.equal(parseContainerEvent('{"Type": "container", "Act'), undefined);
        assert.equal(parseContainerEvent('null'), undefined);
    });

    void test('splits a chunked stream into whole lines', () => {
        const splitter = new EventLineSplitter();
        assert.deepEqual(splitter.push('{"a":1}\n{"b"'), ['{"a":1}']);
        assert.deepEqual(splitter.push(':2}\n\n'), ['{"b":2}']);
        assert.deepEqual(splitter.push(''), []);
    });
});
