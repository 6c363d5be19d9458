import {
  END_STATES,
  RUN_STATES,
  verdictSchema,
  type RunEvent,
  type RunResult,
} from '@runbox/executor';
import { z } from 'zod';
import { runWarningSchema } from '../schemas/run-views.ts';

/**
 * The events of a run as the event stream sends them (`data:` of each message). The engine's
 * `RunEvent` is a TypeScript type with no schema of its own; this is its schema, and the checks
 * at the end of the file keep the two the same shape.
 */

const artifactSchema = z.object({
  path: z.string(),
  kind: z.enum(['file', 'symlink']),
  size: z.number(),
  sha256: z.string().nullable(),
  mediaType: z.string(),
  linkTarget: z.string().optional(),
});

export const runResultSchema = z.object({
  state: z.enum(END_STATES),
  exitCode: z.number().nullable(),
  signal: z.string().nullable(),
  queuedAt: z.number(),
  startedAt: z.number().nullable(),
  finishedAt: z.number(),
  durationMs: z.number(),
  usage: z.object({ cpuMs: z.number(), peakMemoryBytes: z.number() }),
  warnings: z.array(runWarningSchema),
  error: z.string().nullable(),
  value: z.unknown().optional(),
  outputBytes: z.object({ stdout: z.number(), stderr: z.number() }),
  outputLines: z.number(),
  artifacts: z.array(artifactSchema),
  verdict: verdictSchema.optional(),
});

const base = { seq: z.number().int().min(1), at: z.number() };

export const runEventSchema = z.discriminatedUnion('type', [
  z.object({ ...base, type: z.literal('state'), state: z.enum(RUN_STATES) }),
  z.object({
    ...base,
    type: z.literal('position'),
    position: z.number(),
    running: z.number(),
    concurrency: z.number(),
    estimatedWaitMs: z.number(),
  }),
  z.object({
    ...base,
    type: z.literal('output'),
    stream: z.enum(['stdout', 'stderr']),
    text: z.string(),
    partial: z.boolean(),
    continuation: z.boolean(),
  }),
  z.object({ ...base, type: z.literal('usage'), cpuMs: z.number(), memoryBytes: z.number() }),
  z.object({
    ...base,
    type: z.literal('truncated'),
    reason: z.enum(['bytes', 'lines']),
    limit: z.number(),
    droppedBytes: z.number(),
  }),
  z.object({ ...base, type: z.literal('end'), result: runResultSchema }),
]);

// The schema and the engine's types describe the same values, both ways.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const resultMatches: Same<z.infer<typeof runResultSchema>, RunResult> = true;
const eventMatches: Same<z.infer<typeof runEventSchema>, RunEvent> = true;
void resultMatches;
void eventMatches;
