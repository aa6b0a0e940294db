// The compose-render check on small compose files rendered by our renderer: renderings that
// differ from what the author meant, and the correct forms that must stay quiet.

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { composeRenderCheck } from '../../src/core/checks/composeRender.js';
import { gatherSnapshot } from '../../src/core/diagnose.js';
import type { Finding } from '../../src/core/model.js';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'stack-doctor-render-'));
let counter = 0;

async function render(compose: string, dotenv?: string): Promise<Finding[]> {
    const folder = path.join(scratch, `r${counter++}`);
    mkdirSync(folder, { recursive: true });
    writeFileSync(path.join(folder, 'compose.yaml'), compose);
    if (dotenv !== undefined) writeFileSync(path.join(folder, '.env'), dotenv);
    const snapshot = await gatherSnapshot({
        folder,
        context: {},
        pythonPath: path.join(folder, 'no-python'),
    });
    return composeRenderCheck.run(snapshot);
}

after(() => rmSync(scratch, { recursive: true, force: true }));

void describe('compose-render check', () => {
    void test('reports an unset variable that shifts the next flag into a value', async () => {
        const [f, ...rest] = await render(`services:
  mlflow:
    image: ghcr.io/mlflow/mlflow:v2.22.0
    command: mlflow server --backend-store-uri \${DB_URI} --host 0.0.0.0
`);
        assert.deepEqual(rest, []);
        assert.equal(f?.severity, 'error');
        assert.match(f?.title ?? '', /--backend-store-uri takes "--host" as its value/);
        assert.equal(f?.locations[0]?.line, 4);
        assert.match(f?.fix ?? '', /DB_URI:-/);
    });

    void test('a quoted unset variable gives an empty value instead, as a warning', async () => {
        const [f] = await render(`services:
  mlflow:
    image: ghcr.io/mlflow/mlflow:v2.22.0
    command: mlflow server --backend-store-uri "\${DB_URI}" --host 0.0.0.0
`);
        assert.equal(f?.severity, 'warning');
        assert.match(f?.title ?? '', /empty value/);
    });

    void test('is quiet when .env sets the variable or a default is given', async () => {
        const compose = `services:
  mlflow:
    image: ghcr.io/mlflow/mlflow:v2.22.0
    command: mlflow server --backend-store-uri \${DB_URI} --port \${PORT:-5000}
`;
        assert.deepEqual(await render(compose, 'DB_URI=sqlite:////data/m.db\n'), []);
    });

    void test("reports the service's own environment variable interpolated from the host", async () => {
        const [f] = await render(`services:
  mlflow:
    image: ghcr.io/mlflow/mlflow:v2.22.0
    environment:
      ARTIFACTS: /artifacts
    command: ["sh", "-c", "mlflow server --artifacts-destination \${ARTIFACTS}"]
`);
        assert.equal(f?.severity, 'error');
        assert.match(f?.fix ?? '', /\$\$ARTIFACTS/);
        assert.match(f?.fix ?? '', /whose shell expands it/);
    });

    void test('leaves $$VAR inside an sh -c script alone', async () => {
        const findings = await render(`services:
  init:
    image: minio/mc
    environment:
      MINIO_ROOT_USER: admin
    entrypoint: ["/bin/sh", "-c"]
    command:
      - |
        mc alias set s3 http://minio:9000 "$$MINIO_ROOT_USER" x
        mc mb -p s3/bucket
`);
        assert.deepEqual(findings, []);
    });

    void test('reports $VAR that reaches a program without a shell', async () => {
        const [f] = await render(`services:
  mlflow:
    image: ghcr.io/mlflow/mlflow:v2.22.0
    environment:
      PORT: "5000"
    command: ["mlflow", "server", "--port", "$$PORT"]
`);
        assert.equal(f?.severity, 'warning');
        assert.match(f?.title ?? '', /literal text \$PORT/);
    });

    void test('reports a folded sh -c script whose lines join into one command', async () => {
        const [f] = await render(`services:
  mlflow:
    image: python:3.11
    command:
      - sh
      - -c
      - >
        pip install mlflow psycopg2-binary
        mlflow server --host 0.0.0.0
`);
        assert.equal(f?.severity, 'error');
        assert.match(f?.title ?? '', /"mlflow server --host 0.0.0.0" becomes arguments/);
        assert.equal(f?.locations[0]?.line, 9);
        assert.match(f?.fix ?? '', /\|/);
    });

    void test('accepts a folded script whose lines are joined with &&', async () => {
        const findings = await render(`services:
  mlflow:
    image: python:3.11
    command:
      - sh
      - -c
      - >
        pip install mlflow &&
        mlflow server --host 0.0.0.0
`);
        assert.deepEqual(findings, []);
    });

    void test('reports a folded exec-form item that becomes one argument', async () => {
        const [f] = await render(`services:
  mlflow:
    image: ghcr.io/mlflow/mlflow:v2.22.0
    command:
      - mlflow
      - server
      - >
        --host 0.0.0.0
        --port 5000
`);
        assert.match(f?.title ?? '', /as one argument/);
    });

    void test('reports && in a shell-form command and offers sh -c', async () => {
        const [f] = await render(`services:
  mlflow:
    image: python:3.11
    command: pip install mlflow && mlflow server --host 0.0.0.0
`);
        assert.equal(f?.severity, 'error');
        assert.match(f?.title ?? '', /"&&" as an argument/);
        assert.equal(
            f?.edits?.[0]?.newText,
            '["sh", "-c", "pip install mlflow && mlflow server --host 0.0.0.0"]',
        );
        assert.equal(f?.edits?.[0]?.range.column, 14);
    });

    void test('reports words after the one script of sh -c', async () => {
        const [f] = await render(`services:
  mlflow:
    image: python:3.11
    command: ["sh", "-c", "pip install mlflow", "&&", "mlflow", "server"]
`);
        assert.match(f?.title ?? '', /Only the first word after -c/);
    });

    void test('accepts a folded shell-form command split over lines', async () => {
        const findings = await render(`services:
  mlflow:
    image: ghcr.io/mlflow/mlflow:v2.22.0
    command: >-
      mlflow server --host 0.0.0.0
      --port 5000
`);
        assert.deepEqual(findings, []);
    });
});
