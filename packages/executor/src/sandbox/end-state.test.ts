import { describe, expect, it } from 'vitest';
import { endStateOf } from './end-state.ts';
import { parseBwrapStatus, signalFromExitCode, type SandboxOutcome } from './sandbox-outcome.ts';

const base: SandboxOutcome = {
  exitCode: 0,
  signal: null,
  timedOut: false,
  memoryLimitExceeded: false,
  outputLimitExceeded: false,
  cancelled: false,
  setupFailed: false,
  setupError: null,
  startedAt: 0,
  finishedAt: 1,
  durationMs: 1,
  usage: { cpuMs: 0, peakMemoryBytes: 0, currentMemoryBytes: 0 },
  stdoutBytes: 0,
  stderrBytes: 0,
};

describe('endStateOf', () => {
  it('maps exit codes', () => {
    expect(endStateOf(base)).toBe('completed');
    expect(endStateOf({ ...base, exitCode: 3 })).toBe('failed');
    expect(endStateOf({ ...base, exitCode: 137, signal: 'SIGKILL' })).toBe('failed');
  });

  it('lets what runbox did win over how the program exited', () => {
    expect(endStateOf({ ...base, exitCode: null, timedOut: true, memoryLimitExceeded: true })).toBe(
      'timed_out',
    );
    expect(endStateOf({ ...base, exitCode: null, cancelled: true, timedOut: true })).toBe(
      'cancelled',
    );
    expect(endStateOf({ ...base, exitCode: null, outputLimitExceeded: true })).toBe('output_limit');
    expect(endStateOf({ ...base, exitCode: 137, memoryLimitExceeded: true })).toBe('memory_limit');
    expect(endStateOf({ ...base, exitCode: null, setupFailed: true })).toBe('error');
  });
});

describe('bwrap status', () => {
  it('reads the child pid and exit code from --json-status-fd lines', () => {
    const text = '{ "child-pid": 42, "mnt-namespace": 1 }\n{ "exit-code": 3 }\n';
    expect(parseBwrapStatus(text)).toEqual({ childPid: 42, exitCode: 3 });
    expect(parseBwrapStatus('{ "child-pid": 42 }\n')).toEqual({ childPid: 42, exitCode: null });
    expect(parseBwrapStatus('garbage\n')).toEqual({ childPid: null, exitCode: null });
  });

  it('maps 128+n to signal n', () => {
    expect(signalFromExitCode(137)).toBe('SIGKILL');
    expect(signalFromExitCode(143)).toBe('SIGTERM');
    expect(signalFromExitCode(1)).toBeNull();
    expect(signalFromExitCode(128)).toBeNull();
  });
});
