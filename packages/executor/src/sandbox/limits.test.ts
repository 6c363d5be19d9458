import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, DEFAULT_MAXIMUMS, LimitOutOfRangeError, resolveLimits } from './limits.ts';

describe('resolveLimits', () => {
  it('gives the documented defaults', () => {
    expect(resolveLimits()).toEqual({
      wallTimeMs: 30_000,
      memoryBytes: 512 * 1024 * 1024,
      maxProcesses: 100,
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
    try {
      resolveLimits({ memoryBytes: DEFAULT_MAXIMUMS.memoryBytes + 1 });
    } catch (error) {
      expect(error).toBeInstanceOf(LimitOutOfRangeError);
      expect((error as LimitOutOfRangeError).field).toBe('memoryBytes');
    }
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

  it('defaults are within the default maximums', () => {
    expect(() => resolveLimits({}, { defaults: DEFAULT_LIMITS })).not.toThrow();
  });
});
