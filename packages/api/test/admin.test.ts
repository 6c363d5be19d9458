import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  adminClient,
  codeOf,
  makeClient,
  ownerClient,
  ownerIdOf,
  rejectionOf,
  runboxDetailsOf,
  type TestClient,
} from './support/clients.ts';
import { rawQuery, trpcErrorOf } from './support/http.ts';
import { eventually, storedEnd } from './support/runs.ts';
import { ADMIN_TOKEN, startTestServer, type TestServer } from './support/server.ts';
import { collect, firstOutput, fullOutput, subscriptionError } from './support/subscriptions.ts';

/** The admin API: refused without the token, over HTTP and the WebSocket; in full with it. */

let server: TestServer;
let admin: TestClient;
let owner: TestClient;
const extra: TestClient[] = [];

beforeAll(async () => {
  server = await startTestServer('admin', { RUNBOX_CONCURRENCY: '1' });
  admin = adminClient(server.url);
  owner = await ownerClient(server.url);
});
afterEach(async () => {
  // Every test leaves the queue as it found it: empty, running, concurrency 1.
  const queue = await admin.trpc.admin.queue.query();
  const active = [...queue.waiting, ...queue.running].map((run) => run.id);
  for (const id of active) await admin.trpc.admin.cancel.mutate({ id });
  for (const id of active) await storedEnd(admin.trpc, id, 30_000);
  await admin.trpc.admin.resume.mutate();
  await admin.trpc.admin.setConcurrency.mutate({ concurrency: 1 });
});
afterAll(async () => {
  for (const client of [admin, owner, ...extra]) await client?.close();
  await server?.stop();
});

const SLEEP = { kind: 'snippet', language: 'bash', code: 'echo started\nsleep 20\n' } as const;
const QUICK = { kind: 'snippet', language: 'bash', code: 'echo quick\n' } as const;

describe('without the admin token', () => {
  const adminQueries = [
    'admin.queue',
    'admin.selfTest',
    'admin.rateLimits',
    'admin.runs',
    'admin.workers',
  ];

  it('every admin procedure is UNAUTHORIZED over HTTP, with no token or a wrong one', async () => {
    const wrong = makeClient(server.url, {
      cookie: owner.cookie,
      adminToken: 'not-the-admin-token-at-all-0000',
    });
    extra.push(wrong);
    for (const client of [owner, wrong]) {
      const calls: Promise<unknown>[] = [
        client.trpc.admin.queue.query(),
        client.trpc.admin.selfTest.query(),
        client.trpc.admin.rateLimits.query(),
        client.trpc.admin.runs.query({}),
        client.trpc.admin.pause.mutate(),
        client.trpc.admin.resume.mutate(),
        client.trpc.admin.setConcurrency.mutate({ concurrency: 4 }),
        client.trpc.admin.cancel.mutate({ id: 'x' }),
        client.trpc.admin.setRateLimits.mutate({ runsPerHour: 1_000 }),
        client.trpc.admin.workers.query(),
        client.trpc.admin.drainWorker.mutate({ name: 'w', draining: true }),
      ];
      // Each refusal is caught as it comes: one read late would count as unhandled.
      for (const refusal of calls.map((call) => rejectionOf(call))) {
        const error = await refusal;
        expect(codeOf(error)).toBe('UNAUTHORIZED');
        expect(error.data?.httpStatus).toBe(401);
        expect(runboxDetailsOf(error)).toMatchObject({ code: 'ADMIN_REQUIRED' });
        expect(error.message).toContain('admin token');
      }
    }
    // A bearer that is not the token is no admin either.
    for (const procedure of adminQueries) {
      const answer = await rawQuery(server.url, procedure, null, {
        authorization: 'Bearer not-the-admin-token-at-all-0000',
      });
      expect(answer.status).toBe(401);
      expect(trpcErrorOf(answer.json).code).toBe('UNAUTHORIZED');
    }
    // Nothing changed.
    expect(await admin.trpc.queue.status.query()).toMatchObject({ paused: false, concurrency: 1 });
    expect(await admin.trpc.admin.rateLimits.query()).toEqual({
      runsPerHour: 120,
      concurrentRunsPerOwner: 4,
    });
  });

  it('admin.onQueue is UNAUTHORIZED over the WebSocket, with no token or a wrong one', async () => {
    const wrong = makeClient(server.url, {
      cookie: owner.cookie,
      adminToken: 'not-the-admin-token-at-all-0000',
    });
    extra.push(wrong);
    for (const client of [owner, wrong]) {
      const error = await subscriptionError((handlers) =>
        client.trpc.admin.onQueue.subscribe(undefined, handlers),
      );
      expect(codeOf(error)).toBe('UNAUTHORIZED');
      expect(runboxDetailsOf(error)).toMatchObject({ code: 'ADMIN_REQUIRED' });
    }
  });
});

describe('with the admin token', () => {
  it('admin.queue shows the running and the waiting runs with their owners', async () => {
    const first = await owner.trpc.runs.create.mutate(SLEEP);
    const second = await owner.trpc.runs.create.mutate(QUICK);
    const queue = await eventually(async () => {
      const view = await admin.trpc.admin.queue.query();
      return view.running.length === 1 && view.waiting.length === 1 ? view : undefined;
    }, 'one running and one waiting');
    expect(queue).toMatchObject({ concurrency: 1, paused: false });
    const [running] = queue.running;
    const [waiting] = queue.waiting;
    expect(running).toMatchObject({ id: first.id, state: 'running' });
    expect(waiting).toMatchObject({ id: second.id, state: 'queued', position: 1 });
    // The admin sees whose runs they are: both are the same anonymous owner.
    expect(running?.owner).toEqual(expect.any(String));
    expect(waiting?.owner).toBe(running?.owner);
    expect(running?.owner).toBe(ownerIdOf(owner.cookie));

    // The owner's own view of the same queue: counts, no ids.
    expect(await owner.trpc.queue.status.query()).toMatchObject({
      waiting: 1,
      running: 1,
      concurrency: 1,
      paused: false,
    });

    // admin.onQueue shows the same over the WebSocket, and follows the changes.
    const watch = collect<Awaited<ReturnType<typeof admin.trpc.admin.queue.query>>>(
      (handlers) => admin.trpc.admin.onQueue.subscribe(undefined, handlers),
      { until: (view) => view.running.length === 0 && view.waiting.length === 0 },
    );
    const [firstView] = await watch.atLeast(1);
    expect(firstView?.running.map((run) => run.id)).toEqual([first.id]);
    expect(firstView?.waiting.map((run) => run.id)).toEqual([second.id]);

    // The admin cancels another owner's runs: the waiting one, then the running one.
    await admin.trpc.admin.cancel.mutate({ id: second.id });
    await firstOutput(owner.trpc, first.id);
    await admin.trpc.admin.cancel.mutate({ id: first.id });
    expect((await storedEnd(owner.trpc, first.id)).state).toBe('cancelled');
    expect((await storedEnd(owner.trpc, second.id)).state).toBe('cancelled');
    const end = (await fullOutput(owner.trpc, first.id)).at(-1);
    expect(end?.type === 'end' && end.result.state).toBe('cancelled');

    const views = await watch.done;
    expect(views.at(-1)?.ended.map((run) => run.id)).toEqual(
      expect.arrayContaining([first.id, second.id]),
    );
  });

  it('admin.cancel answers with the run as cancelled', async () => {
    // Cancelling a waiting run ends it at once; the answer must say so, not the row before.
    await admin.trpc.admin.pause.mutate();
    const run = await owner.trpc.runs.create.mutate(QUICK);
    const answer = await admin.trpc.admin.cancel.mutate({ id: run.id });
    expect(answer).toMatchObject({ id: run.id, state: 'cancelled', position: null });
    const ownAnswer = await owner.trpc.runs.cancel.mutate({
      id: (await owner.trpc.runs.create.mutate(QUICK)).id,
    });
    expect(ownAnswer.state).toBe('cancelled');
  });

  it('admin.cancel of an unknown run is NOT_FOUND', async () => {
    const error = await rejectionOf(admin.trpc.admin.cancel.mutate({ id: 'no-such-run' }));
    expect(codeOf(error)).toBe('NOT_FOUND');
  });

  it('pause holds new runs in the queue; resume lets them run', async () => {
    expect(await admin.trpc.admin.pause.mutate()).toEqual({ paused: true });
    expect(await owner.trpc.queue.status.query()).toMatchObject({ paused: true });
    const run = await owner.trpc.runs.create.mutate(QUICK);
    expect(run).toMatchObject({ state: 'queued', position: 1 });
    const queued = await owner.trpc.runs.get.query({ id: run.id });
    expect(queued).toMatchObject({ state: 'queued', position: 1 });
    expect((await admin.trpc.admin.queue.query()).waiting.map((entry) => entry.id)).toEqual([
      run.id,
    ]);

    expect(await admin.trpc.admin.resume.mutate()).toEqual({ paused: false });
    const events = await fullOutput(owner.trpc, run.id);
    expect(events.at(-1)).toMatchObject({ type: 'end', result: { state: 'completed' } });
    expect(await owner.trpc.queue.status.query()).toMatchObject({ paused: false });
  });

  it('setConcurrency changes how many run at once, within 1..256', async () => {
    expect(await admin.trpc.admin.setConcurrency.mutate({ concurrency: 2 })).toEqual({
      concurrency: 2,
    });
    expect(await owner.trpc.queue.status.query()).toMatchObject({ concurrency: 2 });
    expect((await admin.trpc.admin.queue.query()).concurrency).toBe(2);

    const other = await ownerClient(server.url);
    extra.push(other);
    const one = await owner.trpc.runs.create.mutate(SLEEP);
    const two = await other.trpc.runs.create.mutate(SLEEP);
    const both = await eventually(async () => {
      const view = await admin.trpc.admin.queue.query();
      return view.running.length === 2 ? view : undefined;
    }, 'two runs at once');
    expect(both.running.map((run) => run.id).sort()).toEqual([one.id, two.id].sort());
    expect(new Set(both.running.map((run) => run.owner)).size).toBe(2);
    await firstOutput(owner.trpc, one.id);
    await firstOutput(other.trpc, two.id);
    await admin.trpc.admin.cancel.mutate({ id: one.id });
    await admin.trpc.admin.cancel.mutate({ id: two.id });
    await storedEnd(admin.trpc, one.id);
    await storedEnd(admin.trpc, two.id);

    for (const concurrency of [0, 257, 1.5]) {
      const error = await rejectionOf(admin.trpc.admin.setConcurrency.mutate({ concurrency }));
      expect(codeOf(error)).toBe('BAD_REQUEST');
    }
  });

  it('admin.runs lists every owner, filtered by owner and state', async () => {
    const other = await ownerClient(server.url);
    extra.push(other);
    const run = await other.trpc.runs.create.mutate(QUICK);
    await fullOutput(other.trpc, run.id);
    await storedEnd(other.trpc, run.id);
    const ownerId = ownerIdOf(other.cookie);
    const all = await admin.trpc.admin.runs.query({});
    expect(all.runs.map((entry) => entry.id)).toContain(run.id);
    expect(new Set(all.runs.map((entry) => entry.owner)).size).toBeGreaterThan(1);
    const mine = await admin.trpc.admin.runs.query({ owner: ownerId });
    expect(mine.runs.map((entry) => [entry.id, entry.owner, entry.state])).toEqual([
      [run.id, ownerId, 'completed'],
    ]);
    const cancelledOnly = await admin.trpc.admin.runs.query({ states: ['cancelled'] });
    expect(cancelledOnly.runs.every((entry) => entry.state === 'cancelled')).toBe(true);
    expect(cancelledOnly.runs.length).toBeGreaterThan(0);
  });

  it('selfTest reports every layer holding', async () => {
    const report = await admin.trpc.admin.selfTest.query();
    expect(report.ok).toBe(true);
    expect(report.checks.length).toBeGreaterThan(5);
    expect(report.checks.filter((check) => !check.ok)).toEqual([]);
  });

  it('workers: none in embedded mode, and a drain says why it cannot be', async () => {
    expect(await admin.trpc.admin.workers.query()).toEqual({ mode: 'embedded', workers: [] });
    const error = await rejectionOf(
      admin.trpc.admin.drainWorker.mutate({ name: 'some-worker', draining: true }),
    );
    expect(codeOf(error)).toBe('PRECONDITION_FAILED');
    expect(runboxDetailsOf(error)).toEqual({ code: 'NO_WORKERS' });
    expect(error.message).toContain('RUNBOX_REDIS_URL');
  });

  it('the token works as a header, as a bearer, and as connectionParams', async () => {
    const viaHeader = await rawQuery(server.url, 'admin.rateLimits', null, {
      'x-runbox-admin-token': ADMIN_TOKEN,
    });
    const viaBearer = await rawQuery(server.url, 'admin.rateLimits', null, {
      authorization: `Bearer ${ADMIN_TOKEN}`,
    });
    expect(viaHeader.status).toBe(200);
    expect(viaBearer.status).toBe(200);
    expect(viaBearer.json).toEqual(viaHeader.json);
    const watch = collect((handlers) => admin.trpc.admin.onQueue.subscribe(undefined, handlers), {
      until: () => true,
    });
    const [view] = await watch.done;
    expect(view).toMatchObject({ concurrency: 1, paused: false });
  });
});
