import { printableName } from './printable-name.ts';

/**
 * Why an upload was refused. The API maps these to a 4xx answer; each names the rule, the entry
 * (when one entry is to blame) and the limit it broke. Nothing of a refused upload is kept.
 */

/** Every rule an upload can break, with the short title used in messages. */
export const UPLOAD_REJECTION_RULES = {
  'path-traversal': 'path traversal',
  'absolute-path': 'absolute path',
  'drive-letter': 'Windows drive letter',
  backslash: 'backslash in path',
  'invalid-component': 'invalid path component',
  'control-character': 'control character in name',
  'invalid-encoding': 'invalid text encoding in name',
  'path-too-deep': 'path too deep',
  'path-too-long': 'path too long',
  'name-collision': 'name collision',
  symlink: 'symbolic link',
  hardlink: 'hard link',
  device: 'device file',
  fifo: 'named pipe',
  'unsupported-entry': 'unsupported entry type',
  encrypted: 'encrypted entry',
  'unsupported-compression': 'unsupported compression method',
  'too-many-files': 'too many files',
  'too-many-directories': 'too many directories',
  'file-too-large': 'file too large',
  'total-too-large': 'upload too large when extracted',
  'upload-too-large': 'upload too large',
  'compression-ratio': 'compression ratio too high',
  'unsupported-format': 'unsupported format',
  'corrupt-archive': 'corrupt archive',
  empty: 'empty upload',
} as const;

export type UploadRejectionRule = keyof typeof UPLOAD_REJECTION_RULES;

export class UploadRejectedError extends Error {
  readonly code = 'UPLOAD_REJECTED';
  readonly rule: UploadRejectionRule;
  /**
   * The offending entry's name as it appeared in the upload, made printable (control and
   * invisible characters, backslash and quote escaped; long names cut). Null when the upload as
   * a whole is to blame.
   */
  readonly entry: string | null;
  /** The limit that was broken (bytes, a count, a ratio or a depth), or null if none applies. */
  readonly limit: number | null;
  /**
   * The value that broke it. For a stream stopped early (a bomb) this is what had been seen when
   * it was stopped, so the real value is at least this.
   */
  readonly actual: number | null;
  /** The human-readable explanation after the rule title. */
  readonly detail: string;
  constructor(options: {
    rule: UploadRejectionRule;
    /** The raw entry name; it is escaped here. */
    entry?: string | null;
    detail: string;
    limit?: number | null;
    actual?: number | null;
  }) {
    const entry =
      options.entry === undefined || options.entry === null ? null : printableName(options.entry);
    const subject = entry === null ? 'upload' : `entry "${entry}"`;
    super(`${subject}: ${UPLOAD_REJECTION_RULES[options.rule]} (${options.detail})`);
    this.name = 'UploadRejectedError';
    this.rule = options.rule;
    this.entry = entry;
    this.limit = options.limit ?? null;
    this.actual = options.actual ?? null;
    this.detail = options.detail;
  }
}

export function isUploadRejectedError(error: unknown): error is UploadRejectedError {
  return error instanceof UploadRejectedError;
}

/** Wraps an archive library's error (bad header, truncated data, zlib failure) as corrupt-archive. */
export function corruptArchiveError(entry: string | null, cause: unknown): UploadRejectedError {
  if (cause instanceof UploadRejectedError) return cause;
  const reason = cause instanceof Error ? cause.message : String(cause);
  const error = new UploadRejectedError({
    rule: 'corrupt-archive',
    entry,
    detail: printableName(reason, 300),
  });
  return error;
}

/** The project id is not a single safe directory name. Raised by the server's own code paths. */
export class InvalidProjectIdError extends Error {
  readonly code = 'INVALID_PROJECT_ID';
  readonly projectId: string;
  constructor(projectId: string) {
    super(
      `project id "${printableName(projectId)}" is invalid: expected 1-128 characters of ` +
        'A-Z a-z 0-9 . _ - starting with a letter or digit',
    );
    this.name = 'InvalidProjectIdError';
    this.projectId = projectId;
  }
}

/** Something already stands where the project directory would go; it is left untouched. */
export class ProjectExistsError extends Error {
  readonly code = 'PROJECT_EXISTS';
  readonly projectId: string;
  readonly dir: string;
  constructor(options: { projectId: string; dir: string }) {
    super(`project "${options.projectId}" already exists at ${options.dir}; nothing was changed`);
    this.name = 'ProjectExistsError';
    this.projectId = options.projectId;
    this.dir = options.dir;
  }
}
