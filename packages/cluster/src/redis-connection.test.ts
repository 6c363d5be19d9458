import { ConfigError } from '@runbox/executor';
import { describe, expect, it } from 'vitest';
import { checkRedisUrl, redactedRedisUrl } from './redis-connection.ts';

function refusal(url: string, variable?: string): ConfigError {
  let caught: unknown;
  try {
    checkRedisUrl(url, variable);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(ConfigError);
  return caught as ConfigError;
}

describe('checkRedisUrl', () => {
  it.each([
    'redis://127.0.0.1:6379',
    'redis://redis',
    'redis://:secret@redis:6379',
    'redis://default:secret@redis:6379/0',
    'redis://redis:6379/15',
    'rediss://cache.example.com:6380',
    'rediss://:s3cr%40t@cache.example.com:6380/3',
    'redis://[::1]:6379/2',
  ])('accepts %s', (url) => {
    expect(checkRedisUrl(url).href).toBe(new URL(url).href);
  });

  it.each([
    ['http://redis:6379', /redis:\/\/ or rediss:\/\/.*http:/],
    ['https://redis:6379/0', /redis:\/\/ or rediss:\/\/.*https:/],
    ['unix:///run/redis.sock', /redis:\/\/ or rediss:\/\//],
    ['redis:///0', /no host/],
    ['redis://', /no host/],
    ['redis://redis:6379/16', /0 to 15.*"16"/],
    ['redis://redis:6379/-1', /0 to 15/],
    ['redis://redis:6379/db', /0 to 15.*"db"/],
    ['redis://redis:6379/0/1', /0 to 15/],
    ['not a url', /must be a URL/],
    ['', /must be a URL/],
    ['redis//redis:6379', /must be a URL/],
  ])('refuses %j, naming RUNBOX_REDIS_URL', (url, problem) => {
    const error = refusal(url);
    expect(error.variable).toBe('RUNBOX_REDIS_URL');
    expect(error.message).toMatch(/^environment variable RUNBOX_REDIS_URL: /);
    expect(error.problem).toMatch(problem);
  });

  it('names the variable it is told the URL came from', () => {
    const error = refusal('http://redis:6379', 'RUNBOX_OTHER_REDIS');
    expect(error.variable).toBe('RUNBOX_OTHER_REDIS');
    expect(error.message).toMatch(/^environment variable RUNBOX_OTHER_REDIS: /);
  });

  it('never puts the password of a refused URL in its message', () => {
    const error = refusal('redis://:hunter2-password@redis:6379/99');
    expect(error.message).not.toContain('hunter2');
  });
});

describe('redactedRedisUrl', () => {
  it('hides the password and keeps scheme, user, host, port and database', () => {
    const redacted = redactedRedisUrl('rediss://default:hunter2@cache.example.com:6380/3');
    expect(redacted).not.toContain('hunter2');
    expect(redacted).toBe('rediss://default:***@cache.example.com:6380/3');
  });

  it('hides a password given without a user', () => {
    const redacted = redactedRedisUrl('redis://:hunter2@127.0.0.1:6379/0');
    expect(redacted).not.toContain('hunter2');
    expect(redacted).toBe('redis://:***@127.0.0.1:6379/0');
  });

  it('leaves a URL without a password as it is', () => {
    expect(redactedRedisUrl('redis://redis:6379/1')).toBe('redis://redis:6379/1');
  });
});
