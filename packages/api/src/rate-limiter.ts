import type { CreateThrottle } from './create-throttle.ts';
import { RateLimitError } from './errors/api-errors.ts';

export interface RateLimitSettings {
  /** Runs one owner (and one address, for anonymous owners) may create in any hour. */
  runsPerHour: number;
  /** Runs one owner (and one address, for anonymous owners) may have queued or running at once. */
  concurrentRunsPerOwner: number;
}

/** What an owner has now, as the store and the engine know it. */
export interface OwnerUsage {
  /** Runs of the owner queued or running. */
  activeRuns: number;
  /** Runs the owner created since the given time, and when the first of them was queued. */
  createdSince: { count: number; oldestAt: number | null };
}

/** The usage of each of the given owners (one look at the engine for all of them). */
export type UsageOfOwners = (
  owners: readonly string[],
  sinceMs: number,
) => ReadonlyMap<string, OwnerUsage>;

export const HOUR_MS = 60 * 60 * 1000;

/**
 * How long an address is charged for the runs of an owner that created one from it: past any run
 * queued and run to its wall-time maximum in the meantime.
 */
export const ADDRESS_MEMORY_MS = 2 * HOUR_MS;

/**
 * Limits on creating runs. Per owner: both counts come from what is stored and running (so a
 * restart forgets nothing, and a run refused by validation does not count), plus the creates
 * admitted but not stored yet, so that several at once cannot all slip under a limit.
 *
 * Per address, for anonymous owners: a browser can drop its cookie and get a new owner at will,
 * so the same two limits also hold for everything the anonymous owners who created runs from one
 * client address have together. Which owners came from which address is kept in memory (a
 * restart starts the addresses afresh; the per-owner counts stay). Then the server-wide cap on
 * creates per second, if one is set. Admins are exempt from all of it (the caller skips them).
 */
export interface RateLimiter {
  settings(): RateLimitSettings;
  update(settings: Partial<RateLimitSettings>): RateLimitSettings;
  /**
   * Throws RateLimitError naming the limit and when to retry. Otherwise the create counts as in
   * flight until the returned release is called (once the run is stored, or the create failed).
   * `address`: the client address of an anonymous owner, whose limits then hold per address too.
   */
  admit(owner: string, address?: string): () => void;
  /** The same limiter, with every create counted against this anonymous client's address too. */
  forAddress(address: string): RateLimiter;
  /** How many refusals so far, for metrics. */
  refusals(): number;
}

export interface RateLimiterOptions {
  settings: RateLimitSettings;
  usage: UsageOfOwners;
  /** The server-wide cap on creates a second; none when absent. */
  throttle?: CreateThrottle;
  now?: () => number;
}

const NO_USAGE: OwnerUsage = { activeRuns: 0, createdSince: { count: 0, oldestAt: null } };
const SWEEP_EVERY_MS = 60_000;

/** Anonymous owners that created runs from one address (with when they last did), and its creates in flight. */
interface AddressRecord {
  owners: Map<string, number>;
  pending: number;
}

export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const now = options.now ?? Date.now;
  let current = { ...options.settings };
  const inFlight = new Map<string, number>();
  const addresses = new Map<string, AddressRecord>();
  let refused = 0;
  let lastSweep = now();

  const refuse = (limit: string, message: string, retryAfterMs: number): never => {
    refused++;
    throw new RateLimitError({ limit, message, retryAfterMs });
  };

  /** Refuses when `usage` plus `pending` reaches a limit; `names` phrase the messages. */
  const check = (
    usage: OwnerUsage,
    pending: number,
    at: number,
    names: { concurrent: string; perHour: string; active: string; created: string },
  ): void => {
    const active = usage.activeRuns + pending;
    if (active >= current.concurrentRunsPerOwner) {
      refuse(
        names.concurrent,
        `${names.active} ${active} runs queued or running; the limit is ${current.concurrentRunsPerOwner} at once`,
        1_000,
      );
    }
    const recent = usage.createdSince.count + pending;
    if (recent >= current.runsPerHour) {
      const oldest = usage.createdSince.oldestAt ?? at;
      refuse(
        names.perHour,
        `${names.created} ${recent} runs in the last hour; the limit is ${current.runsPerHour} an hour`,
        Math.max(1_000, oldest + HOUR_MS - at),
      );
    }
  };

  const forget = (record: AddressRecord, at: number): void => {
    for (const [owner, lastAt] of record.owners)
      if (lastAt <= at - ADDRESS_MEMORY_MS) record.owners.delete(owner);
  };

  const sweep = (at: number): void => {
    if (at - lastSweep < SWEEP_EVERY_MS) return;
    lastSweep = at;
    for (const [address, record] of addresses) {
      forget(record, at);
      if (record.owners.size === 0 && record.pending === 0) addresses.delete(address);
    }
  };

  const admit = (owner: string, address?: string): (() => void) => {
    const at = now();
    sweep(at);
    const record = address === undefined ? undefined : addresses.get(address);
    if (record) forget(record, at);
    const owners = new Set(record?.owners.keys()).add(owner);
    const usages = options.usage([...owners], at - HOUR_MS);

    check(usages.get(owner) ?? NO_USAGE, inFlight.get(owner) ?? 0, at, {
      concurrent: 'concurrentRunsPerOwner',
      perHour: 'runsPerHour',
      active: 'you have',
      created: 'you created',
    });
    if (address !== undefined) {
      const together = {
        activeRuns: 0,
        createdSince: { count: 0, oldestAt: null as number | null },
      };
      for (const one of owners) {
        const usage = usages.get(one) ?? NO_USAGE;
        together.activeRuns += usage.activeRuns;
        together.createdSince.count += usage.createdSince.count;
        const oldest = usage.createdSince.oldestAt;
        if (oldest !== null)
          together.createdSince.oldestAt = Math.min(
            together.createdSince.oldestAt ?? oldest,
            oldest,
          );
      }
      check(together, record?.pending ?? 0, at, {
        concurrent: 'concurrentRunsPerAddress',
        perHour: 'runsPerHourPerAddress',
        active: `anonymous owners from your address (${address}) have`,
        created: `anonymous owners from your address (${address}) created`,
      });
    }
    if (options.throttle) {
      try {
        options.throttle.admit();
      } catch (error) {
        refused++;
        throw error;
      }
    }

    inFlight.set(owner, (inFlight.get(owner) ?? 0) + 1);
    let counted: AddressRecord | undefined;
    if (address !== undefined) {
      counted = record ?? { owners: new Map(), pending: 0 };
      addresses.set(address, counted);
      counted.owners.set(owner, at);
      counted.pending++;
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (inFlight.get(owner) ?? 1) - 1;
      if (left > 0) inFlight.set(owner, left);
      else inFlight.delete(owner);
      if (counted) counted.pending--;
    };
  };

  const limiter: RateLimiter = {
    settings: () => ({ ...current }),
    update(settings) {
      current = { ...current, ...settings };
      return { ...current };
    },
    admit,
    forAddress: (address) => ({ ...limiter, admit: (owner) => admit(owner, address) }),
    refusals: () => refused,
  };
  return limiter;
}
