import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  adminClient,
  codeOf,
  makeClient,
  newOwnerCookie,
  rejectionOf,
  runboxDetailsOf,
  type TestClient,
} from './support/clients.ts';
import { eventually, storedEnd } from './support/runs.ts';
import { startTestServer, type TestServer } from './support/server.ts';
import { closeAll, upgrade, type Upgrade } from './support/sockets.ts';

/**
 * A new anonymous owner costs a client nothing but a page load, so the per-owner limits also hold
 * per client address for anonymous owners, and anonymous sockets count by address. This server
 * trusts no proxy (the default): an X-Forwarded-For header changes nothing.
 */

let server: TestServer;
let admin: TestClient;
const clients: TestClient[] = [];

beforeAll(async () => {
  server = await startTestServer('address-limits', {
    RUNBOX_CONCURRENT_RUNS_PER_OWNER: '2',
    RUNBOX_WS_MAX_SOCKETS_PER_CLIENT: '3',
  });
  admin = adminClient(server.url);
});
afterAll(async () => {
  for (const client of [admin, ...clients]) await client?.close();
  await server?.stop();
});

/** A fresh anonymous owner, claiming (in vain) to come from an address of its own. */
async function freshOwner(n: number): Promise<TestClient> {
  const client = makeClient(server.url, {
    cookie: await newOwnerCookie(server.url),
    forwardedFor: `198.51.100.${n}`,
  });
  clients.push(client);
  return client;
}

const SLEEP = { kind: 'snippet', language: 'bash', code: 'echo started\nsleep 30\n' } as const;

describe('sockets per client', () => {
  it('anonymous sockets past the cap are refused from the same address, whatever cookie they bring', async () => {
    const open: Upgrade[] = [];
    try {
      for (let i = 0; i < 3; i++) {
        const socket = await upgrade(server.url, { cookie: await newOwnerCookie(server.url) });
        open.push(socket);
        expect(socket.status).toBe(101);
      }
      const refusals: Record<string, string>[] = [
        { cookie: await newOwnerCookie(server.url) },
        { cookie: `runbox_owner=${'F'.repeat(24)}.${'x'.repeat(43)}` },
        { cookie: await newOwnerCookie(server.url), 'x-forwarded-for': '198.51.100.77' },
        {},
      ];
      for (const headers of refusals) {
        const refused = await upgrade(server.url, headers);
        open.push(refused);
        expect(refused.status, JSON.stringify(headers)).toBe(429);
      }
      // One closes: a place is free again (once the server has seen the close).
      await closeAll(open.splice(0, 1));
      const again = await eventually(async () => {
        const attempt = await upgrade(server.url, { cookie: await newOwnerCookie(server.url) });
        open.push(attempt);
        return attempt.status === 101 ? attempt : undefined;
      }, 'a socket to open after one closed');
      expect(again.status).toBe(101);
    } finally {
      await closeAll(open);
    }
  });
});

describe('event streams (subscriptions over HTTP)', () => {
  it('count with the sockets: past the cap they are refused, whatever cookie they bring', async () => {
    const owner = await freshOwner(50);
    const run = await owner.trpc.runs.create.mutate(SLEEP);
    const streams: AbortController[] = [];
    const live: AbortController[] = [];
    const sockets: Upgrade[] = [];
    const openStream = async (cookie: string | null): Promise<number> => {
      const controller = new AbortController();
      streams.push(controller);
      const input = encodeURIComponent(JSON.stringify({ id: run.id }));
      const response = await fetch(`${server.url}/api/trpc/runs.onOutput?input=${input}`, {
        headers: cookie ? { cookie } : {},
        signal: controller.signal,
      });
      if (response.status === 200) live.push(controller);
      else await response.text();
      return response.status;
    };
    try {
      // The sockets of the test before may take a moment to close on the server's side.
      const opened = async (open: () => Promise<number>, what: string): Promise<number> =>
        eventually(async () => ((await open()) === 200 ? 200 : undefined), what);
      for (let i = 0; i < 2; i++) await opened(() => openStream(owner.cookie), 'a stream');
      const socket = await eventually(async () => {
        const attempt = await upgrade(server.url, { cookie: await newOwnerCookie(server.url) });
        sockets.push(attempt);
        return attempt.status === 101 ? attempt : undefined;
      }, 'a socket');
      expect(socket.status).toBe(101);
      // Two streams and a socket: the address's three places are taken.
      expect(await openStream(owner.cookie)).toBe(429);
      expect(await openStream(await newOwnerCookie(server.url))).toBe(429);
      const refused = await upgrade(server.url, { cookie: await newOwnerCookie(server.url) });
      sockets.push(refused);
      expect(refused.status).toBe(429);
      // A stream ends: its place is free again.
      expect(live).toHaveLength(2);
      live[0]?.abort();
      await opened(() => openStream(owner.cookie), 'a stream to open after one ended');
    } finally {
      for (const controller of streams) controller.abort();
      await closeAll(sockets);
      await owner.trpc.runs.cancel.mutate({ id: run.id });
      await storedEnd(owner.trpc, run.id);
    }
  });
});

describe('runs at once per address', () => {
  it('fresh cookies from one address share its concurrent cap; X-Forwarded-For is not believed', async () => {
    const admitted: { client: TestClient; id: string }[] = [];
    try {
      for (let n = 1; n <= 2; n++) {
        const owner = await freshOwner(n);
        admitted.push({ client: owner, id: (await owner.trpc.runs.create.mutate(SLEEP)).id });
      }
      for (let n = 3; n <= 5; n++) {
        const owner = await freshOwner(n);
        const error = await rejectionOf(owner.trpc.runs.create.mutate(SLEEP));
        expect(codeOf(error)).toBe('TOO_MANY_REQUESTS');
        expect(error.message).toBe(
          'anonymous owners from your address (127.0.0.1) have 2 runs queued or running; the limit is 2 at once; retry in 1 s',
        );
        expect(runboxDetailsOf(error)).toEqual({
          code: 'RATE_LIMITED',
          limit: 'concurrentRunsPerAddress',
          retryAfterMs: 1_000,
        });
        expect((await owner.trpc.runs.list.query({})).runs).toEqual([]);
      }
      // An API key or the admin is not an anonymous owner: the address cap is not theirs.
      const adminRun = await admin.trpc.runs.create.mutate(SLEEP);
      await admin.trpc.runs.cancel.mutate({ id: adminRun.id });

      // One of the address's runs ends: a new owner from it gets the place.
      const first = admitted.shift();
      await first?.client.trpc.runs.cancel.mutate({ id: first.id });
      if (first) await storedEnd(first.client.trpc, first.id);
      const next = await freshOwner(6);
      admitted.push({ client: next, id: (await next.trpc.runs.create.mutate(SLEEP)).id });
    } finally {
      for (const run of admitted) {
        await run.client.trpc.runs.cancel.mutate({ id: run.id });
        await storedEnd(run.client.trpc, run.id);
      }
    }
  });
});
