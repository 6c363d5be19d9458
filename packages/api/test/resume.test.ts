import type { RunEvent } from '@runbox/executor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeClient, newOwnerCookie } from './support/clients.ts';
import { oneToN, seqsOf } from './support/runs.ts';
import { startTestServer, type TestServer } from './support/server.ts';
import { collectOutput, fullOutput, outputLines } from './support/subscriptions.ts';

/** A socket that drops in the middle of a run, and a subscriber that comes back. */

// About 2 s of output: one line every 50 ms.
const TICKER = 'for i in $(seq 1 40); do echo "tick $i"; sleep 0.05; done\n';
const TICKS = Array.from({ length: 40 }, (_, i) => `tick ${i + 1}`);

let server: TestServer;
let cookie: string;

beforeAll(async () => {
  server = await startTestServer('resume');
  cookie = await newOwnerCookie(server.url);
});
afterAll(async () => server?.stop());

function expectWholeLog(union: readonly RunEvent[], full: readonly RunEvent[]): void {
  // Same events, in order: nothing missed and nothing twice.
  expect(seqsOf(union)).toEqual(oneToN(full.length));
  expect(union).toEqual(full);
  expect(outputLines(full)).toEqual(TICKS);
  const last = full.at(-1);
  expect(last?.type === 'end' && last.result.state).toBe('completed');
}

describe('drop the socket mid-run and resume', () => {
  it('a new socket with lastEventId gets exactly the rest', async () => {
    const first = makeClient(server.url, { cookie });
    const run = await first.trpc.runs.create.mutate({
      kind: 'snippet',
      language: 'bash',
      code: TICKER,
    });
    const before = collectOutput(first.trpc, run.id);
    const seen = await before.atLeast(6);
    const outputSeen = seen.filter((item) => item.event.type === 'output').length;
    expect(outputSeen).toBeGreaterThan(0);
    // The socket goes away mid-run (the run goes on without a listener).
    before.stop();
    await first.close();
    const firstHalf = before.items.map((item) => item.event);
    const lastSeen = firstHalf.at(-1)?.seq;
    expect(lastSeen).toBeDefined();
    expect(firstHalf.some((event) => event.type === 'end')).toBe(false);

    const second = makeClient(server.url, { cookie });
    try {
      const secondHalf = (
        await collectOutput(second.trpc, run.id, { lastEventId: String(lastSeen) }).done
      ).map((item) => item.event);
      // The second half starts right after the last event seen.
      expect(secondHalf[0]?.seq).toBe((lastSeen ?? 0) + 1);
      expect(outputLines(secondHalf).length).toBeGreaterThan(0);

      const full = await fullOutput(second.trpc, run.id);
      expectWholeLog([...firstHalf, ...secondHalf], full);
    } finally {
      await second.close();
    }
  });

  it('a socket cut by the network: the client reconnects by itself and resumes with no gap', async () => {
    const client = makeClient(server.url, { cookie });
    try {
      const run = await client.trpc.runs.create.mutate({
        kind: 'snippet',
        language: 'bash',
        code: TICKER,
      });
      const collection = collectOutput(client.trpc, run.id);
      await collection.atLeast(6);
      const socketsBefore = client.sockets.length;
      // No close frame: the TCP connection just dies, as when a laptop loses its network.
      client.sockets.at(-1)?.terminate();
      const union = (await collection.done).map((item) => item.event);
      expect(client.sockets.length).toBeGreaterThan(socketsBefore);
      const full = await fullOutput(client.trpc, run.id);
      expectWholeLog(union, full);
    } finally {
      await client.close();
    }
  });
});
