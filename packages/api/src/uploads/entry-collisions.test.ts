import { describe, expect, it } from 'vitest';
import { collisionKey, EntryCollisionChecker } from './entry-collisions.ts';
import { normalizeEntryPath, type EntryPath } from './entry-path.ts';
import { UploadRejectedError } from './upload-errors.ts';
import { DEFAULT_UPLOAD_LIMITS } from './upload-limits.ts';

function path(raw: string): EntryPath {
  const normalized = normalizeEntryPath(raw, DEFAULT_UPLOAD_LIMITS);
  if (normalized === null) throw new Error('root');
  return normalized;
}

function add(checker: EntryCollisionChecker, raw: string): void {
  if (raw.endsWith('/')) checker.addDirectory(raw, path(raw));
  else checker.addFile(raw, path(raw));
}

function collision(entries: string[]): UploadRejectedError {
  const checker = new EntryCollisionChecker();
  try {
    for (const entry of entries) add(checker, entry);
  } catch (error) {
    if (error instanceof UploadRejectedError) return error;
    throw error;
  }
  throw new Error(`expected a collision in ${JSON.stringify(entries)}`);
}

describe('EntryCollisionChecker', () => {
  it('accepts distinct files, shared parents and a directory listed again', () => {
    const checker = new EntryCollisionChecker();
    for (const entry of ['src/', 'src/a.ts', 'src/b.ts', 'src/', 'src/lib/c.ts', 'README.md']) {
      add(checker, entry);
    }
    expect(checker.directoryCount).toBe(2);
  });

  it('refuses "café" in NFC and in NFD', () => {
    const error = collision(['caf\u00e9.txt', 'cafe\u0301.txt']);
    expect(error.rule).toBe('name-collision');
    expect(error.entry).toBe('cafe\u0301.txt');
    expect(error.detail).toContain('Unicode normalisation');
  });

  it('refuses names that differ only in case, for files and directories', () => {
    const error = collision(['README', 'readme']);
    expect(error).toMatchObject({ rule: 'name-collision', entry: 'readme' });
    expect(error.detail).toContain('case');
    expect(collision(['a.txt', 'A.TXT']).entry).toBe('A.TXT');
    expect(collision(['Src/a.ts', 'src/b.ts']).entry).toBe('src/b.ts');
  });

  it('refuses a file that is also a directory, in either order', () => {
    expect(collision(['a', 'a/b'])).toMatchObject({ rule: 'name-collision', entry: 'a/b' });
    expect(collision(['a/b', 'a'])).toMatchObject({ rule: 'name-collision', entry: 'a' });
    expect(collision(['a/', 'a']).detail).toContain('both a file and a directory');
    expect(collision(['A', 'a/b']).rule).toBe('name-collision');
  });

  it('refuses an exact duplicate file, also when spelled with "./"', () => {
    expect(collision(['x.txt', 'x.txt']).detail).toContain('same path');
    expect(collision(['x.txt', './x.txt']).entry).toBe('./x.txt');
  });

  it('folds case and normalisation in its key', () => {
    expect(collisionKey('CAFE\u0301')).toBe(collisionKey('caf\u00e9'));
  });
});
