import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  adminClient,
  codeOf,
  makeClient,
  runboxDetailsOf,
  type ClientError,
  type TestClient,
} from './support/clients.ts';
import { storedEnd } from './support/runs.ts';
import { startTestServer, type TestServer } from './support/server.ts';
import { TRPCClientError } from '@trpc/client';

/**
 * However many owners and addresses creates come from, the server takes at most
 * RUNBOX_MAX_CREATES_PER_SECOND of them a second (here 1); the admin is exempt.
 */

const KEYS = Array.from({ length: 5 }, (_, i) => `script${i}:${`k${i}`.repeat(12)}`);
let server: TestServer;
let admin: TestClient;
const clients: TestClient[] = [];

beforeAll(async () => {
  server = await startTestServer('creates-per-second', {
    RUNBOX_MAX_CREATES_PER_SECOND: '1',
    RUNBOX_API_KEYS: KEYS.join(','),
  });
  admin = adminClient(server.url);
  clients.push(admin);
});
afterAll(async () => {
  for (const client of clients) await client.close();
  await server?.stop();
});

const quick = { kind: 'snippet', language: 'bash', code: 'echo ok\n' } as const;

describe('creates per second, all clients together', () => {
  it('five owners at once: past the cap they are refused, naming the limit and the wait', async () => {
    const scripts = KEYS.map((entry) => {
      const client = makeClient(server.url, {
        cookie: null,
        authorization: `Bearer ${entry.split(':')[1] ?? ''}`,
      });
      clients.push(client);
      return client;
    });
    const outcomes = await Promise.allSettled(
      scripts.map((script) => script.trpc.runs.create.mutate(quick)),
    );
    const admitted = outcomes.flatMap((outcome) =>
      outcome.status === 'fulfilled' ? [outcome.value] : [],
    );
    const refused = outcomes.flatMap((outcome) =>
      outcome.status === 'rejected' ? [outcome.reason as unknown] : [],
    );
    expect(admitted.length).toBeGreaterThanOrEqual(1);
    expect(refused.length).toBeGreaterThanOrEqual(1);
    for (const reason of refused) {
      expect(reason).toBeInstanceOf(TRPCClientError);
      const error = reason as ClientError;
      expect(codeOf(error)).toBe('TOO_MANY_REQUESTS');
      expect(error.message).toBe(
        'runbox takes at most 1 new runs a second from all clients together, and that many came in the last second; retry in 1 s',
      );
      const details = runboxDetailsOf(error);
      expect(details).toMatchObject({ code: 'RATE_LIMITED', limit: 'createsPerSecond' });
      expect(Number(details?.retryAfterMs)).toBeGreaterThan(0);
      expect(Number(details?.retryAfterMs)).toBeLessThanOrEqual(1_000);
    }
    for (const run of admitted) await storedEnd(admin.trpc, run.id);
  });

  it('the admin is exempt', async () => {
    const runs = await Promise.all(
      Array.from({ length: 4 }, () => admin.trpc.runs.create.mutate(quick)),
    );
    for (const run of runs) expect((await storedEnd(admin.trpc, run.id)).state).toBe('completed');
  });
});
