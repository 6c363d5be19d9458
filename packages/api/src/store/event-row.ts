import type { SQLInputValue } from 'node:sqlite';
import { RUN_STATES, type RunEvent, type RunEventType } from '@runbox/executor';
import { isPlainObject, readRow, type ReportCorruption, type Row } from './row-reader.ts';

/**
 * An event as a row of run_events: seq, at and type have columns of their own; the rest of the
 * event (text, stream, result…) is the JSON object in `data`.
 */

const EVENT_TYPES = [
  'state',
  'position',
  'output',
  'usage',
  'truncated',
  'end',
] as const satisfies readonly RunEventType[];

export function eventRowParams(runId: string, event: RunEvent): Record<string, SQLInputValue> {
  const { seq, at, type, ...data } = event;
  return { run_id: runId, seq, at: Math.round(at), type, data: JSON.stringify(data) };
}

/** The fields each type needs to be rendered; a row without them is treated as damaged. */
function hasItsFields(type: RunEventType, data: Record<string, unknown>): boolean {
  switch (type) {
    case 'state':
      return (
        typeof data.state === 'string' && (RUN_STATES as readonly string[]).includes(data.state)
      );
    case 'output':
      return (
        (data.stream === 'stdout' || data.stream === 'stderr') && typeof data.text === 'string'
      );
    case 'end':
      return isPlainObject(data.result) && typeof data.result.state === 'string';
    default:
      return true;
  }
}

/** The event of a row, or null (reported) when the row does not read back as one. */
export function eventFromRow(row: Row, runId: string, report: ReportCorruption): RunEvent | null {
  const key = `${runId}#${String(row.seq)}`;
  const r = readRow(row, { table: 'run_events', key }, report);
  const seq = r.int('seq');
  const at = r.int('at');
  const type = r.oneOf('type', EVENT_TYPES, 'state');
  if (r.damaged.length > 0) return null;
  const data = r.json(
    'data',
    (value): value is Record<string, unknown> => isPlainObject(value) && hasItsFields(type, value),
    null,
  );
  if (r.damaged.length > 0 || data === null) return null;
  return { ...data, seq, at, type } as RunEvent;
}

export const INSERT_EVENT_SQL =
  'INSERT INTO run_events (run_id, seq, at, type, data) VALUES (:run_id, :seq, :at, :type, :data)';
export const RAISE_LAST_SEQ_SQL =
  'UPDATE runs SET last_seq = max(last_seq, :last_seq) WHERE id = :id';
export const SELECT_EVENTS_SQL =
  'SELECT seq, at, type, data FROM run_events WHERE run_id = ? AND seq > ? ORDER BY seq LIMIT ?';
