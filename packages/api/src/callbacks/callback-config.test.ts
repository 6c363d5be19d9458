import { randomBytes } from 'node:crypto';
import { ConfigError } from '@runbox/executor';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config.ts';
import { createAddressPolicy } from './address-policy.ts';
import { DEFAULT_RETRY_SCHEDULE_MS } from './callback-config.ts';
import { CallbackRefusedError } from './callback-errors.ts';
import { callbackUrlSchema } from './callback-url.ts';
import { callbackForNewRun } from './run-callback.ts';

const secret = (bytes = 32): string => `whsec_${randomBytes(bytes).toString('base64')}`;
const KEY = 'k'.repeat(24);
const OTHER_KEY = 'o'.repeat(24);

function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env, '/');
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('the configuration was taken');
}

describe('the callback variables', () => {
  it('default to no callbacks, the documented schedule, 1 day, 10 s', () => {
    expect(loadConfig({}, '/').callbacks).toEqual({
      defaultUrl: null,
      serverSecret: null,
      keySecrets: new Map(),
      allowNetworks: [],
      retryScheduleMs: DEFAULT_RETRY_SCHEDULE_MS,
      maxAgeMs: 86_400_000,
      timeoutMs: 10_000,
      publicUrl: null,
      heartbeat: null,
    });
  });

  it('take a server secret, key secrets, networks, a schedule and a public URL', () => {
    const server = secret();
    const ci = secret(64);
    const config = loadConfig(
      {
        RUNBOX_API_KEYS: `ci:${KEY},other:${OTHER_KEY}`,
        RUNBOX_CALLBACK_SECRET: server,
        RUNBOX_CALLBACK_KEY_SECRETS: `ci:${ci}`,
        RUNBOX_CALLBACK_URL: 'https://hooks.example.org/runbox',
        RUNBOX_CALLBACK_ALLOW_NETWORKS: '127.0.0.0/8, fd00::/8',
        RUNBOX_CALLBACK_RETRY_SCHEDULE_MS: '100,200',
        RUNBOX_CALLBACK_MAX_AGE_MS: '60000',
        RUNBOX_CALLBACK_TIMEOUT_MS: '500',
        RUNBOX_PUBLIC_URL: 'https://runbox.example.org/',
      },
      '/',
    ).callbacks;
    expect(config.serverSecret).toBe(server);
    expect(config.keySecrets).toEqual(new Map([['ci', ci]]));
    expect(config.defaultUrl).toBe('https://hooks.example.org/runbox');
    expect(config.allowNetworks.map((n) => `${n.network}/${n.prefix}`)).toEqual([
      '127.0.0.0/8',
      'fd00::/8',
    ]);
    expect(config.retryScheduleMs).toEqual([100, 200]);
    expect(config.maxAgeMs).toBe(60_000);
    expect(config.timeoutMs).toBe(500);
    expect(config.publicUrl).toBe('https://runbox.example.org');
  });

  it.each([
    [{ RUNBOX_CALLBACK_SECRET: 'hunter2' }, 'RUNBOX_CALLBACK_SECRET'],
    [{ RUNBOX_CALLBACK_SECRET: secret(16) }, 'RUNBOX_CALLBACK_SECRET'],
    [{ RUNBOX_CALLBACK_SECRET: secret(65) }, 'RUNBOX_CALLBACK_SECRET'],
    [{ RUNBOX_CALLBACK_SECRET: `whsec_${'!'.repeat(40)}` }, 'RUNBOX_CALLBACK_SECRET'],
    [{ RUNBOX_CALLBACK_URL: 'https://hooks.example.org/' }, 'RUNBOX_CALLBACK_URL'],
    [{ RUNBOX_CALLBACK_URL: 'ftp://x', RUNBOX_CALLBACK_SECRET: secret() }, 'RUNBOX_CALLBACK_URL'],
    [
      { RUNBOX_CALLBACK_URL: 'http://127.0.0.1:9/', RUNBOX_CALLBACK_SECRET: secret() },
      'RUNBOX_CALLBACK_URL',
    ],
    [{ RUNBOX_CALLBACK_KEY_SECRETS: `nobody:${secret()}` }, 'RUNBOX_CALLBACK_KEY_SECRETS'],
    [{ RUNBOX_CALLBACK_ALLOW_NETWORKS: 'everywhere' }, 'RUNBOX_CALLBACK_ALLOW_NETWORKS'],
    [{ RUNBOX_CALLBACK_RETRY_SCHEDULE_MS: '5s' }, 'RUNBOX_CALLBACK_RETRY_SCHEDULE_MS'],
    [{ RUNBOX_CALLBACK_TIMEOUT_MS: '10' }, 'RUNBOX_CALLBACK_TIMEOUT_MS'],
    [{ RUNBOX_PUBLIC_URL: 'runbox.example.org' }, 'RUNBOX_PUBLIC_URL'],
    [{ RUNBOX_HEARTBEAT_URL: 'https://cp.example.org/beat' }, 'RUNBOX_HEARTBEAT_URL'],
    [
      { RUNBOX_HEARTBEAT_URL: 'http://[::1]/beat', RUNBOX_CALLBACK_SECRET: secret() },
      'RUNBOX_HEARTBEAT_URL',
    ],
  ])('refuse %j, naming %s', (env, variable) => {
    expect(configError(env).message).toContain(variable);
  });

  it('allow a default URL on an allowed network', () => {
    const config = loadConfig(
      {
        RUNBOX_CALLBACK_URL: 'http://127.0.0.1:9/hook',
        RUNBOX_CALLBACK_SECRET: secret(),
        RUNBOX_CALLBACK_ALLOW_NETWORKS: '127.0.0.1',
      },
      '/',
    );
    expect(config.callbacks.defaultUrl).toBe('http://127.0.0.1:9/hook');
  });
});

describe('callbackUrlSchema', () => {
  it.each([
    ['https://hooks.example.org/runbox?token=abc', true],
    ['http://hooks.example.org:8080/x', true],
    ['ftp://hooks.example.org/', false],
    ['javascript:alert(1)', false],
    ['/relative/path', false],
    ['https://user:pass@hooks.example.org/', false],
    [`https://hooks.example.org/${'a'.repeat(2_100)}`, false],
  ])('%s: %s', (url, ok) => {
    const parsed = callbackUrlSchema.safeParse(url);
    expect(parsed.success).toBe(ok);
    if (!parsed.success) expect(parsed.error.issues[0]?.message).toMatch(/^callbackUrl /);
  });
});

describe('callbackForNewRun', () => {
  const server = secret();
  const ci = secret();
  const withSecrets = loadConfig(
    {
      RUNBOX_API_KEYS: `ci:${KEY},other:${OTHER_KEY}`,
      RUNBOX_CALLBACK_SECRET: server,
      RUNBOX_CALLBACK_KEY_SECRETS: `ci:${ci}`,
    },
    '/',
  ).callbacks;
  const keysOnly = loadConfig(
    { RUNBOX_API_KEYS: `ci:${KEY}`, RUNBOX_CALLBACK_KEY_SECRETS: `ci:${ci}` },
    '/',
  ).callbacks;
  const policy = createAddressPolicy([]);
  const anonymous = { owner: 'abcdefghijklmnopqrstuvwx', anonymous: true };
  const url = 'https://hooks.example.org/runbox';

  it("signs with the key's secret when it has one, else the server's", () => {
    expect(
      callbackForNewRun(withSecrets, policy, { owner: 'key:ci', anonymous: false }, url),
    ).toEqual({ url, secretId: 'key:ci' });
    expect(
      callbackForNewRun(withSecrets, policy, { owner: 'key:other', anonymous: false }, url),
    ).toEqual({ url, secretId: 'server' });
    expect(callbackForNewRun(withSecrets, policy, anonymous, url)).toEqual({
      url,
      secretId: 'server',
    });
    expect(callbackForNewRun(withSecrets, policy, anonymous, undefined)).toBeNull();
  });

  it('refuses a URL nobody can sign for, naming the rule', () => {
    expect(callbackForNewRun(keysOnly, policy, { owner: 'key:ci', anonymous: false }, url)).toEqual(
      { url, secretId: 'key:ci' },
    );
    const error = (() => {
      try {
        callbackForNewRun(keysOnly, policy, anonymous, url);
      } catch (caught) {
        return caught;
      }
      return null;
    })();
    expect(error).toBeInstanceOf(CallbackRefusedError);
    expect(error).toMatchObject({
      code: 'CALLBACK_REFUSED',
      field: 'callbackUrl',
      rule: 'no-secret',
    });
  });

  it('refuses literal forbidden hosts at create, and leaves names to delivery', () => {
    for (const bad of [
      'http://127.0.0.1/',
      'http://[::1]/',
      'http://10.1.2.3/',
      'http://localhost:8080/',
      'http://[::ffff:192.168.0.1]/',
    ]) {
      expect(() => callbackForNewRun(withSecrets, policy, anonymous, bad)).toThrow(
        /callbackUrl: its host is/,
      );
    }
    expect(callbackForNewRun(withSecrets, policy, anonymous, 'http://internal.example/')).toEqual({
      url: 'http://internal.example/',
      secretId: 'server',
    });
  });
});
