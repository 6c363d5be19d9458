import { z } from 'zod';
import { toRunView } from '../run-service.ts';
import { runViewSchema } from '../schemas/run-views.ts';
import {
  closeSession,
  closeVisibleSession,
  createSession,
  interruptSession,
  restartSession,
  runCell,
  sessionVariables,
  setSessionVariable,
  toSessionDetail,
  toSessionView,
  visibleSession,
} from '../sessions/session-service.ts';
import {
  createSessionInputSchema,
  runCellInputSchema,
  sessionDetailSchema,
  sessionRefSchema,
  sessionViewSchema,
  setVariableInputSchema,
  variablesViewSchema,
} from '../sessions/session-views.ts';
import { SESSION_STATES } from '../store/session-store.ts';
import { adminProcedure, ownerProcedure, router } from '../trpc.ts';

/**
 * Sessions that keep state from cell to cell (docs/sessions.md). A cell is a run of kind `cell`:
 * follow it with runs.onOutput / runs.onStatus, cancel it with runs.cancel, as any run.
 */
export const sessionsRouter = router({
  create: ownerProcedure
    .input(createSessionInputSchema)
    .output(sessionViewSchema)
    .mutation(async ({ ctx, input }) =>
      toSessionView(
        ctx.services,
        await createSession(ctx.services, { ...ctx.identity, owner: ctx.owner }, input),
        false,
      ),
    ),

  /** Runs code in the session: a new cell, queued behind the session's other cells. */
  run: ownerProcedure
    .input(runCellInputSchema)
    .output(runViewSchema)
    .mutation(async ({ ctx, input }) =>
      toRunView(ctx.services, await runCell(ctx.services, ctx.identity, input), false),
    ),

  /** SIGINT to the running cell: it ends cancelled, the session (and its variables) go on. */
  interrupt: ownerProcedure
    .input(sessionRefSchema)
    .output(sessionViewSchema)
    .mutation(({ ctx, input }) =>
      toSessionView(ctx.services, interruptSession(ctx.services, ctx.identity, input.id), false),
    ),

  /** A fresh kernel: nothing kept, every waiting or running cell cancelled. */
  restart: ownerProcedure
    .input(sessionRefSchema)
    .output(sessionViewSchema)
    .mutation(async ({ ctx, input }) =>
      toSessionView(
        ctx.services,
        await restartSession(ctx.services, ctx.identity, input.id),
        false,
      ),
    ),

  close: ownerProcedure
    .input(sessionRefSchema)
    .output(sessionViewSchema)
    .mutation(async ({ ctx, input }) =>
      toSessionView(
        ctx.services,
        await closeVisibleSession(ctx.services, ctx.identity, input.id),
        ctx.identity.isAdmin,
      ),
    ),

  /** The session with its cells in full. */
  get: ownerProcedure
    .input(sessionRefSchema)
    .output(sessionDetailSchema)
    .query(({ ctx, input }) =>
      toSessionDetail(
        ctx.services,
        visibleSession(ctx.services, ctx.identity, input.id),
        ctx.identity.isAdmin,
      ),
    ),

  /** The caller's sessions, newest first, each with a summary of its cells. */
  list: ownerProcedure
    .input(
      z
        .object({
          states: z.array(z.enum(SESSION_STATES)).max(SESSION_STATES.length).optional(),
          limit: z.number().int().min(1).max(100).default(50),
        })
        .strict(),
    )
    .output(z.object({ sessions: z.array(sessionViewSchema) }))
    .query(async ({ ctx, input }) => {
      const sessions = ctx.services.store.sessions.list({
        owner: ctx.owner,
        ...(input.states ? { states: input.states } : {}),
        limit: input.limit,
      });
      return {
        sessions: await Promise.all(
          sessions.map((session) => toSessionView(ctx.services, session, false)),
        ),
      };
    }),

  /** Name, type and a short representation of each variable (from the snapshot when asleep). */
  variables: ownerProcedure
    .input(sessionRefSchema)
    .output(variablesViewSchema)
    .query(({ ctx, input }) => sessionVariables(ctx.services, ctx.identity, input.id)),

  /** Binds a name to a JSON value in the session. */
  setVariable: ownerProcedure
    .input(setVariableInputSchema)
    .output(variablesViewSchema)
    .mutation(async ({ ctx, input }) => {
      await setSessionVariable(ctx.services, ctx.identity, input);
      return sessionVariables(ctx.services, ctx.identity, input.id);
    }),

  /** Every open session on the server, with its owner and memory (the admin page). */
  adminList: adminProcedure
    .input(z.object({ limit: z.number().int().min(1).max(1000).default(200) }).strict())
    .output(z.object({ sessions: z.array(sessionViewSchema) }))
    .query(async ({ ctx, input }) => {
      const sessions = ctx.services.store.sessions.list({
        states: ['active', 'hibernated'],
        limit: input.limit,
      });
      return {
        sessions: await Promise.all(
          sessions.map((session) => toSessionView(ctx.services, session, true)),
        ),
      };
    }),

  adminClose: adminProcedure
    .input(sessionRefSchema)
    .output(sessionViewSchema)
    .mutation(async ({ ctx, input }) => {
      const session = visibleSession(ctx.services, ctx.identity, input.id);
      await closeSession(ctx.services, session.id, 'closed by the admin');
      return toSessionView(
        ctx.services,
        visibleSession(ctx.services, ctx.identity, input.id),
        true,
      );
    }),
});
