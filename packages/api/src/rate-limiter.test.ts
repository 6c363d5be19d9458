import { describe, expect, it } from 'vitest';
import { createCreateThrottle } from './create-throttle.ts';
import { RateLimitError } from './errors/api-errors.ts';
import {
  ADDRESS_MEMORY_MS,
  createRateLimiter,
  HOUR_MS,
  type OwnerUsage,
  type RateLimitSettings,
} from './rate-limiter.ts';

/** The store and engine around the limiter, as plain data. */
function world() {
  const created = new Map<string, number[]>();
  const active = new Map<string, number>();
  const usageOf = (owner: string, sinceMs: number): OwnerUsage => {
    const times = (created.get(owner) ?? []).filter((t) => t > sinceMs);
    return {
      activeRuns: active.get(owner) ?? 0,
      createdSince: { count: times.length, oldestAt: times.length ? Math.min(...times) : null },
    };
  };
  const usage = (owners: readonly string[], sinceMs: number) =>
    new Map(owners.map((owner) => [owner, usageOf(owner, sinceMs)]));
  const store = (owner: string, at: number) =>
    created.set(owner, [...(created.get(owner) ?? []), at]);
  return { usage, store, active };
}

function limiterIn(
  w: ReturnType<typeof world>,
  settings: RateLimitSettings,
  now?: () => number,
  maxCreatesPerSecond?: number,
) {
  return createRateLimiter({
    settings,
    usage: w.usage,
    ...(now ? { now } : {}),
    ...(maxCreatesPerSecond ? { throttle: createCreateThrottle(maxCreatesPerSecond, now) } : {}),
  });
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

describe('rate limiter, per owner', () => {
  it('refuses the run past the hourly limit, saying when to retry', () => {
    let now = 1_000_000;
    const w = world();
    const limiter = limiterIn(w, { runsPerHour: 2, concurrentRunsPerOwner: 10 }, () => now);
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
    const limiter = limiterIn(w, { runsPerHour: 3, concurrentRunsPerOwner: 10 }, () => 5_000);
    expect(refusal(() => limiter.admit('a')).limit).toBe('runsPerHour');
  });

  it('counts creates admitted but not stored yet, until they are released', () => {
    const w = world();
    const limiter = limiterIn(w, { runsPerHour: 2, concurrentRunsPerOwner: 10 }, () => 0);
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
    const limiter = limiterIn(w, { runsPerHour: 100, concurrentRunsPerOwner: 1 });
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

describe('rate limiter, per address of anonymous owners', () => {
  it('new owners from one address share its concurrent limit; another address has its own', () => {
    const w = world();
    const limiter = limiterIn(w, { runsPerHour: 100, concurrentRunsPerOwner: 2 });
    const here = limiter.forAddress('192.0.2.1');
    here.admit('a')();
    w.active.set('a', 1);
    here.admit('b')();
    w.active.set('b', 1);
    const error = refusal(() => here.admit('c'));
    expect(error.limit).toBe('concurrentRunsPerAddress');
    expect(error.message).toBe(
      'anonymous owners from your address (192.0.2.1) have 2 runs queued or running; the limit is 2 at once; retry in 1 s',
    );
    expect(error.retryAfterMs).toBe(1_000);
    // Another address, and an owner without an address (an API key), are not held back.
    limiter.forAddress('192.0.2.2').admit('d');
    limiter.admit('key:ci');
    // A run of the address ends: a new owner from it may start one.
    w.active.set('a', 0);
    here.admit('e');
    // Creates in flight count for the address too.
    expect(refusal(() => here.admit('f')).limit).toBe('concurrentRunsPerAddress');
  });

  it('new owners from one address share its hour, which frees up as the hour passes', () => {
    let now = 1_000_000;
    const w = world();
    const limiter = limiterIn(w, { runsPerHour: 2, concurrentRunsPerOwner: 10 }, () => now);
    const here = limiter.forAddress('192.0.2.1');
    here.admit('a')();
    w.store('a', now);
    now += 1_000;
    here.admit('b')();
    w.store('b', now);
    now += 1_000;
    const error = refusal(() => here.admit('c'));
    expect(error.limit).toBe('runsPerHourPerAddress');
    expect(error.message).toContain(
      'anonymous owners from your address (192.0.2.1) created 2 runs in the last hour; the limit is 2 an hour',
    );
    expect(error.retryAfterMs).toBe(HOUR_MS - 2_000);
    now += HOUR_MS;
    here.admit('c');
  });

  it('forgets an address once its owners have created nothing from it for long', () => {
    let now = 0;
    const w = world();
    const limiter = limiterIn(w, { runsPerHour: 100, concurrentRunsPerOwner: 1 }, () => now);
    const here = limiter.forAddress('192.0.2.1');
    here.admit('a')();
    // A run that never ends as far as the engine says, charged to the address for a while.
    w.active.set('a', 1);
    now += ADDRESS_MEMORY_MS - 1;
    expect(refusal(() => here.admit('b')).limit).toBe('concurrentRunsPerAddress');
    now += 1;
    here.admit('b');
  });
});

describe('rate limiter, creates per second', () => {
  it('refuses past the server-wide cap; refusals by other limits take none of it', () => {
    let now = 0;
    const w = world();
    const limiter = limiterIn(w, { runsPerHour: 100, concurrentRunsPerOwner: 1 }, () => now, 2);
    limiter.admit('a');
    // b's own limit refuses it before the cap is asked: the cap's second stays free for c.
    w.active.set('b', 1);
    expect(refusal(() => limiter.admit('b')).limit).toBe('concurrentRunsPerOwner');
    limiter.admit('c');
    const error = refusal(() => limiter.forAddress('192.0.2.9').admit('d'));
    expect(error.limit).toBe('createsPerSecond');
    expect(error.retryAfterMs).toBe(1_000);
    expect(limiter.refusals()).toBe(2);
    now += 1_000;
    limiter.admit('d');
  });
});
