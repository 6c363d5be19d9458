import type { RunEventInput } from './run-events.ts';
import type { RunQueue } from './run-queue.ts';
import type { WaitEstimator } from './wait-estimator.ts';

/** What the announcer needs to know of a run. */
export interface AnnouncedRun {
  kindKey: string;
  state: string;
  startedAt: number | null;
}

/**
 * Position events for every waiting run whose place, the concurrency or the pause changed. At
 * most one round per `intervalMs`: with a long queue every change moves every waiting run, and
 * announcing each change at once would cost O(n²) events for n runs.
 */
export function createPositionAnnouncer(options: {
  queue: RunQueue;
  estimator: WaitEstimator;
  runOf: (runId: string) => AnnouncedRun | undefined;
  emit: (runId: string, event: RunEventInput) => void;
  /** @default 100 */
  intervalMs?: number;
}): { announce(): void; forget(runId: string): void } {
  const { queue, estimator, runOf } = options;
  const intervalMs = options.intervalMs ?? 100;
  const lastAnnounced = new Map<string, string>();
  let timer: NodeJS.Timeout | null = null;
  let lastRound = 0;

  function runningEntries(): { kind: string; elapsedMs: number }[] {
    const now = Date.now();
    return queue.running().flatMap((id) => {
      const run = runOf(id);
      return run ? [{ kind: run.kindKey, elapsedMs: now - (run.startedAt ?? now) }] : [];
    });
  }

  function announce(): void {
    if (timer) return;
    const due = lastRound + intervalMs - Date.now();
    if (due > 0) {
      timer = setTimeout(() => {
        timer = null;
        announce();
      }, due);
      timer.unref();
      return;
    }
    lastRound = Date.now();
    const waiting = queue.waiting();
    const running = runningEntries();
    const waits = estimator.estimateWaits({
      waiting: waiting.map((id) => runOf(id)?.kindKey ?? ''),
      running,
      concurrency: queue.concurrency,
    });
    waiting.forEach((id, index) => {
      const run = runOf(id);
      if (!run || run.state !== 'queued') return;
      // Not for the moment between one run ending and the next starting, when only the running
      // count blinks.
      const key = `${index + 1}/${queue.concurrency}/${queue.isPaused()}`;
      if (key === lastAnnounced.get(id)) return;
      lastAnnounced.set(id, key);
      options.emit(id, {
        type: 'position',
        position: index + 1,
        running: running.length,
        concurrency: queue.concurrency,
        estimatedWaitMs: waits[index] ?? 0,
      });
    });
  }

  return { announce, forget: (runId) => lastAnnounced.delete(runId) };
}

export type PositionAnnouncer = ReturnType<typeof createPositionAnnouncer>;
