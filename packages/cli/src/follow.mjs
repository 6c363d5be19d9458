// @ts-check
/* global AbortController -- Node's, as fetch is: no module exports it */
import { clearTimeout, setTimeout } from 'node:timers';
import { CliError, NetworkError, ProtocolError, ServerError } from './errors.mjs';
import { readSseMessages } from './sse.mjs';

/** @import { ApiClient } from './api-client.mjs' */
/** @import { RestErrorObject } from './errors.mjs' */
/** @import { RunEvent, RunResult } from './run-types.mjs' */

/**
 * Follows a run's events (`GET /api/v1/runs/{id}/events`, server-sent) to its end. A dropped
 * connection, a stream that ends early, or one that goes quiet past the heartbeats is resumed
 * with `Last-Event-ID`: the server then sends exactly the events after the last one taken, so
 * nothing is printed twice or missed.
 */

/**
 * @typedef {{
 *   after?: number;
 *   onEvent: (event: RunEvent) => void;
 *   onRetry?: (reason: string) => void;
 *   signal?: AbortSignal;
 *   idleMs?: number;
 *   retryForMs?: number;
 * }} FollowOptions
 */

/** No byte for this long (the server sends a heartbeat every 15 s by default): reconnect. */
const DEFAULT_IDLE_MS = 60_000;
/** How long failing reconnections go on before the CLI gives up. */
const DEFAULT_RETRY_FOR_MS = 120_000;
const FIRST_DELAY_MS = 250;
const MAX_DELAY_MS = 5_000;

/**
 * The run's events after `after`, each handed to `onEvent` once, in order. Answers the `end`
 * event's result, or null when the run had already ended before `after` (the server answers 204;
 * the caller reads the run).
 * @param {ApiClient} client
 * @param {string} runId
 * @param {FollowOptions} options
 * @returns {Promise<RunResult | null>}
 */
export async function followRunEvents(client, runId, options) {
  const path = `/runs/${encodeURIComponent(runId)}/events`;
  const idleMs = options.idleMs ?? DEFAULT_IDLE_MS;
  const retryForMs = options.retryForMs ?? DEFAULT_RETRY_FOR_MS;
  let lastSeq = options.after ?? 0;
  /** @type {number | null} */
  let failingSince = null;
  let delay = FIRST_DELAY_MS;
  for (;;) {
    const connection = new AbortController();
    const stop = () => connection.abort();
    options.signal?.addEventListener('abort', stop, { once: true });
    /** @type {NodeJS.Timeout | undefined} */
    let idleTimer;
    /** @type {number | null} */
    let retryAfterMs = null;
    try {
      /** @type {Record<string, string>} */
      const headers = { accept: 'text/event-stream' };
      if (lastSeq > 0) headers['last-event-id'] = String(lastSeq);
      const response = await client.open('GET', path, { headers, signal: connection.signal });
      if (response.status === 204) return null;
      if (!response.body) throw new ProtocolError(`${client.urlOf(path)} sent no event stream`);
      idleTimer = setTimeout(stop, idleMs);
      const touch = () => idleTimer?.refresh();
      for await (const message of readSseMessages(response.body, touch)) {
        if (message.event === 'error') throw midStreamError(message.data);
        if (message.event !== null && message.event !== 'message') continue;
        const event = parseEvent(message.data, client.urlOf(path));
        if (event.seq <= lastSeq) continue;
        lastSeq = event.seq;
        failingSince = null;
        delay = FIRST_DELAY_MS;
        options.onEvent(event);
        if (event.type === 'end') return event.result;
      }
      // The stream ended without the run's end: the connection was cut; resume below.
      throw new ProtocolError('the event stream ended before the run did');
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason ?? error;
      if (!isWorthRetrying(error)) throw error;
      if (error instanceof ServerError && error.retryAfter !== null) {
        retryAfterMs = Number(error.retryAfter) * 1000 || null;
      }
      const now = Date.now();
      failingSince ??= now;
      const failure =
        error instanceof CliError
          ? error
          : new NetworkError(client.urlOf(path), connection.signal.aborted ? idleError() : error);
      if (now - failingSince > retryForMs) throw failure;
      options.onRetry?.(failure.line());
    } finally {
      clearTimeout(idleTimer);
      options.signal?.removeEventListener('abort', stop);
    }
    await sleep(retryAfterMs ?? delay, options.signal);
    delay = Math.min(delay * 2, MAX_DELAY_MS);
  }
}

/**
 * A refusal (the run is not ours, the key is unknown) is final; a network failure, a cut or quiet
 * stream, the server's own failure or a 429 (too many open streams for now) is tried again.
 * @param {unknown} error
 */
function isWorthRetrying(error) {
  if (error instanceof ServerError)
    return error.status === 0 || error.status === 429 || error.status >= 500;
  return true;
}

/** @param {string} data */
function midStreamError(data) {
  try {
    const error = /** @type {{ error?: RestErrorObject }} */ (JSON.parse(data)).error;
    if (error && typeof error.code === 'string') return new ServerError(0, error);
  } catch {
    // below
  }
  return new ProtocolError(`the event stream failed: ${data.slice(0, 200)}`);
}

/**
 * @param {string} data
 * @param {string} url
 * @returns {RunEvent}
 */
function parseEvent(data, url) {
  try {
    const event = /** @type {RunEvent} */ (JSON.parse(data));
    if (typeof event.seq === 'number' && typeof event.type === 'string') return event;
  } catch {
    // below
  }
  throw new ProtocolError(`${url} sent an event that is not one: ${data.slice(0, 200)}`);
}

function idleError() {
  return new Error('the event stream went quiet (no heartbeat); reconnecting');
}

/**
 * @param {number} ms
 * @param {AbortSignal | undefined} signal
 * @returns {Promise<void>}
 */
function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
