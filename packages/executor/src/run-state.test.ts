import { describe, expect, it } from 'vitest';
import {
  assertTransition,
  canTransition,
  END_STATES,
  InvalidTransitionError,
  isEndState,
  RUN_STATES,
} from './run-state.ts';

describe('run states', () => {
  it('moves queued → running → an end state, or straight from queued to cancelled', () => {
    expect(canTransition('queued', 'running')).toBe(true);
    expect(canTransition('queued', 'cancelled')).toBe(true);
    for (const end of END_STATES) expect(canTransition('running', end), end).toBe(true);
  });

  it('never leaves an end state and never goes back to queued', () => {
    for (const end of END_STATES) {
      expect(isEndState(end)).toBe(true);
      for (const next of RUN_STATES)
        expect(canTransition(end, next), `${end} → ${next}`).toBe(false);
    }
    expect(canTransition('running', 'queued')).toBe(false);
    expect(canTransition('queued', 'completed')).toBe(false);
    expect(() => assertTransition('completed', 'running')).toThrow(InvalidTransitionError);
    expect(() => assertTransition('completed', 'running')).toThrow(
      'a run cannot go from completed to running',
    );
  });

  it('names the states that are not ends', () => {
    expect(RUN_STATES.filter((state) => !isEndState(state))).toEqual(['queued', 'running']);
  });
});
