import { describe, expect, it } from 'vitest';
import { availableParallelism } from 'node:os';
import {
  DEFAULT_LIMITS,
  DEFAULT_MAXIMUMS,
  HOST_CPUS,
  LimitOutOfRangeError,
  resolveLimits,
} from './limits.ts';

describe('resolveLimits', () => {
  it('gives the documented defaults', () => {
    expect(resolveLimits()).toEqual({
      wallTimeMs: 30_000,
      memoryBytes: 512 * 1024 * 1024,
      maxProcesses: 256,
      cpus: 1,
      tmpBytes: 64 * 1024 * 1024,
      workspaceBytes: 64 * 1024 * 1024,
      openFiles: 256,
      outputBytes: 1024 * 1024,
    });
  });

  it('takes an override within the maximums', () => {
    expect(resolveLimits({ wallTimeMs: 5_000 }).wallTimeMs).toBe(5_000);
  });

  it('refuses a value above the server maximum, naming the field and the bound', () => {
    expect(() => resolveLimits({ wallTimeMs: 301_000 })).toThrow(
      'limit wallTimeMs=301000 is outside the allowed range 1000..300000',
    );
    const overMemory = () => resolveLimits({ memoryBytes: DEFAULT_MAXIMUMS.memoryBytes + 1 });
    expect(overMemory).toThrow(LimitOutOfRangeError);
    expect(overMemory).toThrow(expect.objectContaining({ field: 'memoryBytes' }));
  });

  it('refuses a value below the absolute floor and non-finite values', () => {
    expect(() => resolveLimits({ wallTimeMs: 999 })).toThrow(LimitOutOfRangeError);
    expect(() => resolveLimits({ cpus: Number.NaN })).toThrow(LimitOutOfRangeError);
  });

  it('lets an operator raise the wall-time maximum up to one hour, not beyond', () => {
    const maximums = { ...DEFAULT_MAXIMUMS, wallTimeMs: 7_200_000 };
    expect(resolveLimits({ wallTimeMs: 3_600_000 }, { maximums }).wallTimeMs).toBe(3_600_000);
    expect(() => resolveLimits({ wallTimeMs: 3_600_001 }, { maximums })).toThrow(/1000\.\.3600000/);
  });

  it('allows as many cpus as the host has cores, and refuses one more naming the host count', () => {
    const cores = availableParallelism();
    expect(HOST_CPUS).toBe(cores);
    expect(DEFAULT_MAXIMUMS.cpus).toBe(cores);
    expect(resolveLimits({ cpus: cores }).cpus).toBe(cores);
    const unit = cores === 1 ? 'core' : 'cores';
    expect(() => resolveLimits({ cpus: cores + 1 })).toThrow(
      `limit cpus=${cores + 1} is outside the allowed range 0.05..${cores} (this host has ${cores} ${unit})`,
    );
    // The same bound when the server's maximums are spread from the defaults (the API's config).
    const serverMaximums = { ...DEFAULT_MAXIMUMS, wallTimeMs: 600_000 };
    const refused = (() => {
      try {
        resolveLimits({ cpus: cores + 0.5 }, { maximums: serverMaximums });
      } catch (error) {
        return error;
      }
      return null;
    })();
    expect(refused).toBeInstanceOf(LimitOutOfRangeError);
    expect(refused).toMatchObject({ field: 'cpus', max: cores });
  });

  it('names the host only when a value is above the host bound', () => {
    expect(() => resolveLimits({ cpus: 0.01 })).toThrow(
      `limit cpus=0.01 is outside the allowed range 0.05..${HOST_CPUS}`,
    );
    expect(() => resolveLimits({ cpus: 0.01 })).not.toThrow(/this host/);
  });

  it('defaults are within the default maximums', () => {
    expect(() => resolveLimits({}, { defaults: DEFAULT_LIMITS })).not.toThrow();
  });
});
