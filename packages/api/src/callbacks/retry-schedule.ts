/**
 * When a failed delivery is tried again: the configured schedule (by default 5 s, 30 s, 2 min,
 * 10 min, 1 h, 3 h, 6 h, 12 h), each wait stretched by up to JITTER so that deliveries that
 * failed together (a receiver that was down) do not all come back at the same moment. A
 * receiver's Retry-After lengthens the wait, never shortens it.
 */

/** Up to 20% added to each wait. */
export const JITTER = 0.2;

/** The wait after the round's n-th failed attempt (1-based); null when the schedule ran out. */
export function scheduledDelayMs(
  failedInRound: number,
  schedule: readonly number[],
  random: () => number = Math.random,
): number | null {
  const base = schedule[failedInRound - 1];
  if (base === undefined) return null;
  return Math.round(base * (1 + JITTER * random()));
}

/**
 * A Retry-After header as a wait in ms: delta-seconds (`120`) or an HTTP date. Null when absent
 * or unreadable; a date in the past is 0.
 */
export function parseRetryAfter(value: string | undefined, now: number): number | null {
  if (value === undefined) return null;
  const text = value.trim();
  if (/^\d{1,10}$/.test(text)) return Number(text) * 1_000;
  // An HTTP date names its weekday and zone (`Wed, 21 Oct 2015 07:28:00 GMT`).
  if (!/^[A-Za-z]{3},/.test(text)) return null;
  const at = Date.parse(text);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

export interface NextAttemptInput {
  /** Attempts of this round made so far, the failed one included. */
  failedInRound: number;
  schedule: readonly number[];
  /** The receiver's Retry-After, in ms; null when it sent none. */
  retryAfterMs: number | null;
  now: number;
  /** When the round began (the run's end, or a redelivery): the age counts from there. */
  roundStartedAt: number;
  maxAgeMs: number;
  random?: () => number;
}

/** When to try again, or null: the schedule ran out, or the next try would be past the age. */
export function nextAttemptAt(input: NextAttemptInput): number | null {
  const delay = scheduledDelayMs(input.failedInRound, input.schedule, input.random);
  if (delay === null) return null;
  const wait = input.retryAfterMs === null ? delay : Math.max(delay, input.retryAfterMs);
  const at = input.now + wait;
  return at - input.roundStartedAt > input.maxAgeMs ? null : at;
}
