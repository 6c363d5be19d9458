import { linkTargetRefusal } from '@runbox/executor';
import { EntryCollisionChecker } from './entry-collisions.ts';
import { normalizeEntryPath, type EntryPath } from './entry-path.ts';
import { UploadRejectedError } from './upload-errors.ts';
import type { UploadLimits } from './upload-limits.ts';
import { uploadWarning, type UploadWarning, type UploadWarningRule } from './upload-warnings.ts';

/**
 * Admits the entries of one upload, one at a time, against the count and size limits and the
 * collision rules, and keeps the list of files, of the links kept and of what was left out.
 * Sizes given here are what the entry declares; each extractor makes sure the bytes really
 * written match them. A link counts as a file against the count limit and takes its name like
 * one, so nothing of the upload is ever written below a link.
 */

export interface StoredFile {
  /** Normalised path relative to the project directory, '/'-separated. */
  path: string;
  size: number;
}

/** A symbolic link the project keeps: relative, its target inside the project. */
export interface StoredLink {
  path: string;
  target: string;
}

export class UploadTally {
  readonly limits: UploadLimits;
  readonly #collisions = new EntryCollisionChecker();
  readonly #files: StoredFile[] = [];
  /** Sizes of the files by normalised path, for hard links to them. */
  readonly #sizes = new Map<string, number>();
  readonly #links: StoredLink[] = [];
  readonly #warnings: UploadWarning[] = [];
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

  get links(): readonly StoredLink[] {
    return this.#links;
  }

  /** Entries left out, in the upload's order. */
  get warnings(): readonly UploadWarning[] {
    return this.#warnings;
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
    this.#checkFileCount(entry);
    const { maxFileBytes, maxTotalBytes } = this.limits;
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
    this.#sizes.set(path.path, size);
    return path;
  }

  /**
   * A symbolic link entry. Kept (its path returned, to be written as a link) when its target
   * stays inside the project (link-target.ts in the executor); otherwise left out with a warning
   * and null returned. Its own name is checked like any entry's before this.
   */
  admitLink(entry: string, path: EntryPath | null, target: string): EntryPath | null {
    const named = this.#named(entry, path, 'a link');
    const refusal = linkTargetRefusal(named.path, target);
    if (refusal) {
      this.#warnings.push(uploadWarning(entry, refusal.rule, refusal.message));
      return null;
    }
    this.#collisions.addFile(entry, named);
    this.#checkDirectoryCount(entry);
    this.#checkFileCount(entry);
    this.#links.push({ path: named.path, target });
    return named;
  }

  /**
   * A hard link entry, which becomes a copy of the earlier file it names: admitted as a file of
   * that file's size, returned with the path to copy from. One that names no earlier regular
   * file of this upload is left out with a warning (null).
   */
  admitHardLink(
    entry: string,
    path: EntryPath | null,
    linkName: string,
  ): { path: EntryPath; from: string } | null {
    let from: EntryPath | null = null;
    try {
      from = normalizeEntryPath(linkName, this.limits);
    } catch {
      // A name no entry could have: it names nothing of the upload.
    }
    const size = from === null ? undefined : this.#sizes.get(from.path);
    if (from === null || size === undefined) {
      this.#warnings.push(
        uploadWarning(
          entry,
          'hardlink-unresolved',
          `it is a hard link to ${linkName}, which is no file before it in the upload`,
        ),
      );
      return null;
    }
    return { path: this.admitFile(entry, path, size), from: from.path };
  }

  /** An entry the upload goes on without: listed as a warning. */
  leaveOut(entry: string, rule: UploadWarningRule, why: string): void {
    this.#warnings.push(uploadWarning(entry, rule, why));
  }

  #named(entry: string, path: EntryPath | null, what: string): EntryPath {
    if (path === null || path.trailingSlash) {
      throw new UploadRejectedError({
        rule: 'invalid-component',
        entry,
        detail: `${what} cannot be named like a directory or the project root`,
      });
    }
    return path;
  }

  #checkFileCount(entry: string): void {
    const { maxFiles } = this.limits;
    const count = this.#files.length + this.#links.length;
    if (count + 1 > maxFiles) {
      throw new UploadRejectedError({
        rule: 'too-many-files',
        entry,
        detail: `more than ${maxFiles} files`,
        limit: maxFiles,
        actual: count + 1,
      });
    }
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
