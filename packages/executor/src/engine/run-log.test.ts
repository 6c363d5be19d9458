import { describe, expect, it } from 'vitest';
import { createRunLog } from './run-log.ts';

const output = (text: string) =>
  ({ type: 'output', stream: 'stdout', text, partial: false, continuation: false }) as const;

describe('run log', () => {
  it('numbers events from 1 with one counter for every kind', () => {
    const log = createRunLog({ maxEvents: 100, now: () => 7 });
    expect(log.append({ type: 'state', state: 'queued' })).toEqual({
      type: 'state',
      state: 'queued',
      seq: 1,
      at: 7,
    });
    expect(log.append(output('a')).seq).toBe(2);
    expect(log.lastSeq()).toBe(2);
    expect(log.after(0).map((e) => e.seq)).toEqual([1, 2]);
    expect(log.after(1).map((e) => e.seq)).toEqual([2]);
    expect(log.after(2)).toEqual([]);
  });

  it('keeps only the newest events and says which is oldest', () => {
    const log = createRunLog({ maxEvents: 16 });
    for (let i = 0; i < 100; i++) log.append(output(String(i)));
    expect(log.oldestKeptSeq()).toBeGreaterThan(80);
    expect(log.after(log.oldestKeptSeq() - 1)[0]?.seq).toBe(log.oldestKeptSeq());
    expect(log.after(99).map((e) => e.seq)).toEqual([100]);
    const kept = log.after(0);
    expect(kept[kept.length - 1]?.seq).toBe(100);
    expect(kept.length).toBeLessThanOrEqual(16);
  });

  it('honours a limit', () => {
    const log = createRunLog({ maxEvents: 100 });
    for (let i = 0; i < 10; i++) log.append(output(String(i)));
    expect(log.after(3, 2).map((e) => e.seq)).toEqual([4, 5]);
  });

  it('wakes listeners and refuses events after end', () => {
    const log = createRunLog({ maxEvents: 100 });
    let calls = 0;
    const off = log.onAppend(() => calls++);
    log.append(output('x'));
    off();
    log.append(output('y'));
    expect(calls).toBe(1);
    log.append({ type: 'state', state: 'running' });
    expect(log.ended()).toBe(false);
    log.append({
      type: 'end',
      result: {
        state: 'completed',
        exitCode: 0,
        signal: null,
        queuedAt: 0,
        startedAt: 0,
        finishedAt: 0,
        durationMs: 0,
        usage: { cpuMs: 0, peakMemoryBytes: 0 },
        warnings: [],
        error: null,
        outputBytes: { stdout: 0, stderr: 0 },
        outputLines: 0,
        artifacts: [],
      },
    });
    expect(log.ended()).toBe(true);
    expect(() => log.append(output('late'))).toThrow(/no event may follow/);
  });
});
