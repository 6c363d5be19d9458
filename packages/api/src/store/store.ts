import type { DatabaseSync, SQLInputValue } from 'node:sqlite';
import { RunNotFoundError, type RunEvent, type RunResult } from '@runbox/executor';
import {
  ARTIFACT_SELECT_LIST,
  artifactRowParams,
  UPSERT_ARTIFACT_SQL,
  storedArtifactFromRow,
  type StoredArtifact,
} from './artifact-row.ts';
import { eventFromRow, SELECT_EVENTS_SQL } from './event-row.ts';
import { createEventWriter } from './event-writer.ts';
import { migrate } from './migrate.ts';
import { MIGRATIONS, type Migration } from './migrations.ts';
import { openDatabase } from './open-database.ts';
import { createOutbox, type Outbox } from './outbox.ts';
import { createSessionStore, type SessionStore } from './session-store.ts';
import {
  insertProjectParams,
  PROJECT_SELECT_LIST,
  storedProjectFromRow,
  type NewProject,
  type StoredProject,
} from './project-row.ts';
import {
  recoverAfterCrash,
  type RecoverOptions,
  type RecoveryOutcome,
} from './recover-after-crash.ts';
import type { ReportCorruption } from './row-reader.ts';
import {
  assertPageSize,
  runQuery,
  type ListRunsOptions,
  type RunCursor,
  type RunFilter,
} from './run-filter.ts';
import {
  insertRunParams,
  isEndStateName,
  RESULT_COLUMNS,
  patchColumns,
  resultColumns,
  RUN_SELECT_LIST,
  storedRunFromRow,
  updateRunSql,
  type NewRun,
  type RunColumn,
  type RunPatch,
  type StoredRun,
} from './run-row.ts';
import { createStatementCache } from './statement-cache.ts';
import {
  InvalidStoreArgumentError,
  RunAlreadyEndedError,
  StoreClosedError,
  StoreConstraintError,
  type StoreReportedError,
} from './store-errors.ts';
import { inTransaction } from './transaction.ts';

export interface StoreOptions {
  /** RUNBOX_DATA_DIR: the database is `<dataDir>/runbox.sqlite`; the directory is made if need be. */
  dataDir: string;
  /** The clock for stored times (created_at, finished_at of recovered runs). Default Date.now. */
  now?: () => number;
  /**
   * Problems nobody waits for: an event batch that failed (kept and retried, or dropped), a stored
   * value that does not read back. Default: console.error.
   */
  onError?: (error: StoreReportedError) => void;
  /** Event batching. Defaults: 500 events, 50 ms, 10,000 ms for a run not stored yet. */
  events?: { maxBatchEvents?: number; maxDelayMs?: number; unknownRunGraceMs?: number };
  /** How long a statement waits for another connection's lock. Default 5000 ms. */
  busyTimeoutMs?: number;
  /** For tests of the migration machinery. Default: MIGRATIONS. */
  migrations?: readonly Migration[];
}

export interface RunPage {
  /** Newest first (by queued time, then id). */
  runs: StoredRun[];
  /** Pass as `before` for the next page; null when this page is the last. */
  nextCursor: RunCursor | null;
}

export interface Store {
  /** The database file. */
  readonly file: string;
  /** Schema version of the database (the newest migration). */
  readonly schemaVersion: number;

  insertProject(input: NewProject): StoredProject;
  getProject(id: string): StoredProject | null;
  /** Newest first. */
  listProjects(owner: string): StoredProject[];

  insertRun(input: NewRun): StoredRun;
  /** Throws RunNotFoundError for an unknown id, RunAlreadyEndedError to leave an end state. */
  updateRun(id: string, patch: RunPatch): StoredRun;
  getRun(id: string): StoredRun | null;
  listRuns(options: ListRunsOptions): RunPage;
  countRuns(filter?: RunFilter): number;
  /** How many runs an owner created after `sinceMs`, and when the first of them was queued. */
  runsCreatedSince(owner: string, sinceMs: number): { count: number; oldestAt: number | null };

  /** Buffers the event; it is written within maxDelayMs, or sooner with a full batch. */
  appendEvent(runId: string, event: RunEvent): void;
  /** Events with seq > afterSeq, oldest first, at most `limit` (1 to 10,000); buffered ones too. */
  readEvents(runId: string, afterSeq: number, limit: number): RunEvent[];
  /** Writes buffered events now. Throws EventWriteError if the write failed (events kept). */
  flush(): void;
  /**
   * Notes a value of the store's own (the redis driver's stream cursor), written in the same
   * transaction as the events appended before it: after a crash both are there, or neither.
   */
  noteMeta(key: string, value: string): void;
  /** A value noted with noteMeta and written; null when none was. */
  readMeta(key: string): string | null;

  /** Adds or replaces (same path) the run's artifacts, in one transaction. */
  insertArtifacts(runId: string, artifacts: readonly StoredArtifact[]): void;
  /** By path. */
  listArtifacts(runId: string): StoredArtifact[];

  /** The callbacks' deliveries: enqueued with each end of a run that has a callback. */
  readonly outbox: Outbox;

  /** Sessions, their snapshots and their cells (session-store.ts). */
  readonly sessions: SessionStore;

  /** Call once at start-up, before the executor takes runs. See RecoveryOutcome. */
  recoverAfterCrash(options?: RecoverOptions): RecoveryOutcome;

  /** Writes pending events, then closes the database. Idempotent. */
  close(): void;
}

const MAX_EVENTS_PER_READ = 10_000;

const SQLITE_CONSTRAINT = 19;

function isConstraintError(error: unknown): boolean {
  // node:sqlite puts the extended result code in `errcode`; its low byte is the primary code.
  return (
    error instanceof Error &&
    'errcode' in error &&
    typeof error.errcode === 'number' &&
    (error.errcode & 0xff) === SQLITE_CONSTRAINT
  );
}

function asConstraint(table: string, error: unknown): unknown {
  return isConstraintError(error) ? new StoreConstraintError(table, error) : error;
}

export function openStore(options: StoreOptions): Store {
  const now = options.now ?? Date.now;
  const onError =
    options.onError ?? ((error: StoreReportedError) => console.error(`[store] ${error.message}`));
  const report: ReportCorruption = (error) => onError(error);

  const { db, file } = openDatabase(options.dataDir, { busyTimeoutMs: options.busyTimeoutMs });
  let schemaVersion: number;
  try {
    schemaVersion = migrate(db, {
      file,
      migrations: options.migrations ?? MIGRATIONS,
      now,
    }).version;
  } catch (error) {
    db.close();
    throw error;
  }
  return createStore({ db, file, schemaVersion, now, onError, report, options });
}

function createStore(input: {
  db: DatabaseSync;
  file: string;
  schemaVersion: number;
  now: () => number;
  onError: (error: StoreReportedError) => void;
  report: ReportCorruption;
  options: StoreOptions;
}): Store {
  const { db, now, report } = input;
  const statements = createStatementCache(db);
  const sql = {
    insertProject: db.prepare(
      `INSERT INTO projects (${PROJECT_SELECT_LIST})
       VALUES (:id, :owner, :name, :source, :dir, :file_count, :total_bytes, :created_at)`,
    ),
    getProject: db.prepare(`SELECT ${PROJECT_SELECT_LIST} FROM projects WHERE id = ?`),
    readMeta: db.prepare('SELECT value FROM store_meta WHERE key = ?'),
    listProjects: db.prepare(
      `SELECT ${PROJECT_SELECT_LIST} FROM projects WHERE owner = ?
       ORDER BY created_at DESC, id DESC`,
    ),
    insertRun: db.prepare(
      `INSERT INTO runs (id, owner, kind, language, tool_id, project_id, example_id, request,
                         limits, state, priority, queued_at, started_at, warnings, session_id)
       VALUES (:id, :owner, :kind, :language, :tool_id, :project_id, :example_id, :request,
               :limits, :state, :priority, :queued_at, :started_at, :warnings, :session_id)`,
    ),
    getRun: db.prepare(`SELECT ${RUN_SELECT_LIST} FROM runs WHERE id = ?`),
    runState: db.prepare('SELECT state FROM runs WHERE id = ?'),
    readEvents: db.prepare(SELECT_EVENTS_SQL),
    upsertArtifact: db.prepare(UPSERT_ARTIFACT_SQL),
    listArtifacts: db.prepare(
      `SELECT ${ARTIFACT_SELECT_LIST} FROM artifacts WHERE run_id = ? ORDER BY path`,
    ),
  };

  const outbox = createOutbox({ db, statements, report });
  const applyEndStatement = statements.get(updateRunSql(RESULT_COLUMNS));
  /**
   * The row takes an end's result, its artifacts are listed and its callback (if any) enqueued;
   * inside the caller's transaction.
   */
  function applyEnd(runId: string, result: RunResult): void {
    applyEndStatement.run({ ...resultColumns(result), id: runId });
    outbox.enqueueEnd(runId, result, now());
    // Results read back from old rows may lack the list.
    const artifacts: unknown = result.artifacts;
    if (Array.isArray(artifacts)) {
      for (const artifact of result.artifacts)
        sql.upsertArtifact.run(artifactRowParams(runId, artifact));
    }
  }

  function listArtifacts(runId: string): StoredArtifact[] {
    return sql.listArtifacts.all(runId).map((row) => storedArtifactFromRow(row, runId, report));
  }

  const writer = createEventWriter({
    db,
    statements,
    ...input.options.events,
    applyEnd,
    onError: input.onError,
  });

  let closed = false;
  function open(operation: string): void {
    if (closed) throw new StoreClosedError(operation);
  }

  function getRun(id: string): StoredRun | null {
    const row = sql.getRun.get(id);
    return row ? storedRunFromRow(row, report) : null;
  }

  /** Stored events after `afterSeq`; a row that does not read back is skipped, not returned. */
  function readStoredEvents(runId: string, afterSeq: number, limit: number): RunEvent[] {
    const events: RunEvent[] = [];
    let cursor = afterSeq;
    while (events.length < limit) {
      const wanted = limit - events.length;
      const rows = sql.readEvents.all(runId, cursor, wanted);
      const start = cursor;
      for (const row of rows) {
        if (typeof row.seq === 'number') cursor = row.seq;
        const event = eventFromRow(row, runId, report);
        if (event) events.push(event);
      }
      if (rows.length < wanted || cursor === start) break;
    }
    return events;
  }

  return {
    file: input.file,
    schemaVersion: input.schemaVersion,
    outbox,
    sessions: createSessionStore({ db, statements, report }),

    insertProject(project) {
      open('insertProject');
      try {
        sql.insertProject.run(insertProjectParams(project, now));
      } catch (error) {
        throw asConstraint('projects', error);
      }
      const stored = sql.getProject.get(project.id);
      if (!stored) throw new Error(`project ${project.id} vanished right after its insert`);
      return storedProjectFromRow(stored, report);
    },

    getProject(id) {
      open('getProject');
      const row = sql.getProject.get(id);
      return row ? storedProjectFromRow(row, report) : null;
    },

    listProjects(owner) {
      open('listProjects');
      return sql.listProjects.all(owner).map((row) => storedProjectFromRow(row, report));
    },

    insertRun(run) {
      open('insertRun');
      try {
        // The run and its callback together, or neither.
        inTransaction(db, () => {
          sql.insertRun.run(insertRunParams(run));
          if (run.callback) outbox.insertCallback(run.id, run.callback);
        });
      } catch (error) {
        throw asConstraint('runs', error);
      }
      const stored = getRun(run.id);
      if (!stored) throw new Error(`run ${run.id} vanished right after its insert`);
      return stored;
    },

    updateRun(id, patch) {
      open('updateRun');
      const columns = patchColumns(patch);
      const names = Object.keys(columns) as RunColumn[];
      inTransaction(db, () => {
        const row = sql.runState.get(id);
        if (!row) throw new RunNotFoundError(id);
        const current = String(row.state);
        const next = columns.state;
        if (isEndStateName(current) && typeof next === 'string' && next !== current) {
          throw new RunAlreadyEndedError({ runId: id, state: current, requested: next });
        }
        if (names.length === 0) return;
        const params: Record<string, SQLInputValue> = { id };
        for (const name of names) params[name] = columns[name] ?? null;
        statements.get(updateRunSql(names)).run(params);
      });
      const stored = getRun(id);
      if (!stored) throw new RunNotFoundError(id);
      return stored;
    },

    getRun(id) {
      open('getRun');
      return getRun(id);
    },

    listRuns(listOptions) {
      open('listRuns');
      assertPageSize(listOptions.limit);
      const query = runQuery(listOptions, listOptions.before);
      const rows = statements
        .get(
          `SELECT ${RUN_SELECT_LIST} FROM runs ${query.where}
           ORDER BY queued_at DESC, id DESC LIMIT :limit`,
        )
        .all({ ...query.params, limit: listOptions.limit + 1 });
      const runs = rows.slice(0, listOptions.limit).map((row) => storedRunFromRow(row, report));
      const last = runs.at(-1);
      return {
        runs,
        nextCursor:
          rows.length > listOptions.limit && last ? { queuedAt: last.queuedAt, id: last.id } : null,
      };
    },

    countRuns(filter = {}) {
      open('countRuns');
      const query = runQuery(filter);
      const row = statements.get(`SELECT COUNT(*) AS n FROM runs ${query.where}`).get(query.params);
      return typeof row?.n === 'number' ? row.n : 0;
    },

    runsCreatedSince(owner, sinceMs) {
      open('runsCreatedSince');
      const row = statements
        .get(
          'SELECT COUNT(*) AS n, MIN(queued_at) AS oldest FROM runs WHERE owner = ? AND queued_at > ?',
        )
        .get(owner, sinceMs);
      return {
        count: typeof row?.n === 'number' ? row.n : 0,
        oldestAt: typeof row?.oldest === 'number' ? row.oldest : null,
      };
    },

    appendEvent(runId, event) {
      // Never throws: it runs inside the executor's emit. After close, the writer reports a drop.
      writer.append(runId, event);
    },

    readEvents(runId, afterSeq, limit) {
      open('readEvents');
      if (!Number.isInteger(afterSeq) || afterSeq < 0) {
        throw new InvalidStoreArgumentError(
          'afterSeq',
          `must be a whole number >= 0, got ${afterSeq}`,
        );
      }
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_EVENTS_PER_READ) {
        throw new InvalidStoreArgumentError(
          'limit',
          `must be a whole number from 1 to ${MAX_EVENTS_PER_READ}, got ${limit}`,
        );
      }
      const stored = readStoredEvents(runId, afterSeq, limit);
      const pending = writer.pending(runId, afterSeq);
      if (pending.length === 0) return stored;
      // The first `limit` of stored ∪ buffered: each side holds its own first `limit` already.
      const bySeq = new Map<number, RunEvent>();
      for (const event of pending) bySeq.set(event.seq, event);
      for (const event of stored) bySeq.set(event.seq, event);
      return [...bySeq.values()].sort((a, b) => a.seq - b.seq).slice(0, limit);
    },

    flush() {
      open('flush');
      writer.flush();
    },

    noteMeta(key, value) {
      open('noteMeta');
      writer.noteMeta(key, value);
    },

    readMeta(key) {
      open('readMeta');
      const row = sql.readMeta.get(key);
      return typeof row?.value === 'string' ? row.value : null;
    },

    insertArtifacts(runId, artifacts) {
      open('insertArtifacts');
      try {
        inTransaction(db, () => {
          for (const artifact of artifacts)
            sql.upsertArtifact.run(artifactRowParams(runId, artifact));
        });
      } catch (error) {
        throw asConstraint('artifacts', error);
      }
    },

    listArtifacts(runId) {
      open('listArtifacts');
      return listArtifacts(runId);
    },

    recoverAfterCrash(recoverOptions) {
      open('recoverAfterCrash');
      writer.flush();
      return recoverAfterCrash(
        { db, statements, now, report, applyEnd, listArtifacts },
        recoverOptions,
      );
    },

    close() {
      if (closed) return;
      closed = true;
      try {
        writer.close();
      } finally {
        db.close();
      }
    },
  };
}
