import type { DatabaseSync } from 'node:sqlite';
import type { RunEvent, RunResult } from '@runbox/executor';
import { eventRowParams, INSERT_EVENT_SQL, RAISE_LAST_SEQ_SQL } from './event-row.ts';
import type { StatementCache } from './statement-cache.ts';
import { EventWriteError } from './store-errors.ts';
import { inTransaction } from './transaction.ts';

export interface EventWriterOptions {
  db: DatabaseSync;
  statements: StatementCache;
  /** Buffered events (all runs together) that trigger a write at once. Default 500. */
  maxBatchEvents?: number;
  /** Longest an event waits in memory before it is written. Default 50 ms. */
  maxDelayMs?: number;
  /**
   * How long events of a run that is not in `runs` yet are held (the caller may store the run
   * just after its first event) before they are dropped. Default 10,000 ms.
   */
  unknownRunGraceMs?: number;
  /** Called in the write transaction for each `end` event: the run row takes the result. */
  applyEnd(runId: string, result: RunResult): void;
  /** Failures of writes nobody waits for (the timer's, the batch-size trigger's). */
  onError(error: EventWriteError): void;
}

export interface EventWriter {
  /** Buffers one event; never throws (it runs inside the executor's emit). */
  append(runId: string, event: RunEvent): void;
  /** Writes what is buffered now. Throws EventWriteError (events kept) if the write failed. */
  flush(): void;
  /**
   * Notes a value in `store_meta`, written in the same transaction as the events buffered up to
   * now: after a crash the store has both or neither (the redis driver's stream cursor).
   */
  noteMeta(key: string, value: string): void;
  /** Buffered events of a run with seq > afterSeq, oldest first. */
  pending(runId: string, afterSeq: number): RunEvent[];
  pendingCount(): number;
  /** Writes what it can; drops (and reports) the rest. No append after. */
  close(): void;
}

const MAX_RETRY_DELAY_MS = 1_000;

/**
 * Batches event writes: one transaction per batch instead of one per event, which is what lets a
 * run print a hundred thousand lines without the disk setting the pace. The same transaction
 * raises `runs.last_seq` and applies an `end` event's result to the run row, so a stored end
 * and the row's final state never disagree.
 */
export function createEventWriter(options: EventWriterOptions): EventWriter {
  const { db, statements } = options;
  const maxBatchEvents = options.maxBatchEvents ?? 500;
  const maxDelayMs = options.maxDelayMs ?? 50;
  const unknownRunGraceMs = options.unknownRunGraceMs ?? 10_000;
  const insertEvent = statements.get(INSERT_EVENT_SQL);
  const raiseLastSeq = statements.get(RAISE_LAST_SEQ_SQL);
  const runExists = statements.get('SELECT 1 AS found FROM runs WHERE id = ?');
  const upsertMeta = statements.get(
    'INSERT INTO store_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
  );
  const metaNotes = new Map<string, string>();

  // Per run, in append order (the executor appends each run's events in seq order).
  const buffer = new Map<string, RunEvent[]>();
  const unknownSince = new Map<string, number>();
  let buffered = 0;
  let appendedSinceWrite = 0;
  let timer: NodeJS.Timeout | null = null;
  let failures = 0;
  let retryAt = 0;
  let closed = false;

  function schedule(delayMs: number): void {
    if (timer === null) timer = setTimeout(onTimer, delayMs);
  }

  function cancelTimer(): void {
    if (timer !== null) clearTimeout(timer);
    timer = null;
  }

  function onTimer(): void {
    timer = null;
    writeReporting();
    if (buffered > 0 || metaNotes.size > 0)
      schedule(failures > 0 ? Math.max(0, retryAt - Date.now()) : maxDelayMs);
  }

  /** Writes a batch; failures are reported, and the next attempt backs off. */
  function writeReporting(): void {
    try {
      write(false);
    } catch (error) {
      options.onError(asWriteError(error));
    }
  }

  function asWriteError(error: unknown): EventWriteError {
    return error instanceof EventWriteError
      ? error
      : new EventWriteError({
          runId: null,
          count: buffered,
          kept: true,
          problem: error instanceof Error ? error.message : String(error),
          cause: error,
        });
  }

  /** The insert of one group; returns the seqs that failed (the transaction itself lives on). */
  function writeGroup(
    runId: string,
    events: readonly RunEvent[],
  ): { failed: number[]; cause: unknown } {
    const failed: number[] = [];
    let cause: unknown = null;
    let lastSeq = 0;
    for (const event of events) {
      try {
        if (event.type === 'end') {
          // Rare: a savepoint so that the event and the row's result go in together or not at all.
          inTransaction(db, () => {
            insertEvent.run(eventRowParams(runId, event));
            options.applyEnd(runId, event.result);
          });
        } else {
          insertEvent.run(eventRowParams(runId, event));
        }
        lastSeq = Math.max(lastSeq, event.seq);
      } catch (error) {
        // A constraint failure undoes only its statement; anything that ended the transaction
        // (disk full, I/O) fails the whole batch, which is then kept for a retry.
        if (!db.isTransaction) throw error;
        failed.push(event.seq);
        cause ??= error;
      }
    }
    if (lastSeq > 0) raiseLastSeq.run({ last_seq: lastSeq, id: runId });
    return { failed, cause };
  }

  function write(final: boolean): void {
    appendedSinceWrite = 0;
    if (buffered === 0 && metaNotes.size === 0) {
      cancelTimer();
      return;
    }
    const notes = [...metaNotes];
    const now = Date.now();
    const done: string[] = [];
    const dropped: EventWriteError[] = [];
    try {
      inTransaction(db, () => {
        for (const [runId, events] of buffer) {
          if (runExists.get(runId) === undefined) {
            const since = unknownSince.get(runId) ?? now;
            unknownSince.set(runId, since);
            if (final || now - since >= unknownRunGraceMs) {
              done.push(runId);
              dropped.push(
                new EventWriteError({
                  runId,
                  seqs: events.map((event) => event.seq),
                  count: events.length,
                  kept: false,
                  problem: final
                    ? 'the store closed before the run was stored'
                    : `the run was not stored within ${unknownRunGraceMs} ms of its first event`,
                }),
              );
            }
            continue;
          }
          const { failed, cause } = writeGroup(runId, events);
          done.push(runId);
          if (failed.length > 0) {
            dropped.push(
              new EventWriteError({
                runId,
                seqs: failed,
                count: failed.length,
                kept: false,
                problem: cause instanceof Error ? cause.message : String(cause),
                cause,
              }),
            );
          }
        }
        for (const [key, value] of notes) upsertMeta.run(key, value);
      });
    } catch (error) {
      failures += 1;
      retryAt = Date.now() + Math.min(MAX_RETRY_DELAY_MS, maxDelayMs * 2 ** failures);
      throw asWriteError(error);
    }
    failures = 0;
    // A note made meanwhile (none can be: this runs synchronously) would be newer: keep it then.
    for (const [key, value] of notes) if (metaNotes.get(key) === value) metaNotes.delete(key);
    for (const runId of done) {
      buffered -= buffer.get(runId)?.length ?? 0;
      buffer.delete(runId);
      unknownSince.delete(runId);
    }
    if (buffered === 0 && metaNotes.size === 0) cancelTimer();
    for (const error of dropped) options.onError(error);
  }

  return {
    append(runId, event) {
      if (closed) {
        options.onError(
          new EventWriteError({
            runId,
            seqs: [event.seq],
            count: 1,
            kept: false,
            problem: 'the store is closed',
          }),
        );
        return;
      }
      let events = buffer.get(runId);
      if (!events) {
        events = [];
        buffer.set(runId, events);
      }
      events.push(event);
      buffered += 1;
      appendedSinceWrite += 1;
      // While writes fail, wait for the retry timer instead of trying on every append.
      if (appendedSinceWrite >= maxBatchEvents && failures === 0) writeReporting();
      if (buffered > 0) schedule(maxDelayMs);
    },

    flush() {
      write(false);
    },

    noteMeta(key, value) {
      metaNotes.set(key, value);
      schedule(maxDelayMs);
    },

    pending(runId, afterSeq) {
      const events = buffer.get(runId);
      if (!events) return [];
      return events.filter((event) => event.seq > afterSeq);
    },

    pendingCount: () => buffered,

    close() {
      if (closed) return;
      cancelTimer();
      let failure: EventWriteError | null = null;
      try {
        write(true);
      } catch (error) {
        const cause = error instanceof EventWriteError ? error.cause : error;
        failure = new EventWriteError({
          runId: null,
          count: buffered,
          kept: false,
          problem: `the last write before close failed: ${cause instanceof Error ? cause.message : String(cause)}`,
          cause,
        });
      }
      closed = true;
      buffer.clear();
      unknownSince.clear();
      buffered = 0;
      if (failure) throw failure;
    },
  };
}
