import type { Executor, ExecutorConfig, SessionKernelsHooks } from '@runbox/executor';
import { withBenchHost, type BenchHost } from '../../executor/bench/bench-host.ts';
import { createRedisDriver, type RedisDriver } from '../src/redis-driver.ts';

/** The sandbox uid of the bench's API-side hosts (its workers take 65411..65420). */
const API_SANDBOX_UID = 65_410;

/**
 * The executor benches' host (bench-host.ts: a sandbox directory and cgroup group of its own,
 * everything removed and checked afterwards), with the cluster bench's sandbox uid. withBenchHost
 * reads the host variables from the environment before its first await, so setting the uid there
 * just before the call gives this host, and only the hosts made after it, that uid.
 */
export function withApiHost(label: string, body: (bench: BenchHost) => Promise<void>) {
  process.env.RUNBOX_SANDBOX_UID = String(API_SANDBOX_UID);
  return withBenchHost(`cluster-${label}`, body);
}

export interface RedisExecutorOptions extends Omit<ExecutorConfig, 'host' | 'driver' | 'sessions'> {
  url: string;
  /** Runs at once across all workers. */
  concurrency: number;
  /** The line cap sent with every job. @default 10_000 */
  maxLines?: number;
  leaseMs?: number;
  /** The sessions as an API's store would have them: given, sessions live on the workers. */
  sessionHooks?: SessionKernelsHooks;
}

/**
 * The API side of redis mode as boot.ts makes it: the engine with the redis driver, on the bench
 * host (shut down, and so the driver closed, by the host's clean-up). Problems the driver logs are
 * kept and printed by the section.
 */
export async function redisExecutor(
  bench: BenchHost,
  options: RedisExecutorOptions,
): Promise<{ executor: Executor; driver: RedisDriver; logged: string[] }> {
  const { url, maxLines = 10_000, leaseMs, sessionHooks, ...config } = options;
  const logged: string[] = [];
  const driver = await createRedisDriver({
    url,
    concurrency: options.concurrency,
    ...(leaseMs === undefined ? {} : { leaseMs }),
    output: { maxLines, pii: false },
    projectDigest: () => Promise.reject(new Error('the cluster bench runs no projects')),
    ...(sessionHooks ? { sessions: sessionHooks } : {}),
    log: {
      warn: (message) => logged.push(message),
      error: (error, message) =>
        logged.push(`${message}: ${error instanceof Error ? error.message : String(error)}`),
    },
  });
  const executor = bench.executor({ ...config, driver, output: { maxLines } });
  return { executor, driver, logged };
}
