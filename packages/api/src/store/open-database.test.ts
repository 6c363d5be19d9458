import { statSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DATABASE_FILE_NAME, openDatabase } from './open-database.ts';
import { makeTestDir, openTestStore, snippetRun, type TestDir } from './store-test-fixtures.ts';

let tmp: TestDir;
beforeEach(() => {
  tmp = makeTestDir();
});
afterEach(() => tmp.remove());

describe('openDatabase', () => {
  it('makes the directory (owner only) and opens runbox.sqlite with WAL, NORMAL, FKs, a timeout', () => {
    const dataDir = join(tmp.dir, 'nested', 'data');
    const { db, file } = openDatabase(dataDir, { busyTimeoutMs: 1234 });
    try {
      expect(file).toBe(join(dataDir, DATABASE_FILE_NAME));
      expect(statSync(dataDir).mode & 0o777).toBe(0o700);
      expect(db.prepare('PRAGMA journal_mode').get()?.journal_mode).toBe('wal');
      // 1 = NORMAL
      expect(db.prepare('PRAGMA synchronous').get()?.synchronous).toBe(1);
      expect(db.prepare('PRAGMA foreign_keys').get()?.foreign_keys).toBe(1);
      expect(db.prepare('PRAGMA busy_timeout').get()?.timeout).toBe(1234);
    } finally {
      db.close();
    }
  });

  it('waits busy_timeout for another connection’s write lock, then fails', () => {
    const { store } = openTestStore(tmp.dir, { busyTimeoutMs: 150 });
    const other = new DatabaseSync(join(tmp.dir, DATABASE_FILE_NAME));
    other.exec('BEGIN IMMEDIATE');
    const started = performance.now();
    expect(() => store.insertRun(snippetRun({ id: 'r1' }))).toThrow(/locked|busy/i);
    expect(performance.now() - started).toBeGreaterThanOrEqual(100);
    other.exec('ROLLBACK');
    other.close();
    store.insertRun(snippetRun({ id: 'r1' }));
    store.close();
  });
});
