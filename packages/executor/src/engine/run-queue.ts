import PQueue from 'p-queue';
import type { RunRecord } from './executor-types.ts';

/**
 * The queue of runs: p-queue limits how many run at once; this module keeps the order of the
 * waiting runs itself (p-queue does not expose it), in the same order p-queue starts them:
 * higher priority first, first come first served within a priority.
 */
export interface RunQueue {
  /**
   * Adds a run; `start` is called when its turn comes. `record` is the run as the engine has it
   * (a queue that hands runs to other processes sends it along).
   */
  enqueue(entry: {
    runId: string;
    priority: number;
    record?: RunRecord;
    start: () => Promise<void>;
  }): void;
  /** Removes a waiting run at once; false when it is not waiting. */
  remove(runId: string): boolean;
  /** Waiting run ids, next first. */
  waiting(): readonly string[];
  running(): readonly string[];
  readonly concurrency: number;
  setConcurrency(concurrency: number): void;
  pause(): void;
  resume(): void;
  isPaused(): boolean;
  /** Called after every change of the waiting order or of the running set. */
  onChange(listener: () => void): () => void;
  /** Resolves when nothing runs (waiting runs are ignored). */
  whenNoneRunning(): Promise<void>;
}

interface Waiting {
  runId: string;
  priority: number;
  abort: AbortController;
}

export function createRunQueue(options: { concurrency: number }): RunQueue {
  const pqueue = new PQueue({ concurrency: options.concurrency });
  const waitingList: Waiting[] = [];
  const runningSet = new Set<string>();
  const listeners = new Set<() => void>();
  const changed = (): void => {
    for (const listener of listeners) listener();
  };

  return {
    enqueue({ runId, priority, start }) {
      const abort = new AbortController();
      // After the last entry of equal or higher priority: the order p-queue itself keeps.
      let index = waitingList.length;
      while (index > 0 && (waitingList[index - 1]?.priority ?? 0) < priority) index--;
      waitingList.splice(index, 0, { runId, priority, abort });
      pqueue
        .add(
          async () => {
            const at = waitingList.findIndex((entry) => entry.runId === runId);
            if (at >= 0) waitingList.splice(at, 1);
            runningSet.add(runId);
            changed();
            try {
              await start();
            } finally {
              runningSet.delete(runId);
              changed();
            }
          },
          { priority, signal: abort.signal, id: runId },
        )
        // An abort while waiting rejects here; the run's own errors are handled by `start`.
        .catch(() => {});
      changed();
    },
    remove(runId) {
      const at = waitingList.findIndex((entry) => entry.runId === runId);
      if (at < 0) return false;
      const [entry] = waitingList.splice(at, 1);
      entry?.abort.abort();
      changed();
      return true;
    },
    waiting: () => waitingList.map((entry) => entry.runId),
    running: () => [...runningSet],
    get concurrency() {
      return pqueue.concurrency;
    },
    setConcurrency(concurrency) {
      pqueue.concurrency = concurrency;
      changed();
    },
    pause() {
      pqueue.pause();
      changed();
    },
    resume() {
      pqueue.start();
      changed();
    },
    isPaused: () => pqueue.isPaused,
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    whenNoneRunning: () => whenNoneRunning(runningSet, listeners),
  };
}

/**
 * Resolves once `running` is empty, checked after each change the queue reports to `listeners`
 * (every queue keeps such a set and calls its listeners after a run leaves it).
 */
export function whenNoneRunning(
  running: ReadonlySet<string>,
  listeners: Set<() => void>,
): Promise<void> {
  if (running.size === 0) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const check = (): void => {
      if (running.size > 0) return;
      listeners.delete(check);
      resolve();
    };
    listeners.add(check);
  });
}
