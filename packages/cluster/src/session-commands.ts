import {
  InstallFailedError,
  EnvironmentRefusedError,
  InvalidVariableError,
  SessionBusyError,
  SessionGoneError,
  SessionKernelEndedError,
  SessionsUnavailableError,
  SESSION_LANGUAGES,
  environmentNameSchema,
  kernelSnapshotSchema,
  limitsOverrideSchema,
  lostVariableSchema,
} from '@runbox/executor';
import { z } from 'zod';
import { runJobSchema } from './job-data.ts';

/**
 * What the API tells a session's worker (one entry of the worker process's command stream each,
 * `keys.sessionCommands(instance)`) and what the worker answers on the message stream. A worker
 * trusts nothing it reads from Redis: every command is parsed with this schema, a cell's job
 * with the run job schema, the limits against its own maximums; one that fails is dropped with a
 * log line.
 */

const ID = z.uuid();

/** The session as its kernel starts: what the API's store says of it when the command is sent. */
export const sessionSpecSchema = z
  .object({
    id: ID,
    language: z.enum(SESSION_LANGUAGES),
    /** The session's limits; `wallTimeMs` is what is left of its lifetime (at most a year). */
    limits: limitsOverrideSchema.extend({
      wallTimeMs: z
        .number()
        .int()
        .min(1_000)
        .max(365 * 86_400_000),
    }),
    environment: environmentNameSchema.nullable(),
    interruptGraceMs: z.number().int().min(1).max(600_000),
    snapshotMaxBytes: z
      .number()
      .int()
      .min(0)
      .max(1024 * 1024 * 1024),
  })
  .strict();
export type SessionSpecWire = z.infer<typeof sessionSpecSchema>;

/** What a kernel started for the command needs: the session (null: it is closed) and its snapshot. */
const kernelStart = {
  sessionId: ID,
  spec: sessionSpecSchema.nullable(),
  snapshot: kernelSnapshotSchema.nullable(),
  /** The session's kernel was lost with another worker: a kernel started here says why. */
  endedElsewhere: z.string().max(500).nullable(),
};

export const sessionCommandSchema = z.discriminatedUnion('op', [
  z
    .object({ op: z.literal('start'), requestId: ID, restore: z.boolean(), ...kernelStart })
    .strict(),
  z.object({ op: z.literal('stop'), requestId: ID, sessionId: ID }).strict(),
  z.object({ op: z.literal('variables'), requestId: ID, sessionId: ID }).strict(),
  z
    .object({
      op: z.literal('set'),
      requestId: ID,
      ...kernelStart,
      name: z.string().min(1).max(256),
      value: z.unknown(),
    })
    .strict(),
  /** A cell: a run like any other (started, events, result on the message stream), here. */
  z.object({ op: z.literal('cell'), ...kernelStart, job: runJobSchema }).strict(),
]);
export type SessionCommand = z.infer<typeof sessionCommandSchema>;

export const noticeSchema = z
  .object({
    kind: z.enum(['started', 'woke', 'restarted']),
    at: z.number(),
    reason: z.string().nullable(),
    restored: z.array(z.string()),
    lost: z.array(lostVariableSchema),
  })
  .strict();

/** A worker's answer to a request, and its error as the engine's error class names it. */
export const replyErrorSchema = z.object({
  code: z.string().max(64),
  message: z.string().max(4_000),
});
export type ReplyError = z.infer<typeof replyErrorSchema>;

/** The error a reply carries, as the class the worker threw (one the API maps to the wire). */
export function errorFromReply(error: ReplyError): Error {
  const known: Record<string, () => Error> = {
    SESSION_BUSY: () => new SessionBusyError('it'),
    SESSION_GONE: () => new SessionGoneError(''),
    SESSION_KERNEL_ENDED: () => new SessionKernelEndedError(''),
    INVALID_VARIABLE: () => new InvalidVariableError(''),
    ENVIRONMENT_REFUSED: () => new EnvironmentRefusedError(''),
    INSTALL_FAILED: () => new InstallFailedError(''),
    SESSIONS_UNAVAILABLE: () => new SessionsUnavailableError(''),
  };
  const made = known[error.code]?.() ?? new SessionKernelEndedError('');
  // The worker's own words: the class above decides only how the API answers.
  made.message = error.message;
  return made;
}

const USER_FACING = new Set([
  'SESSION_BUSY',
  'SESSION_GONE',
  'SESSION_KERNEL_ENDED',
  'INVALID_VARIABLE',
  'ENVIRONMENT_REFUSED',
  'INSTALL_FAILED',
  'SESSIONS_UNAVAILABLE',
  // A limit this worker's maximums refuse: its message names the limit and the range.
  'LIMIT_OUT_OF_RANGE',
]);

/** The error as a reply carries it when it is one a user is told (its code and message), else null. */
export function userFacingError(error: unknown): ReplyError | null {
  if (!(error instanceof Error) || !('code' in error) || typeof error.code !== 'string')
    return null;
  return USER_FACING.has(error.code)
    ? { code: error.code, message: error.message.slice(0, 4_000) }
    : null;
}

/** An error as a reply carries it: the engine's code and message, or runbox's own fault. */
export function replyError(error: unknown): ReplyError {
  return (
    userFacingError(error) ?? {
      // Its message may name the worker's paths: the details stay in the worker's log.
      code: 'SESSION_KERNEL_ENDED',
      message: "the session's kernel ended: runbox failed on its worker (the worker's log has why)",
    }
  );
}
