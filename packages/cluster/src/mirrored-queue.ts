import { whenNoneRunning, type RunQueue, type RunRecord } from '@runbox/executor';

interface Waiting {
  runId: string;
  priority: number;
  record: RunRecord;
  start: () => Promise<void>;
}

/** What the mirror asks of the shared queue; the redis driver does it with BullMQ. */
export interface SharedQueue {
  /** Adds the run as a job. Called in the order runs were queued. */
  add(record: RunRecord): Promise<void>;
  /** Takes a waiting run's job away (a worker that took it anyway finds it cancelled). */
  remove(runId: string): Promise<void>;
  /** Caps the runs at once across all workers; null: no cap beyond the workers' own. */
  setConcurrency(concurrency: number | null): Promise<void>;
  pause(): Promise<void>;
  resume(): Promise<void>;
}

export interface MirroredQueue extends RunQueue {
  /** A worker started the run: it leaves the waiting list and its `start` runs. False when unknown. */
  started(runId: string): boolean;
  /**
   * Adds every waiting run's job again, in order, with the concurrency and the pause: Redis lost
   * them (it restarted without persistence). Resolves when all are in.
   */
  restore(): Promise<void>;
  /** A run a worker runs already (followed again after the API restarted). */
  adopt(runId: string, start: () => Promise<void>): void;
  /** The live workers' concurrency together: what runs at once when no cap is lower. */
  setCapacity(capacity: number): void;
}

/**
 * The queue as this API sees it, kept beside the shared one in Redis. BullMQ has no position API,
 * so the order is kept here: the API queues every run (one API per Redis), in the order BullMQ
 * starts them (runbox's priority, then first come first served: see bullPriority), and a run
 * leaves the list when a worker says it started it. Positions and wait estimates come from this
 * list, so they are what the page shows.
 */
export function createMirroredQueue(options: {
  shared: SharedQueue;
  /** The cap on runs at once across all workers; null: none beyond the workers' own. */
  concurrency: number | null;
  onError(error: unknown, runId: string | null): void;
}): MirroredQueue {
  const { shared } = options;
  const waitingList: Waiting[] = [];
  const runningSet = new Set<string>();
  const listeners = new Set<() => void>();
  let cap = options.concurrency;
  let capacity = 0;
  /** What runs at once: the cap, or the workers' capacity when lower (at least 1, for estimates). */
  const effective = (): number =>
    Math.max(1, Math.min(cap ?? Number.POSITIVE_INFINITY, capacity || 1));
  let paused = false;
  // Jobs go to Redis one after the other: their order there is the order here.
  let adding: Promise<void> = Promise.resolve();
  const changed = (): void => {
    for (const listener of listeners) listener();
  };
  function run(runId: string, start: () => Promise<void>): void {
    runningSet.add(runId);
    changed();
    start()
      .catch((error: unknown) => options.onError(error, runId))
      .finally(() => {
        runningSet.delete(runId);
        changed();
      });
  }
  const call = (work: () => Promise<void>, runId: string | null): void => {
    work().catch((error: unknown) => options.onError(error, runId));
  };

  return {
    enqueue({ runId, priority, record, start }) {
      if (!record) throw new Error('the shared queue needs the run record to make its job');
      let index = waitingList.length;
      while (index > 0 && (waitingList[index - 1]?.priority ?? 0) < priority) index--;
      waitingList.splice(index, 0, { runId, priority, record, start });
      adding = adding.then(() =>
        shared.add(record).catch((error: unknown) => options.onError(error, runId)),
      );
      changed();
    },
    started(runId) {
      const at = waitingList.findIndex((entry) => entry.runId === runId);
      if (at < 0) return false;
      const [entry] = waitingList.splice(at, 1);
      if (!entry) return false;
      run(runId, entry.start);
      return true;
    },
    adopt: run,
    remove(runId) {
      const at = waitingList.findIndex((entry) => entry.runId === runId);
      if (at < 0) return false;
      waitingList.splice(at, 1);
      // After its add: a remove that overtook the add would leave the job behind.
      adding = adding.then(() =>
        shared.remove(runId).catch((e: unknown) => options.onError(e, runId)),
      );
      changed();
      return true;
    },
    restore() {
      const entries = [...waitingList];
      adding = adding.then(async () => {
        await shared.setConcurrency(cap);
        if (paused) await shared.pause();
        for (const entry of entries) {
          if (waitingList.includes(entry))
            await shared.add(entry.record).catch((e: unknown) => options.onError(e, entry.runId));
        }
      });
      return adding;
    },
    waiting: () => waitingList.map((entry) => entry.runId),
    running: () => [...runningSet],
    get concurrency() {
      return effective();
    },
    setCapacity(value) {
      if (value === capacity) return;
      capacity = value;
      changed();
    },
    setConcurrency(value) {
      cap = value;
      call(() => shared.setConcurrency(value), null);
      changed();
    },
    pause() {
      paused = true;
      call(() => shared.pause(), null);
      changed();
    },
    resume() {
      paused = false;
      call(() => shared.resume(), null);
      changed();
    },
    isPaused: () => paused,
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    whenNoneRunning: () => whenNoneRunning(runningSet, listeners),
  };
}
