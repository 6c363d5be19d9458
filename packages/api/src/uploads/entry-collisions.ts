import type { EntryPath } from './entry-path.ts';
import { printableName } from './printable-name.ts';
import { UploadRejectedError } from './upload-errors.ts';

/**
 * Finds entries of one upload that would land on the same place, or on places a case-insensitive
 * or normalising filesystem would merge: duplicates, "café" in NFC and NFD, "README" and
 * "readme", "Src/a" and "src/b", and a file that is also used as a directory ("a" and "a/b").
 * Paths given here are already NFC-normalised by normalizeEntryPath.
 */

interface Seen {
  kind: 'file' | 'directory';
  /** The normalised path as first seen. */
  path: string;
  /** The raw entry name that introduced it (for a directory implied by a file: that file). */
  entry: string;
}

/** The key two names share when a case-insensitive, normalising filesystem would merge them. */
export function collisionKey(path: string): string {
  return path.normalize('NFC').toLowerCase().normalize('NFC');
}

export class EntryCollisionChecker {
  readonly #seen = new Map<string, Seen>();
  #directories = 0;

  /** Directories seen so far, listed or implied by a path. */
  get directoryCount(): number {
    return this.#directories;
  }

  addDirectory(entry: string, path: EntryPath): void {
    this.#addAncestors(entry, path);
    this.#add(entry, path.path, 'directory');
  }

  addFile(entry: string, path: EntryPath): void {
    this.#addAncestors(entry, path);
    this.#add(entry, path.path, 'file');
  }

  #addAncestors(entry: string, path: EntryPath): void {
    for (let depth = 1; depth < path.components.length; depth += 1) {
      this.#add(entry, path.components.slice(0, depth).join('/'), 'directory');
    }
  }

  #add(entry: string, path: string, kind: Seen['kind']): void {
    const key = collisionKey(path);
    const seen = this.#seen.get(key);
    if (seen === undefined) {
      this.#seen.set(key, { kind, path, entry });
      if (kind === 'directory') this.#directories += 1;
      return;
    }
    if (seen.kind === 'directory' && kind === 'directory' && seen.path === path) return;
    throw new UploadRejectedError({
      rule: 'name-collision',
      entry,
      detail: describeCollision(seen, { kind, path, entry }),
    });
  }
}

function describeCollision(first: Seen, second: Seen): string {
  const other = `"${printableName(first.entry)}"`;
  if (first.kind !== second.kind) {
    const file = first.kind === 'file' ? first.path : second.path;
    return `"${printableName(file)}" would be both a file and a directory; see entry ${other}`;
  }
  if (first.path !== second.path) {
    return `same name as entry ${other} when upper and lower case are not distinguished`;
  }
  if (
    first.entry !== second.entry &&
    first.entry.normalize('NFC') === second.entry.normalize('NFC')
  ) {
    return `same name as entry ${other} after Unicode normalisation (NFC)`;
  }
  return `another entry, ${other}, has the same path`;
}
