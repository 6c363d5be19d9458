import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import type { RunEvent } from '@runbox/executor';
import { isEndState } from '@runbox/executor';
import { isTrackedEnvelope } from '@trpc/server';
import type { RunView } from '../schemas/run-views.ts';
import { restErrorOf, RestRequestError } from './rest-errors.ts';
import type { RestAnswer, RestCall } from './rest-operation.ts';

/**
 * A run's events as server-sent events, one message per event: `id:` is its seq, `data:` the
 * event as JSON. A client that reconnects sends `Last-Event-ID` (EventSource does so by itself)
 * or `?after=<seq>` and gets exactly the events after it. The stream ends after the run's `end`
 * event; asked again after that, it answers 204, which tells an EventSource to stop. While the
 * run prints nothing a comment line goes out every RUNBOX_REST_SSE_HEARTBEAT_MS.
 *
 * The events come from the `runs.onOutput` subscription, the one the web app uses, so ownership,
 * replay from the store and the subscription count are the same; the stream takes one of its
 * client's open places (shared with WebSockets) until the client goes away.
 */

/** The place to resume after: Last-Event-ID wins over `after` (a reconnecting EventSource sends it). */
export function resumeAfter(call: RestCall, after: string | undefined): number {
  const header = call.req.headers['last-event-id'];
  const fromHeader = Array.isArray(header) ? header[0] : header;
  const [text, field] =
    fromHeader !== undefined ? [fromHeader.trim(), 'Last-Event-ID'] : [after, 'after'];
  if (text === undefined || text === '') return 0;
  if (!/^\d{1,15}$/.test(text)) {
    throw new RestRequestError({
      status: 400,
      code: 'BAD_INPUT',
      message: `${field}: must be the seq of an event (a whole number)`,
      field,
      rule: 'integer',
    });
  }
  return Number(text);
}

export function tooManyOpen(call: RestCall): RestRequestError {
  const max = call.services.config.ws.maxSocketsPerClient;
  return new RestRequestError({
    status: 429,
    code: 'TOO_MANY_REQUESTS',
    message: `a client may hold at most ${max} WebSockets, event streams and waiting calls at once`,
    rule: 'maxSocketsPerClient',
    limit: max,
  });
}

function eventMessage(event: RunEvent): string {
  return `id: ${event.seq}\ndata: ${JSON.stringify(event)}\n\n`;
}

async function write(res: ServerResponse, text: string, signal: AbortSignal): Promise<void> {
  if (res.write(text) || signal.aborted) return;
  // A slow reader: wait for it rather than buffer without bound; the run's events wait in its log.
  try {
    await once(res, 'drain', { signal });
  } catch {
    // The client went away: the caller stops at the signal.
  }
}

export async function streamRunEvents(call: RestCall, afterSeq: number): Promise<RestAnswer> {
  const id = call.params.id ?? '';
  // Whether the caller may see the run, answered with a status before the stream starts.
  const view = (await call.call('runs.get', { id })) as RunView;
  if (isEndState(view.state)) {
    const stored = call.services.store.getRun(id);
    if (stored && afterSeq >= stored.lastSeq) return { status: 204 };
  }
  const release = call.takeClientSlot();
  if (!release) throw tooManyOpen(call);
  const { res, signal } = call;
  res.once('close', release);
  let events: AsyncIterable<unknown>;
  try {
    events = (await call.call(
      'runs.onOutput',
      { id, lastEventId: String(afterSeq) },
      signal,
    )) as AsyncIterable<unknown>;
  } catch (error) {
    release();
    throw error;
  }

  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    connection: 'keep-alive',
    // nginx and the like would hold the stream back in their buffers otherwise.
    'x-accel-buffering': 'no',
  });
  res.write(`retry: 1000\n: events of run ${id} after ${afterSeq}\n\n`);
  let idle = true;
  const heartbeat = setInterval(() => {
    if (idle && !signal.aborted) res.write(': heartbeat\n\n');
    idle = true;
  }, call.services.config.rest.sseHeartbeatMs);
  try {
    for await (const item of events) {
      if (!isTrackedEnvelope(item)) continue;
      const batch = (item[1] as { events: RunEvent[] }).events;
      idle = false;
      await write(res, batch.map(eventMessage).join(''), signal);
      if (signal.aborted) break;
    }
  } catch (error) {
    // Mid-stream there is no status to send: the error goes as an `error` event, then the end.
    if (!signal.aborted) {
      const answer = restErrorOf(error);
      if (answer.internal) call.services.log.error({ err: error }, 'event stream failed');
      res.write(`event: error\ndata: ${JSON.stringify(answer.body)}\n\n`);
    }
  } finally {
    clearInterval(heartbeat);
    res.end();
  }
  return 'sent';
}
