// The FileStore reader: where tracking roots are, what their meta.yaml files hold, and what
// each MLflow version requires of them.

export { findFileStores, readFileStores, type FileStoreLocation } from './findFileStores.js';
export { parseMetaYaml, type MetaParse } from './metaYaml.js';
export { readFileStore, type ReadFileStoreOptions } from './readFileStore.js';
export {
    mlflowVersionAtLeast,
    parseMlflowVersion,
    readerNeedsRunUuid,
    requiredExperimentKeys,
    requiredRunKeys,
    reservedExperimentFolders,
    RUN_UUID_OPTIONAL_SINCE,
} from './readerVersions.js';
