import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  adminClient,
  codeOf,
  makeClient,
  ownerClient,
  rejectionOf,
  runboxDetailsOf,
  type TestClient,
} from './support/clients.ts';
import { storedEnd } from './support/runs.ts';
import { startTestServer, type TestServer } from './support/server.ts';
import { firstOutput, fullOutput } from './support/subscriptions.ts';

/**
 * Per-owner limits on creating runs: two an hour, one at a time; the admin is exempt. Each owner
 * here comes from an address of its own (through a proxy on 127.0.0.1 the server trusts), as
 * owners on different machines do: anonymous owners from one address share its limits too
 * (identity-limits.test.ts).
 */

let server: TestServer;
const clients: TestClient[] = [];

beforeAll(async () => {
  server = await startTestServer('limits', {
    RUNBOX_RUNS_PER_HOUR: '2',
    RUNBOX_CONCURRENT_RUNS_PER_OWNER: '1',
    RUNBOX_TRUST_PROXY: '127.0.0.1',
  });
});
afterAll(async () => {
  for (const client of clients) await client.close();
  await server?.stop();
});

let machines = 0;
async function newOwner(): Promise<TestClient> {
  const client = await ownerClient(server.url, { forwardedFor: `198.51.100.${++machines}` });
  clients.push(client);
  return client;
}

const quick = { kind: 'snippet', language: 'bash', code: 'echo ok\n' } as const;

describe('runs per hour', () => {
  it('refuses the third run of the hour with TOO_MANY_REQUESTS naming the limit and the wait', async () => {
    const owner = await newOwner();
    for (let i = 0; i < 2; i++) {
      const run = await owner.trpc.runs.create.mutate(quick);
      await fullOutput(owner.trpc, run.id);
      await storedEnd(owner.trpc, run.id);
    }
    const error = await rejectionOf(owner.trpc.runs.create.mutate(quick));
    expect(codeOf(error)).toBe('TOO_MANY_REQUESTS');
    expect(error.data?.httpStatus).toBe(429);
    expect(error.message).toMatch(
      /^you created 2 runs in the last hour; the limit is 2 an hour; retry in \d+ s$/,
    );
    const retryInSeconds = Number(/retry in (\d+) s/.exec(error.message)?.[1]);
    expect(retryInSeconds).toBeGreaterThan(3_500);
    expect(retryInSeconds).toBeLessThanOrEqual(3_600);
    const details = runboxDetailsOf(error);
    expect(details).toMatchObject({ code: 'RATE_LIMITED', limit: 'runsPerHour' });
    expect(Number(details?.retryAfterMs)).toBeGreaterThan(3_500_000);

    // Nothing was stored for the refused run.
    expect((await owner.trpc.runs.list.query({})).runs).toHaveLength(2);

    // Another owner has its own hour.
    const other = await newOwner();
    const run = await other.trpc.runs.create.mutate(quick);
    expect(run.state === 'queued' || run.state === 'running').toBe(true);
    await fullOutput(other.trpc, run.id);
  });

  it('the admin is exempt', async () => {
    const admin = adminClient(server.url);
    clients.push(admin);
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push((await admin.trpc.runs.create.mutate(quick)).id);
    for (const id of ids) expect((await storedEnd(admin.trpc, id)).state).toBe('completed');
  });
});

describe('concurrent runs per owner', () => {
  it('refuses a second run while the first is queued or running, and admits it after', async () => {
    const owner = await newOwner();
    const long = await owner.trpc.runs.create.mutate({
      kind: 'snippet',
      language: 'bash',
      code: 'echo started\nsleep 20\n',
    });
    const error = await rejectionOf(owner.trpc.runs.create.mutate(quick));
    expect(codeOf(error)).toBe('TOO_MANY_REQUESTS');
    expect(error.message).toMatch(
      /^you have 1 runs queued or running; the limit is 1 at once; retry in \d+ s$/,
    );
    expect(runboxDetailsOf(error)).toMatchObject({
      code: 'RATE_LIMITED',
      limit: 'concurrentRunsPerOwner',
      retryAfterMs: 1_000,
    });

    await firstOutput(owner.trpc, long.id);
    await owner.trpc.runs.cancel.mutate({ id: long.id });
    expect((await storedEnd(owner.trpc, long.id)).state).toBe('cancelled');
    // The refused create did not count against the hour: this is the owner's second run.
    const next = await owner.trpc.runs.create.mutate(quick);
    await fullOutput(owner.trpc, next.id);
    expect((await storedEnd(owner.trpc, next.id)).state).toBe('completed');
  });

  it('the admin may run many at once', async () => {
    const admin = adminClient(server.url);
    clients.push(admin);
    const first = await admin.trpc.runs.create.mutate({
      kind: 'snippet',
      language: 'bash',
      code: 'echo started\nsleep 20\n',
    });
    const second = await admin.trpc.runs.create.mutate({
      kind: 'snippet',
      language: 'bash',
      code: 'echo started\nsleep 20\n',
    });
    for (const run of [first, second]) {
      await firstOutput(admin.trpc, run.id);
      await admin.trpc.runs.cancel.mutate({ id: run.id });
      expect((await storedEnd(admin.trpc, run.id)).state).toBe('cancelled');
    }
  });

  it('admin.setRateLimits changes the limits at once', async () => {
    const admin = adminClient(server.url);
    clients.push(admin);
    expect(await admin.trpc.admin.rateLimits.query()).toEqual({
      runsPerHour: 2,
      concurrentRunsPerOwner: 1,
    });
    expect(await admin.trpc.admin.setRateLimits.mutate({ concurrentRunsPerOwner: 2 })).toEqual({
      runsPerHour: 2,
      concurrentRunsPerOwner: 2,
    });
    const owner = await newOwner();
    const ids: string[] = [];
    for (let i = 0; i < 2; i++)
      ids.push(
        (
          await owner.trpc.runs.create.mutate({
            kind: 'snippet',
            language: 'bash',
            code: 'echo started\nsleep 20\n',
          })
        ).id,
      );
    for (const id of ids) {
      await firstOutput(owner.trpc, id);
      await owner.trpc.runs.cancel.mutate({ id });
      await storedEnd(owner.trpc, id);
    }
    expect(await admin.trpc.admin.setRateLimits.mutate({ concurrentRunsPerOwner: 1 })).toEqual({
      runsPerHour: 2,
      concurrentRunsPerOwner: 1,
    });
  });
});

describe('what counts toward the hour', () => {
  it('a run refused by validation does not count; a restart forgets nothing', async () => {
    const owner = await newOwner();
    const cookie = owner.cookie;
    // A syntax error is refused before anything is stored: it costs nothing of the hour.
    const refused = await rejectionOf(
      owner.trpc.runs.create.mutate({ kind: 'snippet', language: 'bash', code: 'if then fi (\n' }),
    );
    expect(codeOf(refused)).toBe('BAD_REQUEST');
    for (let i = 0; i < 2; i++) {
      const run = await owner.trpc.runs.create.mutate(quick);
      await storedEnd(owner.trpc, run.id);
    }
    expect(runboxDetailsOf(await rejectionOf(owner.trpc.runs.create.mutate(quick)))).toMatchObject({
      limit: 'runsPerHour',
    });

    // The same data, a new server: the hour is read from the stored runs.
    const { dataDir } = server;
    await owner.close();
    await server.stop({ keepData: true });
    server = await startTestServer('limits-again', {
      RUNBOX_RUNS_PER_HOUR: '2',
      RUNBOX_CONCURRENT_RUNS_PER_OWNER: '1',
      RUNBOX_DATA_DIR: dataDir,
    });
    const again = makeClient(server.url, { cookie });
    clients.push(again);
    expect((await again.trpc.runs.list.query({})).runs).toHaveLength(2);
    const error = await rejectionOf(again.trpc.runs.create.mutate(quick));
    expect(runboxDetailsOf(error)).toMatchObject({ code: 'RATE_LIMITED', limit: 'runsPerHour' });
  });
});
