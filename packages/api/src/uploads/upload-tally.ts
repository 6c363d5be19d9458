import { EntryCollisionChecker } from './entry-collisions.ts';
import type { EntryPath } from './entry-path.ts';
import { UploadRejectedError } from './upload-errors.ts';
import type { UploadLimits } from './upload-limits.ts';

/**
 * Admits the entries of one upload, one at a time, against the count and size limits and the
 * collision rules, and keeps the list of files. Sizes given here are what the entry declares;
 * each extractor makes sure the bytes really written match them.
 */

export interface StoredFile {
  /** Normalised path relative to the project directory, '/'-separated. */
  path: string;
  size: number;
}

export class UploadTally {
  readonly limits: UploadLimits;
  readonly #collisions = new EntryCollisionChecker();
  readonly #files: StoredFile[] = [];
  #totalBytes = 0;

  constructor(limits: UploadLimits) {
    this.limits = limits;
  }

  get files(): readonly StoredFile[] {
    return this.#files;
  }

  get totalBytes(): number {
    return this.#totalBytes;
  }

  get directoryCount(): number {
    return this.#collisions.directoryCount;
  }

  /** A directory entry; null is the project root itself, which is accepted and ignored. */
  admitDirectory(entry: string, path: EntryPath | null): void {
    if (path === null) return;
    this.#collisions.addDirectory(entry, path);
    this.#checkDirectoryCount(entry);
  }

  /** A regular file entry of `size` bytes. */
  admitFile(entry: string, path: EntryPath | null, size: number): EntryPath {
    if (path === null) {
      throw new UploadRejectedError({
        rule: 'invalid-component',
        entry,
        detail: 'a file cannot be named like the project root',
      });
    }
    if (path.trailingSlash) {
      throw new UploadRejectedError({
        rule: 'invalid-component',
        entry,
        detail: 'a file name cannot end with /',
      });
    }
    this.#collisions.addFile(entry, path);
    this.#checkDirectoryCount(entry);
    const { maxFiles, maxFileBytes, maxTotalBytes } = this.limits;
    if (this.#files.length + 1 > maxFiles) {
      throw new UploadRejectedError({
        rule: 'too-many-files',
        entry,
        detail: `more than ${maxFiles} files`,
        limit: maxFiles,
        actual: this.#files.length + 1,
      });
    }
    if (size > maxFileBytes) {
      throw new UploadRejectedError({
        rule: 'file-too-large',
        entry,
        detail: `${size} bytes, the limit is ${maxFileBytes} bytes per file`,
        limit: maxFileBytes,
        actual: size,
      });
    }
    if (this.#totalBytes + size > maxTotalBytes) {
      throw new UploadRejectedError({
        rule: 'total-too-large',
        entry,
        detail: `with this file the upload holds ${this.#totalBytes + size} bytes, the limit is ${maxTotalBytes} bytes`,
        limit: maxTotalBytes,
        actual: this.#totalBytes + size,
      });
    }
    this.#totalBytes += size;
    this.#files.push({ path: path.path, size });
    return path;
  }

  #checkDirectoryCount(entry: string): void {
    const count = this.#collisions.directoryCount;
    if (count > this.limits.maxDirectories) {
      throw new UploadRejectedError({
        rule: 'too-many-directories',
        entry,
        detail: `more than ${this.limits.maxDirectories} directories`,
        limit: this.limits.maxDirectories,
        actual: count,
      });
    }
  }
}
