/**
 * The states of a run, one union shared by executor, API and web, and the transitions allowed
 * between them, written down here and nowhere else.
 */
export const RUN_STATES = [
  'queued',
  'running',
  'completed',
  'failed',
  'timed_out',
  'memory_limit',
  'output_limit',
  'cancelled',
  'error',
  'interrupted',
] as const;
export type RunState = (typeof RUN_STATES)[number];

export const END_STATES = [
  'completed',
  'failed',
  'timed_out',
  'memory_limit',
  'output_limit',
  'cancelled',
  'error',
  'interrupted',
] as const satisfies readonly RunState[];
export type EndState = (typeof END_STATES)[number];

const TRANSITIONS: Readonly<Record<RunState, readonly RunState[]>> = {
  queued: ['running', 'cancelled', 'error', 'interrupted'],
  running: [
    'completed',
    'failed',
    'timed_out',
    'memory_limit',
    'output_limit',
    'cancelled',
    'error',
    'interrupted',
  ],
  completed: [],
  failed: [],
  timed_out: [],
  memory_limit: [],
  output_limit: [],
  cancelled: [],
  error: [],
  interrupted: [],
};

export function isEndState(state: RunState): state is EndState {
  return (END_STATES as readonly RunState[]).includes(state);
}

export function canTransition(from: RunState, to: RunState): boolean {
  return TRANSITIONS[from].includes(to);
}

export class InvalidTransitionError extends Error {
  readonly code = 'INVALID_TRANSITION';
  readonly from: RunState;
  readonly to: RunState;
  constructor(from: RunState, to: RunState) {
    super(`a run cannot go from ${from} to ${to}`);
    this.name = 'InvalidTransitionError';
    this.from = from;
    this.to = to;
  }
}

export function assertTransition(from: RunState, to: RunState): void {
  if (!canTransition(from, to)) throw new InvalidTransitionError(from, to);
}
