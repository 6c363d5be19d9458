import { describe, expect, it } from 'vitest';
import { ConfigError } from './config-error.ts';
import { hostCapacity, MAXIMUM_VARIABLES, maximumsFromEnv } from './maximums-env.ts';
import { DEFAULT_MAXIMUMS } from './sandbox/limits.ts';

const GiB = 1024 ** 3;
const host = { memoryBytes: 16 * GiB, cpus: 8, threads: 100_000, openFiles: 1_048_576 };

function problem(env: NodeJS.ProcessEnv): ConfigError {
  try {
    maximumsFromEnv(env, host);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error(`${JSON.stringify(env)} was accepted`);
}

describe('maximumsFromEnv', () => {
  it('keeps the default maximums when nothing is set', () => {
    expect(maximumsFromEnv({}, host)).toEqual(DEFAULT_MAXIMUMS);
    expect(maximumsFromEnv({ RUNBOX_MAX_MEMORY_BYTES: ' ' }, host)).toEqual(DEFAULT_MAXIMUMS);
  });

  it('raises and lowers every maximum within the host', () => {
    expect(
      maximumsFromEnv(
        {
          RUNBOX_MAX_WALL_TIME_MS: '600000',
          RUNBOX_MAX_MEMORY_BYTES: String(8 * GiB),
          RUNBOX_MAX_PROCESSES: '4096',
          RUNBOX_MAX_CPUS: '2.5',
          RUNBOX_MAX_TMP_BYTES: String(2 * GiB),
          RUNBOX_MAX_WORKSPACE_BYTES: String(4 * GiB),
          RUNBOX_MAX_OPEN_FILES: '16384',
          RUNBOX_MAX_OUTPUT_BYTES: String(256 * 1024 * 1024),
        },
        host,
      ),
    ).toEqual({
      wallTimeMs: 600_000,
      memoryBytes: 8 * GiB,
      maxProcesses: 4096,
      cpus: 2.5,
      tmpBytes: 2 * GiB,
      workspaceBytes: 4 * GiB,
      openFiles: 16_384,
      outputBytes: 256 * 1024 * 1024,
    });
  });

  it('refuses more than the host has, saying what it has', () => {
    const memory = problem({ RUNBOX_MAX_MEMORY_BYTES: String(32 * GiB) });
    expect(memory.variable).toBe('RUNBOX_MAX_MEMORY_BYTES');
    expect(memory.message).toContain(`this host has ${16 * GiB} bytes of memory`);
    expect(problem({ RUNBOX_MAX_CPUS: '9' }).message).toContain('this host has 8 cores');
    expect(() =>
      maximumsFromEnv({ RUNBOX_MAX_PROCESSES: '5000' }, { ...host, threads: 4000 }),
    ).toThrow(/RUNBOX_MAX_PROCESSES: 5000 is above 4000 \(this kernel allows 4000 threads\)/);
    expect(problem({ RUNBOX_MAX_PROCESSES: '40000' }).message).toContain(
      "runbox's ceiling for maxProcesses",
    );
  });

  it('refuses a maximum below the default every run gets, and what is not a number', () => {
    const low = problem({ RUNBOX_MAX_PROCESSES: '50' });
    expect(low.message).toMatch(/50 is below 256, the maxProcesses every run gets/);
    expect(problem({ RUNBOX_MAX_WALL_TIME_MS: '10000' }).variable).toBe('RUNBOX_MAX_WALL_TIME_MS');
    expect(problem({ RUNBOX_MAX_MEMORY_BYTES: '4GiB' }).message).toContain('not a whole number');
    expect(problem({ RUNBOX_MAX_OPEN_FILES: '1e4' }).message).toContain('not a whole number');
    expect(problem({ RUNBOX_MAX_OUTPUT_BYTES: String(2 * GiB) }).message).toContain(
      "runbox's ceiling for outputBytes",
    );
  });

  it('names one variable per limit, and reads this host', () => {
    expect(Object.values(MAXIMUM_VARIABLES)).toHaveLength(8);
    const here = hostCapacity();
    expect(here.memoryBytes).toBeGreaterThan(0);
    expect(here.threads).toBeGreaterThan(0);
    expect(here.openFiles).toBeGreaterThan(0);
  });
});
