import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRY_SCHEDULE_MS } from './callback-config.ts';
import { JITTER, nextAttemptAt, parseRetryAfter, scheduledDelayMs } from './retry-schedule.ts';

describe('scheduledDelayMs', () => {
  it('follows the schedule, stretched by at most the jitter, and runs out after it', () => {
    const schedule = [5_000, 30_000];
    expect(scheduledDelayMs(1, schedule, () => 0)).toBe(5_000);
    expect(scheduledDelayMs(1, schedule, () => 0.999_999)).toBe(
      Math.round(5_000 * (1 + JITTER * 0.999_999)),
    );
    expect(scheduledDelayMs(2, schedule, () => 0.5)).toBe(33_000);
    expect(scheduledDelayMs(3, schedule, () => 0)).toBeNull();
  });

  it('keeps every default wait between its base and base + 20%', () => {
    for (const [index, base] of DEFAULT_RETRY_SCHEDULE_MS.entries()) {
      const delay = scheduledDelayMs(index + 1, DEFAULT_RETRY_SCHEDULE_MS) ?? -1;
      expect(delay).toBeGreaterThanOrEqual(base);
      expect(delay).toBeLessThanOrEqual(base * 1.2);
    }
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  it.each([
    ['120', 120_000],
    [' 3 ', 3_000],
    ['0', 0],
    ['Thu, 01 Jan 2026 00:00:10 GMT', 10_000],
    ['Wed, 31 Dec 2025 23:00:00 GMT', 0],
    ['soon', null],
    ['-5', null],
    ['1.5', null],
    ['2026-01-01T00:00:10Z', null],
  ] as const)('%j is %s ms', (header, expected) => {
    expect(parseRetryAfter(header, now)).toBe(expected);
  });
  it('is null without the header', () => {
    expect(parseRetryAfter(undefined, now)).toBeNull();
  });
});

describe('nextAttemptAt', () => {
  const base = {
    schedule: [1_000, 2_000],
    now: 10_000,
    roundStartedAt: 9_000,
    maxAgeMs: 60_000,
    random: () => 0,
  };
  it('waits the scheduled time, or longer when the receiver asks for it', () => {
    expect(nextAttemptAt({ ...base, failedInRound: 1, retryAfterMs: null })).toBe(11_000);
    expect(nextAttemptAt({ ...base, failedInRound: 1, retryAfterMs: 5_000 })).toBe(15_000);
    // Retry-After never shortens the wait.
    expect(nextAttemptAt({ ...base, failedInRound: 2, retryAfterMs: 10 })).toBe(12_000);
  });
  it('gives up when the schedule runs out or the next try would be past the age', () => {
    expect(nextAttemptAt({ ...base, failedInRound: 3, retryAfterMs: null })).toBeNull();
    expect(nextAttemptAt({ ...base, failedInRound: 1, retryAfterMs: 60_000 })).toBeNull();
    expect(
      nextAttemptAt({ ...base, failedInRound: 1, retryAfterMs: null, maxAgeMs: 1_999 }),
    ).toBeNull();
    expect(nextAttemptAt({ ...base, failedInRound: 1, retryAfterMs: null, maxAgeMs: 2_000 })).toBe(
      11_000,
    );
  });
});
