import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestRedis, type TestRedis } from '../test/support/redis-server.ts';
import { clusterKeys, type ClusterKeys } from './cluster-keys.ts';
import { connectRedis } from './redis-connection.ts';
import {
  liveWorkers,
  setDraining,
  startWorkerLease,
  type WorkerInfo,
  type WorkerLease,
} from './worker-lease.ts';

const LEASE_MS = 450;

let server: TestRedis;
/** The test's own connection, to look at what the lease wrote (and to drain as the API does). */
let redis: Redis;
let prefixes = 0;
const leases: WorkerLease[] = [];
const connections: Redis[] = [];

beforeAll(async () => {
  server = await startTestRedis();
  redis = connectRedis(server.url, 'worker-lease-test');
  // While the test stops Redis, the connection reports its failed reconnects here.
  redis.on('error', () => {});
});

afterEach(async () => {
  await Promise.all(leases.splice(0).map((lease) => lease.stop()));
});

afterAll(async () => {
  for (const connection of connections) connection.disconnect();
  redis.disconnect();
  await server.stop();
});

interface Heard {
  lapses: number;
  rejoins: number;
  drains: boolean[];
  errors: unknown[];
}

function info(name: string): Omit<WorkerInfo, 'heartbeatAt'> {
  return {
    name,
    address: '10.0.0.7',
    concurrency: 3,
    running: 1,
    selfTest: 'ok',
    draining: false,
    instance: '00000000-0000-4000-8000-000000000001',
    sessions: [{ id: 'a-session', memoryBytes: 1024 }],
  };
}

/** A lease on a connection of its own, under keys no other test uses. */
function leaseFor(name: string): { lease: WorkerLease; keys: ClusterKeys; heard: Heard } {
  const keys = clusterKeys(`test${++prefixes}`);
  const connection = connectRedis(server.url, `lease-${name}`);
  connection.on('error', () => {});
  connections.push(connection);
  const heard: Heard = { lapses: 0, rejoins: 0, drains: [], errors: [] };
  const lease = startWorkerLease(connection, keys, {
    leaseMs: LEASE_MS,
    info: () => info(name),
    onLapse: () => heard.lapses++,
    onRejoin: () => heard.rejoins++,
    onDrain: (draining) => heard.drains.push(draining),
    onError: (error) => heard.errors.push(error),
  });
  leases.push(lease);
  return { lease, keys, heard };
}

async function waitFor(
  check: () => boolean | Promise<boolean>,
  what: string,
  ms = 5_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('startWorkerLease', () => {
  it('writes the lease hash with what the worker says of itself, expiring after the lease', async () => {
    const { keys } = leaseFor('w1');
    const key = keys.worker('w1');
    await waitFor(async () => (await redis.exists(key)) === 1, 'the lease hash');
    const hash = await redis.hgetall(key);
    expect(hash).toMatchObject({
      name: 'w1',
      address: '10.0.0.7',
      concurrency: '3',
      running: '1',
      selfTest: 'ok',
      draining: '0',
    });
    expect(Object.keys(hash).sort()).toEqual(
      [
        'address',
        'concurrency',
        'draining',
        'heartbeatAt',
        'instance',
        'name',
        'running',
        'selfTest',
        'sessions',
      ].sort(),
    );
    expect(Number(hash.heartbeatAt)).toBeGreaterThan(0);
    const ttl = await redis.pttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(LEASE_MS);
    expect(await redis.smembers(keys.workers)).toEqual(['w1']);
  });

  it('renews the lease: the heartbeat moves on and the hash outlives the lease time', async () => {
    const { keys, heard } = leaseFor('w1');
    const key = keys.worker('w1');
    await waitFor(async () => (await redis.exists(key)) === 1, 'the lease hash');
    const first = Number(await redis.hget(key, 'heartbeatAt'));
    await waitFor(
      async () => Number(await redis.hget(key, 'heartbeatAt')) > first,
      'a later heartbeat',
    );
    await sleep(LEASE_MS * 2);
    expect(await redis.exists(key)).toBe(1);
    expect(heard.lapses).toBe(0);
    expect(heard.errors).toEqual([]);
  });

  it('is listed by liveWorkers, which leaves out names whose lease is gone', async () => {
    const { keys, lease } = leaseFor('w2');
    await redis.sadd(keys.workers, 'gone-worker');
    await waitFor(async () => (await redis.exists(keys.worker('w2'))) === 1, 'the lease hash');
    const workers = await liveWorkers(redis, keys);
    expect(workers).toEqual([{ ...info('w2'), heartbeatAt: expect.any(Number) as number }]);
    expect(lease.holds()).toBe(true);
  });

  it('renews no more after stop(): the lease expires', async () => {
    const { keys, lease } = leaseFor('w3');
    const key = keys.worker('w3');
    await waitFor(async () => (await redis.exists(key)) === 1, 'the lease hash');
    await lease.stop();
    await waitFor(async () => (await redis.exists(key)) === 0, 'the lease to expire');
    // A renewal would write the hash again within a third of the lease.
    await sleep(LEASE_MS / 2);
    expect(await redis.exists(key)).toBe(0);
    expect(await liveWorkers(redis, keys)).toEqual([]);
  });

  it('tells onDrain what the admin asked, at the next renewal', async () => {
    const { keys, heard } = leaseFor('w4');
    await waitFor(() => heard.drains.length > 0, 'a first renewal');
    expect(heard.drains.every((draining) => !draining)).toBe(true);

    await setDraining(redis, keys, 'w4', true);
    await waitFor(() => heard.drains.at(-1) === true, 'onDrain(true)');
    expect(await redis.get(keys.drain('w4'))).toBe('1');

    await setDraining(redis, keys, 'w4', false);
    await waitFor(() => heard.drains.at(-1) === false, 'onDrain(false)');
    expect(await redis.exists(keys.drain('w4'))).toBe(0);
  });

  it('calls onLapse when renewing failed for a whole lease, and onRejoin when Redis is back', async () => {
    const { keys, lease, heard } = leaseFor('w5');
    const key = keys.worker('w5');
    await waitFor(async () => (await redis.exists(key)) === 1, 'the lease hash');
    expect(lease.holds()).toBe(true);

    await server.stop();
    await waitFor(() => heard.lapses === 1, 'onLapse');
    expect(lease.holds()).toBe(false);
    expect(heard.rejoins).toBe(0);

    // A restart without persistence: the lease hash is gone until the lease renews it.
    await server.restart();
    await waitFor(() => heard.rejoins === 1, 'onRejoin', 10_000);
    expect(lease.holds()).toBe(true);
    await waitFor(async () => (await redis.exists(key)) === 1, 'the renewed lease hash');
    expect(await redis.hget(key, 'name')).toBe('w5');
    expect(heard.lapses).toBe(1);
  });
});
