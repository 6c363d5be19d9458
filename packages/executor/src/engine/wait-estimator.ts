/**
 * Estimates how long a waiting run will wait, from the recent durations of runs of the same kind
 * (tool id or language). With no history for a kind, `fallbackMs` stands in.
 */
export interface WaitEstimator {
  record(kind: string, durationMs: number): void;
  /** Typical duration of one run of `kind`. */
  typicalMs(kind: string): number;
  /**
   * Waits of every waiting run (kinds in queue order) while `running` (kind and elapsed ms of each
   * running run) occupy `concurrency` slots, in one pass: the first element is the next run's wait.
   */
  estimateWaits(input: {
    waiting: readonly string[];
    running: readonly { kind: string; elapsedMs: number }[];
    concurrency: number;
  }): number[];
  /** The wait of a run behind all of `ahead`. */
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

  // Simulates the slots: each frees up when its run is expected to end, then takes the next run.
  function estimateWaits({
    waiting,
    running,
    concurrency,
  }: {
    waiting: readonly string[];
    running: readonly { kind: string; elapsedMs: number }[];
    concurrency: number;
  }): number[] {
    if (concurrency <= 0) return waiting.map(() => Number.POSITIVE_INFINITY);
    const slots = running.map((run) => Math.max(0, typicalMs(run.kind) - run.elapsedMs));
    while (slots.length < concurrency) slots.push(0);
    const waits: number[] = [];
    for (const kind of waiting) {
      let earliest = 0;
      for (let i = 1; i < slots.length; i++)
        if ((slots[i] ?? 0) < (slots[earliest] ?? 0)) earliest = i;
      const start = slots[earliest] ?? 0;
      waits.push(Math.round(start));
      slots[earliest] = start + typicalMs(kind);
    }
    return waits;
  }

  return {
    record(kind, durationMs) {
      const samples = history.get(kind) ?? [];
      samples.push(durationMs);
      if (samples.length > window) samples.shift();
      history.set(kind, samples);
    },
    typicalMs,
    estimateWaits,
    estimateWaitMs: ({ ahead, running, concurrency }) =>
      estimateWaits({ waiting: [...ahead, ''], running, concurrency }).at(-1) ?? 0,
  };
}
