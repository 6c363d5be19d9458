import type { RunResult } from '@runbox/executor';
import { z } from 'zod';
import type { CollectedOutput } from '../run-output.ts';

/**
 * Piston's answer to an execute: `{run, language, version}` (no `compile`: runbox compiles
 * nothing), `run` with the keys Piston's API gives today (engineer-man/piston api/src/job.js):
 * stdout, stderr, code, signal, output, memory, message, status, cpu_time, wall_time.
 */

export const pistonRunSchema = z.object({
  stdout: z.string(),
  stderr: z.string(),
  /** The exit code, or null when a signal ended the program. */
  code: z.number().int().nullable(),
  /** The signal that ended it ("SIGKILL" when it ran out of time, memory or output), or null. */
  signal: z.string().nullable(),
  /** stdout and stderr as they were printed, interleaved. */
  output: z.string(),
  /** Peak memory in bytes. */
  memory: z.number().nullable(),
  /** What ended it, in words, when it did not exit by itself with 0. */
  message: z.string().nullable(),
  /** Piston's (isolate's) status: RE exit code not 0, SG signal, TO time, OL output, XX runbox's own. */
  status: z.enum(['RE', 'SG', 'TO', 'OL', 'XX']).nullable(),
  /** CPU time and wall time in ms. */
  cpu_time: z.number().nullable(),
  wall_time: z.number().nullable(),
});
export type PistonRun = z.infer<typeof pistonRunSchema>;

export const pistonExecuteAnswerSchema = z.object({
  run: pistonRunSchema,
  language: z.string(),
  version: z.string(),
});

export const pistonRuntimeSchema = z.object({
  language: z.string(),
  version: z.string(),
  aliases: z.array(z.string()),
  runtime: z.string().optional(),
});

export const pistonErrorSchema = z.object({ message: z.string() }).strict();

/** Signal numbers as isolate's messages give them. */
const SIGNAL_NUMBERS: Readonly<Record<string, number>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGILL: 4,
  SIGTRAP: 5,
  SIGABRT: 6,
  SIGBUS: 7,
  SIGFPE: 8,
  SIGKILL: 9,
  SIGUSR1: 10,
  SIGSEGV: 11,
  SIGUSR2: 12,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
};

type Ending = Pick<PistonRun, 'code' | 'signal' | 'message' | 'status'>;

/** How the run ended, in Piston's terms. */
function endingOf(result: RunResult): Ending {
  switch (result.state) {
    case 'completed':
      return { code: result.exitCode ?? 0, signal: null, message: null, status: null };
    case 'failed':
      if (result.signal !== null)
        return {
          code: null,
          signal: result.signal,
          message: `Caught fatal signal ${SIGNAL_NUMBERS[result.signal] ?? result.signal}`,
          status: 'SG',
        };
      return {
        code: result.exitCode,
        signal: null,
        // A run that failed before its program started (a file it could not write) says why.
        message: result.error ?? `Exited with error status ${result.exitCode ?? '?'}`,
        status: result.exitCode === null ? 'XX' : 'RE',
      };
    case 'timed_out':
      return {
        code: null,
        signal: 'SIGKILL',
        message: 'Time limit exceeded (wall clock)',
        status: 'TO',
      };
    case 'memory_limit':
      return { code: null, signal: 'SIGKILL', message: 'Caught fatal signal 9', status: 'SG' };
    case 'output_limit':
      return { code: null, signal: 'SIGKILL', message: 'output length exceeded', status: 'OL' };
    case 'cancelled':
    case 'interrupted':
    case 'error':
      return {
        code: result.exitCode,
        signal: result.signal ?? (result.exitCode === null ? 'SIGKILL' : null),
        message: result.error ?? `the run was ${result.state}`,
        status: 'XX',
      };
  }
}

/** The `run` object of an ended run, its keys in Piston's order. */
export function pistonRunOf(result: RunResult, output: CollectedOutput): PistonRun {
  const started = result.startedAt !== null;
  const ending = endingOf(result);
  return {
    stdout: output.stdout.text,
    stderr: output.stderr.text,
    code: ending.code,
    signal: ending.signal,
    output: output.combined?.text ?? `${output.stdout.text}${output.stderr.text}`,
    memory: started ? result.usage.peakMemoryBytes : null,
    message: ending.message,
    status: ending.status,
    cpu_time: started ? result.usage.cpuMs : null,
    wall_time: started ? result.durationMs : null,
  };
}
