// An MLflow Projects `MLproject` file, read with the source range of every key so findings can
// point at `docker_env.volumes.0`. Only what the checks need is interpreted: the environment
// kind, and for `docker_env` the image, its volumes and its environment variables.

import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node as YamlNode } from 'yaml';
import type { SourceRange } from '../model.js';

export interface MlprojectVolume {
    /** `host:container[:mode]` as written. */
    spec: string;
    /** Dotted key (`docker_env.volumes.0`). */
    key: string;
}

export interface MlprojectFile {
    file: string;
    name?: string;
    /** Which environment `mlflow run` builds: from the first of these keys that is present. */
    environment: 'docker' | 'conda' | 'python' | 'local';
    dockerEnv?: {
        image?: string;
        volumes: MlprojectVolume[];
        /** Names of variables passed in (`[NAME, VALUE]` pairs or bare names copied from the host). */
        environment: string[];
    };
    /** Dotted key → where it is written. */
    ranges: Record<string, SourceRange>;
    /** YAML errors, or a file that is not a mapping; the file is then read no further. */
    problems: { message: string; line: number }[];
}

/** Reads an MLproject text. Never throws. */
export function readMlproject(text: string, file = 'MLproject'): MlprojectFile {
    const result: MlprojectFile = { file, environment: 'local', ranges: {}, problems: [] };
    const lines = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
    if (doc.errors.length > 0) {
        for (const error of doc.errors) {
            result.problems.push({
                message: error.message.split('\n')[0] ?? error.message,
                line: lines.linePos(error.pos[0]).line,
            });
        }
        return result;
    }
    const root = doc.contents;
    if (!isMap(root)) {
        result.problems.push({ message: 'the file is not a mapping of keys', line: 1 });
        return result;
    }

    const rangeOf = (start: number, end: number): SourceRange => {
        let stop = end;
        while (stop > start && /\s/.test(text[stop - 1] ?? '')) stop--;
        const from = lines.linePos(start);
        const to = lines.linePos(Math.max(start, stop));
        return { file, line: from.line, column: from.col, endLine: to.line, endColumn: to.col };
    };
    const record = (key: string, keyNode: unknown, value: unknown) => {
        const start = (keyNode as YamlNode | null)?.range?.[0];
        const end =
            (value as YamlNode | null)?.range?.[1] ?? (keyNode as YamlNode | null)?.range?.[1];
        if (start !== undefined && end !== undefined) result.ranges[key] = rangeOf(start, end);
    };

    for (const pair of root.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : undefined;
        if (key === undefined) continue;
        record(key, pair.key, pair.value);
        if (key === 'name' && isScalar(pair.value)) result.name = String(pair.value.value);
    }
    const has = (key: string) => root.has(key);
    if (has('docker_env')) result.environment = 'docker';
    else if (has('python_env')) result.environment = 'python';
    else if (has('conda_env')) result.environment = 'conda';

    const docker = root.get('docker_env', true);
    if (result.environment === 'docker') {
        result.dockerEnv = { volumes: [], environment: [] };
        if (isMap(docker)) {
            for (const pair of docker.items) {
                const key = isScalar(pair.key) ? String(pair.key.value) : undefined;
                if (key) record(`docker_env.${key}`, pair.key, pair.value);
            }
            const image = docker.get('image', true);
            if (isScalar(image)) result.dockerEnv.image = String(image.value);
            const volumes = docker.get('volumes', true);
            if (isSeq(volumes)) {
                volumes.items.forEach((item, i) => {
                    if (!isScalar(item)) return;
                    const key = `docker_env.volumes.${i}`;
                    if (item.range) result.ranges[key] = rangeOf(item.range[0], item.range[1]);
                    result.dockerEnv?.volumes.push({ spec: String(item.value), key });
                });
            }
            const environment = docker.get('environment', true);
            if (isSeq(environment)) {
                for (const item of environment.items) {
                    const name = isScalar(item)
                        ? item.value
                        : isSeq(item) && isScalar(item.items[0])
                          ? item.items[0].value
                          : undefined;
                    if (typeof name === 'string' || typeof name === 'number') {
                        result.dockerEnv.environment.push(String(name));
                    }
                }
            }
        }
    }
    return result;
}
