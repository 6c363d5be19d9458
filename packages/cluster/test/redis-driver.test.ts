import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createExecutor,
  createSandboxHost,
  type Executor,
  type RunEvent,
  type SandboxHost,
} from '@runbox/executor';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterKeys } from '../src/cluster-keys.ts';
import { createRedisDriver } from '../src/redis-driver.ts';
import { follow, outputLines, waitFor } from './support/follow.ts';
import { startTestRedis, type TestRedis } from './support/redis-server.ts';
import { startWorkerProcess, type WorkerProcess } from './support/worker-process.ts';
import { claimTestUid } from '../../executor/test/support/test-uid.ts';

const LEASE_MS = 2_000;
const suffix = randomBytes(3).toString('hex');
const stateDir = join(tmpdir(), `runbox-test-redis-api-${suffix}`);
let redis: TestRedis;
let host: SandboxHost;
let executor: Executor;
const workers: WorkerProcess[] = [];
const logged: string[] = [];

beforeAll(async () => {
  redis = await startTestRedis();
  host = await createSandboxHost({
    stateDir,
    cgroupGroupName: `runbox-test-redis-api-${suffix}`,
    sandboxUid: claimTestUid(65_400, 10),
  });
  const driver = await createRedisDriver({
    url: redis.url,
    concurrency: 2,
    leaseMs: LEASE_MS,
    output: { maxLines: 10_000, pii: false },
    projectDigest: () => Promise.reject(new Error('no projects in this test')),
    log: {
      warn: (message) => logged.push(message),
      error: (_error, message) => logged.push(message),
    },
  });
  executor = createExecutor({
    host,
    driver,
    syntaxCheck: false,
    // Around the unit: the driver's own handling of a project it cannot describe is under test.
    tools: {
      limits: () => ({}),
      check: () => Promise.resolve([]),
      prepare: () => Promise.reject(new Error('no tool runs on these workers')),
    },
  });
  workers.push(await startWorkerProcess({ redisUrl: redis.url, name: 'w1', leaseMs: LEASE_MS }));
  workers.push(await startWorkerProcess({ redisUrl: redis.url, name: 'w2', leaseMs: LEASE_MS }));
}, 60_000);

afterAll(async () => {
  await executor?.shutdown({ deadlineMs: 0 });
  // Every worker stopped before any clean-up can throw.
  await Promise.all(workers.map((worker) => worker.terminate()));
  for (const worker of workers) await worker.cleanUp();
  await host?.close();
  await rm(stateDir, { recursive: true, force: true });
  await redis?.stop();
});

describe('the redis driver: runs as BullMQ jobs on worker processes', () => {
  it('runs a snippet on a worker and relays every line, numbered with no gap', async () => {
    const run = await executor.submit({
      kind: 'snippet',
      language: 'bash',
      code: 'for i in $(seq 1 500); do echo "line $i"; done; echo err >&2',
    });
    const { events, result } = await follow(executor, run.id);
    expect(result.state).toBe('completed');
    expect(result.exitCode).toBe(0);
    expect(outputLines(events, 'stdout')).toEqual(
      Array.from({ length: 500 }, (_, i) => `line ${i + 1}`),
    );
    expect(events.map((event) => event.seq)).toEqual(events.map((_, i) => i + 1));
    const states = events.flatMap((event) => (event.type === 'state' ? [event.state] : []));
    expect(states).toEqual(['queued', 'running', 'completed']);
  });

  it('ends runs the way the embedded engine does: failed, timed out', async () => {
    const failed = await executor.submit({
      kind: 'snippet',
      language: 'python',
      code: 'raise SystemExit(3)',
    });
    const slow = await executor.submit({
      kind: 'snippet',
      language: 'bash',
      code: 'sleep 30',
      limits: { wallTimeMs: 1_000 },
    });
    expect((await follow(executor, failed.id)).result).toMatchObject({
      state: 'failed',
      exitCode: 3,
    });
    expect((await follow(executor, slow.id)).result.state).toBe('timed_out');
  });

  it('cancels a running run on its worker, across processes', async () => {
    const run = await executor.submit({
      kind: 'snippet',
      language: 'bash',
      code: 'echo started; sleep 60',
    });
    const events: RunEvent[] = [];
    for await (const event of executor.events(run.id)) {
      events.push(event);
      if (event.type === 'output') break;
    }
    const cancelledAt = Date.now();
    executor.cancel(run.id);
    const { result } = await follow(executor, run.id);
    expect(result.state).toBe('cancelled');
    expect(Date.now() - cancelledAt).toBeLessThan(5_000);
    // Killed by then; gone from the process table a moment later.
    await waitFor(
      () => workers.every((worker) => worker.sandboxProcesses().length === 0),
      'no sandbox process left',
      5_000,
    );
  });

  it('shows queue positions while runs wait for the workers, and cancels a waiting run', async () => {
    const blockers = await Promise.all(
      [1, 2].map(() => executor.submit({ kind: 'snippet', language: 'bash', code: 'sleep 2' })),
    );
    const third = await executor.submit({ kind: 'snippet', language: 'bash', code: 'echo third' });
    const fourth = await executor.submit({
      kind: 'snippet',
      language: 'bash',
      code: 'echo fourth',
    });
    const fourthEnded = follow(executor, fourth.id);
    await waitFor(() => executor.queue().running.length === 2, 'two runs running');
    // Announcements come at most every 100 ms: the one after both started says 2.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(executor.queue().waiting.map((entry) => [entry.id, entry.position])).toEqual([
      [third.id, 1],
      [fourth.id, 2],
    ]);
    executor.cancel(third.id);
    expect((await follow(executor, third.id)).result.state).toBe('cancelled');
    const fourthEnd = await fourthEnded;
    expect(fourthEnd.result.state).toBe('completed');
    expect(outputLines(fourthEnd.events, 'stdout')).toEqual(['fourth']);
    const positions = fourthEnd.events.flatMap((event) =>
      event.type === 'position' ? [event.position] : [],
    );
    expect(positions).toContain(2);
    expect(positions.at(-1)).toBe(1);
    for (const blocker of blockers)
      expect((await follow(executor, blocker.id)).result.state).toBe('completed');
  });

  it('never runs a job that is not a valid run, written to Redis by hand', async () => {
    const keys = clusterKeys();
    const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
    const queue = new Queue(keys.queueName, { connection });
    const runId = '5f0c2c8e-2d7e-4c55-9b51-3c1b9a0e0f11';
    await queue.add(
      'run',
      { runId, request: { kind: 'snippet', language: 'bash', code: 'echo forged', extra: 1 } },
      { jobId: runId, priority: 1, removeOnComplete: true, removeOnFail: true },
    );
    await waitFor(
      () =>
        workers.some((worker) => worker.output().includes(`job ${runId} refused: not a valid run`)),
      'a worker to refuse it',
    );
    const messages = await connection.xrange(keys.messages, '-', '+');
    const ofForged = messages
      .map(([, fields]) => JSON.parse(fields[1] ?? '{}') as { kind: string; runId: string })
      .filter((message) => message.runId === runId)
      .map((message) => message.kind);
    expect(ofForged).toEqual(['rejected']);
    await queue.close();
    connection.disconnect();
  });

  it('ends a run it cannot hand to a worker as error, instead of leaving it queued', async () => {
    const run = await executor.submit({
      kind: 'tool',
      toolId: 'python',
      projectDir: '/nowhere/project',
    });
    const { result } = await follow(executor, run.id);
    expect(result.state).toBe('error');
    expect(result.error).toContain('could not hand this run to a worker');
    expect(result.error).not.toContain('/nowhere');
    expect(logged.some((line) => line.includes(`run ${run.id} could not be queued`))).toBe(true);
  });
});
