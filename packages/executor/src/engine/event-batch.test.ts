import { describe, expect, it } from 'vitest';
import { cutBatches } from './event-batch.ts';
import type { RunEvent } from './run-events.ts';

function output(seq: number, text: string): RunEvent {
  return {
    seq,
    at: 0,
    type: 'output',
    stream: 'stdout',
    text,
    partial: false,
    continuation: false,
  };
}

function seqs(batches: RunEvent[][]): number[][] {
  return batches.map((batch) => batch.map((event) => event.seq));
}

describe('cutBatches', () => {
  it('keeps every event once, in order, within the event count', () => {
    const events = Array.from({ length: 7 }, (_, i) => output(i + 1, 'x'));
    const batches = cutBatches(events, { maxEvents: 3, maxTextLength: 1_000 });
    expect(seqs(batches)).toEqual([[1, 2, 3], [4, 5, 6], [7]]);
  });

  it('cuts before the text of a batch would pass the limit', () => {
    const events = [output(1, 'aaaa'), output(2, 'bbbb'), output(3, 'cc'), output(4, 'd')];
    const batches = cutBatches(events, { maxEvents: 100, maxTextLength: 8 });
    expect(seqs(batches)).toEqual([
      [1, 2],
      [3, 4],
    ]);
  });

  it('gives a line longer than the limit a batch of its own', () => {
    const events = [output(1, 'a'), output(2, 'x'.repeat(50)), output(3, 'b')];
    const batches = cutBatches(events, { maxEvents: 100, maxTextLength: 10 });
    expect(seqs(batches)).toEqual([[1], [2], [3]]);
  });

  it('counts only output text: state and usage events fill by count', () => {
    const events: RunEvent[] = [
      { seq: 1, at: 0, type: 'state', state: 'running' },
      { seq: 2, at: 0, type: 'usage', cpuMs: 1, memoryBytes: 2 },
      output(3, 'abc'),
    ];
    expect(seqs(cutBatches(events, { maxEvents: 100, maxTextLength: 3 }))).toEqual([[1, 2, 3]]);
  });

  it('stops at the end event', () => {
    const end = { seq: 2, at: 0, type: 'end' } as unknown as RunEvent;
    expect(seqs(cutBatches([output(1, 'a'), end, output(3, 'late')]))).toEqual([[1, 2]]);
  });

  it('gives no batch for no events', () => {
    expect(cutBatches([])).toEqual([]);
  });
});
