// Where the repository is, for tests bundled into a scratch folder: the runner says so, else
// the nearest folder above that holds the project's package.json.

import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

function findRepo(from: string): string {
    let dir = from;
    for (;;) {
        const manifest = path.join(dir, 'package.json');
        if (existsSync(manifest) && readFileSync(manifest, 'utf8').includes('"mlops-stack-doctor"'))
            return dir;
        const up = path.dirname(dir);
        if (up === dir) throw new Error(`cannot find the repository above ${from}`);
        dir = up;
    }
}

export const REPO = process.env.STACK_DOCTOR_REPO ?? findRepo(__dirname);

export const fixture = (...parts: string[]) => path.join(REPO, 'test', 'fixtures', ...parts);
