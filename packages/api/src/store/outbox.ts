import { randomBytes } from 'node:crypto';
import type { DatabaseSync } from 'node:sqlite';
import type { RunResult } from '@runbox/executor';
import { runSummary } from '../callbacks/run-summary.ts';
import { readRow, type ReportCorruption, type Row } from './row-reader.ts';
import type { StatementCache } from './statement-cache.ts';
import { inTransaction } from './transaction.ts';

/**
 * The callbacks' outbox: a run's callback is stored with the run, and its end enqueues a delivery
 * in the same transaction that stores the end, so a run that ended has its delivery (or neither
 * is there after a crash). The deliverer (callbacks/deliverer.ts) reads what is due and records
 * each attempt here.
 */

/** Where a run reports its end, and which secret signs it (`server` or `key:<name>`). */
export interface RunCallback {
  url: string;
  secretId: string;
}

export const DELIVERY_STATES = ['pending', 'delivered', 'failed', 'gone', 'refused'] as const;
/**
 * `pending`: an attempt is due (at nextAttemptAt). `delivered`: a 2xx. `failed`: the retries ran
 * out (count or age). `gone`: the receiver answered 410. `refused`: the address is forbidden, or
 * the secret is no longer configured.
 */
export type DeliveryState = (typeof DELIVERY_STATES)[number];

/** The event type of a run's end, `type` in the payload. */
export const RUN_ENDED = 'run.ended';

export interface Delivery {
  /** The `webhook-id`: the same for every attempt. */
  id: string;
  runId: string;
  eventType: string;
  url: string;
  secretId: string;
  /** The payload's `data` as frozen at the end (callbacks/run-summary.ts). */
  summary: unknown;
  state: DeliveryState;
  /** Attempts made, all rounds together. */
  attempts: number;
  /** Attempts since the delivery was (re)started: what the retry schedule counts. */
  roundAttempts: number;
  createdAt: number;
  roundStartedAt: number;
  nextAttemptAt: number | null;
  lastAttemptAt: number | null;
  /** The HTTP status of the last answer; null when there was none (refused, network error). */
  lastStatus: number | null;
  lastError: string | null;
  deliveredAt: number | null;
}

/** How one attempt went, as the delivery's log shows it. */
export type AttemptOutcome = 'delivered' | 'failed' | 'gone' | 'refused';

export interface DeliveryAttempt {
  /** 1, 2, 3 … over every round. */
  n: number;
  at: number;
  /** The address connected to (or refused); null when the name did not resolve. */
  address: string | null;
  status: number | null;
  outcome: AttemptOutcome;
  error: string | null;
  durationMs: number;
}

/** One attempt and what follows it: the next try, or the delivery's final state. */
export interface AttemptRecord extends Omit<DeliveryAttempt, 'n'> {
  /** `pending` with nextAttemptAt: another try; any other state ends the delivery. */
  state: DeliveryState;
  nextAttemptAt: number | null;
}

export interface Outbox {
  /** Stores a run's callback; called in the run's own insert transaction. */
  insertCallback(runId: string, callback: RunCallback): void;
  /**
   * Enqueues the end's delivery when the run has a callback; called in the transaction that
   * stores the end. A second end of the same run (crash recovery re-applying it) adds nothing.
   */
  enqueueEnd(runId: string, result: RunResult, now: number): void;
  /** Pending deliveries due at `now`, soonest first, at most `limit`, none of `except`. */
  due(now: number, limit: number, except: ReadonlySet<string>): Delivery[];
  /** When the soonest pending delivery but those of `except` is due; null when none is. */
  nextDueAt(except: ReadonlySet<string>): number | null;
  /** Logs the attempt and moves the delivery on, in one transaction; null for an unknown id. */
  recordAttempt(id: string, attempt: AttemptRecord): Delivery | null;
  get(id: string): Delivery | null;
  /** A run's deliveries, oldest first. */
  ofRun(runId: string): Delivery[];
  /** Newest first; `before` pages on from a delivery's (createdAt, id). */
  list(options: {
    states?: readonly DeliveryState[];
    limit: number;
    before?: { createdAt: number; id: string };
  }): Delivery[];
  /** Oldest first. */
  attemptsOf(id: string): DeliveryAttempt[];
  /**
   * Starts a new round now: pending, due at once, the schedule and the age counted afresh.
   * Returns null for an unknown id; a delivery pending already is left as it is.
   */
  redeliver(id: string, now: number): Delivery | null;
  /** How many deliveries are in each state. */
  counts(): Record<DeliveryState, number>;
}

const DELIVERY_COLUMNS = `id, run_id, event_type, url, secret_id, summary, state, attempts,
  round_attempts, created_at, round_started_at, next_attempt_at, last_attempt_at, last_status,
  last_error, delivered_at`;

/** A webhook-id: `msg_` and 128 random bits, as Standard Webhooks' examples spell them. */
export function newDeliveryId(): string {
  return `msg_${randomBytes(16).toString('base64url')}`;
}

function deliveryFromRow(row: Row, report: ReportCorruption): Delivery {
  const key = typeof row.id === 'string' ? row.id : '?';
  const r = readRow(row, { table: 'callback_deliveries', key }, report);
  return {
    id: r.text('id'),
    runId: r.text('run_id'),
    eventType: r.text('event_type'),
    url: r.text('url'),
    secretId: r.text('secret_id'),
    summary: r.json('summary', (value): value is unknown => value !== undefined, null),
    state: r.oneOf('state', DELIVERY_STATES, 'failed'),
    attempts: r.int('attempts'),
    roundAttempts: r.int('round_attempts'),
    createdAt: r.int('created_at'),
    roundStartedAt: r.int('round_started_at'),
    nextAttemptAt: r.nullableInt('next_attempt_at'),
    lastAttemptAt: r.nullableInt('last_attempt_at'),
    lastStatus: r.nullableInt('last_status'),
    lastError: r.nullableText('last_error'),
    deliveredAt: r.nullableInt('delivered_at'),
  };
}

const OUTCOMES: readonly AttemptOutcome[] = ['delivered', 'failed', 'gone', 'refused'];

function attemptFromRow(row: Row, report: ReportCorruption): DeliveryAttempt {
  const key = `${String(row.delivery_id)}#${String(row.n)}`;
  const r = readRow(row, { table: 'callback_attempts', key }, report);
  return {
    n: r.int('n'),
    at: r.int('at'),
    address: r.nullableText('address'),
    status: r.nullableInt('status'),
    outcome: r.oneOf('outcome', OUTCOMES, 'failed'),
    error: r.nullableText('error'),
    durationMs: r.int('duration_ms'),
  };
}

export function createOutbox(input: {
  db: DatabaseSync;
  statements: StatementCache;
  report: ReportCorruption;
}): Outbox {
  const { db, statements, report } = input;
  const insertCallback = statements.get(
    'INSERT INTO run_callbacks (run_id, url, secret_id) VALUES (?, ?, ?)',
  );
  const callbackOfRun = statements.get(
    `SELECT c.url, c.secret_id, r.id, r.kind, r.language, r.tool_id, r.project_id, r.example_id
     FROM run_callbacks AS c JOIN runs AS r ON r.id = c.run_id WHERE c.run_id = ?`,
  );
  const insertDelivery = statements.get(
    `INSERT INTO callback_deliveries (id, run_id, event_type, url, secret_id, summary, state,
       created_at, round_started_at, next_attempt_at)
     VALUES (:id, :run_id, :event_type, :url, :secret_id, :summary, 'pending', :now, :now, :now)
     ON CONFLICT (run_id, event_type) DO NOTHING`,
  );
  const getDelivery = statements.get(
    `SELECT ${DELIVERY_COLUMNS} FROM callback_deliveries WHERE id = ?`,
  );

  /** Pending deliveries due by `by`, soonest first; the ones of `except` (in flight) skipped. */
  function soonestPending(by: number, limit: number, except: ReadonlySet<string>): Delivery[] {
    return statements
      .get(
        `SELECT ${DELIVERY_COLUMNS} FROM callback_deliveries
         WHERE state = 'pending' AND next_attempt_at <= ?
         ORDER BY next_attempt_at, id LIMIT ?`,
      )
      .all(Math.round(by), limit + except.size)
      .map((row) => deliveryFromRow(row, report))
      .filter((delivery) => !except.has(delivery.id))
      .slice(0, limit);
  }

  function get(id: string): Delivery | null {
    const row = getDelivery.get(id);
    return row ? deliveryFromRow(row, report) : null;
  }

  return {
    insertCallback(runId, callback) {
      insertCallback.run(runId, callback.url, callback.secretId);
    },

    enqueueEnd(runId, result, now) {
      const row = callbackOfRun.get(runId);
      if (!row) return;
      const r = readRow(row, { table: 'run_callbacks', key: runId }, report);
      const summary = runSummary(
        {
          id: r.text('id'),
          kind: r.oneOf('kind', ['snippet', 'tool'], 'snippet'),
          language: r.nullableText('language'),
          toolId: r.nullableText('tool_id'),
          projectId: r.nullableText('project_id'),
          exampleId: r.nullableText('example_id'),
        },
        result,
      );
      insertDelivery.run({
        id: newDeliveryId(),
        run_id: runId,
        event_type: RUN_ENDED,
        url: r.text('url'),
        secret_id: r.text('secret_id'),
        summary: JSON.stringify(summary),
        now: Math.round(now),
      });
    },

    due(now, limit, except) {
      return soonestPending(now, limit, except);
    },

    nextDueAt(except) {
      return soonestPending(Number.MAX_SAFE_INTEGER, 1, except)[0]?.nextAttemptAt ?? null;
    },

    recordAttempt(id, attempt) {
      return inTransaction(db, () => {
        const current = get(id);
        if (!current) return null;
        const n = current.attempts + 1;
        statements
          .get(
            `INSERT INTO callback_attempts (delivery_id, n, at, address, status, outcome, error,
               duration_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(
            id,
            n,
            Math.round(attempt.at),
            attempt.address,
            attempt.status,
            attempt.outcome,
            attempt.error,
            Math.max(0, Math.round(attempt.durationMs)),
          );
        statements
          .get(
            `UPDATE callback_deliveries SET state = :state, attempts = attempts + 1,
               round_attempts = round_attempts + 1, next_attempt_at = :next,
               last_attempt_at = :at, last_status = :status, last_error = :error,
               delivered_at = CASE WHEN :state = 'delivered' THEN :at ELSE delivered_at END
             WHERE id = :id`,
          )
          .run({
            id,
            state: attempt.state,
            next:
              attempt.state === 'pending' ? Math.round(attempt.nextAttemptAt ?? attempt.at) : null,
            at: Math.round(attempt.at),
            status: attempt.status,
            error: attempt.error,
          });
        return get(id);
      });
    },

    get,

    ofRun(runId) {
      return statements
        .get(
          `SELECT ${DELIVERY_COLUMNS} FROM callback_deliveries WHERE run_id = ?
           ORDER BY created_at, id`,
        )
        .all(runId)
        .map((row) => deliveryFromRow(row, report));
    },

    list(options) {
      const where: string[] = [];
      const params: Record<string, string | number> = { limit: options.limit };
      if (options.states && options.states.length > 0) {
        const names = options.states.map((state, index) => {
          params[`state${index}`] = state;
          return `:state${index}`;
        });
        where.push(`state IN (${names.join(', ')})`);
      }
      if (options.before) {
        where.push('(created_at < :before_at OR (created_at = :before_at AND id < :before_id))');
        params.before_at = options.before.createdAt;
        params.before_id = options.before.id;
      }
      return statements
        .get(
          `SELECT ${DELIVERY_COLUMNS} FROM callback_deliveries
           ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
           ORDER BY created_at DESC, id DESC LIMIT :limit`,
        )
        .all(params)
        .map((row) => deliveryFromRow(row, report));
    },

    attemptsOf(id) {
      return statements
        .get(
          `SELECT delivery_id, n, at, address, status, outcome, error, duration_ms
           FROM callback_attempts WHERE delivery_id = ? ORDER BY n`,
        )
        .all(id)
        .map((row) => attemptFromRow(row, report));
    },

    redeliver(id, now) {
      statements
        .get(
          `UPDATE callback_deliveries SET state = 'pending', round_attempts = 0,
             round_started_at = :now, next_attempt_at = :now
           WHERE id = :id AND state <> 'pending'`,
        )
        .run({ id, now: Math.round(now) });
      return get(id);
    },

    counts() {
      const counts = Object.fromEntries(DELIVERY_STATES.map((state) => [state, 0])) as Record<
        DeliveryState,
        number
      >;
      for (const row of statements
        .get('SELECT state, COUNT(*) AS n FROM callback_deliveries GROUP BY state')
        .all()) {
        const state = String(row.state);
        if ((DELIVERY_STATES as readonly string[]).includes(state) && typeof row.n === 'number')
          counts[state as DeliveryState] = row.n;
      }
      return counts;
    },
  };
}
