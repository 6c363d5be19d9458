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

  it('allows no package registry unless told, and reads the ones it is given', () => {
    expect(hostEnvFrom({}).environments).toMatchObject({
      pipIndexUrl: null,
      npmRegistry: null,
      named: {},
      installWallTimeMs: 600_000,
    });
    const env = hostEnvFrom({
      RUNBOX_PIP_INDEX_URL: 'https://pypi.org/simple',
      RUNBOX_NPM_REGISTRY: 'https://registry.npmjs.org/',
      RUNBOX_EGRESS_HOSTS: 'files.pythonhosted.org',
      RUNBOX_ENVIRONMENTS: '{"science":{"description":"numbers","python":["numpy==2.1.3"]}}',
    }).environments;
    expect(env.pipIndexUrl).toBe('https://pypi.org/simple');
    expect(env.named['science']?.python).toEqual(['numpy==2.1.3']);
  });

  it.each([
    ['RUNBOX_PIP_INDEX_URL', 'ftp://mirror.example/simple'],
    ['RUNBOX_NPM_REGISTRY', 'https://user:secret@registry.example/'],
    ['RUNBOX_EGRESS_HOSTS', 'ftp://x'],
    ['RUNBOX_ENVIRONMENTS', '{not json'],
    ['RUNBOX_ENVIRONMENTS', '{"project":{"python":["x"]}}'],
    ['RUNBOX_ENVIRONMENTS', '{"empty":{}}'],
    ['RUNBOX_ENVIRONMENTS', '{"bad":{"python":["x; rm -rf /"]}}'],
  ])('refuses %s=%s, naming the variable', (variable, value) => {
    expect(() => hostEnvFrom({ [variable]: value })).toThrow(
      expect.objectContaining({ code: 'CONFIG', variable }),
    );
  });
});
