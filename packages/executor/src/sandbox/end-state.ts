import type { EndState } from '../run-state.ts';
import type { SandboxOutcome } from './sandbox-outcome.ts';

/**
 * The end state of a sandboxed process, from flags alone. What runbox did to end it wins over how
 * the program exited: a timed-out program that was killed did not "fail".
 */
export function endStateOf(outcome: SandboxOutcome): EndState {
  if (outcome.cancelled) return 'cancelled';
  if (outcome.timedOut) return 'timed_out';
  if (outcome.outputLimitExceeded) return 'output_limit';
  if (outcome.memoryLimitExceeded) return 'memory_limit';
  if (outcome.setupFailed) return 'error';
  return outcome.exitCode === 0 ? 'completed' : 'failed';
}
