import { ConfigError } from '@runbox/executor';
import { Redis } from 'ioredis';

/**
 * Checks a Redis URL before anything connects: `redis://` or `rediss://` (TLS), a host, an
 * optional password and database number. What is wrong is named with the variable it came from.
 */
export function checkRedisUrl(url: string, variable = 'RUNBOX_REDIS_URL'): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(variable, 'must be a URL like redis://:password@host:6379/0');
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:')
    throw new ConfigError(
      variable,
      `must start with redis:// or rediss://, got ${parsed.protocol}//`,
    );
  if (parsed.hostname === '') throw new ConfigError(variable, 'names no host');
  const db = parsed.pathname.replace(/^\//, '');
  if (db !== '' && !/^(?:[0-9]|1[0-5])$/.test(db))
    throw new ConfigError(variable, `the database must be a number from 0 to 15, got "${db}"`);
  return parsed;
}

/** The URL with its password replaced, for logs. */
export function redactedRedisUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.password !== '') parsed.password = '***';
  return parsed.toString();
}

/**
 * A connection as BullMQ needs it: commands wait for a reconnect instead of failing after a few
 * retries (`maxRetriesPerRequest: null`), so a Redis restart delays work instead of losing it.
 */
export function connectRedis(
  url: string,
  name: string,
  onError: (error: Error) => void = () => {},
): Redis {
  checkRedisUrl(url);
  const redis = new Redis(url, {
    connectionName: name,
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    retryStrategy: (times) => Math.min(50 * times, 1_000),
  });
  // A lost connection is retried (above); its error events are not the process's to die of.
  redis.on('error', onError);
  return redis;
}
