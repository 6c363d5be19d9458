import { ConfigError, ENGINE_DEFAULTS } from '@runbox/executor';
import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.ts';

describe('loadConfig', () => {
  it("takes the engine's defaults for the engine's settings", () => {
    const config = loadConfig({}, '/srv');
    expect(config.concurrency).toBe(ENGINE_DEFAULTS.concurrency);
    expect(config.maxQueueLength).toBe(ENGINE_DEFAULTS.maxQueueLength);
    expect(config.maxOutputLines).toBe(ENGINE_DEFAULTS.maxOutputLines);
  });

  it.each([
    ['RUNBOX_MAX_QUEUE', '0'],
    ['RUNBOX_API_KEYS', 'ci:short'],
    // the executor's own variable, read through the server's configuration
    ['RUNBOX_CGROUP', 'v3'],
  ])('refuses %s=%s with the one ConfigError, naming the variable', (variable, value) => {
    expect(() => loadConfig({ [variable]: value }, '/srv')).toThrow(ConfigError);
    expect(() => loadConfig({ [variable]: value }, '/srv')).toThrow(
      new RegExp(`^environment variable ${variable}: `),
    );
  });
});
