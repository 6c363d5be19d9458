import { availableParallelism } from 'node:os';
import { z } from 'zod';

/** Resource limits of one sandboxed run. Every field is enforced by a kernel mechanism. */
export interface SandboxLimits {
  /** Wall-clock time before the whole cgroup is killed. Default 30 s. */
  wallTimeMs: number;
  /** Memory (RSS + page cache + tmpfs pages) of the whole run, no swap. Default 512 MiB. */
  memoryBytes: number;
  /**
   * Processes and threads alive at once (cgroup pids.max counts every thread). Default 256: test
   * suites start more than a hundred (a Node process alone has about ten threads and `node
   * --test` runs a child per test file at once; thread pools of 100 and more are common in Python
   * and Java suites), and 256 still holds a fork bomb to a count the memory limit copes with.
   */
  maxProcesses: number;
  /**
   * CPU quota in cores (cgroup cpu quota); at most the host's cores. Whatever the quota, every run
   * has the same CPU weight, so runs that are all busy share the cores equally. Default 1.
   */
  cpus: number;
  /** Size of the run's private /tmp tmpfs. Default 64 MiB. */
  tmpBytes: number;
  /** Size of the workspace (project copy plus what the run writes), and the largest file. Default 64 MiB. */
  workspaceBytes: number;
  /** Open file descriptors per process (RLIMIT_NOFILE). Default 256. */
  openFiles: number;
  /** stdout + stderr bytes before the run ends as output_limit. Default 1 MiB. */
  outputBytes: number;
}

const MiB = 1024 * 1024;

export const DEFAULT_LIMITS: Readonly<SandboxLimits> = Object.freeze({
  wallTimeMs: 30_000,
  memoryBytes: 512 * MiB,
  maxProcesses: 256,
  cpus: 1,
  tmpBytes: 64 * MiB,
  workspaceBytes: 64 * MiB,
  openFiles: 256,
  outputBytes: 1 * MiB,
});

/**
 * The cores this process may run on (its CPU affinity, as `nproc` counts). No run can use more, so
 * none may ask for more. A CFS quota on the server's own container is not seen here.
 */
export const HOST_CPUS: number = availableParallelism();

/**
 * What an operator may allow at most; a request above these is refused, never clamped silently.
 * `cpus` is the host's core count.
 */
export const DEFAULT_MAXIMUMS: Readonly<SandboxLimits> = Object.freeze({
  wallTimeMs: 300_000,
  memoryBytes: 4096 * MiB,
  maxProcesses: 1024,
  cpus: HOST_CPUS,
  tmpBytes: 1024 * MiB,
  workspaceBytes: 1024 * MiB,
  openFiles: 4096,
  outputBytes: 64 * MiB,
});

/** Hard floors and ceilings no configuration can cross. */
export const ABSOLUTE_RANGES: Readonly<Record<keyof SandboxLimits, readonly [number, number]>> =
  Object.freeze({
    wallTimeMs: [1_000, 3_600_000],
    memoryBytes: [16 * MiB, 64 * 1024 * MiB],
    maxProcesses: [4, 32_768],
    cpus: [0.05, 256],
    tmpBytes: [1 * MiB, 64 * 1024 * MiB],
    workspaceBytes: [1 * MiB, 64 * 1024 * MiB],
    openFiles: [16, 65_536],
    outputBytes: [1024, 1024 * MiB],
  });

export const LIMIT_NAMES = Object.keys(DEFAULT_LIMITS) as (keyof SandboxLimits)[];

/**
 * A requested limit outside what this server allows. Names the field, the value and the bound, and
 * why the bound is what it is when that is not plain configuration (the host's cores).
 */
export class LimitOutOfRangeError extends Error {
  readonly code = 'LIMIT_OUT_OF_RANGE';
  readonly field: keyof SandboxLimits;
  readonly value: number;
  readonly min: number;
  readonly max: number;
  constructor(options: {
    field: keyof SandboxLimits;
    value: number;
    min: number;
    max: number;
    reason?: string | undefined;
  }) {
    super(
      `limit ${options.field}=${options.value} is outside the allowed range ${options.min}..${options.max}${options.reason ? ` (${options.reason})` : ''}`,
    );
    this.name = 'LimitOutOfRangeError';
    this.field = options.field;
    this.value = options.value;
    this.min = options.min;
    this.max = options.max;
  }
}

export const limitsOverrideSchema = z
  .object({
    wallTimeMs: z.number().int(),
    memoryBytes: z.number().int(),
    maxProcesses: z.number().int(),
    cpus: z.number(),
    tmpBytes: z.number().int(),
    workspaceBytes: z.number().int(),
    openFiles: z.number().int(),
    outputBytes: z.number().int(),
  })
  .partial()
  .strict();

export type LimitsOverride = z.infer<typeof limitsOverrideSchema>;

/**
 * Merges a per-run override over the defaults and checks each value against the server maximums
 * and the absolute ranges. Throws LimitOutOfRangeError for the first field out of range.
 */
export function resolveLimits(
  override: LimitsOverride = {},
  options: { defaults?: SandboxLimits; maximums?: SandboxLimits } = {},
): SandboxLimits {
  const defaults = options.defaults ?? DEFAULT_LIMITS;
  const maximums = options.maximums ?? DEFAULT_MAXIMUMS;
  const resolved = { ...defaults };
  for (const field of LIMIT_NAMES) {
    const value = override[field] ?? defaults[field];
    const [absoluteMin, absoluteMax] = ABSOLUTE_RANGES[field];
    const max = Math.min(maximums[field], absoluteMax);
    if (!Number.isFinite(value) || value < absoluteMin || value > max) {
      // More cores than the host has could never be used: say so, not just the number.
      const hostBound = field === 'cpus' && value > max && max === HOST_CPUS;
      throw new LimitOutOfRangeError({
        field,
        value,
        min: absoluteMin,
        max,
        reason: hostBound
          ? `this host has ${HOST_CPUS} ${HOST_CPUS === 1 ? 'core' : 'cores'}`
          : undefined,
      });
    }
    resolved[field] = value;
  }
  return resolved;
}
