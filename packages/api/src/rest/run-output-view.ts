import { isEndState, type RunResult } from '@runbox/executor';
import { z } from 'zod';
import type { Identity } from '../identity.ts';
import { toRunView, visibleRun } from '../run-service.ts';
import { runViewSchema, type RunView } from '../schemas/run-views.ts';
import type { Services } from '../services.ts';
import type { CollectedOutput } from './run-output.ts';

/**
 * A run with its output: the run as `GET /runs/{id}` shows it, plus stdout and stderr joined into
 * text. The answer of `POST /runs?wait=true` and of `GET /runs/{id}/output`.
 */
export const runOutputSchema = runViewSchema.extend({
  /** The run has ended: its state, exit code, usage and value are final. */
  ended: z.boolean(),
  stdout: z.string(),
  stderr: z.string(),
  /** UTF-8 bytes each stream printed in all (beyond what this answer carries too). */
  stdoutBytes: z.number().int(),
  stderrBytes: z.number().int(),
  /** The text stops at the server's cap (RUNBOX_REST_OUTPUT_MAX_BYTES); the bytes say how much more. */
  stdoutTruncated: z.boolean(),
  stderrTruncated: z.boolean(),
  /** The run's own output limit cut its output (it ended `output_limit`): what it dropped. */
  outputLimit: z
    .object({
      reason: z.enum(['bytes', 'lines']),
      limit: z.number(),
      droppedBytes: z.number(),
    })
    .nullable(),
  /** The last event this answer took in: `GET /runs/{id}/events?after=` it to follow on. */
  lastEventId: z.number().int(),
});
export type RunOutputView = z.infer<typeof runOutputSchema>;

/** The stored view with the end event's result over it, while the store has not written the end yet. */
function withResult(view: RunView, result: RunResult): RunView {
  const ended: RunView = {
    ...view,
    state: result.state,
    startedAt: result.startedAt,
    finishedAt: result.finishedAt,
    exitCode: result.exitCode,
    signal: result.signal,
    durationMs: result.durationMs,
    usage: result.usage,
    warnings: result.warnings,
    error: result.error,
    outputLines: result.outputLines,
    verdict: result.verdict ?? null,
    position: null,
    estimatedWaitMs: null,
  };
  if ('value' in result) ended.value = result.value;
  return ended;
}

/**
 * The run as the store has it, with its output. An end event reaches a reader before the store
 * writes it (events are written in batches), so an ended run's buffered events are written now,
 * and only if that fails does the view take the end event's result.
 */
export function runOutputView(
  services: Services,
  identity: Identity,
  runId: string,
  output: CollectedOutput,
): RunOutputView {
  const stored = (): RunView =>
    toRunView(services, visibleRun(services, identity, runId), identity.isAdmin);
  let view = stored();
  if (output.result && !isEndState(view.state)) {
    try {
      services.store.flush();
      view = stored();
    } catch {
      // The write failed (its events are kept for the next one): the result says the same.
    }
    if (!isEndState(view.state)) view = withResult(view, output.result);
  }
  return {
    ...view,
    ended: output.ended,
    stdout: output.stdout.text,
    stderr: output.stderr.text,
    stdoutBytes: output.stdout.bytes,
    stderrBytes: output.stderr.bytes,
    stdoutTruncated: output.stdout.truncated,
    stderrTruncated: output.stderr.truncated,
    outputLimit: output.outputLimit,
    lastEventId: output.lastSeq,
  };
}
