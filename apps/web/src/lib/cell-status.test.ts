import { describe, expect, it } from 'vitest';
import { advanceCellStatus, shownState, type CellResult, type CellStatus } from './cell-status';

const queued: CellStatus = { state: 'queued', result: null };

function result(overrides: Partial<CellResult> = {}): CellResult {
  return {
    state: 'completed',
    exitCode: 0,
    signal: null,
    error: null,
    durationMs: 12,
    warnings: [],
    ...overrides,
  };
}

describe('advanceCellStatus', () => {
  it('follows a cell from queued through running to its end, with the result', () => {
    const running = advanceCellStatus(queued, { seq: 1, type: 'state', state: 'running' });
    expect(running).toEqual({ state: 'running', result: null });
    const end = result({ value: 42 });
    const ended = advanceCellStatus(running, { seq: 5, type: 'end', result: end });
    expect(ended).toEqual({ state: 'completed', result: end });
  });

  it('never moves back: a replayed queued after running changes nothing', () => {
    const running: CellStatus = { state: 'running', result: null };
    expect(advanceCellStatus(running, { seq: 1, type: 'state', state: 'queued' })).toBe(running);
  });

  it('takes the end state from the end event only (it carries the result)', () => {
    const running: CellStatus = { state: 'running', result: null };
    expect(advanceCellStatus(running, { seq: 4, type: 'state', state: 'cancelled' })).toBe(running);
    const cancelled = advanceCellStatus(running, {
      seq: 5,
      type: 'end',
      result: result({ state: 'cancelled', exitCode: null }),
    });
    expect(cancelled.state).toBe('cancelled');
  });

  it('ignores output, usage and anything after the end', () => {
    expect(advanceCellStatus(queued, { seq: 1, type: 'output' })).toBe(queued);
    const ended: CellStatus = { state: 'failed', result: result({ state: 'failed' }) };
    expect(advanceCellStatus(ended, { seq: 9, type: 'end', result: result() })).toBe(ended);
  });
});

describe('shownState', () => {
  it('shows the furthest of the events and the session view', () => {
    expect(shownState(queued, 'running')).toBe('running');
    expect(shownState({ state: 'running', result: null }, 'queued')).toBe('running');
    expect(shownState(queued, 'completed')).toBe('completed');
  });

  it('prefers the end result over a stale view', () => {
    expect(
      shownState({ state: 'cancelled', result: result({ state: 'cancelled' }) }, 'running'),
    ).toBe('cancelled');
  });
});
