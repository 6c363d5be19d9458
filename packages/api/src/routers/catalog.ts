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
        z.object({ id: z.string(), name: z.string(), description: z.string(), tool: z.string() }),
      ),
    )
    .query(({ ctx }) =>
      ctx.services.examples.map((example) => ({
        id: example.id,
        name: example.name,
        description: example.description,
        tool: example.tool,
      })),
    ),
});
