// The engine, loaded on first use. It is a bundle of its own (dist/engine.js, with dockerode,
// axios and yaml), so activating the extension loads only the small host bundle.

import path from 'node:path';

import type * as EngineEntry from './engineEntry.js';

export type Engine = typeof EngineEntry;

let loaded: Engine | undefined;

export function loadEngine(extensionPath: string): Engine {
    // A plain require of a path esbuild cannot see: the engine stays out of the host bundle.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    loaded ??= require(path.join(extensionPath, 'dist', 'engine.js')) as Engine;
    return loaded;
}
