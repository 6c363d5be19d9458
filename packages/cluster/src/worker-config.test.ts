import { availableParallelism, hostname } from 'node:os';
import { ConfigError, DEFAULT_MAXIMUMS } from '@runbox/executor';
import { describe, expect, it } from 'vitest';
import { loadWorkerConfig } from './worker-config.ts';

const REDIS_URL = 'redis://:secret@127.0.0.1:6379/0';
const TOKEN = 'a-worker-token-of-some-length';

function refusal(env: NodeJS.ProcessEnv): ConfigError {
  let caught: unknown;
  try {
    loadWorkerConfig(env);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(ConfigError);
  return caught as ConfigError;
}

describe('loadWorkerConfig', () => {
  it('takes the defaults when only RUNBOX_REDIS_URL is set', () => {
    const config = loadWorkerConfig({ RUNBOX_REDIS_URL: REDIS_URL });
    expect(config).toMatchObject({
      redisUrl: REDIS_URL,
      name: `${hostname()}-${process.pid}`,
      concurrency: availableParallelism(),
      leaseMs: 10_000,
      api: null,
      cacheDir: './data/worker-cache',
      shutdownDeadlineMs: 10_000,
      logLevel: 'info',
    });
    expect(config.maximums).toEqual({ ...DEFAULT_MAXIMUMS });
    expect(config.maximums.wallTimeMs).toBe(DEFAULT_MAXIMUMS.wallTimeMs);
  });

  it('takes every variable that is set', () => {
    const config = loadWorkerConfig({
      RUNBOX_REDIS_URL: REDIS_URL,
      RUNBOX_WORKER_NAME: 'worker_7.eu-west',
      RUNBOX_WORKER_CONCURRENCY: '3',
      RUNBOX_WORKER_LEASE_MS: '4000',
      RUNBOX_API_URL: 'http://api:3000/',
      RUNBOX_WORKER_TOKEN: TOKEN,
      RUNBOX_WORKER_CACHE_DIR: '/var/cache/runbox',
      RUNBOX_MAX_WALL_TIME_MS: '60000',
      RUNBOX_MAX_PROCESSES: '2048',
      RUNBOX_SHUTDOWN_DEADLINE_MS: '0',
      RUNBOX_LOG_LEVEL: 'debug',
    });
    expect(config).toMatchObject({
      name: 'worker_7.eu-west',
      concurrency: 3,
      leaseMs: 4_000,
      // Without the trailing slash: paths are appended to it.
      api: { url: 'http://api:3000', token: TOKEN },
      cacheDir: '/var/cache/runbox',
      shutdownDeadlineMs: 0,
      logLevel: 'debug',
    });
    expect(config.maximums).toEqual({
      ...DEFAULT_MAXIMUMS,
      wallTimeMs: 60_000,
      maxProcesses: 2_048,
    });
  });

  it('refuses a maximum below the default a run gets, naming the variable', () => {
    const error = refusal({ RUNBOX_REDIS_URL: REDIS_URL, RUNBOX_MAX_PROCESSES: '10' });
    expect(error.variable).toBe('RUNBOX_MAX_PROCESSES');
  });

  it('refuses RUNBOX_API_URL without RUNBOX_WORKER_TOKEN, naming the token', () => {
    const error = refusal({ RUNBOX_REDIS_URL: REDIS_URL, RUNBOX_API_URL: 'http://api:3000' });
    expect(error.variable).toBe('RUNBOX_WORKER_TOKEN');
  });

  it('refuses RUNBOX_WORKER_TOKEN without RUNBOX_API_URL, naming the URL', () => {
    const error = refusal({ RUNBOX_REDIS_URL: REDIS_URL, RUNBOX_WORKER_TOKEN: TOKEN });
    expect(error.variable).toBe('RUNBOX_API_URL');
  });

  it.each(['has space', 'a/b', 'name:1', '', 'x'.repeat(65), 'wörker'])(
    'refuses the worker name %j',
    (name) => {
      const error = refusal({ RUNBOX_REDIS_URL: REDIS_URL, RUNBOX_WORKER_NAME: name });
      expect(error.variable).toBe('RUNBOX_WORKER_NAME');
    },
  );

  it('accepts a worker name of 64 characters', () => {
    const name = 'w'.repeat(64);
    expect(loadWorkerConfig({ RUNBOX_REDIS_URL: REDIS_URL, RUNBOX_WORKER_NAME: name }).name).toBe(
      name,
    );
  });

  it.each(['http://127.0.0.1:6379', 'redis://127.0.0.1:6379/16', 'not a url'])(
    'refuses the Redis URL %j, naming RUNBOX_REDIS_URL',
    (url) => {
      expect(refusal({ RUNBOX_REDIS_URL: url }).variable).toBe('RUNBOX_REDIS_URL');
    },
  );

  it('refuses a missing RUNBOX_REDIS_URL, naming it', () => {
    const error = refusal({});
    expect(error.variable).toBe('RUNBOX_REDIS_URL');
    expect(error.problem).toMatch(/required/);
  });

  it.each([
    ['RUNBOX_WORKER_CONCURRENCY', '0'],
    ['RUNBOX_WORKER_LEASE_MS', '999'],
    ['RUNBOX_WORKER_TOKEN', 'short'],
    ['RUNBOX_LOG_LEVEL', 'loud'],
  ])('refuses %s=%j, naming it', (variable, value) => {
    const env: NodeJS.ProcessEnv = {
      RUNBOX_REDIS_URL: REDIS_URL,
      RUNBOX_API_URL: 'http://api:3000',
      RUNBOX_WORKER_TOKEN: TOKEN,
      [variable]: value,
    };
    expect(refusal(env).variable).toBe(variable);
  });
});
