import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createExecutor,
  createSandboxHost,
  type Executor,
  type SandboxHost,
} from '@runbox/executor';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createRedisDriver } from '../src/redis-driver.ts';
import { firstOutput, follow, outputLines, waitFor } from './support/follow.ts';
import { startTestRedis, type TestRedis } from './support/redis-server.ts';
import { startWorkerProcess, type WorkerProcess } from './support/worker-process.ts';
import { claimTestUid } from '../../executor/test/support/test-uid.ts';

const LEASE_MS = 2_000;
const suffix = randomBytes(3).toString('hex');
const stateDir = join(tmpdir(), `runbox-test-faults-api-${suffix}`);
let redis: TestRedis;
let host: SandboxHost;
let executor: Executor;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  redis = await startTestRedis();
  host = await createSandboxHost({
    stateDir,
    cgroupGroupName: `runbox-test-faults-api-${suffix}`,
    sandboxUid: claimTestUid(65_400, 10),
  });
  const driver = await createRedisDriver({
    url: redis.url,
    concurrency: 4,
    leaseMs: LEASE_MS,
    output: { maxLines: 10_000, pii: false },
    projectDigest: () => Promise.reject(new Error('no projects in this test')),
    log: { warn: () => {}, error: () => {} },
  });
  executor = createExecutor({ host, driver, syntaxCheck: false });
}, 30_000);

afterEach(async () => {
  // Every worker stopped before any clean-up can throw.
  await Promise.all(workers.map((worker) => worker.kill()));
  for (const worker of workers.splice(0)) await worker.cleanUp();
});

afterAll(async () => {
  await executor?.shutdown({ deadlineMs: 0 });
  await host?.close();
  await rm(stateDir, { recursive: true, force: true });
  await redis?.stop();
});

describe('the redis driver when things break', () => {
  it('kill -9 of a worker mid-run: the run ends interrupted with its output, queued runs go to the other worker', async () => {
    const doomed = await startWorkerProcess({
      redisUrl: redis.url,
      name: 'doomed',
      leaseMs: LEASE_MS,
    });
    workers.push(doomed);
    const run = await executor.submit({
      kind: 'snippet',
      language: 'bash',
      code: 'echo before-the-crash; sleep 60',
    });
    const ended = follow(executor, run.id);
    await firstOutput(executor, run.id);
    const queued = await executor.submit({ kind: 'snippet', language: 'bash', code: 'echo after' });
    const survivor = await startWorkerProcess({
      redisUrl: redis.url,
      name: 'survivor',
      leaseMs: LEASE_MS,
    });
    workers.push(survivor);
    const killedAt = Date.now();
    await doomed.kill();
    const { events, result } = await ended;
    expect(result.state).toBe('interrupted');
    expect(result.error).toContain('doomed');
    expect(outputLines(events)).toEqual(['before-the-crash']);
    // Within the lease and the watchdog's quarter of it, with room for a loaded machine.
    expect(Date.now() - killedAt).toBeLessThan(LEASE_MS * 3);
    const after = await follow(executor, queued.id);
    expect(after.result.state).toBe('completed');
    expect(outputLines(after.events)).toEqual(['after']);
    await waitFor(
      () => doomed.sandboxProcesses().length === 0,
      "the dead worker's sandbox to go",
      5_000,
    );
  });

  it('a run is never started again after its worker died (code is not idempotent)', async () => {
    const doomed = await startWorkerProcess({
      redisUrl: redis.url,
      name: 'doomed2',
      leaseMs: LEASE_MS,
    });
    workers.push(doomed);
    const run = await executor.submit({
      kind: 'snippet',
      language: 'bash',
      code: 'echo once; sleep 60',
    });
    const ended = follow(executor, run.id);
    await firstOutput(executor, run.id);
    await doomed.kill();
    const other = await startWorkerProcess({
      redisUrl: redis.url,
      name: 'other',
      leaseMs: LEASE_MS,
    });
    workers.push(other);
    const { events, result } = await ended;
    expect(result.state).toBe('interrupted');
    // BullMQ's stall check (lock lapsed, maxStalledCount 0) would fail the job, not re-run it.
    await new Promise((resolve) => setTimeout(resolve, LEASE_MS * 2));
    expect(outputLines(events)).toEqual(['once']);
    expect(other.sandboxProcesses()).toEqual([]);
  });

  it('Redis restarted without persistence: waiting runs are queued again, nothing is lost', async () => {
    // No worker yet: the runs wait in Redis, then Redis loses them.
    const waiting = await Promise.all(
      ['one', 'two', 'three'].map((word) =>
        executor.submit({ kind: 'snippet', language: 'bash', code: `echo ${word}` }),
      ),
    );
    const ended = waiting.map((run) => follow(executor, run.id));
    await redis.restart();
    const worker = await startWorkerProcess({
      redisUrl: redis.url,
      name: 'after-restart',
      leaseMs: LEASE_MS,
    });
    workers.push(worker);
    const results = await Promise.all(ended);
    expect(results.map((end) => end.result.state)).toEqual(['completed', 'completed', 'completed']);
    expect(results.map((end) => outputLines(end.events))).toEqual([['one'], ['two'], ['three']]);
  });

  it('Redis restarted without persistence while a run runs: it finishes or ends interrupted, and the worker goes on', async () => {
    const worker = await startWorkerProcess({
      redisUrl: redis.url,
      name: 'through-restart',
      leaseMs: LEASE_MS,
    });
    workers.push(worker);
    const run = await executor.submit({
      kind: 'snippet',
      language: 'bash',
      code: 'echo before; sleep 2; echo after',
    });
    const ended = follow(executor, run.id);
    await firstOutput(executor, run.id);
    await redis.restart();
    const { events, result } = await ended;
    expect(['completed', 'interrupted']).toContain(result.state);
    expect(outputLines(events)).toEqual(
      result.state === 'completed' ? ['before', 'after'] : outputLines(events).slice(0, 2),
    );
    expect(outputLines(events)[0]).toBe('before');
    const next = await executor.submit({ kind: 'snippet', language: 'bash', code: 'echo next' });
    const nextEnd = await follow(executor, next.id);
    expect(nextEnd.result.state).toBe('completed');
    expect(outputLines(nextEnd.events)).toEqual(['next']);
  });
});
