/**
 * Estimates how long a waiting run will wait, from the recent durations of runs of the same kind
 * (tool id or language). With no history for a kind, `fallbackMs` stands in.
 */
export interface WaitEstimator {
  record(kind: string, durationMs: number): void;
  /** Typical duration of one run of `kind`. */
  typicalMs(kind: string): number;
  /**
   * Wait of a run behind `ahead` (kinds of the waiting runs before it) while `running` (kind and
   * elapsed ms of each running run) occupy `concurrency` slots.
   */
  estimateWaitMs(input: {
    ahead: readonly string[];
    running: readonly { kind: string; elapsedMs: number }[];
    concurrency: number;
  }): number;
}

export function createWaitEstimator(
  options: { window?: number; fallbackMs?: number } = {},
): WaitEstimator {
  const window = options.window ?? 20;
  const fallbackMs = options.fallbackMs ?? 5_000;
  const history = new Map<string, number[]>();

  function typicalMs(kind: string): number {
    const samples = history.get(kind);
    if (!samples || samples.length === 0) return fallbackMs;
    const sorted = [...samples].sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)] ?? fallbackMs;
  }

  return {
    record(kind, durationMs) {
      const samples = history.get(kind) ?? [];
      samples.push(durationMs);
      if (samples.length > window) samples.shift();
      history.set(kind, samples);
    },
    typicalMs,
    estimateWaitMs({ ahead, running, concurrency }) {
      if (concurrency <= 0) return Number.POSITIVE_INFINITY;
      // Simulate the slots: each frees up when its run is expected to end, then takes the next.
      const slots = running.map((run) => Math.max(0, typicalMs(run.kind) - run.elapsedMs));
      while (slots.length < concurrency) slots.push(0);
      slots.sort((a, b) => a - b);
      for (const kind of ahead) {
        const free = slots.shift() ?? 0;
        slots.push(free + typicalMs(kind));
        slots.sort((a, b) => a - b);
      }
      return Math.round(slots[0] ?? 0);
    },
  };
}
