// REST answers into view models. The JSON below was recorded from the real MLflow 3.17.2 server
// of test/integration/explorerService.test.ts (runs/get of its hostile and history runs,
// logged-models/search, experiments/search), trimmed to what the mapping reads.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Experiment, LoggedModel, Run } from '../../src/core/mlflow/client.js';
import {
    keyValues,
    metricNumber,
    runDatasets,
    runModelIds,
    toExperimentRow,
    toLoggedModelRow,
    toRunRow,
} from '../../src/core/explorer/viewModels.js';

const HOSTILE_RUN = JSON.parse(String.raw`{
    "info": {
      "run_uuid": "ad68237f31a14cd487b72ad74143456e",
      "experiment_id": "1",
      "run_name": "hostile-run",
      "user_id": "unknown",
      "status": "FINISHED",
      "start_time": 1796347178283,
      "end_time": 1796347179283,
      "artifact_uri": "mlflow-artifacts:/1/ad68237f31a14cd487b72ad74143456e/artifacts",
      "lifecycle_stage": "active",
      "run_id": "ad68237f31a14cd487b72ad74143456e"
    },
    "data": {
      "params": [
        { "key": "weird", "value": "it's a \"quote\" \\ back" },
        { "key": "uni", "value": "na\u00efve \ud83d\ude00 \u00fc" },
        { "key": "\u043a\u043b\u044e\u0447", "value": "\u0437\u043d\u0430\u0447\u0435\u043d\u0438\u0435" }
      ],
      "tags": [
        { "key": "mlflow.runName", "value": "hostile-run" },
        { "key": "path", "value": "C:\\dir\\" }
      ]
    },
    "inputs": {},
    "outputs": {}
}`) as Run;

const HISTORY_RUN = JSON.parse(`{
    "info": {
      "run_uuid": "10cf6f60b28640cbb526668c0484edca",
      "experiment_id": "1",
      "run_name": "history-run",
      "user_id": "unknown",
      "status": "FINISHED",
      "start_time": 1796347188283,
      "end_time": 1796347198283,
      "artifact_uri": "mlflow-artifacts:/1/10cf6f60b28640cbb526668c0484edca/artifacts",
      "lifecycle_stage": "active",
      "run_id": "10cf6f60b28640cbb526668c0484edca"
    },
    "data": {
      "metrics": [
        { "key": "curve", "value": -0.999484890015683, "timestamp": 1796347198282, "step": 29999 },
        { "key": "nanmetric", "value": "NaN", "timestamp": 1796347168283, "step": 0 }
      ],
      "params": [{ "key": "lr", "value": "0.5" }],
      "tags": [{ "key": "mlflow.runName", "value": "history-run" }]
    },
    "inputs": {
      "dataset_inputs": [
        {
          "tags": [{ "key": "mlflow.data.context", "value": "training" }],
          "dataset": { "name": "train-set", "digest": "abc123", "source_type": "local", "source": "/data/train.csv" }
        }
      ]
    },
    "outputs": {
      "model_outputs": [
        { "model_id": "m-0e16aa219da1468fb5acc946450199e5", "step": 1 },
        { "model_id": "m-1ea63590d9a64f2ca743f15b4e7cfc73", "step": 0 }
      ]
    }
}`) as Run;

const LINKED_MODEL = JSON.parse(`{
    "info": {
      "model_id": "m-0e16aa219da1468fb5acc946450199e5",
      "experiment_id": "1",
      "name": "linked-only",
      "creation_timestamp_ms": 1796347258130,
      "last_updated_timestamp_ms": 1796347258184,
      "artifact_uri": "mlflow-artifacts:/1/models/m-0e16aa219da1468fb5acc946450199e5/artifacts",
      "status": "LOGGED_MODEL_READY",
      "model_type": "",
      "source_run_id": ""
    },
    "data": {}
}`) as LoggedModel;

const HOSTILE_EXPERIMENT = JSON.parse(String.raw`{
    "experiment_id": "4",
    "name": "hostile 'quoted' 50%_off \\ back",
    "artifact_location": "mlflow-artifacts:/4",
    "lifecycle_stage": "active",
    "last_update_time": 1796347175872,
    "creation_time": 1796347175872,
    "workspace": "default"
}`) as Experiment;

describe('run rows', () => {
    test('keeps hostile params and tags as the exact strings the server sent', () => {
        const row = toRunRow(HOSTILE_RUN);
        assert.equal(row.id, 'ad68237f31a14cd487b72ad74143456e');
        assert.equal(row.name, 'hostile-run');
        assert.equal(row.user, 'unknown');
        assert.equal(row.startTime, 1796347178283);
        assert.deepEqual(row.params, [
            { key: 'weird', value: `it's a "quote" \\ back` },
            { key: 'uni', value: 'naïve 😀 ü' },
            { key: 'ключ', value: 'значение' },
        ]);
        assert.deepEqual(row.tags[1], { key: 'path', value: 'C:\\dir\\' });
        assert.deepEqual(row.metrics, []);
    });

    test('turns the server\'s "NaN" string into null with the text kept', () => {
        const row = toRunRow(HISTORY_RUN);
        assert.deepEqual(row.metrics, [
            { key: 'curve', value: -0.999484890015683, step: 29999, timestamp: 1796347198282 },
            { key: 'nanmetric', value: null, text: 'NaN', step: 0, timestamp: 1796347168283 },
        ]);
        assert.deepEqual(metricNumber('Infinity'), { value: null, text: 'Infinity' });
        assert.deepEqual(metricNumber('-Infinity'), { value: null, text: '-Infinity' });
        assert.deepEqual(metricNumber('0.25'), { value: 0.25 });
        assert.deepEqual(metricNumber(''), { value: null, text: '' });
    });

    test('takes the run name from mlflow.runName when run_name is empty', () => {
        const run: Run = {
            info: { run_id: 'abc', experiment_id: '0', run_name: '' },
            data: {
                tags: [
                    { key: 'mlflow.runName', value: 'from-tag' },
                    { key: 'mlflow.user', value: 'ann' },
                ],
            },
        };
        const row = toRunRow(run);
        assert.equal(row.name, 'from-tag');
        assert.equal(row.user, 'ann');
        assert.equal(row.status, 'UNKNOWN');
        assert.equal(row.lifecycleStage, 'active');
        assert.equal(row.endTime, undefined);
    });

    test('keeps a key such as __proto__ as data and drops malformed pairs', () => {
        const pairs = keyValues(
            JSON.parse(
                '[{"key":"__proto__","value":"x"},{"value":"no key"},null,{"key":"k"}]',
            ) as never,
        );
        assert.deepEqual(pairs, [
            { key: '__proto__', value: 'x' },
            { key: 'k', value: '' },
        ]);
    });
});

describe('run details', () => {
    test('reads the logged models a run produced and its datasets', () => {
        assert.deepEqual(runModelIds(HISTORY_RUN), {
            outputs: ['m-0e16aa219da1468fb5acc946450199e5', 'm-1ea63590d9a64f2ca743f15b4e7cfc73'],
            inputs: [],
        });
        assert.deepEqual(runDatasets(HISTORY_RUN), [
            { name: 'train-set', digest: 'abc123', context: 'training' },
        ]);
        assert.deepEqual(runModelIds(HOSTILE_RUN), { outputs: [], inputs: [] });
        assert.deepEqual(runDatasets(HOSTILE_RUN), []);
    });

    test('leaves out the empty source run and model type the server sends for a model', () => {
        assert.deepEqual(toLoggedModelRow(LINKED_MODEL), {
            id: 'm-0e16aa219da1468fb5acc946450199e5',
            name: 'linked-only',
            experimentId: '1',
            params: [],
            metrics: [],
            tags: [],
            status: 'LOGGED_MODEL_READY',
            artifactUri: 'mlflow-artifacts:/1/models/m-0e16aa219da1468fb5acc946450199e5/artifacts',
            creationTime: 1796347258130,
        });
    });
});

describe('experiment rows', () => {
    test('keeps the id a string and the hostile name exact', () => {
        assert.deepEqual(toExperimentRow(HOSTILE_EXPERIMENT), {
            id: '4',
            name: "hostile 'quoted' 50%_off \\ back",
            lifecycleStage: 'active',
            artifactLocation: 'mlflow-artifacts:/4',
            creationTime: 1796347175872,
            lastUpdateTime: 1796347175872,
            tags: [],
        });
        // FileStore ids are 18 digits: a number would round them.
        assert.equal(
            toExperimentRow({ experiment_id: '123456789012345678', name: 'x' }).id,
            '123456789012345678',
        );
    });
});
