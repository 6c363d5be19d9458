export {
  assertTreeDigest,
  DEFAULT_TREE_LIMITS,
  digestTree,
  InvalidDigestError,
  isTreeDigest,
  listTree,
  summarizeTree,
  TreeChangedError,
  TreeLimitError,
  UnsupportedEntryError,
  type TreeEntry,
  type TreeEntryKind,
  type TreeLimitName,
  type TreeLimits,
  type TreeSummary,
} from './tree-digest.ts';
export {
  BundleRejectedError,
  BundleTargetExistsError,
  MAX_BUNDLE_PATH_BYTES,
  packTree,
  unpackTree,
  type BundleRule,
  type UnpackOptions,
  type UnpackedTree,
} from './tree-bundle.ts';
export {
  createProjectCache,
  DigestMismatchError,
  type HeldProject,
  type ProjectCache,
  type ProjectCacheOptions,
} from './project-cache.ts';
export {
  fetchProjectBundle,
  InvalidRunIdError,
  uploadArtifacts,
  WorkerFilesRequestError,
  type WorkerFilesTarget,
} from './worker-files-client.ts';
