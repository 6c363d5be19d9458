import type { Executor } from '@runbox/executor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiSide, type ApiSide } from './support/api-side.ts';
import { follow, waitFor } from './support/follow.ts';
import { startTestRedis, type TestRedis } from './support/redis-server.ts';
import { startWorkerProcess, type WorkerProcess } from './support/worker-process.ts';

/**
 * A worker that cannot run a job says so: the run ends `error` with words for the user (no path
 * or address of the worker), never stays queued.
 */

const logged: string[] = [];
let redis: TestRedis;
let api: ApiSide;
let executor: Executor;
let worker: WorkerProcess;

beforeAll(async () => {
  redis = await startTestRedis();
  api = await startApiSide({
    name: 'refusals',
    redisUrl: redis.url,
    driver: {
      concurrency: null,
      // A project the API knows; the worker below cannot reach the API to fetch it.
      projectDigest: () => Promise.resolve(`sha256-${'ab'.repeat(32)}`),
      log: { warn: (line) => logged.push(line), error: (_error, line) => logged.push(line) },
    },
    executor: {
      // Around the unit: the API side's tool checks pass; the worker's own refusals are under test.
      tools: {
        limits: () => ({}),
        check: () => Promise.resolve([]),
        prepare: () => Promise.reject(new Error('not on the API side')),
      },
    },
  });
  executor = api.executor;
  worker = await startWorkerProcess({
    redisUrl: redis.url,
    name: 'refuser',
    env: {
      RUNBOX_API_URL: 'http://127.0.0.1:9',
      RUNBOX_WORKER_TOKEN: 'test-worker-token-0123456789',
      RUNBOX_MAX_WALL_TIME_MS: '40000',
    },
  });
}, 60_000);

afterAll(async () => {
  await api?.close();
  await worker?.terminate();
  await worker?.cleanUp();
  await redis?.stop();
});

describe('a worker that cannot run a job', () => {
  it('refuses limits above its own maximums, naming the limit', async () => {
    const run = await executor.submit({
      kind: 'snippet',
      language: 'bash',
      code: 'echo never',
      limits: { wallTimeMs: 60_000 },
    });
    const result = (await follow(executor, run.id)).result;
    expect(result.state).toBe('error');
    expect(result.error).toContain('wallTimeMs');
    expect(result.error).toContain('40000');
  });

  it('ends a tool run whose files it cannot fetch as error, naming no address of its own', async () => {
    const run = await executor.submit({ kind: 'tool', toolId: 'python', projectDir: '/p' });
    const result = (await follow(executor, run.id)).result;
    expect(result.state).toBe('error');
    expect(result.error).toContain('refuser could not start it');
    expect(result.error).not.toContain('127.0.0.1');
    // Its log comes through its stdout, which may be behind the message through Redis.
    await waitFor(
      () => worker.output().includes(`job ${run.id} failed before it started`),
      'the worker to log why',
      5_000,
    );
  });

  it('still runs what it can afterwards', async () => {
    const run = await executor.submit({ kind: 'snippet', language: 'bash', code: 'echo fine' });
    expect((await follow(executor, run.id)).result.state).toBe('completed');
  });
});
