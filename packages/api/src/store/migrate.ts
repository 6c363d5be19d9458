import type { DatabaseSync } from 'node:sqlite';
import type { Migration } from './migrations.ts';
import {
  InvalidStoreArgumentError,
  MigrationFailedError,
  SchemaTooNewError,
} from './store-errors.ts';
import { inTransaction } from './transaction.ts';

export interface MigrateOptions {
  /** Named in errors. */
  file: string;
  migrations: readonly Migration[];
  now: () => number;
}

export interface MigrateOutcome {
  /** Versions applied by this call, in order. */
  applied: number[];
  /** The schema version of the database now. */
  version: number;
}

/** Refuses a list that is not 1, 2, 3… so that a mistake in migrations.ts fails every test. */
export function assertMigrationList(migrations: readonly Migration[]): void {
  migrations.forEach((migration, index) => {
    if (migration.version !== index + 1) {
      throw new InvalidStoreArgumentError(
        'migrations',
        `entry ${index} has version ${migration.version}; versions must be 1, 2, 3… in order`,
      );
    }
    if (migration.name.trim() === '') {
      throw new InvalidStoreArgumentError('migrations', `version ${migration.version} has no name`);
    }
  });
}

/**
 * Brings the database up to the newest migration, each in its own transaction, recorded in
 * `schema_migrations`. A database newer than the code is refused before anything is changed.
 */
export function migrate(db: DatabaseSync, options: MigrateOptions): MigrateOutcome {
  assertMigrationList(options.migrations);
  const codeVersion = options.migrations.length;
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at INTEGER NOT NULL
  ) STRICT`);
  const currentVersion = (): number => {
    const row = db.prepare('SELECT MAX(version) AS version FROM schema_migrations').get();
    return typeof row?.version === 'number' ? row.version : 0;
  };
  const before = currentVersion();
  if (before > codeVersion) {
    throw new SchemaTooNewError({ file: options.file, databaseVersion: before, codeVersion });
  }
  const isApplied = db.prepare('SELECT 1 AS applied FROM schema_migrations WHERE version = ?');
  const record = db.prepare(
    'INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)',
  );
  const applied: number[] = [];
  for (const migration of options.migrations) {
    if (migration.version <= before) continue;
    try {
      inTransaction(db, () => {
        // Another process may have applied it between our check and our write lock.
        if (isApplied.get(migration.version)) return;
        db.exec(migration.sql);
        record.run(migration.version, migration.name, options.now());
        applied.push(migration.version);
      });
    } catch (error) {
      throw new MigrationFailedError({
        version: migration.version,
        name: migration.name,
        cause: error,
      });
    }
  }
  return { applied, version: currentVersion() };
}
