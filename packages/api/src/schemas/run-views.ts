import { LANGUAGES, RUN_STATES, limitsOverrideSchema, outputFiltersSchema } from '@runbox/executor';
import { z } from 'zod';
import { callbackUrlSchema } from '../callbacks/callback-url.ts';

/** The shapes the API sends and takes, shared with the web app. */

export const runWarningSchema = z.object({
  check: z.string(),
  message: z.string(),
  line: z.number().nullable().optional(),
  rule: z.string().optional(),
});

export const runViewSchema = z.object({
  id: z.string(),
  owner: z.string().optional(),
  kind: z.enum(['snippet', 'tool']),
  language: z.enum(LANGUAGES).nullable(),
  toolId: z.string().nullable(),
  projectId: z.string().nullable(),
  exampleId: z.string().nullable(),
  /** The snippet's code and stdin, for "run again"; null for tool runs. */
  code: z.string().nullable(),
  stdin: z.string().nullable(),
  state: z.enum(RUN_STATES),
  queuedAt: z.number(),
  startedAt: z.number().nullable(),
  finishedAt: z.number().nullable(),
  exitCode: z.number().nullable(),
  signal: z.string().nullable(),
  durationMs: z.number().nullable(),
  usage: z.object({ cpuMs: z.number(), peakMemoryBytes: z.number() }).nullable(),
  warnings: z.array(runWarningSchema),
  error: z.string().nullable(),
  value: z.unknown().optional(),
  outputLines: z.number().nullable(),
  limits: z.record(z.string(), z.number()).nullable(),
  /** While queued: place in line (1 = next) and the estimated wait. */
  position: z.number().nullable(),
  estimatedWaitMs: z.number().nullable(),
});
export type RunView = z.infer<typeof runViewSchema>;

export const createRunInputSchema = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('snippet'),
      language: z.enum(LANGUAGES),
      code: z.string().max(1_000_000, 'code is limited to 1,000,000 characters on the wire'),
      stdin: z.string().max(1_048_576, 'stdin is limited to 1 MiB').optional(),
      limits: limitsOverrideSchema.optional(),
      outputFilters: outputFiltersSchema.optional(),
      /** POSTed the run's summary, signed, when it ends (docs/callbacks.md). */
      callbackUrl: callbackUrlSchema.optional(),
    })
    .strict(),
  z
    .object({
      kind: z.literal('tool'),
      toolId: z.string().min(1).max(64),
      projectId: z.string().min(1).max(128).optional(),
      exampleId: z.string().min(1).max(64).optional(),
      entry: z.string().min(1).max(255).optional(),
      limits: limitsOverrideSchema.optional(),
      outputFilters: outputFiltersSchema.optional(),
      callbackUrl: callbackUrlSchema.optional(),
    })
    .strict()
    .refine((input) => (input.projectId === undefined) !== (input.exampleId === undefined), {
      message: 'name exactly one of projectId and exampleId',
      path: ['projectId'],
    }),
]);
export type CreateRunInput = z.infer<typeof createRunInputSchema>;

export const artifactViewSchema = z.object({
  path: z.string(),
  kind: z.string(),
  size: z.number(),
  sha256: z.string().nullable(),
  mediaType: z.string(),
  linkTarget: z.string().nullable().optional(),
});
