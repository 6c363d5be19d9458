import type { Redis } from 'ioredis';
import { z } from 'zod';
import { parseJsonAs } from './json-entry.ts';
import type { ClusterKeys } from './cluster-keys.ts';

/** What a worker says of itself in its lease, for the API and the admin page. */
export interface WorkerInfo {
  name: string;
  address: string;
  concurrency: number;
  running: number;
  /** `ok`, or the layers that failed. */
  selfTest: string;
  draining: boolean;
  heartbeatAt: number;
  /** This worker process's instance (a new one each start): what a session's placement names. */
  instance: string;
  /** The sessions whose kernel runs here, with its memory when measured. */
  sessions: { id: string; memoryBytes: number | null }[];
}

export interface WorkerLease {
  /** False from the moment renewing failed for longer than the lease until it renews again. */
  holds(): boolean;
  stop(): Promise<void>;
}

/**
 * A worker's lease: its hash in Redis, renewed every third of the lease. When renewing has
 * failed for a whole lease the API counts the worker gone (its runs end `interrupted`), so the
 * worker must count itself gone too: `onLapse` kills its sandboxes. When Redis answers again the
 * worker renews and takes jobs again (`onRejoin`).
 */
export function startWorkerLease(
  redis: Redis,
  keys: ClusterKeys,
  options: {
    leaseMs: number;
    info(): Omit<WorkerInfo, 'heartbeatAt'>;
    onLapse(): void;
    onRejoin(): void;
    /** The admin asked this worker to drain (true) or take jobs again (false); told on each renewal. */
    onDrain(draining: boolean): void;
    onError(error: unknown): void;
  },
): WorkerLease {
  let lastRenewed = Date.now();
  let lapsed = false;
  let stopped = false;

  async function renew(): Promise<void> {
    const info = options.info();
    const key = keys.worker(info.name);
    const fields: Record<string, string> = {
      name: info.name,
      address: info.address,
      concurrency: String(info.concurrency),
      running: String(info.running),
      selfTest: info.selfTest,
      draining: info.draining ? '1' : '0',
      heartbeatAt: String(Date.now()),
      instance: info.instance,
      sessions: JSON.stringify(info.sessions),
    };
    try {
      const replies = await redis
        .multi()
        .hset(key, fields)
        .pexpire(key, options.leaseMs)
        .sadd(keys.workers, info.name)
        .get(keys.drain(info.name))
        .exec();
      // A transaction answers each command's error in its reply instead of throwing.
      const failed = replies?.find(([error]) => error !== null)?.[0];
      if (failed) throw failed;
      lastRenewed = Date.now();
      options.onDrain(replies?.[3]?.[1] === '1');
      if (lapsed) {
        lapsed = false;
        options.onRejoin();
      }
    } catch (error) {
      options.onError(error);
    }
  }

  function check(): void {
    if (!lapsed && Date.now() - lastRenewed >= options.leaseMs) {
      lapsed = true;
      options.onLapse();
    }
  }

  const interval = Math.max(50, Math.floor(options.leaseMs / 3));
  let renewing: Promise<void> = renew();
  const timer = setInterval(() => {
    check();
    renewing = renewing.then(renew);
  }, interval);
  // The check runs even while a renewal hangs on a dead link.
  const watch = setInterval(check, Math.max(25, Math.floor(interval / 4)));

  return {
    holds: () => !lapsed,
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      clearInterval(watch);
      await renewing.catch(() => {});
    },
  };
}

/** The workers whose lease is alive. */
export async function liveWorkers(redis: Redis, keys: ClusterKeys): Promise<WorkerInfo[]> {
  const names = await redis.smembers(keys.workers);
  const workers: WorkerInfo[] = [];
  for (const name of names.sort()) {
    const hash = await redis.hgetall(keys.worker(name));
    if (!hash.name) continue;
    workers.push({
      name: hash.name,
      address: hash.address ?? '',
      concurrency: Number(hash.concurrency ?? 0),
      running: Number(hash.running ?? 0),
      selfTest: hash.selfTest ?? '',
      draining: hash.draining === '1',
      heartbeatAt: Number(hash.heartbeatAt ?? 0),
      instance: hash.instance ?? '',
      sessions: sessionsOf(hash.sessions),
    });
  }
  return workers;
}

const sessionsSchema = z.array(
  z.object({ id: z.string(), memoryBytes: z.number().nullable() }).strict(),
);

function sessionsOf(text: string | undefined): WorkerInfo['sessions'] {
  return parseJsonAs(sessionsSchema, text) ?? [];
}

/** Asks a worker to take no new job (its running ones finish), or to take jobs again. */
export async function setDraining(
  redis: Redis,
  keys: ClusterKeys,
  name: string,
  draining: boolean,
): Promise<void> {
  if (draining) await redis.set(keys.drain(name), '1');
  else await redis.del(keys.drain(name));
}
