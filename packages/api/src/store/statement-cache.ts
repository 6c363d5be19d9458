import type { DatabaseSync, StatementSync } from 'node:sqlite';

/**
 * Prepared statements by SQL text, each prepared once and reused. For queries whose shape depends
 * on the call (which filters are set, which columns a patch touches): there are few shapes.
 */
export interface StatementCache {
  get(sql: string): StatementSync;
}

export function createStatementCache(db: DatabaseSync, maxEntries = 256): StatementCache {
  const statements = new Map<string, StatementSync>();
  return {
    get(sql) {
      let statement = statements.get(sql);
      if (!statement) {
        // Shapes are bounded by the code, so this only guards against a bug that makes SQL per call.
        if (statements.size >= maxEntries) statements.clear();
        statement = db.prepare(sql);
        statements.set(sql, statement);
      }
      return statement;
    },
  };
}
