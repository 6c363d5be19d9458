import type { RunEvent, RunEventInput } from './run-events.ts';

/**
 * The in-memory event log of one run: numbers events, keeps the newest `maxEvents` of them for live
 * and returning subscribers, and wakes subscribers on every append. Older events live only in the
 * store (through the engine's persistence hook).
 */
export interface RunLog {
  append(input: RunEventInput): RunEvent;
  lastSeq(): number;
  /** seq of the oldest event still kept in memory; lastSeq() + 1 when none is. */
  oldestKeptSeq(): number;
  /** Kept events with seq > afterSeq, oldest first, at most `limit`. */
  after(afterSeq: number, limit?: number): RunEvent[];
  /** True once the `end` event is in. */
  ended(): boolean;
  /** Calls `listener` after each append; returns the unsubscribe function. */
  onAppend(listener: () => void): () => void;
}

export function createRunLog(options: {
  maxEvents: number;
  now?: () => number;
  /** The run's history already holds events up to this seq (a queued run back after a restart). */
  startAfterSeq?: number;
}): RunLog {
  const now = options.now ?? Date.now;
  const events: RunEvent[] = [];
  // Index of events[0] within the run's history (its seq - 1); grows as old events drop.
  let dropped = options.startAfterSeq ?? 0;
  let seq = options.startAfterSeq ?? 0;
  let isEnded = false;
  const listeners = new Set<() => void>();

  return {
    append(input) {
      if (isEnded) throw new Error('the run already ended; no event may follow `end`');
      seq += 1;
      const event = { ...input, seq, at: now() } as RunEvent;
      events.push(event);
      if (events.length > options.maxEvents) {
        // Drop in blocks so the array is not shifted on every append.
        const excess = Math.max(1, Math.floor(options.maxEvents / 8));
        events.splice(0, excess);
        dropped += excess;
      }
      if (event.type === 'end') isEnded = true;
      for (const listener of listeners) listener();
      return event;
    },
    lastSeq: () => seq,
    oldestKeptSeq: () => dropped + 1,
    after(afterSeq, limit = Number.POSITIVE_INFINITY) {
      const start = Math.max(0, afterSeq - dropped);
      return events.slice(start, limit === Number.POSITIVE_INFINITY ? undefined : start + limit);
    },
    ended: () => isEnded,
    onAppend(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
