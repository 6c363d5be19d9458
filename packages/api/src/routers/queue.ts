import { z } from 'zod';
import { publicProcedure, router } from '../trpc.ts';

export const queueRouter = router({
  /** How busy runbox is, and what a run submitted now would wait. No run ids of others. */
  status: publicProcedure
    .output(
      z.object({
        waiting: z.number(),
        running: z.number(),
        concurrency: z.number(),
        paused: z.boolean(),
        estimatedWaitMs: z.number(),
      }),
    )
    .query(({ ctx }) => {
      const snapshot = ctx.services.executor.queue();
      return {
        waiting: snapshot.waiting.length,
        running: snapshot.running.length,
        concurrency: snapshot.concurrency,
        paused: snapshot.paused,
        estimatedWaitMs: snapshot.estimatedWaitMs,
      };
    }),
});
