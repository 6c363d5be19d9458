import type { RunEvent } from '@runbox/executor';
import { startTestServer, type TestServer } from './support/server.ts';

/** TEST SCAFFOLDING for the REST tests: a server with an API key, plain HTTP calls, SSE reads. */

export const API_KEY = 'rest-key-0123456789abcdefghij';
export const KEYED = { authorization: `Bearer ${API_KEY}` };

/**
 * A real server in this process, on the sandbox uid given (a claimed one: test-uid.ts, so that
 * no two test processes share it).
 */
export function startRestServer(
  name: string,
  sandboxUid: number,
  env: Record<string, string> = {},
): Promise<TestServer> {
  return startTestServer(name, {
    RUNBOX_SANDBOX_UID: String(sandboxUid),
    RUNBOX_API_KEYS: `ci:${API_KEY}`,
    ...env,
  });
}

export interface RestReply {
  status: number;
  headers: Headers;
  text: string;
  /** The body as JSON, or null when it is not JSON. */
  json: unknown;
}

export interface RestRequest {
  body?: unknown;
  /** Sent as it is, with no content type unless `headers` has one. */
  raw?: string | Buffer | FormData;
  headers?: Record<string, string>;
}

/** One call of /api/v1<path> (or of `path` itself when it is under /api/, e.g. /api/v2/execute); a JSON `body` goes as application/json. */
export async function rest(
  url: string,
  method: string,
  path: string,
  request: RestRequest = {},
): Promise<RestReply> {
  const headers: Record<string, string> = { ...request.headers };
  let body: string | Buffer | FormData | undefined = request.raw;
  if (request.body !== undefined) {
    body = JSON.stringify(request.body);
    headers['content-type'] ??= 'application/json';
  }
  const response = await fetch(`${url}${path.startsWith('/api/') ? '' : '/api/v1'}${path}`, {
    method,
    headers,
    ...(body !== undefined ? { body } : {}),
  });
  const text = await response.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  return { status: response.status, headers: response.headers, text, json };
}

/** The `error` object of a REST error answer. */
export function errorOf(reply: RestReply): Record<string, unknown> {
  const error = (reply.json as { error?: Record<string, unknown> } | null)?.error;
  if (!error) throw new Error(`not an error answer (${reply.status}): ${reply.text.slice(0, 300)}`);
  return error;
}

export interface SseMessage {
  id: string | null;
  event: string | null;
  data: string;
}

export interface SseReading {
  status: number;
  headers: Headers;
  messages: SseMessage[];
  /** Comment lines (`: ...`), in order. */
  comments: string[];
  /** The server ended the stream (rather than the reader stopping). */
  ended: boolean;
}

/**
 * Reads an event stream until `stop` says so (then the reader goes away, as a client closing its
 * connection does) or the server ends it.
 */
export async function readSse(
  url: string,
  path: string,
  options: {
    headers?: Record<string, string>;
    stop?: (reading: SseReading) => boolean;
    timeoutMs?: number;
  } = {},
): Promise<SseReading> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), options.timeoutMs ?? 20_000);
  const response = await fetch(`${url}${path.startsWith('/api/') ? '' : '/api/v1'}${path}`, {
    headers: options.headers ?? {},
    signal: controller.signal,
  });
  const reading: SseReading = {
    status: response.status,
    headers: response.headers,
    messages: [],
    comments: [],
    ended: false,
  };
  if (!response.body || !response.headers.get('content-type')?.startsWith('text/event-stream')) {
    clearTimeout(timer);
    await response.text();
    return reading;
  }
  const decoder = new TextDecoder();
  let buffer = '';
  const reader = response.body.getReader();
  try {
    for (;;) {
      const chunk = await reader.read();
      if (chunk.done) {
        reading.ended = true;
        break;
      }
      buffer += decoder.decode(chunk.value, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const message: SseMessage = { id: null, event: null, data: '' };
        let isMessage = false;
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) reading.comments.push(line.slice(1).trim());
          else if (line.startsWith('id: ')) [message.id, isMessage] = [line.slice(4), true];
          else if (line.startsWith('event: ')) [message.event, isMessage] = [line.slice(7), true];
          else if (line.startsWith('data: ')) [message.data, isMessage] = [line.slice(6), true];
        }
        if (isMessage) reading.messages.push(message);
      }
      if (options.stop?.(reading)) {
        controller.abort();
        break;
      }
    }
  } catch (error) {
    if (!controller.signal.aborted) throw error;
    if (!options.stop?.(reading))
      throw new Error(`the event stream timed out: ${JSON.stringify(reading.messages.slice(-3))}`);
  } finally {
    clearTimeout(timer);
  }
  return reading;
}

/** The run events of a reading, checking each message's id is its event's seq. */
export function eventsOf(reading: SseReading): RunEvent[] {
  return reading.messages
    .filter((message) => message.event === null)
    .map((message) => {
      const event = JSON.parse(message.data) as RunEvent;
      if (message.id !== String(event.seq))
        throw new Error(`message id ${message.id} is not the event's seq ${event.seq}`);
      return event;
    });
}

/** A value of one series in /metrics (the admin token reads it). */
export async function metric(url: string, adminToken: string, name: string): Promise<number> {
  const text = await (
    await fetch(`${url}/metrics`, { headers: { 'x-runbox-admin-token': adminToken } })
  ).text();
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : 0;
}
