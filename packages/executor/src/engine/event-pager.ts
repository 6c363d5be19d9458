import { setImmediate as setImmediatePromise } from 'node:timers/promises';
import { cutBatches, type BatchLimits } from './event-batch.ts';
import type { RunEvent } from './run-events.ts';

/** Where a run's events are read from: the engine's log, the store, or both. */
export interface EventSource {
  /** Events after `afterSeq` in order, at most `limit`; none when there are none yet. */
  read(afterSeq: number, limit: number): RunEvent[] | Promise<RunEvent[]>;
  /**
   * Resolves once events after `afterSeq` may exist, the source ended, or the signal aborted; it
   * checks before it waits, so nothing appended between a read and this call is missed. A source
   * without it never grows: an empty read ends the paging.
   */
  waitAfter?(afterSeq: number, signal?: AbortSignal): Promise<void>;
  /** True once the source will get no more events. */
  ended(): boolean;
}

/** Events read per page. */
const PAGE_SIZE = 1_000;

/**
 * A run's events after `afterSeq` in batches: what is already there when the reader asks goes
 * out together (within `limits`), so a reader that fell behind catches up in few steps, and one
 * that keeps up still gets each event as it comes. Ends after the `end` event, when the source
 * ends, or when the signal aborts.
 */
export async function* pageEvents(
  source: EventSource,
  options: { afterSeq?: number; signal?: AbortSignal; limits?: BatchLimits } = {},
): AsyncGenerator<RunEvent[]> {
  let cursor = options.afterSeq ?? 0;
  for (;;) {
    if (options.signal?.aborted) return;
    const page = await source.read(cursor, PAGE_SIZE);
    for (const batch of cutBatches(page, options.limits)) {
      yield batch;
      const last = batch.at(-1)!;
      cursor = last.seq;
      if (last.type === 'end') return;
    }
    if (page.length > 0) {
      // A reader that keeps up never waits, so without this a long replay would run to its end
      // in one go of microtasks and hold the event loop.
      await setImmediatePromise();
      continue;
    }
    if (!source.waitAfter || source.ended()) return;
    await source.waitAfter(cursor, options.signal);
  }
}
