export {
  storeUpload,
  TEMP_DIR_PREFIX,
  type StoreUploadOptions,
  type StoredUpload,
  type UploadSource,
} from './store-upload.ts';
export { removeStaleUploadDirs } from './stale-uploads.ts';
export {
  DEFAULT_UPLOAD_LIMITS,
  InvalidUploadLimitError,
  resolveUploadLimits,
  UPLOAD_LIMIT_NAMES,
  uploadLimitsOverrideSchema,
  type UploadLimits,
  type UploadLimitsOverride,
} from './upload-limits.ts';
export {
  InvalidProjectIdError,
  isUploadRejectedError,
  ProjectExistsError,
  UPLOAD_REJECTION_RULES,
  UploadRejectedError,
  type UploadRejectionRule,
} from './upload-errors.ts';
export { detectArchiveFormat, type ArchiveFormat } from './detect-format.ts';
export type { LooseFile } from './write-loose-files.ts';
export type { StoredFile, StoredLink } from './upload-tally.ts';
export {
  UPLOAD_WARNING_RULES,
  type UploadWarning,
  type UploadWarningRule,
} from './upload-warnings.ts';
