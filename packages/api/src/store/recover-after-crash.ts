import type { DatabaseSync } from 'node:sqlite';
import {
  isEndState,
  type Artifact,
  type EndState,
  type RunEvent,
  type RunRequest,
  type RunResult,
} from '@runbox/executor';
import { eventFromRow, eventRowParams, INSERT_EVENT_SQL, RAISE_LAST_SEQ_SQL } from './event-row.ts';
import type { ReportCorruption, Row } from './row-reader.ts';
import {
  resultFromStoredRun,
  RUN_SELECT_LIST,
  storedRunFromRow,
  type StoredRun,
} from './run-row.ts';
import type { StatementCache } from './statement-cache.ts';
import { inTransaction } from './transaction.ts';

export const INTERRUPTED_MESSAGE =
  'runbox stopped while this run was running (a crash, or a stop without a clean shutdown); ' +
  'its output up to that moment is kept';

export const UNREADABLE_REQUEST_MESSAGE =
  'runbox restarted while this run waited, and its stored request could not be read back, ' +
  'so it was not queued again';

/** A run that waited when the server stopped, for the server to submit again. */
export interface RequeueEntry {
  id: string;
  owner: string;
  projectId: string | null;
  request: RunRequest;
  priority: number;
  queuedAt: number;
  /** The run's stored events end here: 0 unless `keepQueuedEvents` was set. */
  lastSeq: number;
}

/** A run that was running when the server stopped and may still run on a worker elsewhere. */
export interface ResumeEntry extends RequeueEntry {
  startedAt: number;
}

export interface RecoveryOutcome {
  /** Runs that were running: now `interrupted`, with a state and an end event. */
  interrupted: string[];
  /** With `keepRunning`: runs that were running, for the server to follow again. */
  resume: ResumeEntry[];
  /** Runs that were queued, oldest first (the order they were queued in). */
  requeue: RequeueEntry[];
  /** Runs whose end event was stored but whose row still said running: the row took the end. */
  settled: string[];
  /** Ended runs whose event stream had no end yet (the row was written first): it has one now. */
  repaired: string[];
  /** Queued runs whose request could not be read back: ended as `error`. */
  failed: string[];
}

export interface RecoverOptions {
  /**
   * Keep the stored events of queued runs. Default false: the executor numbers a resubmitted
   * run's events from 1 again, so the old ones (its queued state and positions) are removed and
   * the new stream replaces them. Set it once the executor can continue a run's numbering.
   */
  keepQueuedEvents?: boolean;
  /**
   * Runs still running are left running and handed back in `resume`: with workers elsewhere (the
   * redis driver) they went on while the server was away. Default false: they died with it.
   */
  keepRunning?: boolean;
}

export interface RecoveryContext {
  db: DatabaseSync;
  statements: StatementCache;
  now: () => number;
  report: ReportCorruption;
  applyEnd(runId: string, result: RunResult): void;
  listArtifacts(runId: string): Artifact[];
}

interface EventStats {
  lastAt: number | null;
  cpuMs: number | null;
  peakMemoryBytes: number | null;
  stdoutBytes: number;
  stderrBytes: number;
  lines: number;
}

// Rows with data that is not valid JSON are left out, so one damaged row cannot stop the start.
const EVENT_STATS_SQL = `
SELECT
  MAX(at) AS last_at,
  MAX(CASE WHEN type = 'usage' THEN data ->> '$.cpuMs' END) AS cpu_ms,
  MAX(CASE WHEN type = 'usage' THEN data ->> '$.memoryBytes' END) AS peak_memory_bytes,
  TOTAL(CASE WHEN type = 'output' AND data ->> '$.stream' = 'stdout'
    THEN length(CAST(data ->> '$.text' AS BLOB)) + (data ->> '$.partial' = 0) END) AS stdout_bytes,
  TOTAL(CASE WHEN type = 'output' AND data ->> '$.stream' = 'stderr'
    THEN length(CAST(data ->> '$.text' AS BLOB)) + (data ->> '$.partial' = 0) END) AS stderr_bytes,
  TOTAL(CASE WHEN type = 'output' AND data ->> '$.continuation' = 0 THEN 1 END) AS lines
FROM run_events
WHERE run_id = ? AND json_valid(data)`;

const numberOrNull = (value: unknown): number | null =>
  typeof value === 'number' && Number.isFinite(value) ? value : null;

/**
 * Makes the store consistent after the server stopped without a clean shutdown, in one
 * transaction: running runs become `interrupted` and their streams get a state and an end event
 * (seq continuing after the last stored one), so a subscriber after the restart sees them end;
 * queued runs are handed back for the server to submit again.
 */
export function recoverAfterCrash(
  context: RecoveryContext,
  options: RecoverOptions = {},
): RecoveryOutcome {
  const { db, statements, now, report } = context;
  const runsIn = statements.get(
    `SELECT ${RUN_SELECT_LIST} FROM runs WHERE state = ? ORDER BY queued_at, id`,
  );
  const endedWithoutEnd = statements.get(
    `SELECT ${RUN_SELECT_LIST} FROM runs AS r
     WHERE r.state NOT IN ('queued', 'running')
       AND NOT EXISTS (SELECT 1 FROM run_events AS e
                       WHERE e.run_id = r.id AND e.seq = r.last_seq AND e.type = 'end')
     ORDER BY queued_at, id`,
  );
  const lastEvent = statements.get(
    'SELECT seq, at, type, data FROM run_events WHERE run_id = ? ORDER BY seq DESC LIMIT 1',
  );
  const eventStats = statements.get(EVENT_STATS_SQL);
  const insertEvent = statements.get(INSERT_EVENT_SQL);
  const raiseLastSeq = statements.get(RAISE_LAST_SEQ_SQL);
  const deleteEvents = statements.get('DELETE FROM run_events WHERE run_id = ?');
  const resetLastSeq = statements.get('UPDATE runs SET last_seq = 0 WHERE id = ?');

  const outcome: RecoveryOutcome = {
    interrupted: [],
    resume: [],
    requeue: [],
    settled: [],
    repaired: [],
    failed: [],
  };

  function readRuns(state: string): StoredRun[] {
    return runsIn.all(state).map((row) => storedRunFromRow(row, report));
  }

  function lastStored(run: StoredRun): { seq: number; event: RunEvent | null } {
    const row = lastEvent.get(run.id);
    const seq = Math.max(run.lastSeq, typeof row?.seq === 'number' ? row.seq : 0);
    return { seq, event: row ? eventFromRow(row, run.id, report) : null };
  }

  /** Ends the run: a state event (unless the stream has it already), then the end event. */
  function end(run: StoredRun, result: RunResult): void {
    const last = lastStored(run);
    const at = result.finishedAt;
    const events: RunEvent[] = [];
    let seq = last.seq;
    const hasState = last.event?.type === 'state' && last.event.state === result.state;
    if (!hasState) events.push({ seq: ++seq, at, type: 'state', state: result.state });
    events.push({ seq: ++seq, at, type: 'end', result });
    for (const event of events) insertEvent.run(eventRowParams(run.id, event));
    raiseLastSeq.run({ last_seq: seq, id: run.id });
    context.applyEnd(run.id, result);
  }

  function statsOf(runId: string): EventStats {
    const row: Row = eventStats.get(runId) ?? {};
    return {
      lastAt: numberOrNull(row.last_at),
      cpuMs: numberOrNull(row.cpu_ms),
      peakMemoryBytes: numberOrNull(row.peak_memory_bytes),
      stdoutBytes: numberOrNull(row.stdout_bytes) ?? 0,
      stderrBytes: numberOrNull(row.stderr_bytes) ?? 0,
      lines: numberOrNull(row.lines) ?? 0,
    };
  }

  function interruptedResult(run: StoredRun, finishedAt: number): RunResult {
    const stats = statsOf(run.id);
    const lastAlive = stats.lastAt ?? run.startedAt;
    const durationMs =
      run.durationMs ??
      (run.startedAt !== null && lastAlive !== null ? Math.max(0, lastAlive - run.startedAt) : 0);
    return {
      ...resultFromStoredRun(run, {
        state: 'interrupted',
        finishedAt,
        artifacts: context.listArtifacts(run.id),
      }),
      durationMs,
      usage: run.usage ?? {
        cpuMs: stats.cpuMs ?? 0,
        peakMemoryBytes: stats.peakMemoryBytes ?? 0,
      },
      error: INTERRUPTED_MESSAGE,
      outputBytes: run.outputBytes ?? { stdout: stats.stdoutBytes, stderr: stats.stderrBytes },
      outputLines: run.outputLines ?? stats.lines,
    };
  }

  inTransaction(db, () => {
    const finishedAt = now();

    for (const run of readRuns('running')) {
      const last = lastStored(run);
      if (last.event?.type === 'end') {
        context.applyEnd(run.id, last.event.result);
        outcome.settled.push(run.id);
        continue;
      }
      if (options.keepRunning && run.request !== null && run.startedAt !== null) {
        outcome.resume.push({
          id: run.id,
          owner: run.owner,
          projectId: run.projectId,
          request: run.request,
          priority: run.priority,
          queuedAt: run.queuedAt,
          startedAt: run.startedAt,
          lastSeq: last.seq,
        });
        continue;
      }
      end(run, interruptedResult(run, finishedAt));
      outcome.interrupted.push(run.id);
    }

    for (const row of endedWithoutEnd.all()) {
      const run = storedRunFromRow(row, report);
      // A state that did not read back is not a state to announce.
      if (run.damaged.includes('state') || !isEndState(run.state)) continue;
      const state: EndState = run.state;
      end(
        run,
        resultFromStoredRun(run, {
          state,
          finishedAt: run.finishedAt ?? finishedAt,
          artifacts: context.listArtifacts(run.id),
        }),
      );
      outcome.repaired.push(run.id);
    }

    for (const run of readRuns('queued')) {
      if (run.request === null) {
        end(run, {
          ...resultFromStoredRun(run, { state: 'error', finishedAt, artifacts: [] }),
          error: UNREADABLE_REQUEST_MESSAGE,
        });
        outcome.failed.push(run.id);
        continue;
      }
      let lastSeq = run.lastSeq;
      if (!options.keepQueuedEvents) {
        deleteEvents.run(run.id);
        resetLastSeq.run(run.id);
        lastSeq = 0;
      }
      outcome.requeue.push({
        id: run.id,
        owner: run.owner,
        projectId: run.projectId,
        request: run.request,
        priority: run.priority,
        queuedAt: run.queuedAt,
        lastSeq,
      });
    }
  });
  return outcome;
}
