import { RateLimitError } from './errors/api-errors.ts';

const SECOND_MS = 1_000;

/**
 * A cap on creates per second across every client together (RUNBOX_MAX_CREATES_PER_SECOND): each
 * create costs a sandboxed syntax check and a row before any limit of its owner can tell it is one
 * of many, so however many owners and addresses they come from, no more than this many a second
 * get that far. A sliding window of the last second; admins are exempt (the caller skips them).
 */
export interface CreateThrottle {
  /** Counts one create, or throws RateLimitError (limit `createsPerSecond`) saying when to retry. */
  admit(): void;
  maxPerSecond(): number;
}

export function createCreateThrottle(
  maxPerSecond: number,
  now: () => number = Date.now,
): CreateThrottle {
  // Times of the creates admitted in the last second, oldest first; never more than maxPerSecond.
  const admitted: number[] = [];
  return {
    admit() {
      const at = now();
      while (admitted.length > 0 && (admitted[0] ?? 0) <= at - SECOND_MS) admitted.shift();
      if (admitted.length >= maxPerSecond) {
        const oldest = admitted[0] ?? at;
        throw new RateLimitError({
          limit: 'createsPerSecond',
          message: `runbox takes at most ${maxPerSecond} new runs a second from all clients together, and that many came in the last second`,
          retryAfterMs: Math.max(1, oldest + SECOND_MS - at),
        });
      }
      admitted.push(at);
    },
    maxPerSecond: () => maxPerSecond,
  };
}
