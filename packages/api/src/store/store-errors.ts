/** Errors of the store. Each names what was wrong; none of them is the user's fault. */

/** The database was written by a newer runbox: this code does not know its schema. */
export class SchemaTooNewError extends Error {
  readonly code = 'SCHEMA_TOO_NEW';
  readonly file: string;
  readonly databaseVersion: number;
  readonly codeVersion: number;
  constructor(options: { file: string; databaseVersion: number; codeVersion: number }) {
    super(
      `${options.file} has schema version ${options.databaseVersion}, but this runbox knows ` +
        `versions up to ${options.codeVersion}: a newer runbox wrote it. Run that newer runbox, ` +
        'or point RUNBOX_DATA_DIR at another directory; the file was left as it is',
    );
    this.name = 'SchemaTooNewError';
    this.file = options.file;
    this.databaseVersion = options.databaseVersion;
    this.codeVersion = options.codeVersion;
  }
}

/** A migration failed; it was rolled back and is not recorded, so the next start tries again. */
export class MigrationFailedError extends Error {
  readonly code = 'MIGRATION_FAILED';
  readonly version: number;
  readonly migration: string;
  constructor(options: { version: number; name: string; cause: unknown }) {
    const reason = options.cause instanceof Error ? options.cause.message : String(options.cause);
    super(`migration ${options.version} (${options.name}) failed and was rolled back: ${reason}`, {
      cause: options.cause,
    });
    this.name = 'MigrationFailedError';
    this.version = options.version;
    this.migration = options.name;
  }
}

/** The database file cannot be used the way the store needs it (e.g. no WAL on this filesystem). */
export class StoreOpenError extends Error {
  readonly code = 'STORE_OPEN_FAILED';
  readonly file: string;
  constructor(file: string, problem: string, cause?: unknown) {
    super(`cannot use ${file}: ${problem}`, { cause });
    this.name = 'StoreOpenError';
    this.file = file;
  }
}

export class StoreClosedError extends Error {
  readonly code = 'STORE_CLOSED';
  constructor(operation: string) {
    super(`the store is closed; ${operation} came after close()`);
    this.name = 'StoreClosedError';
  }
}

/** A call with an argument outside what the store accepts (a limit, a cursor, a migration list). */
export class InvalidStoreArgumentError extends Error {
  readonly code = 'INVALID_STORE_ARGUMENT';
  readonly field: string;
  constructor(field: string, problem: string) {
    super(`${field}: ${problem}`);
    this.name = 'InvalidStoreArgumentError';
    this.field = field;
  }
}

/** An insert broke a constraint: a duplicate id, a project that does not exist. */
export class StoreConstraintError extends Error {
  readonly code = 'STORE_CONSTRAINT';
  readonly table: string;
  constructor(table: string, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(`${table}: ${reason}`, { cause });
    this.name = 'StoreConstraintError';
    this.table = table;
  }
}

/** A patch tried to move a run out of an end state; an ended run stays ended. */
export class RunAlreadyEndedError extends Error {
  readonly code = 'RUN_ALREADY_ENDED';
  readonly runId: string;
  readonly state: string;
  readonly requested: string;
  constructor(options: { runId: string; state: string; requested: string }) {
    super(`run ${options.runId} ended as ${options.state}; it cannot become ${options.requested}`);
    this.name = 'RunAlreadyEndedError';
    this.runId = options.runId;
    this.state = options.state;
    this.requested = options.requested;
  }
}

/**
 * A stored value that does not read back as what was written (bad JSON, wrong shape, unknown
 * enum). Reported through `onError`, never thrown at a reader: the run is returned with the column
 * listed in `damaged`, an event row is skipped.
 */
export class CorruptColumnError extends Error {
  readonly code = 'CORRUPT_COLUMN';
  readonly table: string;
  readonly key: string;
  readonly column: string;
  constructor(options: { table: string; key: string; column: string; problem: string }) {
    super(`${options.table} ${options.key}: column ${options.column} ${options.problem}`);
    this.name = 'CorruptColumnError';
    this.table = options.table;
    this.key = options.key;
    this.column = options.column;
  }
}

/**
 * Events that could not be written. `kept` true: they stay buffered and the writer tries again
 * (the database was busy or failed as a whole); false: they were given up (a duplicate seq, a run
 * that never appeared in the store, or the store closed).
 */
export class EventWriteError extends Error {
  readonly code = 'EVENT_WRITE_FAILED';
  /** The run, when the failure concerns one run; null when the whole write failed. */
  readonly runId: string | null;
  /** Sequence numbers of the run's events concerned; empty when runId is null. */
  readonly seqs: readonly number[];
  readonly count: number;
  readonly kept: boolean;
  constructor(options: {
    runId: string | null;
    seqs?: readonly number[];
    count: number;
    kept: boolean;
    problem: string;
    cause?: unknown;
  }) {
    const which = options.runId === null ? 'events' : `events of run ${options.runId}`;
    const fate = options.kept ? 'kept in memory, will retry' : 'dropped';
    super(`${options.count} ${which} not written (${fate}): ${options.problem}`, {
      cause: options.cause,
    });
    this.name = 'EventWriteError';
    this.runId = options.runId;
    this.seqs = options.seqs ?? [];
    this.count = options.count;
    this.kept = options.kept;
  }
}

/** What the store reports through `onError` instead of throwing at a caller that cannot act. */
export type StoreReportedError = CorruptColumnError | EventWriteError;
