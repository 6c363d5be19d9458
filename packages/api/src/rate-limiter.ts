import { RateLimitError } from './errors/api-errors.ts';

export interface RateLimitSettings {
  /** Runs one owner may create in any hour. */
  runsPerHour: number;
  /** Runs one owner may have queued or running at once. */
  concurrentRunsPerOwner: number;
}

/** What an owner has now, as the store and the engine know it. */
export interface OwnerUsage {
  /** Runs of the owner queued or running. */
  activeRuns: number;
  /** Runs the owner created since the given time, and when the first of them was queued. */
  createdSince: { count: number; oldestAt: number | null };
}

export const HOUR_MS = 60 * 60 * 1000;

/**
 * Per-owner limits on creating runs. Both counts come from what is stored and running (so a
 * restart forgets nothing, and a run refused by validation does not count), plus the creates
 * admitted but not stored yet, so that several at once cannot all slip under a limit. Admins are
 * exempt (the caller skips them).
 */
export interface RateLimiter {
  settings(): RateLimitSettings;
  update(settings: Partial<RateLimitSettings>): RateLimitSettings;
  /**
   * Throws RateLimitError naming the limit and when to retry. Otherwise the create counts as in
   * flight until the returned release is called (once the run is stored, or the create failed).
   */
  admit(owner: string): () => void;
  /** How many refusals so far, for metrics. */
  refusals(): number;
}

export function createRateLimiter(
  initial: RateLimitSettings,
  usage: (owner: string, sinceMs: number) => OwnerUsage,
  now: () => number = Date.now,
): RateLimiter {
  let current = { ...initial };
  const inFlight = new Map<string, number>();
  let refused = 0;

  return {
    settings: () => ({ ...current }),
    update(settings) {
      current = { ...current, ...settings };
      return { ...current };
    },
    admit(owner) {
      const at = now();
      const pending = inFlight.get(owner) ?? 0;
      const { activeRuns, createdSince } = usage(owner, at - HOUR_MS);
      const active = activeRuns + pending;
      if (active >= current.concurrentRunsPerOwner) {
        refused++;
        throw new RateLimitError({
          limit: 'concurrentRunsPerOwner',
          message: `you have ${active} runs queued or running; the limit is ${current.concurrentRunsPerOwner} at once`,
          retryAfterMs: 1_000,
        });
      }
      const recent = createdSince.count + pending;
      if (recent >= current.runsPerHour) {
        refused++;
        const oldest = createdSince.oldestAt ?? at;
        throw new RateLimitError({
          limit: 'runsPerHour',
          message: `you created ${recent} runs in the last hour; the limit is ${current.runsPerHour} an hour`,
          retryAfterMs: Math.max(1_000, oldest + HOUR_MS - at),
        });
      }
      inFlight.set(owner, pending + 1);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        const left = (inFlight.get(owner) ?? 1) - 1;
        if (left > 0) inFlight.set(owner, left);
        else inFlight.delete(owner);
      };
    },
    refusals: () => refused,
  };
}
