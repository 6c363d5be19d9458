import { describe, expect, it } from 'vitest';
import { RateLimitError } from './errors/api-errors.ts';
import { createRateLimiter } from './rate-limiter.ts';

describe('rate limiter', () => {
  it('refuses the run past the hourly limit, saying when to retry', () => {
    let now = 1_000_000;
    const limiter = createRateLimiter({ runsPerHour: 2, concurrentRunsPerOwner: 10 }, () => now);
    limiter.admit('a', 0);
    now += 60_000;
    limiter.admit('a', 0);
    limiter.admit('b', 0);
    let error: unknown;
    try {
      limiter.admit('a', 0);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(RateLimitError);
    expect((error as RateLimitError).limit).toBe('runsPerHour');
    expect((error as RateLimitError).retryAfterMs).toBe(60 * 60 * 1000 - 60_000);
    expect((error as Error).message).toContain('the limit is 2 an hour');
    now += 60 * 60 * 1000;
    expect(() => limiter.admit('a', 0)).not.toThrow();
    expect(limiter.refusals()).toBe(1);
  });

  it('refuses past the concurrent limit and takes new settings', () => {
    const limiter = createRateLimiter({ runsPerHour: 100, concurrentRunsPerOwner: 1 });
    expect(() => limiter.admit('a', 1)).toThrow(/limit is 1 at once/);
    limiter.update({ concurrentRunsPerOwner: 3 });
    expect(() => limiter.admit('a', 2)).not.toThrow();
    expect(limiter.settings()).toEqual({ runsPerHour: 100, concurrentRunsPerOwner: 3 });
  });
});
