import {
  kernelSnapshotSchema,
  type KernelSnapshot,
  type RunEventInput,
  type RunResult,
  type SessionNotice,
} from '@runbox/executor';
import { z } from 'zod';
import { parseJsonAs } from './json-entry.ts';
import { noticeSchema, replyErrorSchema, type ReplyError } from './session-commands.ts';

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
  | { kind: 'rejected'; runId: string; worker: string; reason: string }
  | SessionMessage;

/** What a worker tells of a session's kernel (session-commands.ts): in order with the cells' ends. */
export type SessionMessage =
  /** A cell ended with the kernel alive: the variables it left, for the API's store. */
  | {
      kind: 'session';
      worker: string;
      sessionId: string;
      event: 'snapshot';
      snapshot: KernelSnapshot;
    }
  /** A kernel started for the session (and restored what it could). */
  | { kind: 'session'; worker: string; sessionId: string; event: 'notice'; notice: SessionNotice }
  /** The session's kernel here ended, however. */
  | { kind: 'session'; worker: string; sessionId: string; event: 'exit'; why: string }
  /** The answer to a request of the API's (start, stop, variables, set). */
  | { kind: 'reply'; worker: string; requestId: string; ok: true; value: unknown }
  | { kind: 'reply'; worker: string; requestId: string; ok: false; error: ReplyError };

/** The stream entry's fields: `m` the JSON of one message. */
export function encodeMessage(message: RunMessage): string {
  return JSON.stringify(message);
}

const runMessageSchema = z.discriminatedUnion('kind', [
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

const sessionEnvelope = {
  kind: z.literal('session'),
  worker: z.string(),
  sessionId: z.string(),
};
const replyEnvelope = { kind: z.literal('reply'), worker: z.string(), requestId: z.string() };

const messageSchema = z.union([
  runMessageSchema,
  z.discriminatedUnion('event', [
    z.object({ ...sessionEnvelope, event: z.literal('snapshot'), snapshot: kernelSnapshotSchema }),
    z.object({ ...sessionEnvelope, event: z.literal('notice'), notice: noticeSchema }),
    z.object({ ...sessionEnvelope, event: z.literal('exit'), why: z.string() }),
  ]),
  z.discriminatedUnion('ok', [
    z.object({ ...replyEnvelope, ok: z.literal(true), value: z.unknown() }),
    z.object({ ...replyEnvelope, ok: z.literal(false), error: replyErrorSchema }),
  ]),
]);

/**
 * A message as the API reads it back, or null for an entry no runbox worker wrote. Only the
 * envelope is checked here: the events inside come from runbox's own output pipeline on a worker
 * that holds the worker token, and are stored and shown as text only.
 */
export function decodeMessage(text: string): RunMessage | null {
  const message = parseJsonAs(messageSchema, text);
  switch (message?.kind) {
    case undefined:
      return null;
    case 'events':
      return { ...message, events: message.events as unknown as RunEventInput[] };
    case 'result':
      return { ...message, result: message.result as unknown as RunResult };
    default:
      return message;
  }
}
