import {
  MAX_STDIN_BYTES,
  RUN_STATES,
  RunNotInteractiveError,
  terminalSizeSchema,
} from '@runbox/executor';
import { advanceStatus, type RunStatusView } from '../run-status.ts';
import { tracked } from '@trpc/server';
import { z } from 'zod';
import {
  deliveriesOfRun,
  deliveryIdSchema,
  deliveryViewSchema,
  redeliver,
} from '../callbacks/delivery-views.ts';
import { toTRPCError } from '../errors/to-trpc-error.ts';
import {
  createRun,
  createRuns,
  runEventBatches,
  storedEndEvent,
  toRunView,
  visibleRun,
} from '../run-service.ts';
import {
  artifactViewSchema,
  createBatchInputSchema,
  createRunInputSchema,
  runViewSchema,
} from '../schemas/run-views.ts';
import type { Services } from '../services.ts';
import { ownerProcedure, router } from '../trpc.ts';
import { whenSocketDrains, withSubscriptionSlot } from './subscription-slot.ts';

const runId = z.object({ id: z.string().min(1).max(64) });

/** An interactive run as the engine holds it; one the engine no longer has has ended. */
function liveRun(services: Services, id: string): void {
  try {
    services.executor.get(id);
  } catch {
    throw new RunNotInteractiveError(id, 'has ended');
  }
}

export const runsRouter = router({
  create: ownerProcedure
    .input(createRunInputSchema)
    .output(runViewSchema)
    .mutation(async ({ ctx, input }) =>
      toRunView(
        ctx.services,
        await createRun(
          ctx.services,
          ctx.identity as typeof ctx.identity & { owner: string },
          input,
        ),
        false,
      ),
    ),

  /**
   * Up to 20 runs in one call, all or none: each is checked as `create` checks it (a refusal names
   * its index, `runs.2...`) and counted by the rate limits, before the first is queued; then they
   * are queued in order. Answers the runs in the order given.
   */
  createBatch: ownerProcedure
    .input(createBatchInputSchema)
    .output(z.array(runViewSchema))
    .mutation(async ({ ctx, input }) => {
      const runs = await createRuns(
        ctx.services,
        ctx.identity as typeof ctx.identity & { owner: string },
        input.runs,
      );
      const snapshot = ctx.services.executor.queue();
      return runs.map((run) => toRunView(ctx.services, run, false, snapshot));
    }),

  get: ownerProcedure
    .input(runId)
    .output(runViewSchema)
    .query(({ ctx, input }) =>
      toRunView(
        ctx.services,
        visibleRun(ctx.services, ctx.identity, input.id),
        ctx.identity.isAdmin,
      ),
    ),

  list: ownerProcedure
    .input(
      z.object({
        states: z.array(z.enum(RUN_STATES)).max(RUN_STATES.length).optional(),
        limit: z.number().int().min(1).max(100).default(50),
        cursor: z.object({ queuedAt: z.number(), id: z.string().max(64) }).optional(),
      }),
    )
    .output(
      z.object({
        runs: z.array(runViewSchema),
        nextCursor: z.object({ queuedAt: z.number(), id: z.string() }).nullable(),
      }),
    )
    .query(({ ctx, input }) => {
      const page = ctx.services.store.listRuns({
        owner: ctx.owner,
        ...(input.states ? { states: input.states } : {}),
        limit: input.limit,
        ...(input.cursor ? { before: input.cursor } : {}),
      });
      const snapshot = ctx.services.executor.queue();
      return {
        runs: page.runs.map((run) => toRunView(ctx.services, run, false, snapshot)),
        nextCursor: page.nextCursor,
      };
    }),

  cancel: ownerProcedure
    .input(runId)
    .output(runViewSchema)
    .mutation(({ ctx, input }) => {
      const run = visibleRun(ctx.services, ctx.identity, input.id);
      try {
        ctx.services.executor.cancel(run.id);
      } catch {
        // Not in the engine: it ended before this server started; nothing to cancel.
      }
      return toRunView(ctx.services, visibleRun(ctx.services, ctx.identity, input.id), false);
    }),

  /**
   * Writes to the stdin of a run created with `interactive: true`, queued or running (what it
   * has not read yet waits, up to 1 MiB).
   */
  sendInput: ownerProcedure
    .input(z.object({ id: runId.shape.id, data: z.string().max(MAX_STDIN_BYTES) }).strict())
    .output(z.object({ bytes: z.number() }))
    .mutation(({ ctx, input }) => {
      visibleRun(ctx.services, ctx.identity, input.id);
      liveRun(ctx.services, input.id);
      ctx.services.executor.sendInput(input.id, input.data);
      return { bytes: Buffer.byteLength(input.data, 'utf8') };
    }),

  /** Closes an interactive run's stdin: the program reads end of file. */
  closeInput: ownerProcedure
    .input(runId)
    .output(runViewSchema)
    .mutation(({ ctx, input }) => {
      visibleRun(ctx.services, ctx.identity, input.id);
      liveRun(ctx.services, input.id);
      ctx.services.executor.closeInput(input.id);
      return toRunView(ctx.services, visibleRun(ctx.services, ctx.identity, input.id), false);
    }),

  /** SIGINT or SIGTERM to a running run's program; `delivered` false when none is running. */
  signal: ownerProcedure
    .input(z.object({ id: runId.shape.id, signal: z.enum(['SIGINT', 'SIGTERM']) }).strict())
    .output(z.object({ delivered: z.boolean() }))
    .mutation(async ({ ctx, input }) => {
      visibleRun(ctx.services, ctx.identity, input.id);
      liveRun(ctx.services, input.id);
      return { delivered: await ctx.services.executor.signal(input.id, input.signal) };
    }),

  /**
   * A tty run's terminal size: the program gets SIGWINCH. `applied` false when its program is
   * not running (a queued run starts with the new size).
   */
  resize: ownerProcedure
    .input(
      z
        .object({
          id: runId.shape.id,
          cols: terminalSizeSchema.shape.cols,
          rows: terminalSizeSchema.shape.rows,
        })
        .strict(),
    )
    .output(z.object({ applied: z.boolean() }))
    .mutation(({ ctx, input }) => {
      visibleRun(ctx.services, ctx.identity, input.id);
      liveRun(ctx.services, input.id);
      return {
        applied: ctx.services.executor.resize(input.id, { cols: input.cols, rows: input.rows }),
      };
    }),

  /** The run's callback deliveries: each attempt, the last status, the next try. */
  deliveries: ownerProcedure
    .input(runId)
    .output(z.array(deliveryViewSchema))
    .query(({ ctx, input }) => {
      visibleRun(ctx.services, ctx.identity, input.id);
      return deliveriesOfRun(ctx.services, input.id);
    }),

  /** Sends one of the run's deliveries again, with the same webhook-id. */
  redeliver: ownerProcedure
    .input(z.object({ id: runId.shape.id, deliveryId: deliveryIdSchema }).strict())
    .output(deliveryViewSchema)
    .mutation(({ ctx, input }) => {
      visibleRun(ctx.services, ctx.identity, input.id);
      return redeliver(ctx.services, input.deliveryId, input.id);
    }),

  artifacts: ownerProcedure
    .input(runId)
    .output(z.array(artifactViewSchema))
    .query(({ ctx, input }) => {
      visibleRun(ctx.services, ctx.identity, input.id);
      return ctx.services.store.listArtifacts(input.id);
    }),

  /**
   * Every event of the run, in batches `{ events }` tracked by the last event's sequence number:
   * a client that reconnects sends the last id it saw (lastEventId) and gets exactly the events
   * after it. A client that keeps up gets small batches as events happen; one that fell behind
   * (or came late) gets up to a thousand events a message instead of a message per line.
   */
  onOutput: ownerProcedure
    .input(z.object({ id: z.string().min(1).max(64), lastEventId: z.string().max(20).nullish() }))
    .subscription(async function* ({ ctx, input, signal }) {
      const afterSeq = Number.parseInt(input.lastEventId ?? '0', 10) || 0;
      try {
        // Inside the try: an error thrown while the stream is read never passes the middleware.
        visibleRun(ctx.services, ctx.identity, input.id);
        yield* withSubscriptionSlot(ctx, async function* () {
          for await (const events of runEventBatches(ctx.services, input.id, afterSeq, signal)) {
            await whenSocketDrains(ctx, signal);
            yield tracked(String(events.at(-1)!.seq), { events });
          }
        });
      } catch (error) {
        throw toTRPCError(error);
      }
    }),

  /** The run's state, place in line and wait while queued, CPU and memory while running, result at the end. */
  onStatus: ownerProcedure.input(runId).subscription(async function* ({ ctx, input, signal }) {
    try {
      const stored = visibleRun(ctx.services, ctx.identity, input.id);
      const view = toRunView(ctx.services, stored, false);
      let status: RunStatusView = {
        state: view.state,
        position: view.position,
        estimatedWaitMs: view.estimatedWaitMs,
        running: null,
        concurrency: null,
        usage: null,
        result: null,
      };
      yield status;
      // An ended run's status is its end event: nothing to replay.
      const end = storedEndEvent(ctx.services, stored);
      if (end) {
        yield advanceStatus(status, end);
        return;
      }
      yield* withSubscriptionSlot(ctx, async function* () {
        // The replay from the start brings back states the run has left: only moves the state
        // machine allows are taken, so the status never goes backwards. One value per batch: a
        // replay of an ended run gives its final status at once, not every step it went through.
        for await (const events of runEventBatches(ctx.services, input.id, 0, signal)) {
          const next = events.reduce(advanceStatus, status);
          if (next !== status) {
            status = next;
            yield status;
          }
        }
      });
    } catch (error) {
      throw toTRPCError(error);
    }
  }),
});
