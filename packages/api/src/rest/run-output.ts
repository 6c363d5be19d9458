import { setImmediate as nextTurn } from 'node:timers/promises';
import type { RunEvent, RunResult } from '@runbox/executor';
import { runEventBatches } from '../run-service.ts';
import type { Services } from '../services.ts';
import { OutputJoiner, type StreamText } from './output-text.ts';

/**
 * "Wait for a run to end and collect its output": what a one-call run answers with. The REST
 * surface uses it for `wait=true` and `/output`; a Piston-style execute endpoint can use it as
 * it is (with `combined` for Piston's interleaved `output`). It checks no ownership: the caller
 * has already found the run visible to whoever asks.
 */

export interface CollectOptions {
  /** How long to wait for the run's end, in ms; 0 takes what the run has printed so far. */
  waitMs: number;
  /** UTF-8 bytes kept of each stream (and of the combined text). */
  maxBytes: number;
  /** Also keep both streams interleaved in the order they were printed. */
  combined?: boolean;
  /** Ends a wait early (the client went away); what was collected by then is returned. */
  signal?: AbortSignal;
}

/** The run's own output cap cut its output (it ended `output_limit`). */
export interface OutputLimitHit {
  reason: 'bytes' | 'lines';
  limit: number;
  droppedBytes: number;
}

export interface CollectedOutput {
  /** The run's `end` event was among the events read. */
  ended: boolean;
  /** The end event's result, when it ended. */
  result: RunResult | null;
  stdout: StreamText;
  stderr: StreamText;
  /** stdout and stderr interleaved, when `combined` was asked for. */
  combined: StreamText | null;
  outputLimit: OutputLimitHit | null;
  /** The seq of the last event read: an event stream resumed after it misses nothing. */
  lastSeq: number;
}

/** Events read from the store per page when no wait is asked for. */
const STORE_PAGE = 10_000;

/** The events the store has for the run now (events not yet written included), oldest first. */
async function* storedEventPages(services: Services, runId: string): AsyncGenerator<RunEvent[]> {
  let after = 0;
  for (;;) {
    const page = services.store.readEvents(runId, after, STORE_PAGE);
    if (page.length === 0) return;
    yield page;
    after = page.at(-1)?.seq ?? after;
    // A run of a million lines is read in a hundred pages, letting other requests in between.
    await nextTurn();
  }
}

/**
 * The output of a run: with `waitMs` 0, what it printed so far; otherwise its events as they
 * come until its end event, the wait's end or the signal, whichever is first.
 */
export async function collectRunOutput(
  services: Services,
  runId: string,
  options: CollectOptions,
): Promise<CollectedOutput> {
  const joiner = new OutputJoiner({
    maxBytes: options.maxBytes,
    ...(options.combined ? { combined: true } : {}),
  });
  const seen: { result: RunResult | null; outputLimit: OutputLimitHit | null; lastSeq: number } = {
    result: null,
    outputLimit: null,
    lastSeq: 0,
  };
  const take = (event: RunEvent): void => {
    seen.lastSeq = event.seq;
    if (event.type === 'output') joiner.add(event);
    else if (event.type === 'truncated')
      seen.outputLimit = {
        reason: event.reason,
        limit: event.limit,
        droppedBytes: event.droppedBytes,
      };
    else if (event.type === 'end') seen.result = event.result;
  };

  if (options.waitMs <= 0 || options.signal?.aborted) {
    for await (const page of storedEventPages(services, runId)) page.forEach(take);
  } else {
    const signals = [AbortSignal.timeout(options.waitMs)];
    if (options.signal) signals.push(options.signal);
    for await (const batch of runEventBatches(services, runId, 0, AbortSignal.any(signals)))
      batch.forEach(take);
  }

  return {
    ended: seen.result !== null,
    result: seen.result,
    stdout: joiner.stream('stdout'),
    stderr: joiner.stream('stderr'),
    combined: joiner.combined(),
    outputLimit: seen.outputLimit,
    lastSeq: seen.lastSeq,
  };
}
