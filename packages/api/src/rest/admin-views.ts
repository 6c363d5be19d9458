import { z } from 'zod';
import { runViewSchema } from '../schemas/run-views.ts';

/**
 * The answers of the admin procedures that declare no output schema (routers/admin.ts), for the
 * document. They describe what those procedures return; the contract test calls each one and
 * checks its real answer against these, so a change there that these miss fails it.
 */

export const adminQueueSchema = z.object({
  concurrency: z.number(),
  paused: z.boolean(),
  maxQueueLength: z.number(),
  estimatedWaitMs: z.number(),
  waiting: z.array(runViewSchema.extend({ waitedMs: z.number() })),
  running: z.array(
    runViewSchema.extend({
      elapsedMs: z.number(),
      liveUsage: z.object({ cpuMs: z.number(), memoryBytes: z.number() }).nullable(),
    }),
  ),
  ended: z.array(runViewSchema),
});

export const pausedSchema = z.object({ paused: z.boolean() });
export const concurrencySchema = z.object({ concurrency: z.number().int() });

export const adminRunsSchema = z.object({
  runs: z.array(runViewSchema),
  nextCursor: z.object({ queuedAt: z.number(), id: z.string() }).nullable(),
});

export const selfTestSchema = z.object({
  ok: z.boolean(),
  checks: z.array(
    z.object({ layer: z.string(), mechanism: z.string(), ok: z.boolean(), detail: z.string() }),
  ),
  startedAt: z.number(),
  durationMs: z.number(),
});

export const workersSchema = z.object({
  mode: z.enum(['embedded', 'redis']),
  workers: z.array(
    z.object({
      name: z.string(),
      address: z.string(),
      concurrency: z.number(),
      running: z.number(),
      selfTest: z.string(),
      draining: z.boolean(),
      heartbeatAt: z.number(),
      heartbeatAgeMs: z.number(),
      sessions: z.number(),
    }),
  ),
});

export const drainSchema = z.object({ name: z.string(), draining: z.boolean() });

export const rateLimitsSchema = z.object({
  runsPerHour: z.number(),
  concurrentRunsPerOwner: z.number(),
});
