import type { RunCgroup } from './cgroup.ts';

/**
 * The CPU weight of the group that holds every run, kept at one run's weight times the number of
 * runs alive, so that to the rest of the machine each run weighs what one process does. With a
 * fixed weight, all runs together weigh one process: on a host busy with other work, a second run
 * halves what the first one gets even when there would be time for both (bench cpu-fairness, with
 * 1 to 1.4 cores of other work: a benign run beside a hog took 2.1 times its time alone; with the
 * weight scaled, 1.45). Between runs nothing changes: each run's own weight is the same, so busy
 * runs split the parent's time equally.
 */
export interface ParentCpuWeight {
  /** A run was made: raise the weight before it starts. */
  add(): Promise<void>;
  /** A run was removed: lower the weight. Never throws; a failure only leaves the weight higher. */
  drop(): Promise<void>;
}

export function parentCpuWeight(options: {
  perRun: number;
  /** The largest weight the file takes (v1 cpu.shares 262144, v2 cpu.weight 10000). */
  max: number;
  write: (weight: number) => Promise<void>;
}): ParentCpuWeight {
  let live = 0;
  // One write at a time, each with the count at the time it runs: the last one written is current.
  let pending: Promise<void> = Promise.resolve();
  const update = (): Promise<void> => {
    const next = pending.then(() =>
      options.write(Math.min(options.max, options.perRun * Math.max(1, live))),
    );
    pending = next.catch(() => {});
    return next;
  };
  return {
    async add() {
      live++;
      try {
        await update();
      } catch (error) {
        live--;
        throw error;
      }
    },
    async drop() {
      live = Math.max(0, live - 1);
      await update().catch(() => {});
    },
  };
}

/** `group`, counted as a live run in `weight` from now until it is removed. */
export async function countedRun(group: RunCgroup, weight: ParentCpuWeight): Promise<RunCgroup> {
  await weight.add();
  let dropped = false;
  return {
    ...group,
    async remove() {
      try {
        await group.remove();
      } finally {
        if (!dropped) {
          dropped = true;
          await weight.drop();
        }
      }
    },
  };
}
