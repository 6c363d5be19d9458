import type { RunEvent } from './run-events.ts';

/**
 * How many events go out together. A subscriber that keeps up gets events one by one as they
 * happen; one that fell behind (a fast printer, a late subscriber, a resume) gets what piled up
 * in few messages instead of one message per line, bounded so that no message grows huge.
 */
export interface BatchLimits {
  maxEvents: number;
  /** Sum of the output events' text lengths (UTF-16 units) in one batch. */
  maxTextLength: number;
}

export const DEFAULT_BATCH_LIMITS: Readonly<BatchLimits> = Object.freeze({
  maxEvents: 1_000,
  maxTextLength: 256 * 1024,
});

/**
 * Cuts `events` (in order) into batches within `limits`. Every batch holds at least one event,
 * however long; nothing follows an `end` event.
 */
export function cutBatches(
  events: readonly RunEvent[],
  limits: BatchLimits = DEFAULT_BATCH_LIMITS,
): RunEvent[][] {
  const batches: RunEvent[][] = [];
  let batch: RunEvent[] = [];
  let textLength = 0;
  for (const event of events) {
    const length = event.type === 'output' ? event.text.length : 0;
    if (
      batch.length > 0 &&
      (batch.length >= limits.maxEvents || textLength + length > limits.maxTextLength)
    ) {
      batches.push(batch);
      batch = [];
      textLength = 0;
    }
    batch.push(event);
    textLength += length;
    if (event.type === 'end') break;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}
