import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  makeClient,
  newOwnerCookie,
  rejectionOf,
  runboxDetailsOf,
  type TestClient,
} from './support/clients.ts';
import { startTestServer, type TestServer } from './support/server.ts';
import { subscriptionError } from './support/subscriptions.ts';

/**
 * Credentials are explicit over tRPC as over REST: a key this server does not know, or a wrong
 * admin token, is UNAUTHORIZED on every procedure, public ones too, and never falls back to the
 * cookie sent beside it or to a fresh anonymous owner.
 */

const KEY = 'ci-key-0123456789abcdefghij';
let server: TestServer;
const clients: TestClient[] = [];

beforeAll(async () => {
  server = await startTestServer('explicit-credentials', { RUNBOX_API_KEYS: `ci:${KEY}` });
});
afterAll(async () => {
  for (const client of clients) await client.close();
  await server?.stop();
});

function client(options: Parameters<typeof makeClient>[1]): TestClient {
  const made = makeClient(server.url, options);
  clients.push(made);
  return made;
}

const snippet = { kind: 'snippet', language: 'bash', code: 'echo hi\n' } as const;

describe('credentials that are not this server’s', () => {
  it('an unknown key is UNAUTHORIZED on owner and public procedures, naming the header', async () => {
    const stranger = client({
      cookie: null,
      authorization: 'Bearer not-a-key-of-this-server-0000',
    });
    for (const call of [
      () => stranger.trpc.runs.create.mutate(snippet),
      () => stranger.trpc.tools.list.query(),
    ]) {
      const error = await rejectionOf(call());
      expect(error.data?.code).toBe('UNAUTHORIZED');
      expect(error.message).toMatch(/not an API key of this server/);
      expect(runboxDetailsOf(error)).toMatchObject({
        code: 'OWNER_REQUIRED',
        field: 'authorization',
        rule: 'known-api-key',
      });
    }
  });

  it('a signed cookie sent beside an unknown key does not make the call its owner’s', async () => {
    const cookie = await newOwnerCookie(server.url);
    const mixed = client({ cookie, authorization: 'Bearer not-a-key-of-this-server-0000' });
    const error = await rejectionOf(mixed.trpc.runs.list.query({}));
    expect(error.data?.code).toBe('UNAUTHORIZED');
    // The cookie alone still works.
    expect(await client({ cookie }).trpc.runs.list.query({})).toBeDefined();
  });

  it('an Authorization header that is not a bearer token is refused the same way', async () => {
    const basic = client({ cookie: null, authorization: 'Basic dXNlcjpwYXNz' });
    const error = await rejectionOf(basic.trpc.queue.status.query());
    expect(error.data?.code).toBe('UNAUTHORIZED');
    expect(error.message).toMatch(/Bearer <API key>/);
  });

  it('a wrong admin token is UNAUTHORIZED (ADMIN_REQUIRED), even on a public procedure', async () => {
    const wrong = client({ cookie: null, adminToken: 'not-the-admin-token-0000' });
    const error = await rejectionOf(wrong.trpc.tools.list.query());
    expect(error.data?.code).toBe('UNAUTHORIZED');
    expect(runboxDetailsOf(error)?.code).toBe('ADMIN_REQUIRED');
  });

  it('over the WebSocket, an unknown key in connectionParams is refused', async () => {
    const keyed = client({ cookie: null, authorization: `Bearer ${KEY}` });
    const run = await keyed.trpc.runs.create.mutate(snippet);
    const stranger = client({
      cookie: null,
      authorization: 'Bearer not-a-key-of-this-server-0000',
    });
    const error = await subscriptionError((handlers) =>
      stranger.trpc.runs.onOutput.subscribe({ id: run.id }, handlers),
    );
    expect(error.data?.code).toBe('UNAUTHORIZED');
  });

  it('the known key works, and sets no anonymous cookie', async () => {
    const answer = await fetch(`${server.url}/api/trpc/tools.list`, {
      headers: { authorization: `Bearer ${KEY}` },
    });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('set-cookie')).toBeNull();
  });
});
