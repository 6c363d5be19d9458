import { ABSOLUTE_RANGES, DEFAULT_LIMITS, LIMIT_NAMES, type SandboxLimits } from '@runbox/executor';
import { z } from 'zod';
import { publicProcedure, router } from '../trpc.ts';

const toolViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  available: z.boolean(),
  reason: z.string().nullable(),
  version: z.string().nullable(),
  appliesTo: z.array(z.string()),
  limits: z.record(z.string(), z.number()),
});

export const toolsRouter = router({
  list: publicProcedure.output(z.array(toolViewSchema)).query(({ ctx }) =>
    ctx.services.tools.list().map((entry) => ({
      id: entry.tool.id,
      name: entry.tool.name,
      description: entry.tool.description,
      available: entry.available,
      reason: entry.reason ?? null,
      version: entry.version ?? null,
      appliesTo: [...entry.tool.appliesTo.anyOf],
      limits: { ...entry.tool.limits },
    })),
  ),
});

export const examplesRouter = router({
  list: publicProcedure
    .output(
      z.array(
        z.object({
          id: z.string(),
          name: z.string(),
          description: z.string(),
          tool: z.string(),
          /** Limits the example sets over its tool's (a run may still ask for others). */
          limits: z.record(z.string(), z.number()),
        }),
      ),
    )
    .query(({ ctx }) =>
      ctx.services.examples.map((example) => ({
        id: example.id,
        name: example.name,
        description: example.description,
        tool: example.tool,
        limits: { ...example.limits },
      })),
    ),
});

const limitValuesSchema = z.object({
  wallTimeMs: z.number(),
  memoryBytes: z.number(),
  maxProcesses: z.number(),
  cpus: z.number(),
  tmpBytes: z.number(),
  workspaceBytes: z.number(),
  openFiles: z.number(),
  outputBytes: z.number(),
});

function lowestAllowed(): SandboxLimits {
  const minimums = { ...DEFAULT_LIMITS };
  for (const field of LIMIT_NAMES) minimums[field] = ABSOLUTE_RANGES[field][0];
  return minimums;
}

/** What a run may ask for on this server: the defaults a snippet gets, and the range of each limit. */
export const limitsRouter = router({
  get: publicProcedure
    .output(
      z.object({
        defaults: limitValuesSchema,
        minimums: limitValuesSchema,
        maximums: limitValuesSchema,
        maxOutputLines: z.number(),
      }),
    )
    .query(({ ctx }) => ({
      defaults: { ...DEFAULT_LIMITS },
      minimums: lowestAllowed(),
      maximums: { ...ctx.services.config.maximums },
      maxOutputLines: ctx.services.config.maxOutputLines,
    })),
});
