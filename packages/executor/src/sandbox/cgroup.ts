import type { SandboxLimits } from './limits.ts';

/**
 * Every run's CPU weight, the same for all: runs are sibling groups under one parent, so when they
 * are all busy the scheduler splits the parent's CPU time equally between runs, however many
 * processes each one has (a run of 8 spinning processes gets one share, not 8). v1 `cpu.shares`
 * and v2 `cpu.weight`, each at its kernel default, written explicitly so that nothing inherited
 * or set by hand can tilt it. The `cpus` limit is a separate ceiling, the run's own CFS quota.
 */
export const RUN_CPU_SHARES_V1 = 1024;
export const RUN_CPU_WEIGHT_V2 = 100;

/** 'none': no usable cgroup on this host; every run fails to start and the self-test says why. */
export type CgroupVersion = 'v1' | 'v2' | 'none';

export interface CgroupUsage {
  /** CPU time of every process the run had, user + system. */
  cpuMs: number;
  /** Highest memory use of the whole run (v2 before 5.19: highest sampled value). */
  peakMemoryBytes: number;
  /** Memory in use now. */
  currentMemoryBytes: number;
}

/** The cgroup(s) of one run. Everything the run starts is inside; the kill takes all of it. */
export interface RunCgroup {
  readonly version: CgroupVersion;
  /**
   * Files the launcher writes "0" (itself) into before it execs anything. On v1 these are the
   * `tasks` files: moving only the calling thread skips the global threadgroup lock, whose RCU
   * sync otherwise adds 10-15 ms to one run start in ten.
   */
  readonly joinFiles: readonly string[];
  /** Every directory of this run's cgroup (one for v2, one per hierarchy for v1). */
  readonly paths: readonly string[];
  usage(): Promise<CgroupUsage>;
  /** True once the kernel's OOM killer has killed a process of this run. */
  oomKilled(): Promise<boolean>;
  /** Host pids still in the cgroup. */
  pids(): Promise<number[]>;
  /**
   * Freezes, kills and waits until no process is left; SIGSTOP or fork races cannot dodge it.
   * `spare` (the bwrap monitor, our direct child) is killed last, after it has reaped the sandbox:
   * killed first, its children would be orphaned to the host's init as zombies.
   */
  killAll(spare?: number): Promise<void>;
  /** Removes the cgroup; call after killAll. */
  remove(): Promise<void>;
  /**
   * Sets memory, processes and CPU quota anew, and the CPU weight of a run: a warm sandbox is
   * made with the pool's limits at background weight, and takes its run's limits when claimed.
   */
  setLimits(limits: SandboxLimits): Promise<void>;
  /**
   * Counts CPU time (and, where the kernel allows, peak memory) from now on: what a warm
   * sandbox spent starting up is not its run's.
   */
  resetUsage(): Promise<void>;
}

/** `background`: the lowest CPU weight, for sandboxes started ahead of demand (warm ones). */
export type CgroupPriority = 'run' | 'background';

export interface CgroupDriver {
  readonly version: CgroupVersion;
  /** Where runs' cgroups are made, for reports. */
  readonly location: string;
  create(runId: string, limits: SandboxLimits, priority?: CgroupPriority): Promise<RunCgroup>;
  /** Kills and removes run cgroups left behind by a server that died. */
  removeStale(): Promise<number>;
  /**
   * Removes the group that holds the runs (per sandbox directory), when it is empty: a process
   * that stops leaves no empty cgroup behind. One that still holds a run (another process on the
   * same sandbox directory) stays. Call last.
   */
  close(): Promise<void>;
}

export class CgroupUnavailableError extends Error {
  readonly code = 'CGROUP_UNAVAILABLE';
  constructor(message: string) {
    super(message);
    this.name = 'CgroupUnavailableError';
  }
}

/** cgroup names are built from run ids; anything else could walk the cgroup tree. */
export function assertCgroupName(name: string): void {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(name)) {
    throw new TypeError(
      `invalid cgroup name ${JSON.stringify(name)}: letters, digits, _ and - only`,
    );
  }
}

/**
 * Stands in when no cgroup can be used (a container whose /sys/fs/cgroup is read-only, say), so
 * the server still starts, its self-test reports the cgroup layers as failed with this reason,
 * /readyz says so, and no run starts without its limits.
 */
export function unavailableCgroupDriver(reason: CgroupUnavailableError): CgroupDriver {
  return {
    version: 'none',
    location: `none (${reason.message})`,
    create: () => Promise.reject(reason),
    removeStale: () => Promise.resolve(0),
    close: () => Promise.resolve(),
  };
}
