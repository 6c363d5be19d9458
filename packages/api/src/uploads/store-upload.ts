import { chmod, chown, lstat, mkdtemp, rename, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  describeUnsupportedFormat,
  detectArchiveFormat,
  type ArchiveFormat,
} from './detect-format.ts';
import { extractTar } from './extract-tar.ts';
import { extractZip } from './extract-zip.ts';
import { DIRECTORY_MODE, ProjectTreeWriter } from './project-tree-writer.ts';
import { InvalidProjectIdError, ProjectExistsError, UploadRejectedError } from './upload-errors.ts';
import { resolveUploadLimits, type UploadLimits } from './upload-limits.ts';
import { UploadTally, type StoredFile, type StoredLink } from './upload-tally.ts';
import type { UploadWarning } from './upload-warnings.ts';
import type { UploadTarget } from './upload-target.ts';
import { writeLooseFiles, type LooseFile } from './write-loose-files.ts';

/**
 * Turns an upload into a project directory: <projectsRoot>/<projectId>. The upload is extracted
 * into a fresh temporary directory beside it (same filesystem) and renamed into place only when
 * every check passed; on any failure the temporary directory is removed, so a refused upload
 * leaves nothing behind and nothing outside it is ever written.
 */

export type UploadSource =
  { kind: 'archive'; bytes: Buffer } | { kind: 'files'; files: readonly LooseFile[] };

export interface StoreUploadOptions {
  source: UploadSource;
  /** Existing directory that holds the project directories. */
  projectsRoot: string;
  /** Name of the new project directory: 1-128 of A-Z a-z 0-9 . _ -, starting alphanumeric. */
  projectId: string;
  /** Overrides of DEFAULT_UPLOAD_LIMITS. */
  limits?: Partial<UploadLimits>;
  /**
   * Host user and group given every entry and the project directory: the sandbox user, so that
   * tool runs see the project through a layer instead of a copy (the executor's
   * project-layer.ts). Null or absent: the server's own.
   */
  owner?: { uid: number; gid: number } | null | undefined;
}

export interface StoredUpload {
  /** Absolute path of the new project directory. */
  dir: string;
  /** What the upload was. */
  format: ArchiveFormat | 'files';
  /** Every file written, sorted by path (a hard link of the upload is one, as a copy). */
  files: StoredFile[];
  /** Symbolic links kept as links (their targets stay inside the project), sorted by path. */
  links: StoredLink[];
  /** Entries left out, the upload going on without them: links leaving the project and such. */
  warnings: UploadWarning[];
  totalBytes: number;
}

/** Prefix of the temporary directories; see removeStaleUploadDirs. */
export const TEMP_DIR_PREFIX = '.upload-';

const PROJECT_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export async function storeUpload(options: StoreUploadOptions): Promise<StoredUpload> {
  const limits = resolveUploadLimits(options.limits);
  const { projectId } = options;
  if (!PROJECT_ID.test(projectId)) throw new InvalidProjectIdError(projectId);
  const projectsRoot = resolve(options.projectsRoot);
  const dir = join(projectsRoot, projectId);
  // Everything that can be refused without touching the disk is refused first.
  const { format, extract } = prepare(options.source, limits);
  await assertAbsent(dir, projectId);

  const temp = await mkdtemp(join(projectsRoot, `${TEMP_DIR_PREFIX}${projectId}-`));
  try {
    const tally = new UploadTally(limits);
    const owner = options.owner ?? null;
    await extract({ tally, writer: new ProjectTreeWriter(temp, owner) });
    if (tally.files.length === 0) {
      throw new UploadRejectedError({ rule: 'empty', detail: 'the upload contains no files' });
    }
    await chmod(temp, DIRECTORY_MODE);
    if (owner) await chown(temp, owner.uid, owner.gid);
    await assertAbsent(dir, projectId);
    try {
      // A project directory is never empty, so if another upload of the same id won the race,
      // this rename fails (ENOTEMPTY) instead of replacing it.
      await rename(temp, dir);
    } catch (error) {
      if (hasCode(error, 'EEXIST', 'ENOTEMPTY', 'ENOTDIR', 'EISDIR')) {
        throw new ProjectExistsError({ projectId, dir });
      }
      throw error;
    }
    const byPath = (a: { path: string }, b: { path: string }): number =>
      a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
    return {
      dir,
      format,
      files: [...tally.files].sort(byPath),
      links: [...tally.links].sort(byPath),
      warnings: [...tally.warnings],
      totalBytes: tally.totalBytes,
    };
  } catch (error) {
    // The refusal is the answer; a failure to clean up must not hide it. What cannot be removed
    // here is left under a TEMP_DIR_PREFIX name for removeStaleUploadDirs.
    await rm(temp, { recursive: true, force: true }).catch(() => undefined);
    throw error;
  }
}

function prepare(
  source: UploadSource,
  limits: UploadLimits,
): { format: StoredUpload['format']; extract: (target: UploadTarget) => Promise<void> } {
  if (source.kind === 'files') {
    if (source.files.length === 0) {
      throw new UploadRejectedError({ rule: 'empty', detail: 'the upload contains no files' });
    }
    return { format: 'files', extract: (target) => writeLooseFiles(source.files, target) };
  }
  const { bytes } = source;
  if (bytes.length === 0) {
    throw new UploadRejectedError({ rule: 'empty', detail: 'the upload is 0 bytes' });
  }
  if (bytes.length > limits.maxUploadBytes) {
    throw new UploadRejectedError({
      rule: 'upload-too-large',
      detail: `the archive is ${bytes.length} bytes, the limit is ${limits.maxUploadBytes} bytes`,
      limit: limits.maxUploadBytes,
      actual: bytes.length,
    });
  }
  const format = detectArchiveFormat(bytes);
  switch (format) {
    case 'zip':
      return { format, extract: (target) => extractZip(bytes, target) };
    case 'tar':
      return { format, extract: (target) => extractTar(bytes, { gzip: false }, target) };
    case 'tar.gz':
      return { format, extract: (target) => extractTar(bytes, { gzip: true }, target) };
    case null: {
      const looksLike = describeUnsupportedFormat(bytes);
      throw new UploadRejectedError({
        rule: 'unsupported-format',
        detail:
          `${looksLike === null ? 'not a recognised archive' : `this is ${looksLike}`}; ` +
          'upload a zip, tar or tar.gz archive, or the files themselves',
      });
    }
  }
}

async function assertAbsent(dir: string, projectId: string): Promise<void> {
  try {
    await lstat(dir);
  } catch (error) {
    if (hasCode(error, 'ENOENT')) return;
    throw error;
  }
  throw new ProjectExistsError({ projectId, dir });
}

function hasCode(error: unknown, ...codes: string[]): boolean {
  return (
    error instanceof Error &&
    'code' in error &&
    typeof error.code === 'string' &&
    codes.includes(error.code)
  );
}
