import type { RunEventInput, RunResult } from '@runbox/executor';
import { z } from 'zod';

/**
 * What workers tell the API of runs, one entry of the message stream each (`XADD` with an
 * approximate `MAXLEN`). Events carry no sequence number: the API numbers every event of a run
 * (its queue positions too), so a run's numbering never depends on which process wrote what.
 * A batch holds what a run printed in one turn of the worker's event loop.
 */
export type RunMessage =
  | { kind: 'started'; runId: string; worker: string }
  | { kind: 'events'; runId: string; worker: string; events: RunEventInput[] }
  | { kind: 'result'; runId: string; worker: string; result: RunResult }
  /** A job a worker would not run (not a valid run); the API ends the run `error`. */
  | { kind: 'rejected'; runId: string; worker: string; reason: string };

/** The stream entry's fields: `m` the JSON of one message. */
export function encodeMessage(message: RunMessage): string {
  return JSON.stringify(message);
}

const messageSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('started'), runId: z.string(), worker: z.string() }),
  z.object({
    kind: z.literal('events'),
    runId: z.string(),
    worker: z.string(),
    events: z.array(z.looseObject({ type: z.string() })),
  }),
  z.object({
    kind: z.literal('result'),
    runId: z.string(),
    worker: z.string(),
    result: z.looseObject({ state: z.string() }),
  }),
  z.object({
    kind: z.literal('rejected'),
    runId: z.string(),
    worker: z.string(),
    reason: z.string(),
  }),
]);

/**
 * A message as the API reads it back, or null for an entry no runbox worker wrote. Only the
 * envelope is checked here: the events inside come from runbox's own output pipeline on a worker
 * that holds the worker token, and are stored and shown as text only.
 */
export function decodeMessage(text: string): RunMessage | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  const parsed = messageSchema.safeParse(value);
  if (!parsed.success) return null;
  const message = parsed.data;
  switch (message.kind) {
    case 'events':
      return { ...message, events: message.events as unknown as RunEventInput[] };
    case 'result':
      return { ...message, result: message.result as unknown as RunResult };
    default:
      return message;
  }
}
