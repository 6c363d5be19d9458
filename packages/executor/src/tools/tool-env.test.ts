import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, LimitOutOfRangeError } from '../sandbox/limits.ts';
import { baseSandboxEnv } from '../sandbox/sandbox-environment.ts';
import { resolveToolLimits, toolEnv } from './tool-env.ts';

describe('resolveToolLimits', () => {
  it("lays the run's request over the tool's defaults over the server's", () => {
    const tool = { limits: { wallTimeMs: 60_000, memoryBytes: 256 * 1024 * 1024 } };
    expect(resolveToolLimits(tool)).toEqual({
      ...DEFAULT_LIMITS,
      wallTimeMs: 60_000,
      memoryBytes: 256 * 1024 * 1024,
    });
    expect(resolveToolLimits(tool, { wallTimeMs: 2_000 }).wallTimeMs).toBe(2_000);
  });

  it('checks the result against the maximums', () => {
    expect(() => resolveToolLimits({ limits: { wallTimeMs: 10_000_000 } })).toThrow(
      LimitOutOfRangeError,
    );
  });
});

describe('toolEnv', () => {
  it("is the sandbox's base environment with the tool's variables over it", () => {
    const env = toolEnv({ env: { PATH: '{tools}/bin:/usr/bin', COLOR: 'never' } });
    expect(env).toEqual({
      ...baseSandboxEnv(),
      PATH: '/opt/runbox/tools/bin:/usr/bin',
      COLOR: 'never',
    });
  });
});
