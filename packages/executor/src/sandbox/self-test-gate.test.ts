import { describe, expect, it } from 'vitest';
import { assertSandboxSafe, UnsafeSandboxError } from './self-test-gate.ts';
import type { SelfTestReport } from './self-test.ts';

const report = (ok: boolean): SelfTestReport => ({
  ok,
  startedAt: 0,
  durationMs: 1,
  checks: [
    { layer: 'network', mechanism: 'bwrap --unshare-net', ok: true, detail: 'tcp: ENETUNREACH' },
    {
      layer: 'seccomp',
      mechanism: 'classic BPF filter',
      ok,
      detail: ok ? 'ptrace: EPERM' : 'ptrace: expected EPERM, got OK',
    },
  ],
});

describe('assertSandboxSafe', () => {
  it('lets runs through when every layer held', () => {
    expect(() =>
      assertSandboxSafe(report(true), { allowUnsafe: false, warn: () => {} }),
    ).not.toThrow();
  });

  it('refuses untrusted runs naming the failed layer and how to override', () => {
    let caught: unknown;
    try {
      assertSandboxSafe(report(false), { allowUnsafe: false, warn: () => {} });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(UnsafeSandboxError);
    expect((caught as UnsafeSandboxError).failedLayers).toEqual(['seccomp']);
    expect((caught as Error).message).toContain('seccomp (ptrace: expected EPERM, got OK)');
    expect((caught as Error).message).toContain('RUNBOX_ALLOW_UNSAFE_SANDBOX=1');
  });

  it('with the explicit opt-out, runs but warns loudly', () => {
    const warnings: string[] = [];
    assertSandboxSafe(report(false), {
      allowUnsafe: true,
      warn: (message) => warnings.push(message),
    });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^WARNING: RUNBOX_ALLOW_UNSAFE_SANDBOX=1 is set/);
  });
});
