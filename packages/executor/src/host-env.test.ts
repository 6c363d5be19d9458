import { describe, expect, it } from 'vitest';
import { ConfigError } from './config-error.ts';
import { hostEnvFrom } from './host-env.ts';

describe('hostEnvFrom', () => {
  it('refuses a bad variable with the one ConfigError, naming the variable', () => {
    let caught: unknown;
    try {
      hostEnvFrom({ RUNBOX_SANDBOX_UID: '0' });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect(caught).toMatchObject({ code: 'CONFIG', variable: 'RUNBOX_SANDBOX_UID' });
    expect((caught as ConfigError).message).toMatch(/^environment variable RUNBOX_SANDBOX_UID: /);
    expect((caught as ConfigError).problem).not.toBe('');
  });

  it('takes the defaults when nothing is set', () => {
    expect(hostEnvFrom({})).toMatchObject({
      host: { cgroup: 'auto', sandboxUid: 64000, checkerUid: 63999, workspaceTmpfs: true },
      allowUnsafeSandbox: false,
    });
  });
});
