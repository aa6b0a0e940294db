// The compose side's public surface: finding and rendering a folder's compose files.

export { findComposeFiles, loadComposeProject, normalizeProjectName } from './project.js';
export type { ComposeFileList, Environment, LoadedCompose, LoadOptions } from './project.js';
export { interpolate } from './interpolate.js';
export type { InterpolationResult, VariableLookup } from './interpolate.js';
export { parseDotenv } from './dotenv.js';
export { scriptCommands, shellSplit, shellWords } from './shellSplit.js';
export { isWindowsPath, parseShortVolume } from './volumes.js';
export { parseShortPort } from './services.js';
