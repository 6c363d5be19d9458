import { execFileSync } from 'node:child_process';
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
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisDriver } from '../src/redis-driver.ts';
import { follow, outputLines, waitFor } from './support/follow.ts';
import { startTestRedis, type TestRedis } from './support/redis-server.ts';
import { startWorkerProcess, type WorkerProcess } from './support/worker-process.ts';
import { claimTestUid } from '../../executor/test/support/test-uid.ts';

/**
 * A worker cut off from Redis: it runs in a network namespace of its own, joined to the host by
 * a veth pair this test makes, and the test takes the link down in the middle of a run.
 */

const LEASE_MS = 2_000;
const suffix = randomBytes(3).toString('hex');
const octet = 200 + (parseInt(suffix, 16) % 50);
const netns = `rbx-${suffix}`;
const hostSide = `rbh${suffix}`;
const nsSide = `rbn${suffix}`;
const hostAddress = `10.${octet}.${parseInt(suffix.slice(0, 2), 16)}.1`;
const nsAddress = `10.${octet}.${parseInt(suffix.slice(0, 2), 16)}.2`;
const stateDir = join(tmpdir(), `runbox-test-netns-api-${suffix}`);
let redis: TestRedis;
let host: SandboxHost;
let executor: Executor;
let worker: WorkerProcess | null = null;

const ip = (...args: string[]): string => execFileSync('ip', args, { encoding: 'utf8' });

beforeAll(async () => {
  ip('netns', 'add', netns);
  ip('link', 'add', hostSide, 'type', 'veth', 'peer', 'name', nsSide);
  ip('link', 'set', nsSide, 'netns', netns);
  ip('addr', 'add', `${hostAddress}/30`, 'dev', hostSide);
  ip('link', 'set', hostSide, 'up');
  ip('netns', 'exec', netns, 'ip', 'addr', 'add', `${nsAddress}/30`, 'dev', nsSide);
  ip('netns', 'exec', netns, 'ip', 'link', 'set', nsSide, 'up');
  ip('netns', 'exec', netns, 'ip', 'link', 'set', 'lo', 'up');
  redis = await startTestRedis({ alsoBind: [hostAddress] });
  host = await createSandboxHost({
    stateDir,
    cgroupGroupName: `runbox-test-netns-api-${suffix}`,
    sandboxUid: claimTestUid(65_400, 10),
  });
  const driver = await createRedisDriver({
    url: redis.url,
    concurrency: 2,
    leaseMs: LEASE_MS,
    output: { maxLines: 10_000, pii: false },
    projectDigest: () => Promise.reject(new Error('no projects in this test')),
    log: { warn: () => {}, error: () => {} },
  });
  executor = createExecutor({ host, driver, syntaxCheck: false });
  worker = await startWorkerProcess({
    redisUrl: redis.urlVia(hostAddress),
    name: 'cut-off',
    leaseMs: LEASE_MS,
    netns,
  });
}, 60_000);

afterAll(async () => {
  await executor?.shutdown({ deadlineMs: 0 });
  if (worker) {
    await worker.kill();
    await worker.cleanUp();
  }
  await host?.close();
  await rm(stateDir, { recursive: true, force: true });
  await redis?.stop();
  try {
    ip('netns', 'del', netns);
  } catch {
    // never made
  }
});

describe('a worker cut off from Redis', () => {
  it('loses its run (interrupted, its sandbox killed) when its lease lapses, and rejoins when the link is back', async () => {
    const cutOff = worker;
    if (!cutOff) throw new Error('no worker');
    const run = await executor.submit({
      kind: 'snippet',
      language: 'bash',
      code: 'echo up; sleep 60',
    });
    const ended = follow(executor, run.id);
    for await (const event of executor.events(run.id)) if (event.type === 'output') break;
    expect(cutOff.sandboxProcesses().length).toBeGreaterThan(0);

    ip('link', 'set', hostSide, 'down');
    const { events, result } = await ended;
    expect(result.state).toBe('interrupted');
    expect(result.error).toContain('cut-off');
    expect(outputLines(events)).toEqual(['up']);
    // The worker cannot hear the API: it kills its own sandboxes when its lease lapses.
    await waitFor(() => cutOff.sandboxProcesses().length === 0, 'the sandbox killed', 15_000);
    expect(cutOff.output()).toContain('the lease lapsed');

    ip('link', 'set', hostSide, 'up');
    const again = await executor.submit({ kind: 'snippet', language: 'bash', code: 'echo back' });
    const back = await follow(executor, again.id);
    expect(back.result.state).toBe('completed');
    expect(outputLines(back.events)).toEqual(['back']);
  }, 90_000);
});
