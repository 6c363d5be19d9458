import type { ExecutorHooks, RunEvent } from '../src/index.ts';

/**
 * What the API's store is to the engine, in memory: `onEvent` keeps every event of every run, and
 * `readEvents` gives back those a subscriber fell too far behind for the engine's in-memory log
 * (the contract of ExecutorHooks). The API writes to SQLite in batches instead; this one costs the
 * bench's own memory, about what the events take.
 */
export interface BenchEventStore {
  hooks: Required<Pick<ExecutorHooks, 'onEvent' | 'readEvents'>>;
  /** Events kept, over all runs. */
  size(): number;
  /** Forgets every event (to measure what they took). */
  clear(): void;
  /** readEvents calls and the events they returned. */
  reads: { calls: number; events: number };
}

export function benchEventStore(): BenchEventStore {
  const runs = new Map<string, RunEvent[]>();
  const reads = { calls: 0, events: 0 };
  return {
    hooks: {
      onEvent(run, event) {
        let events = runs.get(run.id);
        if (!events) runs.set(run.id, (events = []));
        events.push(event);
      },
      async readEvents(runId, afterSeq, limit) {
        reads.calls++;
        const events = runs.get(runId) ?? [];
        // Seqs of one run are consecutive, so the position is arithmetic (no scan of a million).
        const first = events[0]?.seq ?? 1;
        const start = Math.max(0, afterSeq + 1 - first);
        const page = events.slice(start, start + limit);
        reads.events += page.length;
        return page;
      },
    },
    clear: () => runs.clear(),
    size: () => [...runs.values()].reduce((sum, events) => sum + events.length, 0),
    reads,
  };
}
