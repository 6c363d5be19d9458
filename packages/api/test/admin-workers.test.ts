import { hostname } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkerProcess } from '../../cluster/test/support/worker-process.ts';
import {
  adminClient,
  codeOf,
  makeClient,
  newOwnerCookie,
  rejectionOf,
  runboxDetailsOf,
  type TestClient,
} from './support/clients.ts';
import { endOf, eventually } from './support/runs.ts';
import { startApiWithWorkers, type ApiWithWorkers } from './support/api-with-workers.ts';
import { ADMIN_TOKEN } from './support/server.ts';
import { fullOutput } from './support/subscriptions.ts';

/**
 * The admin's view of the workers and its drain, as deployed: an API process with no worker of
 * its own (RUNBOX_ROLE=api), two worker processes, a real Redis.
 */

let deployed: ApiWithWorkers;
let server: ApiWithWorkers['server'];
let one: WorkerProcess;
let two: WorkerProcess;
let owner: TestClient;
let admin: TestClient;
let startedAt: number;

beforeAll(async () => {
  startedAt = Date.now();
  deployed = await startApiWithWorkers({
    label: 'workers',
    workers: [
      { name: 'w-one', concurrency: 1 },
      { name: 'w-two', concurrency: 2 },
    ],
  });
  server = deployed.server;
  [one, two] = deployed.workers as [WorkerProcess, WorkerProcess];
  owner = makeClient(server.url, { cookie: await newOwnerCookie(server.url) });
  admin = adminClient(server.url);
}, 90_000);

afterAll(async () => {
  await owner?.close();
  await admin?.close();
  await deployed?.stop();
});

/** The workers once every named one shows `draining` as asked (a worker hears it at a renewal). */
function drainingShown(names: readonly string[], draining: boolean) {
  return eventually(
    async () => {
      const view = await admin.trpc.admin.workers.query();
      const shown = view.workers.filter((w) => names.includes(w.name) && w.draining === draining);
      return shown.length === names.length ? view : undefined;
    },
    `${names.join(', ')} draining: ${String(draining)}`,
  );
}

async function scrape(): Promise<string> {
  const answer = await fetch(`${server.url}/metrics`, {
    headers: { 'x-runbox-admin-token': ADMIN_TOKEN },
  });
  expect(answer.status).toBe(200);
  return answer.text();
}

describe('admin.workers in redis mode', () => {
  it('lists every live worker with its address, concurrency, load, heartbeat and self-test', async () => {
    const view = await eventually(async () => {
      const answer = await admin.trpc.admin.workers.query();
      return answer.workers.length === 2 ? answer : undefined;
    }, 'both workers listed');
    expect(view.mode).toBe('redis');
    expect(view.workers.map((w) => w.name)).toEqual(['w-one', 'w-two']);
    for (const [worker, process, concurrency] of [
      [view.workers[0], one, 1],
      [view.workers[1], two, 2],
    ] as const) {
      expect(worker).toMatchObject({
        name: process.name,
        address: `${hostname()}:${process.child.pid}`,
        concurrency,
        running: 0,
        selfTest: 'ok',
        draining: false,
      });
      expect(worker?.heartbeatAt).toBeGreaterThanOrEqual(startedAt);
      expect(worker?.heartbeatAgeMs).toBeGreaterThanOrEqual(0);
    }
  });

  it('a drained worker takes no new run; resumed, it runs it', async () => {
    try {
      for (const name of ['w-one', 'w-two'])
        expect(await admin.trpc.admin.drainWorker.mutate({ name, draining: true })).toEqual({
          name,
          draining: true,
        });
      await drainingShown(['w-one', 'w-two'], true);

      const run = await owner.trpc.runs.create.mutate({
        kind: 'snippet',
        language: 'bash',
        code: 'echo taken',
      });
      const ended = fullOutput(owner.trpc, run.id);
      // An idle worker takes a run within milliseconds; one that drains leaves it waiting.
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      expect((await owner.trpc.runs.get.query({ id: run.id })).state).toBe('queued');
      const workers = await admin.trpc.admin.workers.query();
      expect(workers.workers.map((w) => [w.name, w.running, w.draining])).toEqual([
        ['w-one', 0, true],
        ['w-two', 0, true],
      ]);

      await admin.trpc.admin.drainWorker.mutate({ name: 'w-one', draining: false });
      expect(endOf(await ended).state).toBe('completed');
      await drainingShown(['w-one'], false);
    } finally {
      for (const name of ['w-one', 'w-two'])
        await admin.trpc.admin.drainWorker.mutate({ name, draining: false });
      await drainingShown(['w-one', 'w-two'], false);
    }
  });

  it('refuses a name that is no worker name, and draining a worker that is not there', async () => {
    for (const name of ['', 'a/b', 'runbox:worker:x', 'x'.repeat(65)]) {
      const error = await rejectionOf(
        admin.trpc.admin.drainWorker.mutate({ name, draining: true }),
      );
      expect(codeOf(error)).toBe('BAD_REQUEST');
    }
    const missing = await rejectionOf(
      admin.trpc.admin.drainWorker.mutate({ name: 'nobody', draining: true }),
    );
    expect(codeOf(missing)).toBe('NOT_FOUND');
    expect(runboxDetailsOf(missing)).toEqual({ code: 'NOT_FOUND' });
    expect(missing.message).toContain('nobody');
  });

  it('refuses the workers and their drain to anyone but the admin', async () => {
    // One at a time: a call made before the last one's refusal was awaited would reject unheard.
    for (const call of [
      () => owner.trpc.admin.workers.query(),
      () => owner.trpc.admin.drainWorker.mutate({ name: 'w-one', draining: true }),
    ]) {
      const error = await rejectionOf(call());
      expect(codeOf(error)).toBe('UNAUTHORIZED');
      expect(runboxDetailsOf(error)).toEqual({ code: 'ADMIN_REQUIRED' });
    }
    const view = await admin.trpc.admin.workers.query();
    expect(view.workers.find((w) => w.name === 'w-one')?.draining).toBe(false);
  });

  it('/metrics has a series of each gauge per worker', async () => {
    const text = await scrape();
    for (const [name, concurrency] of [
      ['w-one', 1],
      ['w-two', 2],
    ] as const) {
      expect(text).toContain(`runbox_worker_concurrency{worker="${name}"} ${concurrency}\n`);
      expect(text).toContain(`runbox_worker_running{worker="${name}"} 0\n`);
      expect(text).toContain(`runbox_worker_draining{worker="${name}"} 0\n`);
      expect(text).toMatch(
        new RegExp(`^runbox_worker_heartbeat_age_seconds\\{worker="${name}"\\} [0-9.e-]+$`, 'm'),
      );
    }
  });

  it('/metrics shows a drained worker as draining, and a worker gone as no series', async () => {
    try {
      await admin.trpc.admin.drainWorker.mutate({ name: 'w-two', draining: true });
      await drainingShown(['w-two'], true);
      expect(await scrape()).toContain('runbox_worker_draining{worker="w-two"} 1\n');
    } finally {
      await admin.trpc.admin.drainWorker.mutate({ name: 'w-two', draining: false });
      await drainingShown(['w-two'], false);
    }
    // A worker that stops removes its lease.
    await two.terminate();
    await eventually(async () => {
      const view = await admin.trpc.admin.workers.query();
      return view.workers.some((w) => w.name === 'w-two') ? undefined : view;
    }, 'w-two gone');
    const text = await scrape();
    expect(text).not.toContain('worker="w-two"');
    expect(text).toContain('runbox_worker_running{worker="w-one"} 0\n');
  });
});
