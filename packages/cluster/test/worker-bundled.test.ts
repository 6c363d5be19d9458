import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createExecutor,
  createSandboxHost,
  type Executor,
  type SandboxHost,
} from '@runbox/executor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisDriver } from '../src/redis-driver.ts';
import { follow, outputLines, waitFor } from './support/follow.ts';
import { startTestRedis, type TestRedis } from './support/redis-server.ts';
import { startWorkerProcess, type WorkerProcess } from './support/worker-process.ts';
import { claimTestUid } from '../../executor/test/support/test-uid.ts';

/**
 * The worker as production starts it: `./runbox worker`, one bundled file (scripts/build-worker.mjs)
 * whose modules still find their files (the language runners, tools.json) where the sources are,
 * with warm sandboxes of its own.
 */

const suffix = randomBytes(3).toString('hex');
const stateDir = join(tmpdir(), `runbox-test-bundled-api-${suffix}`);
let redis: TestRedis;
let host: SandboxHost;
let executor: Executor;
let worker: WorkerProcess;

beforeAll(async () => {
  redis = await startTestRedis();
  host = await createSandboxHost({
    stateDir,
    cgroupGroupName: `runbox-test-bundled-api-${suffix}`,
    sandboxUid: claimTestUid(65_400, 10),
  });
  const driver = await createRedisDriver({
    url: redis.url,
    concurrency: 1,
    leaseMs: 2_000,
    output: { maxLines: 10_000, pii: false },
    projectDigest: () => Promise.reject(new Error('no projects in this test')),
    log: { warn: () => {}, error: () => {} },
  });
  executor = createExecutor({ host, driver, syntaxCheck: false });
  worker = await startWorkerProcess({
    redisUrl: redis.url,
    name: `bundled-${suffix}`,
    bundled: true,
    env: { RUNBOX_WARM_SANDBOXES: 'python=1' },
  });
}, 120_000);

afterAll(async () => {
  await executor?.shutdown({ deadlineMs: 0 });
  await worker?.terminate();
  await worker?.cleanUp();
  await host?.close();
  await rm(stateDir, { recursive: true, force: true });
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
