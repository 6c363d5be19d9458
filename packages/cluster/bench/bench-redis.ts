import { startTestRedis, type TestRedis } from '../test/support/redis-server.ts';

/** Redis servers alive now, for the bench's signal handler. */
const live = new Set<TestRedis>();

/**
 * Runs `body` with a Redis of its own (the tests' real redis-server: a free loopback port, a
 * password, no persistence), killed afterwards whether `body` threw or not. A section's Redis is
 * nobody else's, so no queue, stream or lease of one section is seen by the next.
 */
export async function withRedis(body: (redis: TestRedis) => Promise<void>): Promise<void> {
  const redis = await startTestRedis();
  live.add(redis);
  try {
    await body(redis);
  } finally {
    live.delete(redis);
    await redis.stop();
  }
}

/** Kills every Redis still alive (SIGKILL is sent before the first await of `stop`). */
export function killRedisServers(): void {
  for (const redis of live) void redis.stop();
  live.clear();
}
