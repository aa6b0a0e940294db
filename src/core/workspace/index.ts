// The workspace's MLflow clients: tracking URIs, MLflow calls and installed versions.

export {
    probeInterpreterMlflow,
    workspaceInterpreter,
    type InterpreterAnswer,
} from './interpreter.js';
export { readNotebook, type NotebookCell } from './notebook.js';
export { scanWorkspace, type ScanOptions } from './scanWorkspace.js';
