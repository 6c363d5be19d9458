import { readFileSync } from 'node:fs';
import type { Executor } from '@runbox/executor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiSide, type ApiSide } from './support/api-side.ts';
import { follow, outputLines, waitFor } from './support/follow.ts';
import { startTestRedis, type TestRedis } from './support/redis-server.ts';
import { startWorkerProcess, type WorkerProcess } from './support/worker-process.ts';

/**
 * The worker as production starts it: `./runbox worker`, one bundled file (scripts/build-worker.mjs)
 * whose modules still find their files (the language runners, tools.json) where the sources are,
 * with warm sandboxes of its own.
 */

let redis: TestRedis;
let api: ApiSide;
let executor: Executor;
let worker: WorkerProcess;

beforeAll(async () => {
  redis = await startTestRedis();
  api = await startApiSide({ name: 'bundled', redisUrl: redis.url });
  executor = api.executor;
  worker = await startWorkerProcess({
    redisUrl: redis.url,
    name: `bundled-${process.pid}`,
    bundled: true,
    env: { RUNBOX_WARM_SANDBOXES: 'python=1' },
  });
}, 120_000);

afterAll(async () => {
  await api?.close();
  await worker?.terminate();
  await worker?.cleanUp();
  await redis?.stop();
});

function waitingInterpreters(): number[] {
  return worker.sandboxProcesses().filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'python3';
    } catch {
      return false;
    }
  });
}

describe('the bundled worker (./runbox worker)', () => {
  it('keeps a warm Python sandbox and runs a snippet in it: stdin, output, the value', async () => {
    await waitFor(() => waitingInterpreters().length === 1, 'a warm python sandbox', 20_000);
    const [warm] = waitingInterpreters();
    const run = await executor.submit({
      kind: 'snippet',
      language: 'python',
      code: 'import sys\nprint("from", sys.stdin.read().strip())\n6 * 7',
      stdin: 'the bundle\n',
    });
    const { events, result } = await follow(executor, run.id);
    expect(result.state).toBe('completed');
    expect(outputLines(events, 'stdout')).toEqual(['from the bundle']);
    expect(result.value).toBe(42);
    // The warm one served the run and is gone; another waits in its place.
    await waitFor(
      () => waitingInterpreters().length === 1 && waitingInterpreters()[0] !== warm,
      'the warm sandbox replaced',
      20_000,
    );
  });

  it('runs a bash snippet (no warm runner: cold) with the runtime files the sources find', async () => {
    const run = await executor.submit({
      kind: 'snippet',
      language: 'bash',
      code: 'echo cold; exit 4',
    });
    const { events, result } = await follow(executor, run.id);
    expect(result.state).toBe('failed');
    expect(result.exitCode).toBe(4);
    expect(outputLines(events, 'stdout')).toEqual(['cold']);
  });
});
