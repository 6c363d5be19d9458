import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  codeOf,
  makeClient,
  newOwnerCookie,
  rejectionOf,
  runboxDetailsOf,
  type TestClient,
} from './support/clients.ts';
import { storedEnd } from './support/runs.ts';
import { startTestServer, type TestServer } from './support/server.ts';

/**
 * Behind a proxy every client comes from the proxy's address; with RUNBOX_TRUST_PROXY naming it,
 * the address the proxy forwards is the client's, for the per-address limits. Only the proxy's
 * own entry counts: what a client writes into the header itself is not believed. (Without the
 * setting the header is ignored: identity-address-limits.test.ts.)
 */

let server: TestServer;
const clients: TestClient[] = [];

beforeAll(async () => {
  server = await startTestServer('trusted-proxy', {
    RUNBOX_TRUST_PROXY: '127.0.0.1, ::1',
    RUNBOX_RUNS_PER_HOUR: '2',
  });
});
afterAll(async () => {
  for (const client of clients) await client.close();
  await server?.stop();
});

async function freshOwner(forwardedFor: string): Promise<TestClient> {
  const client = makeClient(server.url, { cookie: await newOwnerCookie(server.url), forwardedFor });
  clients.push(client);
  return client;
}

async function quickRun(client: TestClient): Promise<void> {
  const run = await client.trpc.runs.create.mutate({
    kind: 'snippet',
    language: 'bash',
    code: 'echo ok\n',
  });
  expect((await storedEnd(client.trpc, run.id)).state).toBe('completed');
}

describe('a trusted proxy', () => {
  it('its forwarded address is the client’s: the hour of one address is not another’s', async () => {
    await quickRun(await freshOwner('198.51.100.1'));
    await quickRun(await freshOwner('198.51.100.1'));
    const third = await freshOwner('198.51.100.1');
    const error = await rejectionOf(
      third.trpc.runs.create.mutate({ kind: 'snippet', language: 'bash', code: 'echo no\n' }),
    );
    expect(codeOf(error)).toBe('TOO_MANY_REQUESTS');
    expect(error.message).toMatch(
      /^anonymous owners from your address \(198\.51\.100\.1\) created 2 runs in the last hour; the limit is 2 an hour; retry in \d+ s$/,
    );
    expect(runboxDetailsOf(error)).toMatchObject({ limit: 'runsPerHourPerAddress' });

    // Another machine behind the same proxy has an hour of its own.
    await quickRun(await freshOwner('198.51.100.2'));
  });

  it('an address the client wrote in front of the proxy’s entry is not believed', async () => {
    // The proxy appends the peer it saw (198.51.100.1) to whatever the client sent.
    const spoofing = await freshOwner('203.0.113.99, 198.51.100.1');
    const error = await rejectionOf(
      spoofing.trpc.runs.create.mutate({ kind: 'snippet', language: 'bash', code: 'echo no\n' }),
    );
    expect(error.message).toContain('from your address (198.51.100.1)');
  });
});
