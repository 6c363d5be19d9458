import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { ConfigError } from './config-error.ts';
import {
  ABSOLUTE_RANGES,
  DEFAULT_LIMITS,
  DEFAULT_MAXIMUMS,
  HOST_CPUS,
  LIMIT_NAMES,
  type SandboxLimits,
} from './sandbox/limits.ts';

/**
 * The server maximums of the run limits, as the operator sets them: one variable per limit (the
 * README's configuration table lists them). Each may be raised or lowered within what the host
 * has (its memory, cores, thread and open-file ceilings) and runbox's absolute ranges, and not
 * below the default a run gets (a maximum under it would refuse every run that asks for nothing).
 * The API and every worker read the same variables, so a run the API accepts, a worker runs.
 */
export const MAXIMUM_VARIABLES: Readonly<Record<keyof SandboxLimits, string>> = Object.freeze({
  wallTimeMs: 'RUNBOX_MAX_WALL_TIME_MS',
  memoryBytes: 'RUNBOX_MAX_MEMORY_BYTES',
  maxProcesses: 'RUNBOX_MAX_PROCESSES',
  cpus: 'RUNBOX_MAX_CPUS',
  tmpBytes: 'RUNBOX_MAX_TMP_BYTES',
  workspaceBytes: 'RUNBOX_MAX_WORKSPACE_BYTES',
  openFiles: 'RUNBOX_MAX_OPEN_FILES',
  outputBytes: 'RUNBOX_MAX_OUTPUT_BYTES',
});

/** What this host has, as far as a run's limits go. */
export interface HostCapacity {
  /** Physical memory: a run's memory, and its /tmp and workspace (tmpfs, memory-backed). */
  memoryBytes: number;
  /** The cores this process may run on. */
  cpus: number;
  /** Threads the kernel allows at once (kernel.threads-max and kernel.pid_max, the lower). */
  threads: number;
  /** The highest RLIMIT_NOFILE a process may be given (fs.nr_open). */
  openFiles: number;
}

function procNumber(path: string, fallback: number): number {
  try {
    const value = Number(readFileSync(path, 'utf8').trim());
    return Number.isFinite(value) && value > 0 ? value : fallback;
  } catch {
    return fallback;
  }
}

/** Reads this host's capacity (Linux /proc; the absolute ranges where a file is missing). */
export function hostCapacity(): HostCapacity {
  return {
    memoryBytes: totalmem(),
    cpus: HOST_CPUS,
    threads: Math.min(
      procNumber('/proc/sys/kernel/threads-max', ABSOLUTE_RANGES.maxProcesses[1]),
      procNumber('/proc/sys/kernel/pid_max', ABSOLUTE_RANGES.maxProcesses[1]),
    ),
    openFiles: procNumber('/proc/sys/fs/nr_open', ABSOLUTE_RANGES.openFiles[1]),
  };
}

/** The host's bound on a limit, and what it is, for the message; null: none beyond runbox's. */
function hostBound(field: keyof SandboxLimits, host: HostCapacity): [number, string] | null {
  switch (field) {
    case 'memoryBytes':
    case 'tmpBytes':
    case 'workspaceBytes':
      return [host.memoryBytes, `this host has ${host.memoryBytes} bytes of memory`];
    case 'cpus':
      return [host.cpus, `this host has ${host.cpus} ${host.cpus === 1 ? 'core' : 'cores'}`];
    case 'maxProcesses':
      return [host.threads, `this kernel allows ${host.threads} threads`];
    case 'openFiles':
      return [host.openFiles, `this kernel allows ${host.openFiles} open files a process`];
    default:
      return null;
  }
}

/**
 * The maximums from the environment: each variable left unset keeps runbox's default maximum.
 * Throws ConfigError naming the variable and the range for a value that is not a number, is
 * below the default a run gets, or above the host's capacity or the absolute range.
 */
export function maximumsFromEnv(
  env: NodeJS.ProcessEnv,
  host: HostCapacity = hostCapacity(),
): SandboxLimits {
  const maximums: SandboxLimits = { ...DEFAULT_MAXIMUMS };
  for (const field of LIMIT_NAMES) {
    const variable = MAXIMUM_VARIABLES[field];
    const text = env[variable]?.trim();
    if (text === undefined || text === '') continue;
    const value = Number(text);
    const whole = field !== 'cpus';
    if (
      !/^\d+(\.\d+)?$/.test(text) ||
      !Number.isFinite(value) ||
      (whole && !Number.isInteger(value))
    )
      throw new ConfigError(
        variable,
        `${JSON.stringify(text)} is not ${whole ? 'a whole number' : 'a number'}`,
      );
    const lowest = DEFAULT_LIMITS[field];
    const [, absoluteMax] = ABSOLUTE_RANGES[field];
    const bound = hostBound(field, host);
    const highest = Math.min(absoluteMax, bound?.[0] ?? absoluteMax);
    if (value < lowest)
      throw new ConfigError(
        variable,
        `${value} is below ${lowest}, the ${field} every run gets unless it asks for another (allowed: ${lowest} to ${highest})`,
      );
    if (value > highest)
      throw new ConfigError(
        variable,
        `${value} is above ${highest} (${bound && bound[0] <= absoluteMax ? bound[1] : `runbox's ceiling for ${field}`})`,
      );
    maximums[field] = value;
  }
  return maximums;
}
