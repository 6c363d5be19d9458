import { RateLimitError } from './errors/api-errors.ts';

export interface RateLimitSettings {
  /** Runs one owner may create in any hour. */
  runsPerHour: number;
  /** Runs one owner may have queued or running at once. */
  concurrentRunsPerOwner: number;
}

const HOUR_MS = 60 * 60 * 1000;

/**
 * Per-owner limits on creating runs. The hourly window is kept in memory (a restart forgets it);
 * the concurrent count is asked of the engine each time. Admins are exempt (the caller skips them).
 */
export interface RateLimiter {
  settings(): RateLimitSettings;
  update(settings: Partial<RateLimitSettings>): RateLimitSettings;
  /** Throws RateLimitError naming the limit and when to retry; records the run when it passes. */
  admit(owner: string, activeRuns: number): void;
  /** How many refusals so far, for metrics. */
  refusals(): number;
}

export function createRateLimiter(
  initial: RateLimitSettings,
  now: () => number = Date.now,
): RateLimiter {
  let current = { ...initial };
  const created = new Map<string, number[]>();
  let refused = 0;

  return {
    settings: () => ({ ...current }),
    update(settings) {
      current = { ...current, ...settings };
      return { ...current };
    },
    admit(owner, activeRuns) {
      const at = now();
      const recent = (created.get(owner) ?? []).filter((t) => t > at - HOUR_MS);
      if (activeRuns >= current.concurrentRunsPerOwner) {
        refused++;
        throw new RateLimitError({
          limit: 'concurrentRunsPerOwner',
          message: `you have ${activeRuns} runs queued or running; the limit is ${current.concurrentRunsPerOwner} at once`,
          retryAfterMs: 1_000,
        });
      }
      if (recent.length >= current.runsPerHour) {
        refused++;
        const oldest = recent[0] ?? at;
        throw new RateLimitError({
          limit: 'runsPerHour',
          message: `you created ${recent.length} runs in the last hour; the limit is ${current.runsPerHour} an hour`,
          retryAfterMs: Math.max(1_000, oldest + HOUR_MS - at),
        });
      }
      recent.push(at);
      created.set(owner, recent);
    },
    refusals: () => refused,
  };
}
