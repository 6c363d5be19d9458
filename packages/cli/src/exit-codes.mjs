// @ts-check
import { constants } from 'node:os';

/**
 * The CLI's exit codes. A run that ran to its end exits with the program's own code; a run that
 * did not gets the code a shell user expects for the same ending (docs/cli.md lists them).
 */
export const EXIT = Object.freeze({
  ok: 0,
  /** The server could not be reached, failed (5xx), or answered something unexpected. */
  failure: 1,
  /** The command line was wrong, or the server refused the request (4xx, a refused upload). */
  refused: 2,
  /** runbox failed to run it (`error`) or lost it in a restart (`interrupted`); as `docker run`. */
  runboxError: 125,
  /** Past its wall-time limit; as GNU `timeout`. */
  timedOut: 124,
  /** Killed at its memory limit: SIGKILL's 128 + 9, as a shell reports an OOM kill. */
  memoryLimit: 137,
  /** Stopped at its output limit: 128 + SIGPIPE, the signal of a reader that stopped reading. */
  outputLimit: 141,
  /** stdout's reader went away (`| head`): 128 + SIGPIPE, as a program writing there would die. */
  brokenPipe: 141,
  /** Cancelled (also Ctrl-C): 128 + SIGINT. */
  cancelled: 130,
});

/**
 * The exit code for a run's end.
 * @param {{ state: string; exitCode: number | null; signal: string | null }} end
 * @returns {number}
 */
export function exitCodeOfRun(end) {
  switch (end.state) {
    case 'completed':
    case 'failed':
      if (end.exitCode !== null) return end.exitCode & 0xff;
      return signalExitCode(end.signal) ?? EXIT.failure;
    case 'timed_out':
      return EXIT.timedOut;
    case 'cancelled':
      return EXIT.cancelled;
    case 'memory_limit':
      return EXIT.memoryLimit;
    case 'output_limit':
      return EXIT.outputLimit;
    default:
      // error, interrupted, and any end state newer than this CLI.
      return EXIT.runboxError;
  }
}

/**
 * 128 + the signal's number, as a shell reports a process a signal killed.
 * @param {string | null} signal
 * @returns {number | null}
 */
function signalExitCode(signal) {
  if (signal === null) return null;
  const number = /** @type {Record<string, number | undefined>} */ (constants.signals)[signal];
  return number === undefined ? null : 128 + number;
}
