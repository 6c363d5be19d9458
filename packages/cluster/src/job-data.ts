import { limitsOverrideSchema, runRequestSchema } from '@runbox/executor';
import { z } from 'zod';

/** A project's files as a worker asks the API for them: by the digest of their tree. */
const DIGEST = /^sha256-[0-9a-f]{64}$/;

/**
 * What a run's BullMQ job carries. A worker trusts nothing it reads from Redis: it parses every
 * job with this schema (whose request is the engine's own request schema) and runs none that
 * fails. A tool run's `projectDir` is the API's, meaningless on a worker: the worker puts the
 * files of `projectDigest` in its place.
 */
export const runJobSchema = z
  .object({
    runId: z.uuid(),
    request: runRequestSchema,
    projectDigest: z.string().regex(DIGEST, 'must be sha256- and 64 hex digits').nullable(),
    /** The limits the API resolved (its tool defaults and the request's own); a worker refuses any above its maximums. */
    limits: limitsOverrideSchema,
    /** The API's output settings for this run: the line cap, and whether PII is tokenized. */
    output: z
      .object({ maxLines: z.number().int().min(1).max(100_000_000), pii: z.boolean() })
      .strict(),
    priority: z.number().int(),
    queuedAt: z.number().int().nonnegative(),
    warnings: z.array(
      z.object({
        check: z.string(),
        message: z.string(),
        line: z.number().int().nullable().optional(),
        rule: z.string().optional(),
      }),
    ),
  })
  .strict()
  .refine((job) => (job.request.kind === 'tool') === (job.projectDigest !== null), {
    message: 'a tool run names the digest of its project, a snippet none',
    path: ['projectDigest'],
  });

export type RunJob = z.infer<typeof runJobSchema>;

/**
 * BullMQ starts jobs of priority 1 first and 2 097 151 last; runbox's higher priorities go first.
 * Every job gets a priority (none goes to BullMQ's unprioritized list, which would jump the
 * prioritized ones), so the order is runbox's: priority, then first come first served.
 */
export const PRIORITY_RANGE = { min: -1_000_000, max: 1_000_000 } as const;

export function bullPriority(priority: number): number {
  const clamped = Math.min(PRIORITY_RANGE.max, Math.max(PRIORITY_RANGE.min, priority));
  return PRIORITY_RANGE.max - clamped + 1;
}
