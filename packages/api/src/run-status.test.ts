import type { RunEvent, RunResult } from '@runbox/executor';
import { describe, expect, it } from 'vitest';
import { advanceStatus, type RunStatusView } from './run-status.ts';

const start: RunStatusView = {
  state: 'queued',
  position: 2,
  estimatedWaitMs: 100,
  running: 1,
  concurrency: 1,
  usage: null,
  result: null,
};
const result = { state: 'completed' } as RunResult;
const at = 0;

describe('advanceStatus', () => {
  it('follows a run forward and ignores states it has left', () => {
    let status = advanceStatus(start, {
      seq: 1,
      at,
      type: 'position',
      position: 1,
      running: 1,
      concurrency: 1,
      estimatedWaitMs: 50,
    });
    expect(status.position).toBe(1);
    status = advanceStatus(status, { seq: 2, at, type: 'state', state: 'running' });
    expect(status).toMatchObject({ state: 'running', position: null });
    const replayed: RunEvent = { seq: 3, at, type: 'state', state: 'queued' };
    expect(advanceStatus(status, replayed)).toBe(status);
    status = advanceStatus(status, { seq: 4, at, type: 'usage', cpuMs: 5, memoryBytes: 10 });
    expect(status.usage).toEqual({ cpuMs: 5, memoryBytes: 10 });
    status = advanceStatus(status, { seq: 5, at, type: 'end', result });
    expect(status).toMatchObject({ state: 'completed', result });
    expect(advanceStatus(status, { seq: 6, at, type: 'state', state: 'running' })).toBe(status);
  });
});
