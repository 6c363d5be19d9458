import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MIGRATIONS, type Migration } from './migrations.ts';
import { migrate } from './migrate.ts';
import { DATABASE_FILE_NAME, openDatabase } from './open-database.ts';
import { MigrationFailedError, SchemaTooNewError } from './store-errors.ts';
import { makeTestDir, openTestStore, snippetRun, type TestDir } from './store-test-fixtures.ts';

let tmp: TestDir;
beforeEach(() => {
  tmp = makeTestDir();
});
afterEach(() => tmp.remove());

function rawDb(): DatabaseSync {
  return new DatabaseSync(join(tmp.dir, DATABASE_FILE_NAME));
}

describe('migrations', () => {
  it('run once, are recorded, and are not run again on reopen', () => {
    const first = openTestStore(tmp.dir, { now: () => 111 }).store;
    expect(first.schemaVersion).toBe(MIGRATIONS.length);
    first.close();
    const second = openTestStore(tmp.dir, { now: () => 222 }).store;
    second.close();
    const db = rawDb();
    const rows = db.prepare('SELECT version, name, applied_at FROM schema_migrations').all();
    db.close();
    expect(rows).toEqual(
      MIGRATIONS.map((m) => ({ version: m.version, name: m.name, applied_at: 111 })),
    );
  });

  it('apply only the new ones to an older database', () => {
    openTestStore(tmp.dir).store.close();
    const next: Migration = {
      version: MIGRATIONS.length + 1,
      name: 'add notes',
      sql: 'ALTER TABLE runs ADD COLUMN notes TEXT',
    };
    const store = openTestStore(tmp.dir, { migrations: [...MIGRATIONS, next] }).store;
    expect(store.schemaVersion).toBe(next.version);
    store.close();
    const db = rawDb();
    const columns = db.prepare("SELECT name FROM pragma_table_info('runs')").all();
    db.close();
    expect(columns.map((c) => c.name)).toContain('notes');
  });

  it('bring a version-1 database with runs up to date, every run kept', () => {
    // The store of version 1 is gone with its code: its schema is made by its migration alone.
    const { db, file } = openDatabase(tmp.dir);
    migrate(db, { file, migrations: MIGRATIONS.slice(0, 1), now: () => 1 });
    db.prepare(
      `INSERT INTO runs (id, owner, kind, tool_id, request, limits, state, queued_at)
       VALUES ('old', 'alice', 'tool', 'python', ?, ?, 'completed', 5)`,
    ).run(JSON.stringify({ kind: 'tool', toolId: 'python', projectDir: '/x' }), '{}');
    db.close();
    const { store } = openTestStore(tmp.dir);
    expect(store.schemaVersion).toBe(MIGRATIONS.at(-1)?.version);
    expect(store.getRun('old')).toMatchObject({
      id: 'old',
      toolId: 'python',
      state: 'completed',
      exampleId: null,
    });
    store.insertRun({ ...snippetRun({ id: 'new' }), exampleId: 'hello-python' });
    expect(store.getRun('new')?.exampleId).toBe('hello-python');
    store.close();
  });

  it('roll a failing migration back and record nothing', () => {
    const broken: Migration = {
      version: MIGRATIONS.length + 1,
      name: 'broken',
      sql: 'CREATE TABLE half_done (x INTEGER); SELECT * FROM no_such_table;',
    };
    expect(() => openTestStore(tmp.dir, { migrations: [...MIGRATIONS, broken] })).toThrow(
      MigrationFailedError,
    );
    const db = rawDb();
    const tables = db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table'").all();
    const versions = db.prepare('SELECT version FROM schema_migrations').all();
    db.close();
    expect(tables.map((t) => t.name)).not.toContain('half_done');
    expect(versions.map((v) => v.version)).toEqual(MIGRATIONS.map((m) => m.version));
  });

  it('refuse a database newer than the code, with a clear error, and leave it as it is', () => {
    const { store } = openTestStore(tmp.dir);
    store.insertRun(snippetRun({ id: 'r1' }));
    store.close();
    const db = rawDb();
    db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
      99,
      'from the future',
      0,
    );
    db.close();

    let error: unknown;
    try {
      openTestStore(tmp.dir);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(SchemaTooNewError);
    expect((error as SchemaTooNewError).code).toBe('SCHEMA_TOO_NEW');
    expect((error as SchemaTooNewError).message).toMatch(
      new RegExp(`schema version 99.*knows versions up to ${MIGRATIONS.at(-1)?.version}`),
    );

    const after = rawDb();
    expect(after.prepare('SELECT COUNT(*) AS n FROM runs').get()?.n).toBe(1);
    after.close();
  });

  it('refuse a migration list that is out of order', () => {
    const list: Migration[] = [{ version: 2, name: 'x', sql: '' }];
    expect(() => openTestStore(tmp.dir, { migrations: list })).toThrow(/versions must be 1, 2, 3/);
  });
});
