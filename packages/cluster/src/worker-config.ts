import { hostname } from 'node:os';
import { availableParallelism } from 'node:os';
import {
  ConfigError,
  maximumsFromEnv,
  hostEnvFrom,
  type HostEnv,
  type SandboxLimits,
} from '@runbox/executor';
import { z } from 'zod';
import { checkRedisUrl } from './redis-connection.ts';

const intFrom = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/** Every variable of `./runbox worker`; the README's worker table lists the same. */
const workerEnvSchema = z.object({
  RUNBOX_REDIS_URL: z.string({ error: 'is required: the Redis the API queues runs in' }).min(1),
  RUNBOX_WORKER_NAME: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1 to 64 letters, digits, dots, dashes or underscores')
    .optional(),
  RUNBOX_WORKER_CONCURRENCY: intFrom(1, 256).optional(),
  RUNBOX_WORKER_LEASE_MS: intFrom(1_000, 600_000).default(10_000),
  /** The API's URL as this worker reaches it, for project files and artifacts. */
  RUNBOX_API_URL: z.url({ error: 'must be a URL like http://api:3000' }).optional(),
  RUNBOX_WORKER_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  RUNBOX_WORKER_CACHE_DIR: z.string().min(1).default('./data/worker-cache'),
  /** The same variable as the API's: the longest wall time a run may ask for. */
  /** On SIGTERM, running runs get this long to finish, then end `interrupted`. */
  RUNBOX_SHUTDOWN_DEADLINE_MS: intFrom(0, 3_600_000).default(10_000),
  RUNBOX_LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .default('info'),
});

export interface WorkerConfig {
  redisUrl: string;
  name: string;
  concurrency: number;
  leaseMs: number;
  api: { url: string; token: string } | null;
  cacheDir: string;
  /** The largest limits a job may carry (the RUNBOX_MAX_* variables, as on the API). */
  maximums: SandboxLimits;
  shutdownDeadlineMs: number;
  logLevel: string;
  executor: HostEnv;
}

export function loadWorkerConfig(env: NodeJS.ProcessEnv): WorkerConfig {
  const parsed = workerEnvSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(String(issue?.path[0] ?? '?'), issue?.message ?? 'invalid');
  }
  const value = parsed.data;
  checkRedisUrl(value.RUNBOX_REDIS_URL);
  if ((value.RUNBOX_API_URL === undefined) !== (value.RUNBOX_WORKER_TOKEN === undefined))
    throw new ConfigError(
      value.RUNBOX_API_URL === undefined ? 'RUNBOX_API_URL' : 'RUNBOX_WORKER_TOKEN',
      'RUNBOX_API_URL and RUNBOX_WORKER_TOKEN go together (a worker fetches project files with the token)',
    );
  return {
    redisUrl: value.RUNBOX_REDIS_URL,
    name: value.RUNBOX_WORKER_NAME ?? `${hostname()}-${process.pid}`,
    concurrency: value.RUNBOX_WORKER_CONCURRENCY ?? availableParallelism(),
    leaseMs: value.RUNBOX_WORKER_LEASE_MS,
    api:
      value.RUNBOX_API_URL !== undefined && value.RUNBOX_WORKER_TOKEN !== undefined
        ? { url: value.RUNBOX_API_URL.replace(/\/$/, ''), token: value.RUNBOX_WORKER_TOKEN }
        : null,
    cacheDir: value.RUNBOX_WORKER_CACHE_DIR,
    // Every RUNBOX_MAX_* the API reads, read the same way: give workers the API's values.
    maximums: maximumsFromEnv(env),
    shutdownDeadlineMs: value.RUNBOX_SHUTDOWN_DEADLINE_MS,
    logLevel: value.RUNBOX_LOG_LEVEL,
    executor: hostEnvFrom(env),
  };
}
