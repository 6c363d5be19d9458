import type { RunView } from '@runbox/api';
import { isEnded, type RunState } from './format';

/**
 * What a notebook cell shows of its run besides its lines: its state and, once it has ended, its
 * result. Both come from the events of the one `runs.onOutput` subscription a cell holds (a
 * second one for `runs.onStatus` per cell would spend the socket's subscriptions twice as fast).
 */

/** The end result as the `end` event carries it: what a cell shows of it. */
export interface CellResult {
  state: RunState;
  exitCode: number | null;
  signal: string | null;
  error: string | null;
  durationMs: number;
  warnings: RunView['warnings'];
  value?: unknown;
}

export interface CellStatus {
  state: RunState;
  result: CellResult | null;
}

/** The events the status reads; the others (output, usage, truncated) leave it as it is. */
export type StatusEvent =
  | { seq: number; type: 'state'; state: RunState }
  | { seq: number; type: 'end'; result: CellResult }
  | { seq: number; type: string };

/** queued, then running, then an end: a replayed event never moves a cell back. */
function rank(state: RunState): number {
  if (state === 'queued') return 0;
  if (state === 'running') return 1;
  return 2;
}

function isStateEvent(
  event: StatusEvent,
): event is { seq: number; type: 'state'; state: RunState } {
  return event.type === 'state' && 'state' in event;
}

function isEndEvent(event: StatusEvent): event is { seq: number; type: 'end'; result: CellResult } {
  return event.type === 'end' && 'result' in event;
}

/** The status after one more event; the same object when the event changes nothing. */
export function advanceCellStatus(status: CellStatus, event: StatusEvent): CellStatus {
  if (status.result) return status;
  if (isEndEvent(event)) return { state: event.result.state, result: event.result };
  if (isStateEvent(event) && rank(event.state) > rank(status.state) && !isEnded(event.state))
    return { ...status, state: event.state };
  return status;
}

/**
 * The state to show: the furthest of what the events said and what the session's last answer
 * said (a cell whose output is not followed only learns it from the latter).
 */
export function shownState(status: CellStatus, viewState: RunState): RunState {
  if (status.result) return status.result.state;
  return rank(viewState) >= rank(status.state) ? viewState : status.state;
}
