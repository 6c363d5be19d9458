import type { WorkerInfo } from '@runbox/cluster';
import { LANGUAGES, RUN_STATES, isEndState } from '@runbox/executor';
import { z } from 'zod';
import { NoWorkersError, NotFoundError } from '../errors/api-errors.ts';
import {
  deliveryIdSchema,
  deliveryViewSchema,
  redeliver,
  toDeliveryView,
} from '../callbacks/delivery-views.ts';
import { toTRPCError } from '../errors/to-trpc-error.ts';
import { DELIVERY_STATES } from '../store/outbox.ts';
import { toRunView } from '../run-service.ts';
import { runViewSchema } from '../schemas/run-views.ts';
import type { Services } from '../services.ts';
import { adminProcedure, router } from '../trpc.ts';
import { withSubscriptionSlot } from './subscription-slot.ts';

/** The whole queue as the admin page shows it: waiting in order, running, recently ended. */
function queueView(services: Services) {
  const snapshot = services.executor.queue();
  const now = Date.now();
  const describe = (id: string) => {
    const run = services.store.getRun(id);
    return run ? toRunView(services, run, true, snapshot) : null;
  };
  return {
    concurrency: snapshot.concurrency,
    paused: snapshot.paused,
    maxQueueLength: snapshot.maxQueueLength,
    estimatedWaitMs: snapshot.estimatedWaitMs,
    waiting: snapshot.waiting.flatMap((entry) => {
      const run = describe(entry.id);
      return run ? [{ ...run, waitedMs: now - entry.queuedAt }] : [];
    }),
    running: snapshot.running.flatMap((entry) => {
      const run = describe(entry.id);
      return run
        ? [{ ...run, elapsedMs: now - (entry.startedAt ?? now), liveUsage: entry.usage }]
        : [];
    }),
    ended: services.store
      .listRuns({ states: RUN_STATES.filter((state) => isEndState(state)), limit: 20 })
      .runs.map((run) => toRunView(services, run, true, snapshot)),
  };
}

/** A worker as the admin page shows it. */
export interface WorkerView extends Omit<WorkerInfo, 'instance' | 'sessions'> {
  /** Since its last heartbeat, measured here: the browser's clock may differ from the server's. */
  heartbeatAgeMs: number;
  /** Sessions whose kernel runs on it. */
  sessions: number;
}

export interface WorkersView {
  /** `embedded`: runs run in the API's own process (no RUNBOX_REDIS_URL), and there are no workers. */
  mode: 'embedded' | 'redis';
  workers: WorkerView[];
}

const warmPoolViewSchema = z.object({
  language: z.enum(LANGUAGES),
  size: z.number(),
  ready: z.number(),
  starting: z.number(),
  hits: z.number(),
  misses: z.number(),
  made: z.number(),
  refillMsP50: z.number().nullable(),
  refillMsLast: z.number().nullable(),
  idleMemoryBytes: z.number(),
});

/** A worker's name as workers take it (RUNBOX_WORKER_NAME): nothing that could reach another key. */
const workerNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'a worker name is 1 to 64 letters, digits, _ . or -');

async function workersView(services: Services): Promise<WorkersView> {
  if (!services.cluster) return { mode: 'embedded', workers: [] };
  const workers = await services.cluster.workers();
  const now = Date.now();
  return {
    mode: 'redis',
    workers: workers.map(({ instance: _instance, sessions, ...worker }) => ({
      ...worker,
      heartbeatAgeMs: Math.max(0, now - worker.heartbeatAt),
      sessions: sessions.length,
    })),
  };
}

export const adminRouter = router({
  queue: adminProcedure.query(({ ctx }) => queueView(ctx.services)),

  /** The queue again whenever the engine says it changed (no polling). */
  onQueue: adminProcedure.subscription(async function* ({ ctx, signal }) {
    try {
      yield* withSubscriptionSlot(ctx, async function* () {
        // The executor says when the queue changed (at most once per turn of the event loop);
        // the view is sent again only then, and only when it differs from the last one sent.
        let changed = true;
        let wake: (() => void) | null = null;
        const off = ctx.services.executor.onQueueChange(() => {
          changed = true;
          wake?.();
        });
        const onAbort = (): void => wake?.();
        signal?.addEventListener('abort', onAbort);
        try {
          let last = '';
          while (!signal?.aborted) {
            if (changed) {
              changed = false;
              const view = queueView(ctx.services);
              const text = JSON.stringify(view);
              if (text !== last) {
                last = text;
                yield view;
              }
              continue;
            }
            await new Promise<void>((resolve) => {
              wake = resolve;
              if (changed || signal?.aborted) resolve();
            });
            wake = null;
          }
        } finally {
          off();
          signal?.removeEventListener('abort', onAbort);
        }
      });
    } catch (error) {
      throw toTRPCError(error);
    }
  }),

  cancel: adminProcedure
    .input(z.object({ id: z.string().min(1).max(64) }))
    .output(runViewSchema)
    .mutation(({ ctx, input }) => {
      const run = ctx.services.store.getRun(input.id);
      if (!run) throw new NotFoundError('run', input.id);
      try {
        ctx.services.executor.cancel(input.id);
      } catch {
        // ended before this server started
      }
      return toRunView(ctx.services, ctx.services.store.getRun(input.id) ?? run, true);
    }),

  pause: adminProcedure.mutation(({ ctx }) => {
    ctx.services.executor.pause();
    return { paused: true };
  }),
  resume: adminProcedure.mutation(({ ctx }) => {
    ctx.services.executor.resume();
    return { paused: false };
  }),
  setConcurrency: adminProcedure
    .input(z.object({ concurrency: z.number().int().min(1).max(256) }))
    .mutation(({ ctx, input }) => {
      ctx.services.executor.setConcurrency(input.concurrency);
      return { concurrency: input.concurrency };
    }),

  runs: adminProcedure
    .input(
      z.object({
        states: z.array(z.enum(RUN_STATES)).max(RUN_STATES.length).optional(),
        owner: z.string().max(128).optional(),
        toolId: z.string().max(64).optional(),
        language: z.enum(LANGUAGES).optional(),
        limit: z.number().int().min(1).max(500).default(100),
        cursor: z.object({ queuedAt: z.number(), id: z.string().max(64) }).optional(),
      }),
    )
    .query(({ ctx, input }) => {
      const page = ctx.services.store.listRuns({
        ...(input.states ? { states: input.states } : {}),
        ...(input.owner ? { owner: input.owner } : {}),
        ...(input.toolId ? { toolId: input.toolId } : {}),
        ...(input.language ? { language: input.language } : {}),
        limit: input.limit,
        ...(input.cursor ? { before: input.cursor } : {}),
      });
      const snapshot = ctx.services.executor.queue();
      return {
        runs: page.runs.map((run) => toRunView(ctx.services, run, true, snapshot)),
        nextCursor: page.nextCursor,
      };
    }),

  selfTest: adminProcedure.query(({ ctx }) => ctx.services.selfTest),

  /**
   * This process's warm sandboxes per language: wanted, ready, starting, hits, misses, refill time,
   * idle memory. Workers keep their own (their /metrics-less processes report none here).
   */
  warmSandboxes: adminProcedure
    .output(z.array(warmPoolViewSchema))
    .query(({ ctx }) => ctx.services.warmSandboxes()),

  /** The workers whose lease is alive (the page asks every 2 s: a lease changes that seldom). */
  workers: adminProcedure.query(({ ctx }) => workersView(ctx.services)),

  /**
   * Drains a worker (it takes no new run; its running runs finish) or lets it take runs again.
   * The worker hears it at its next lease renewal, so `workers` shows it a moment later.
   */
  drainWorker: adminProcedure
    .input(z.object({ name: workerNameSchema, draining: z.boolean() }).strict())
    .mutation(async ({ ctx, input }) => {
      const cluster = ctx.services.cluster;
      if (!cluster) throw new NoWorkersError();
      // Only a live worker is drained: a mark for a name no worker has would wait in Redis for
      // whichever worker takes that name next. Taking a mark away is always allowed.
      if (input.draining && !(await cluster.workers()).some((w) => w.name === input.name))
        throw new NotFoundError('worker', input.name);
      await cluster.drain(input.name, input.draining);
      return { name: input.name, draining: input.draining };
    }),

  /** Callback deliveries of every run, newest first, by state. */
  deliveries: adminProcedure
    .input(
      z
        .object({
          states: z.array(z.enum(DELIVERY_STATES)).max(DELIVERY_STATES.length).optional(),
          limit: z.number().int().min(1).max(500).default(100),
          cursor: z.object({ createdAt: z.number(), id: deliveryIdSchema }).optional(),
        })
        .default({ limit: 100 }),
    )
    .output(
      z.object({
        deliveries: z.array(deliveryViewSchema),
        nextCursor: z.object({ createdAt: z.number(), id: z.string() }).nullable(),
      }),
    )
    .query(({ ctx, input }) => {
      const page = ctx.services.store.outbox.list({
        ...(input.states ? { states: input.states } : {}),
        limit: input.limit + 1,
        ...(input.cursor ? { before: input.cursor } : {}),
      });
      const shown = page.slice(0, input.limit);
      const last = shown.at(-1);
      return {
        deliveries: shown.map((delivery) => toDeliveryView(ctx.services, delivery)),
        nextCursor:
          page.length > input.limit && last ? { createdAt: last.createdAt, id: last.id } : null,
      };
    }),

  /** Sends a delivery again from the start of its schedule, with the same webhook-id. */
  redeliver: adminProcedure
    .input(z.object({ deliveryId: deliveryIdSchema }).strict())
    .output(deliveryViewSchema)
    .mutation(({ ctx, input }) => redeliver(ctx.services, input.deliveryId)),

  rateLimits: adminProcedure.query(({ ctx }) => ctx.services.rateLimiter.settings()),
  setRateLimits: adminProcedure
    .input(
      z
        .object({
          runsPerHour: z.number().int().min(1).max(1_000_000).optional(),
          concurrentRunsPerOwner: z.number().int().min(1).max(10_000).optional(),
        })
        .strict(),
    )
    .mutation(({ ctx, input }) =>
      ctx.services.rateLimiter.update({
        ...(input.runsPerHour !== undefined ? { runsPerHour: input.runsPerHour } : {}),
        ...(input.concurrentRunsPerOwner !== undefined
          ? { concurrentRunsPerOwner: input.concurrentRunsPerOwner }
          : {}),
      }),
    ),
});
