import { canTransition, type RunEvent, type RunResult, type RunState } from '@runbox/executor';

/** What runs.onStatus yields: the run's state and, as they apply, its place in line, usage, result. */
export interface RunStatusView {
  state: RunState;
  position: number | null;
  estimatedWaitMs: number | null;
  running: number | null;
  concurrency: number | null;
  usage: { cpuMs: number; memoryBytes: number } | null;
  result: RunResult | null;
}

/**
 * The status after one more event, or the same object when the event changes nothing the status
 * shows. A state the run has already left (a replayed `queued` after `running`) is ignored.
 */
export function advanceStatus(status: RunStatusView, event: RunEvent): RunStatusView {
  switch (event.type) {
    case 'state':
      if (event.state === status.state || !canTransition(status.state, event.state)) return status;
      return {
        ...status,
        state: event.state,
        ...(event.state !== 'queued'
          ? { position: null, estimatedWaitMs: null, running: null }
          : {}),
      };
    case 'position':
      if (status.state !== 'queued') return status;
      return {
        ...status,
        position: event.position,
        estimatedWaitMs: event.estimatedWaitMs,
        running: event.running,
        concurrency: event.concurrency,
      };
    case 'usage':
      if (status.state !== 'running') return status;
      return { ...status, usage: { cpuMs: event.cpuMs, memoryBytes: event.memoryBytes } };
    case 'end':
      if (status.result) return status;
      return { ...status, state: event.result.state, result: event.result };
    default:
      return status;
  }
}
