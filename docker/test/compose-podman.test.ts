import { describe, expect, it } from 'vitest';
import { ComposeTranslationError, podmanCreateArgs } from './support/compose-podman.ts';
import { serviceOf } from './support/compose-services.ts';
import { loadCompose, repoPath } from './support/files.ts';
import type { YamlMap } from './support/read-yaml.ts';

const compose = loadCompose();
const options = {
  service: 'runbox',
  composeDir: repoPath('docker'),
  volumes: new Map([['runbox-data', 'test-data']]),
  passThrough: { RUNBOX_ADMIN_TOKEN: 'token-from-the-shell' },
  hostPorts: new Map([[3000, 41234]]),
};

/** The value after each occurrence of a flag. */
const valuesOf = (args: readonly string[], flag: string): string[] =>
  args.flatMap((arg, i) => (arg === flag ? [args[i + 1] ?? ''] : []));

describe('docker/compose.yaml as podman create options (what the container test runs)', () => {
  const { options: args, command } = podmanCreateArgs(serviceOf(compose, 'runbox'), options);

  it('carries every hardening key of the runbox service', () => {
    expect(valuesOf(args, '--user')).toEqual(['10001:10001']);
    expect(args).toContain('--init');
    expect(args).toContain('--read-only');
    // Docker's read_only adds no writable /run and /var/tmp; podman's does unless told not to.
    expect(args).toContain('--read-only-tmpfs=false');
    expect(valuesOf(args, '--security-opt')).toEqual([
      'no-new-privileges',
      `seccomp=${repoPath('docker/seccomp.json')}`,
      'systempaths=unconfined',
    ]);
    expect(valuesOf(args, '--cap-drop')).toEqual(['ALL']);
    expect(valuesOf(args, '--cap-add')).toEqual([]);
    expect(valuesOf(args, '--pids-limit')).toEqual(['4096']);
    expect(valuesOf(args, '--memory')).toEqual(['4g']);
    expect(valuesOf(args, '--memory-swap')).toEqual(['4g']);
    expect(valuesOf(args, '--cpus')).toEqual(['2']);
    expect(valuesOf(args, '--stop-timeout')).toEqual(['30']);
    expect(valuesOf(args, '--restart')).toEqual(['unless-stopped']);
    expect(valuesOf(args, '--log-opt')).toEqual(['max-size=10m']);
    expect(command).toEqual([]);
  });

  it('gives the tmpfs mounts to the service user with podman’s U, keeping size, mode and exec', () => {
    expect(valuesOf(args, '--tmpfs')).toEqual([
      '/tmp:size=256m,mode=1777',
      '/run/runbox-sandbox:size=1g,mode=0711,exec,U',
    ]);
  });

  it('maps the named volume, the published port and the passed-through variables', () => {
    expect(valuesOf(args, '--volume')).toEqual(['test-data:/data']);
    expect(valuesOf(args, '--publish')).toEqual(['127.0.0.1:41234:3000']);
    const env = valuesOf(args, '--env');
    expect(env).toContain('RUNBOX_ADMIN_TOKEN=token-from-the-shell');
    expect(env).toContain('RUNBOX_CONCURRENCY=2');
    // Unset names stay unset, as Compose leaves them.
    expect(env.some((entry) => entry.startsWith('RUNBOX_REDIS_URL='))).toBe(false);
  });

  it('hands podman the health check’s argv as JSON, without the CMD keyword podman would split', () => {
    const [health] = valuesOf(args, '--health-cmd');
    const argv = JSON.parse(health ?? '[]') as string[];
    expect(argv.slice(0, 2)).toEqual(['node', '-e']);
    expect(argv[2]).toContain('/readyz');
    expect(valuesOf(args, '--health-interval')).toEqual(['30s']);
    expect(valuesOf(args, '--health-retries')).toEqual(['3']);
  });

  it('refuses a key it has no translation for, so the test cannot silently drop one', () => {
    const service: YamlMap = { ...serviceOf(compose, 'runbox'), shm_size: '64m' };
    expect(() => podmanCreateArgs(service, options)).toThrow(ComposeTranslationError);
    expect(() => podmanCreateArgs(service, options)).toThrow(/shm_size/);
  });

  it('refuses a tmpfs owned by another uid than the service user (podman’s U could not say it)', () => {
    const service: YamlMap = { ...serviceOf(compose, 'runbox'), tmpfs: ['/x:size=1m,uid=0'] };
    expect(() => podmanCreateArgs(service, options)).toThrow(/uid=0 is not the service's user/);
  });

  it('translates the worker service too (its command, its disabled health check)', () => {
    const worker = podmanCreateArgs(serviceOf(compose, 'worker'), {
      ...options,
      service: 'worker',
      passThrough: {},
    });
    expect(worker.command).toEqual([
      'node',
      '--max-semi-space-size=2',
      '.runbox/worker/worker-main.mjs',
    ]);
    expect(worker.options).toContain('--no-healthcheck');
  });
});
