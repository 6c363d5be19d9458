import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSandboxHost } from '../src/sandbox/sandbox-host.ts';
import { runSelfTest } from '../src/sandbox/self-test.ts';
import { claimTestUid } from './support/test-uid.ts';

describe('the sandbox self-test', () => {
  it('holds on every layer of this host', async () => {
    const stateDir = join(tmpdir(), `runbox-test-selftest-${randomBytes(3).toString('hex')}`);
    const host = await createSandboxHost({
      stateDir,
      cgroupGroupName: `runbox-test-selftest-${randomBytes(3).toString('hex')}`,
      sandboxUid: claimTestUid(64_100, 800),
    });
    try {
      const report = await runSelfTest(host);
      expect(report.checks.filter((check) => !check.ok)).toEqual([]);
      expect(report.checks.map((check) => check.layer)).toEqual([
        'namespaces',
        'network',
        'read-only root',
        'tmpfs /tmp size',
        'uid and capabilities',
        'no-new-privs',
        'seccomp',
        'rlimits',
        'environment',
        'cgroup memory',
        'cgroup pids',
        'timeout and kill',
        'workspace size',
      ]);
      expect(report.ok).toBe(true);
    } finally {
      await host.close();
      await rm(stateDir, { recursive: true, force: true });
    }
  });

  it('reports a host with no usable cgroup as broken, naming why, instead of failing to start', async () => {
    // This machine's cgroup v2 mount has no controllers: forcing v2 leaves no usable cgroup.
    const stateDir = join(tmpdir(), `runbox-test-selftest-${randomBytes(3).toString('hex')}`);
    const host = await createSandboxHost({
      stateDir,
      cgroup: 'v2',
      sandboxUid: claimTestUid(64_100, 800),
    });
    try {
      expect(host.cgroups.version).toBe('none');
      const report = await runSelfTest(host);
      expect(report.ok).toBe(false);
      const memory = report.checks.find((check) => check.layer === 'cgroup memory');
      expect(memory).toMatchObject({ ok: false, mechanism: 'cgroup none' });
      expect(memory?.detail).toMatch(/no usable cgroup for per-run limits/);
    } finally {
      await host.close();
      await rm(stateDir, { recursive: true, force: true });
    }
  });
});
