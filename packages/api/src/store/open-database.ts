import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { StoreOpenError } from './store-errors.ts';

export const DATABASE_FILE_NAME = 'runbox.sqlite';

export interface DatabaseOptions {
  /** How long a statement waits for another connection's lock before it fails. Default 5000 ms. */
  busyTimeoutMs?: number;
}

/**
 * Opens (creating it and its directory if need be) `<dataDir>/runbox.sqlite` with the settings
 * the store relies on: WAL (readers never block the writer nor the other way round),
 * synchronous=NORMAL (durable at each checkpoint, never corrupt; a power cut may lose the last
 * commits), foreign keys on, a busy timeout.
 */
export function openDatabase(
  dataDir: string,
  options: DatabaseOptions = {},
): { db: DatabaseSync; file: string } {
  // The database holds the users' code: only the server's user may read it.
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = join(dataDir, DATABASE_FILE_NAME);
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(file, {
      timeout: options.busyTimeoutMs ?? 5_000,
      enableForeignKeyConstraints: true,
    });
  } catch (error) {
    throw new StoreOpenError(file, error instanceof Error ? error.message : String(error), error);
  }
  try {
    const mode = db.prepare('PRAGMA journal_mode = WAL').get()?.journal_mode;
    if (mode !== 'wal') {
      throw new StoreOpenError(
        file,
        `SQLite refused WAL mode here (journal_mode is ${String(mode)}); ` +
          'put RUNBOX_DATA_DIR on a local filesystem',
      );
    }
    db.exec('PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;');
  } catch (error) {
    db.close();
    if (error instanceof StoreOpenError) throw error;
    throw new StoreOpenError(file, error instanceof Error ? error.message : String(error), error);
  }
  return { db, file };
}
