import { adminRouter } from './routers/admin.ts';
import {
  environmentsRouter,
  examplesRouter,
  limitsRouter,
  toolsRouter,
} from './routers/catalog.ts';
import { projectsRouter } from './routers/projects.ts';
import { queueRouter } from './routers/queue.ts';
import { runsRouter } from './routers/runs.ts';
import { sessionsRouter } from './routers/sessions.ts';
import { readiness } from './health.ts';
import { publicProcedure, router } from './trpc.ts';

export const appRouter = router({
  health: publicProcedure.query(({ ctx }) => readiness(ctx.services)),
  tools: toolsRouter,
  examples: examplesRouter,
  environments: environmentsRouter,
  limits: limitsRouter,
  projects: projectsRouter,
  runs: runsRouter,
  sessions: sessionsRouter,
  queue: queueRouter,
  admin: adminRouter,
});

export type AppRouter = typeof appRouter;
