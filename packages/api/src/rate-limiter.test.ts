import { describe, expect, it } from 'vitest';
import { RateLimitError } from './errors/api-errors.ts';
import { createRateLimiter, HOUR_MS, type OwnerUsage } from './rate-limiter.ts';

/** The store and engine around the limiter, as plain data. */
function world() {
  const created = new Map<string, number[]>();
  const active = new Map<string, number>();
  const usage = (owner: string, sinceMs: number): OwnerUsage => {
    const times = (created.get(owner) ?? []).filter((t) => t > sinceMs);
    return {
      activeRuns: active.get(owner) ?? 0,
      createdSince: { count: times.length, oldestAt: times.length ? Math.min(...times) : null },
    };
  };
  const store = (owner: string, at: number) =>
    created.set(owner, [...(created.get(owner) ?? []), at]);
  return { usage, store, active };
}

function refusal(fn: () => unknown): RateLimitError {
  try {
    fn();
  } catch (error) {
    if (error instanceof RateLimitError) return error;
    throw error;
  }
  throw new Error('expected a RateLimitError');
}

describe('rate limiter', () => {
  it('refuses the run past the hourly limit, saying when to retry', () => {
    let now = 1_000_000;
    const w = world();
    const limiter = createRateLimiter(
      { runsPerHour: 2, concurrentRunsPerOwner: 10 },
      w.usage,
      () => now,
    );
    limiter.admit('a')();
    w.store('a', now);
    now += 60_000;
    limiter.admit('a')();
    w.store('a', now);
    limiter.admit('b')();
    const error = refusal(() => limiter.admit('a'));
    expect(error.limit).toBe('runsPerHour');
    expect(error.retryAfterMs).toBe(HOUR_MS - 60_000);
    expect(error.message).toContain('you created 2 runs in the last hour; the limit is 2 an hour');
    now += HOUR_MS;
    expect(() => limiter.admit('a')).not.toThrow();
    expect(limiter.refusals()).toBe(1);
  });

  it('counts what the store holds, so a new limiter (a restart) remembers the hour', () => {
    const w = world();
    for (let i = 0; i < 3; i++) w.store('a', 1_000 + i);
    const limiter = createRateLimiter(
      { runsPerHour: 3, concurrentRunsPerOwner: 10 },
      w.usage,
      () => 5_000,
    );
    expect(refusal(() => limiter.admit('a')).limit).toBe('runsPerHour');
  });

  it('counts creates admitted but not stored yet, until they are released', () => {
    const w = world();
    const limiter = createRateLimiter(
      { runsPerHour: 2, concurrentRunsPerOwner: 10 },
      w.usage,
      () => 0,
    );
    const first = limiter.admit('a');
    limiter.admit('a');
    expect(refusal(() => limiter.admit('a')).message).toContain('you created 2 runs');
    // The first create failed (say, a syntax error): it never counts.
    first();
    first(); // releasing twice changes nothing
    expect(() => limiter.admit('a')).not.toThrow();
    expect(refusal(() => limiter.admit('a')).limit).toBe('runsPerHour');
  });

  it('refuses past the concurrent limit, in-flight creates included, and takes new settings', () => {
    const w = world();
    const limiter = createRateLimiter({ runsPerHour: 100, concurrentRunsPerOwner: 1 }, w.usage);
    w.active.set('a', 1);
    expect(refusal(() => limiter.admit('a')).message).toMatch(
      /you have 1 runs .* limit is 1 at once/,
    );
    limiter.update({ concurrentRunsPerOwner: 3 });
    limiter.admit('a');
    limiter.admit('a');
    expect(refusal(() => limiter.admit('a')).limit).toBe('concurrentRunsPerOwner');
    expect(limiter.settings()).toEqual({ runsPerHour: 100, concurrentRunsPerOwner: 3 });
  });
});
