import type { DatabaseSync, SQLInputValue } from 'node:sqlite';
import {
  kernelSnapshotSchema,
  SESSION_LANGUAGES,
  type KernelSnapshot,
  type SandboxLimits,
  type SessionLanguage,
  type SessionNotice,
} from '@runbox/executor';
import { isPlainObject, readRow, type ReportCorruption, type Row } from './row-reader.ts';
import { RUN_SELECT_LIST, storedRunFromRow, type StoredRun } from './run-row.ts';
import type { StatementCache } from './statement-cache.ts';

/**
 * Sessions as rows (migration 6): one place where a session becomes a row and back. A session's
 * cells are runs whose session_id names it.
 */

/**
 * `active`: it has a kernel, or its next cell starts one without waking anything (a kernel that
 * ended on its own); `hibernated`: its kernel was stopped (idle past its TTL, or the server
 * stopped) and its snapshot waits for the next cell; `closed`: for good.
 */
export const SESSION_STATES = ['active', 'hibernated', 'closed'] as const;
export type SessionState = (typeof SESSION_STATES)[number];

export interface NewSession {
  id: string;
  owner: string;
  language: SessionLanguage;
  limits: SandboxLimits;
  idleTtlMs: number;
  maxLifetimeMs: number;
  createdAt: number;
  /** A named environment the kernel starts with (environments/); null for none. */
  environment: string | null;
}

export interface StoredSession extends NewSession {
  state: SessionState;
  /** The end of its last cell, or its creation (what the idle TTL counts from). */
  lastActiveAt: number;
  closedAt: number | null;
  closeReason: string | null;
  /** The variables after its last cell; null before the first or after a restart. */
  snapshot: KernelSnapshot | null;
  snapshotAt: number | null;
  /** How its kernel last started (woke, restarted), with what came back and what did not. */
  notice: SessionNotice | null;
}

export interface SessionPatch {
  state?: SessionState;
  lastActiveAt?: number;
  closedAt?: number | null;
  closeReason?: string | null;
  notice?: SessionNotice | null;
}

export interface SessionFilter {
  owner?: string;
  states?: readonly SessionState[];
}

export interface SessionStore {
  insert(session: NewSession): StoredSession;
  get(id: string): StoredSession | null;
  /** Newest first. */
  list(filter: SessionFilter & { limit: number }): StoredSession[];
  count(filter: SessionFilter): number;
  update(id: string, patch: SessionPatch): void;
  /** Replaces the snapshot (null: none, after a restart or a close). */
  saveSnapshot(id: string, snapshot: KernelSnapshot | null, at: number): void;
  /** The session's cells, oldest first, at most `limit` (the newest ones). */
  cells(sessionId: string, limit: number): StoredRun[];
  /** Every active session becomes hibernated (no kernel outlives a server); returns their ids. */
  hibernateAll(): string[];
}

const SELECT_LIST =
  'id, owner, language, limits, idle_ttl_ms, max_lifetime_ms, state, created_at, last_active_at, closed_at, close_reason, snapshot, snapshot_at, notice, environment';

function isLimits(value: unknown): value is SandboxLimits {
  return isPlainObject(value) && Object.values(value).every((v) => typeof v === 'number');
}

function isSnapshot(value: unknown): value is KernelSnapshot {
  return kernelSnapshotSchema.safeParse(value).success;
}

function isNotice(value: unknown): value is SessionNotice {
  return (
    isPlainObject(value) &&
    typeof value.kind === 'string' &&
    Array.isArray(value.restored) &&
    Array.isArray(value.lost)
  );
}

function fromRow(row: Row, report: ReportCorruption): StoredSession {
  const r = readRow(row, { table: 'sessions', key: String(row.id) }, report);
  const snapshot = r.optionalJson('snapshot');
  const notice = r.optionalJson('notice');
  return {
    id: r.text('id'),
    owner: r.text('owner'),
    language: r.oneOf('language', SESSION_LANGUAGES, 'python'),
    limits: r.json('limits', isLimits, {} as SandboxLimits),
    idleTtlMs: r.int('idle_ttl_ms'),
    maxLifetimeMs: r.int('max_lifetime_ms'),
    state: r.oneOf('state', SESSION_STATES, 'closed'),
    createdAt: r.int('created_at'),
    lastActiveAt: r.int('last_active_at'),
    closedAt: r.nullableInt('closed_at'),
    closeReason: r.nullableText('close_reason'),
    snapshot: snapshot.present && isSnapshot(snapshot.value) ? snapshot.value : null,
    snapshotAt: r.nullableInt('snapshot_at'),
    notice: notice.present && isNotice(notice.value) ? notice.value : null,
    environment: r.nullableText('environment'),
  };
}

function where(filter: SessionFilter): { clause: string; params: Record<string, SQLInputValue> } {
  const clauses: string[] = [];
  const params: Record<string, SQLInputValue> = {};
  if (filter.owner !== undefined) {
    clauses.push('owner = :owner');
    params.owner = filter.owner;
  }
  if (filter.states !== undefined) {
    clauses.push('state IN (SELECT value FROM json_each(:states))');
    params.states = JSON.stringify(filter.states);
  }
  return { clause: clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : '', params };
}

export function createSessionStore(input: {
  db: DatabaseSync;
  statements: StatementCache;
  report: ReportCorruption;
}): SessionStore {
  const { db, statements, report } = input;
  const sql = {
    insert: db.prepare(
      `INSERT INTO sessions (id, owner, language, limits, idle_ttl_ms, max_lifetime_ms, state,
                             created_at, last_active_at, environment)
       VALUES (:id, :owner, :language, :limits, :idle_ttl_ms, :max_lifetime_ms, 'active',
               :created_at, :created_at, :environment)`,
    ),
    get: db.prepare(`SELECT ${SELECT_LIST} FROM sessions WHERE id = ?`),
    saveSnapshot: db.prepare(
      'UPDATE sessions SET snapshot = :snapshot, snapshot_at = :at WHERE id = :id',
    ),
    cells: db.prepare(
      `SELECT * FROM (SELECT ${RUN_SELECT_LIST} FROM runs WHERE session_id = ?
         ORDER BY queued_at DESC, id DESC LIMIT ?) ORDER BY queued_at, id`,
    ),
    hibernate: db.prepare(
      "UPDATE sessions SET state = 'hibernated' WHERE state = 'active' RETURNING id",
    ),
  };
  const get = (id: string): StoredSession | null => {
    const row = sql.get.get(id);
    return row ? fromRow(row, report) : null;
  };
  return {
    insert(session) {
      sql.insert.run({
        id: session.id,
        owner: session.owner,
        language: session.language,
        limits: JSON.stringify(session.limits),
        idle_ttl_ms: Math.round(session.idleTtlMs),
        max_lifetime_ms: Math.round(session.maxLifetimeMs),
        created_at: Math.round(session.createdAt),
        environment: session.environment,
      });
      const stored = get(session.id);
      if (!stored) throw new Error(`session ${session.id} vanished right after its insert`);
      return stored;
    },
    get,
    list(filter) {
      const { clause, params } = where(filter);
      return statements
        .get(
          `SELECT ${SELECT_LIST} FROM sessions ${clause} ORDER BY created_at DESC, id DESC LIMIT :limit`,
        )
        .all({ ...params, limit: filter.limit })
        .map((row) => fromRow(row, report));
    },
    count(filter) {
      const { clause, params } = where(filter);
      const row = statements.get(`SELECT COUNT(*) AS n FROM sessions ${clause}`).get(params);
      return typeof row?.n === 'number' ? row.n : 0;
    },
    update(id, patch) {
      const sets: string[] = [];
      const params: Record<string, SQLInputValue> = { id };
      const set = (column: string, value: SQLInputValue): void => {
        sets.push(`${column} = :${column}`);
        params[column] = value;
      };
      if (patch.state !== undefined) set('state', patch.state);
      if (patch.lastActiveAt !== undefined) set('last_active_at', Math.round(patch.lastActiveAt));
      if (patch.closedAt !== undefined)
        set('closed_at', patch.closedAt === null ? null : Math.round(patch.closedAt));
      if (patch.closeReason !== undefined) set('close_reason', patch.closeReason);
      if (patch.notice !== undefined)
        set('notice', patch.notice === null ? null : JSON.stringify(patch.notice));
      if (sets.length === 0) return;
      statements.get(`UPDATE sessions SET ${sets.join(', ')} WHERE id = :id`).run(params);
    },
    saveSnapshot(id, snapshot, at) {
      sql.saveSnapshot.run({
        id,
        snapshot: snapshot === null ? null : JSON.stringify(snapshot),
        at: snapshot === null ? null : Math.round(at),
      });
    },
    cells(sessionId, limit) {
      return sql.cells.all(sessionId, limit).map((row) => storedRunFromRow(row, report));
    },
    hibernateAll() {
      return sql.hibernate.all().map((row) => String(row.id));
    },
  };
}
