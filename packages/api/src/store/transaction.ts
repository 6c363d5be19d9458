import type { DatabaseSync } from 'node:sqlite';

let savepointCounter = 0;

/**
 * Runs `work` in one transaction: BEGIN IMMEDIATE takes the write lock up front, so a writer never
 * fails half-way on a lock upgrade. Inside another transaction it nests as a savepoint.
 */
export function inTransaction<T>(db: DatabaseSync, work: () => T): T {
  if (db.isTransaction) {
    savepointCounter += 1;
    const name = `nested_${savepointCounter}`;
    db.exec(`SAVEPOINT ${name}`);
    try {
      const out = work();
      db.exec(`RELEASE ${name}`);
      return out;
    } catch (error) {
      if (db.isTransaction) db.exec(`ROLLBACK TO ${name}; RELEASE ${name}`);
      throw error;
    }
  }
  db.exec('BEGIN IMMEDIATE');
  try {
    const out = work();
    db.exec('COMMIT');
    return out;
  } catch (error) {
    // SQLite may already have rolled back on its own (e.g. after SQLITE_FULL).
    if (db.isTransaction) db.exec('ROLLBACK');
    throw error;
  }
}
