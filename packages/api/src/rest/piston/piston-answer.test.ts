import type { RunResult } from '@runbox/executor';
import { describe, expect, it } from 'vitest';
import type { CollectedOutput } from '../run-output.ts';
import { pistonRunOf } from './piston-answer.ts';

const text = (value: string) => ({ text: value, bytes: value.length, truncated: false });

const output: CollectedOutput = {
  ended: true,
  result: null,
  stdout: text('out\n'),
  stderr: text('err\n'),
  combined: text('out\nerr\n'),
  outputLimit: null,
  lastSeq: 5,
};

function result(fields: Partial<RunResult>): RunResult {
  return {
    state: 'completed',
    exitCode: 0,
    signal: null,
    queuedAt: 1,
    startedAt: 2,
    finishedAt: 3,
    durationMs: 40,
    usage: { cpuMs: 12, peakMemoryBytes: 1024 },
    warnings: [],
    error: null,
    outputBytes: { stdout: 4, stderr: 4 },
    outputLines: 2,
    artifacts: [],
    ...fields,
  };
}

describe("a run in Piston's terms", () => {
  it("has Piston's keys in Piston's order", () => {
    const run = pistonRunOf(result({}), output);
    expect(Object.keys(run)).toEqual([
      'stdout',
      'stderr',
      'code',
      'signal',
      'output',
      'memory',
      'message',
      'status',
      'cpu_time',
      'wall_time',
    ]);
    expect(run).toMatchObject({ stdout: 'out\n', output: 'out\nerr\n', code: 0, signal: null });
  });

  it('gives the exit code, or the signal and null', () => {
    expect(pistonRunOf(result({ state: 'failed', exitCode: 3 }), output)).toMatchObject({
      code: 3,
      signal: null,
      status: 'RE',
      message: 'Exited with error status 3',
    });
    expect(
      pistonRunOf(result({ state: 'failed', exitCode: 139, signal: 'SIGSEGV' }), output),
    ).toMatchObject({ code: null, signal: 'SIGSEGV', status: 'SG' });
  });

  it('is SIGKILL when it ran out of time, memory or output', () => {
    for (const [state, status] of [
      ['timed_out', 'TO'],
      ['memory_limit', 'SG'],
      ['output_limit', 'OL'],
    ] as const)
      expect(pistonRunOf(result({ state, exitCode: null }), output)).toMatchObject({
        code: null,
        signal: 'SIGKILL',
        status,
      });
  });
});
