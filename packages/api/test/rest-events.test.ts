import type { RunEvent } from '@runbox/executor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunView } from '../src/schemas/run-views.ts';
import { eventually, oneToN } from './support/runs.ts';
import { ADMIN_TOKEN, type TestServer } from './support/server.ts';
import { eventsOf, KEYED, metric, readSse, rest, startRestServer } from './rest-support.ts';
import { claimTestUid } from '../../executor/test/support/test-uid.ts';

/** GET /api/v1/runs/{id}/events: server-sent events, resumed with no gap and no duplicate. */

// About 2 s of output: a line every 50 ms.
const TICKER = 'for i in $(seq 1 40); do echo "tick $i"; sleep 0.05; done\n';
const TICKS = Array.from({ length: 40 }, (_, i) => `tick ${i + 1}`);

let server: TestServer;

beforeAll(async () => {
  server = await startRestServer('rest-events', claimTestUid(64_900, 100));
});
afterAll(async () => server?.stop());

async function createTicker(): Promise<string> {
  const reply = await rest(server.url, 'POST', '/runs', {
    body: { kind: 'snippet', language: 'bash', code: TICKER },
    headers: KEYED,
  });
  expect(reply.status).toBe(201);
  return (reply.json as RunView).id;
}

const outputLines = (events: readonly RunEvent[]): string[] =>
  events.flatMap((event) => (event.type === 'output' ? [event.text] : []));

const subscriptions = (): Promise<number> =>
  metric(server.url, ADMIN_TOKEN, 'runbox_websocket_subscriptions');

describe('the event stream', () => {
  it('resumes with Last-Event-ID after the client went away: no gap, no duplicate', async () => {
    const id = await createTicker();
    // A client reads a few lines and goes away mid-run.
    const first = await readSse(server.url, `/runs/${id}/events`, {
      headers: KEYED,
      stop: (reading) => outputLines(eventsOf(reading)).length >= 5,
    });
    expect(first.status).toBe(200);
    expect(first.ended).toBe(false);
    const before = eventsOf(first);
    const lastSeen = before.at(-1)?.seq ?? 0;
    expect(before.some((event) => event.type === 'end')).toBe(false);

    // It comes back with the last id it saw, as an EventSource does, and reads to the end.
    const second = await readSse(server.url, `/runs/${id}/events`, {
      headers: { ...KEYED, 'Last-Event-ID': String(lastSeen) },
    });
    expect(second.status).toBe(200);
    expect(second.ended).toBe(true);
    const after = eventsOf(second);
    expect(after[0]?.seq).toBe(lastSeen + 1);
    const union = [...before, ...after];
    expect(union.map((event) => event.seq)).toEqual(oneToN(union.length));
    expect(outputLines(union)).toEqual(TICKS);
    const end = union.at(-1);
    expect(end?.type === 'end' && end.result.state).toBe('completed');

    // The whole log again from the start is the same events.
    const replay = await readSse(server.url, `/runs/${id}/events`, { headers: KEYED });
    expect(eventsOf(replay)).toEqual(union);

    // ?after= does the same; Last-Event-ID wins over it (a reconnecting EventSource keeps the URL).
    const middle = union[Math.floor(union.length / 2)]?.seq ?? 1;
    const byQuery = await readSse(server.url, `/runs/${id}/events?after=${middle}`, {
      headers: KEYED,
    });
    expect(eventsOf(byQuery)).toEqual(union.filter((event) => event.seq > middle));
    const both = await readSse(server.url, `/runs/${id}/events?after=1`, {
      headers: { ...KEYED, 'Last-Event-ID': String(middle) },
    });
    expect(eventsOf(both)).toEqual(union.filter((event) => event.seq > middle));

    // Asked again after the end, it answers 204: an EventSource stops reconnecting.
    const done = await rest(server.url, 'GET', `/runs/${id}/events`, {
      headers: { ...KEYED, 'Last-Event-ID': String(end?.seq) },
    });
    expect(done.status).toBe(204);
  });

  it('leaves no subscription behind when clients go away mid-stream', async () => {
    const baseline = await subscriptions();
    const id = (
      await rest(server.url, 'POST', '/runs', {
        body: { kind: 'snippet', language: 'bash', code: 'echo first; sleep 30\n' },
        headers: KEYED,
      })
    ).json as RunView;
    for (let i = 0; i < 3; i++) {
      const reading = await readSse(server.url, `/runs/${id.id}/events`, {
        headers: KEYED,
        stop: (seen) => outputLines(eventsOf(seen)).includes('first'),
      });
      expect(reading.ended).toBe(false);
    }
    await eventually(
      async () => ((await subscriptions()) === baseline ? true : undefined),
      'the subscriptions to end',
    );
    // Every place the streams took is free again: as many streams as a client may hold open.
    const max = server.runbox.services.config.ws.maxSocketsPerClient;
    const open = await Promise.all(
      Array.from({ length: max }, () =>
        readSse(server.url, `/runs/${id.id}/events`, {
          headers: KEYED,
          stop: (seen) => outputLines(eventsOf(seen)).includes('first'),
        }),
      ),
    );
    expect(open.every((reading) => reading.status === 200)).toBe(true);
    await rest(server.url, 'POST', `/runs/${id.id}/cancel`, { headers: KEYED });
  });

  it('answers 404 for a run the caller cannot see, and 400 for a bad Last-Event-ID', async () => {
    const missing = await rest(server.url, 'GET', '/runs/no-such-run/events', { headers: KEYED });
    expect(missing.status).toBe(404);
    const id = await createTicker();
    const bad = await rest(server.url, 'GET', `/runs/${id}/events`, {
      headers: { ...KEYED, 'Last-Event-ID': 'abc' },
    });
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ error: { field: 'Last-Event-ID', rule: 'integer' } });
    await rest(server.url, 'POST', `/runs/${id}/cancel`, { headers: KEYED });
  });
});
