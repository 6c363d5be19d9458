import {
  notStartedResult,
  takesInput,
  type DriverRunContext,
  type RunDriver,
  type RunRecord,
  type RunResult,
  type SessionControl,
  type SessionKernelsHooks,
} from '@runbox/executor';
import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { clusterKeys, type ClusterKeys } from './cluster-keys.ts';
import { bullPriority, type RunJob } from './job-data.ts';
import { compareStreamIds, startMessageRelay, type MessageRelay } from './message-relay.ts';
import { createMirroredQueue, type SharedQueue } from './mirrored-queue.ts';
import { createRemoteSessions, type RemoteSessions } from './remote-sessions.ts';
import { connectRedis } from './redis-connection.ts';
import { sendRunInput } from './run-input.ts';
import type { RunMessage } from './run-messages.ts';
import { liveWorkers, setDraining, type WorkerInfo } from './worker-lease.ts';

export interface RedisDriverOptions {
  url: string;
  keys?: ClusterKeys;
  /**
   * Runs at once across all workers (BullMQ's global concurrency); null: as many as the workers'
   * own concurrency together.
   */
  concurrency: number | null;
  /** A worker that has not renewed its lease for this long is gone. @default 10_000 */
  leaseMs?: number;
  /** The server's output settings: the line cap, and whether runs that do not say get PII tokenized. */
  output: { maxLines: number; pii: boolean };
  /** The digest of a project's files, by which a worker asks the API for them. */
  projectDigest(projectDir: string): Promise<string>;
  log: {
    warn(message: string): void;
    error(error: unknown, message: string): void;
  };
  /**
   * Where the relay keeps how far it got in the message stream. The API's store notes it in the
   * same transaction as the events relayed before it, so a restarted API goes on from exactly
   * there: no event lost, none stored twice. Default: a key in Redis, written after each read
   * (a crash between the engine's store and that key can repeat one read's events).
   */
  cursor?: { read(): string | null; note(lastId: string): void };
  /**
   * Start reading the message stream only when startRelay() is called (after the API queued and
   * resumed the runs it had when it stopped). @default false
   */
  deferRelay?: boolean;
  /**
   * The sessions as the API's store has them (session-runtime.ts): given, sessions live on
   * workers (remote-sessions.ts) and `sessions` is how the API reaches their kernels.
   */
  sessions?: SessionKernelsHooks;
}

export interface RedisDriver extends RunDriver {
  /** Workers whose lease is alive. */
  workers(): Promise<WorkerInfo[]>;
  /** Asks a worker to take no new job (its running runs finish), or to take jobs again. */
  drain(name: string, draining: boolean): Promise<void>;
  /**
   * Reads the message stream from where the API got to before it stopped (or from now), so the
   * runs it resumed get every event of their workers, once. Once only; see deferRelay.
   */
  startRelay(): Promise<void>;
  /** The kernels of sessions, on their workers; null when no session hooks were given. */
  readonly sessions: SessionControl | null;
}

interface Following {
  record: RunRecord;
  context: DriverRunContext;
  /** Null until its worker said it started it (or, resumed, until Redis said which worker has it). */
  worker: string | null;
  /** Resumed, and Redis knows no worker of it: over, unless its result is still in the stream. */
  orphan: boolean;
  /** An interactive run's input, on its way to the worker (run-input.ts); null for others. */
  input: ReturnType<typeof sendRunInput> | null;
  resolve(result: RunResult): void;
}

/** DEFAULTS of the redis driver. */
export const REDIS_DRIVER_DEFAULTS = { leaseMs: 10_000 } as const;

/**
 * The API's side of the redis driver: runs go to Redis as BullMQ jobs, workers run them and write
 * what happens to the message stream, which this side reads and hands to the engine (which
 * numbers, stores and streams the events as it does for runs of its own). A cancel is published
 * to every worker; a run whose worker's lease lapsed ends `interrupted`.
 */
export async function createRedisDriver(options: RedisDriverOptions): Promise<RedisDriver> {
  const keys = options.keys ?? clusterKeys();
  const leaseMs = options.leaseMs ?? REDIS_DRIVER_DEFAULTS.leaseMs;
  const redis = connectRedis(options.url, 'runbox-api');
  const reader = connectRedis(options.url, 'runbox-api-relay');
  const bull = new Queue(keys.queueName, { connection: redis });
  await setCap(options.concurrency);
  const following = new Map<string, Following>();
  async function setCap(concurrency: number | null): Promise<void> {
    if (concurrency === null) await bull.removeGlobalConcurrency();
    else await bull.setGlobalConcurrency(concurrency);
  }
  const epoch = randomUUID();
  await redis.set(keys.epoch, epoch);
  const remote: RemoteSessions | null = options.sessions
    ? createRemoteSessions({
        redis,
        keys,
        hooks: options.sessions,
        workers: () => liveWorkers(redis, keys),
        log: options.log,
      })
    : null;

  async function addJob(record: RunRecord): Promise<void> {
    const request = record.request;
    const job: RunJob = {
      runId: record.id,
      request,
      projectDigest:
        request.kind === 'tool' ? await options.projectDigest(request.projectDir) : null,
      limits: record.limits,
      output: {
        maxLines: options.output.maxLines,
        pii: request.outputFilters?.pii ?? options.output.pii,
      },
      priority: record.priority,
      queuedAt: record.queuedAt,
      warnings: record.warnings,
    };
    // A cell runs where its session's kernel lives: sent to that worker, not to whichever is free.
    if (remote && request.kind === 'cell') {
      remote.sendCell({ ...job, request });
      return;
    }
    await bull.add('run', job, {
      jobId: record.id,
      priority: bullPriority(record.priority),
      attempts: 1,
      removeOnComplete: true,
      removeOnFail: true,
    });
  }

  const shared: SharedQueue = {
    async add(record) {
      try {
        await addJob(record);
      } catch (error) {
        // Never queued, it would wait for ever: it ends now, runbox's own fault.
        options.log.error(error, `redis driver: run ${record.id} could not be queued in Redis`);
        queue.started(record.id);
        const run = following.get(record.id);
        if (run)
          end(
            record.id,
            endedByRunbox(
              run,
              'error',
              'runbox could not hand this run to a worker (its own fault; the server log has why)',
            ),
          );
      }
    },
    async remove(runId) {
      remote?.forget(runId);
      // Marked first: a worker that took the job in the meantime finds the mark and runs nothing.
      await redis.set(keys.cancelled(runId), '1', 'PX', 3_600_000);
      await bull.remove(runId).catch(() => 0);
    },
    setConcurrency: setCap,
    pause: () => bull.pause(),
    resume: () => bull.resume(),
  };
  const queue = createMirroredQueue({
    shared,
    concurrency: options.concurrency,
    onError: (error, runId) =>
      options.log.error(
        error,
        `redis driver: the shared queue failed${runId ? ` for run ${runId}` : ''}`,
      ),
  });

  function cancelEverywhere(runId: string): void {
    redis
      .publish(keys.cancelChannel, runId)
      .catch((error: unknown) =>
        options.log.error(error, `redis driver: could not publish the cancel of run ${runId}`),
      );
  }

  function end(runId: string, result: RunResult): void {
    const run = following.get(runId);
    if (!run) return;
    following.delete(runId);
    void run.input?.stop();
    run.resolve(result);
  }

  function endedByRunbox(run: Following, state: 'error' | 'interrupted', error: string): RunResult {
    const result = notStartedResult(run.record, state, error);
    const startedAt = run.record.startedAt;
    return startedAt === null
      ? result
      : { ...result, startedAt, durationMs: Math.max(0, result.finishedAt - startedAt) };
  }

  function onMessage(message: RunMessage): void {
    switch (message.kind) {
      case 'started': {
        remote?.forget(message.runId);
        queue.started(message.runId);
        const run = following.get(message.runId);
        // Cancelled (or unknown here) while a worker took it: it must not run.
        if (run) {
          run.worker = message.worker;
          run.orphan = false;
          // Its program's signals and resizes now have somewhere to go.
          if (run.input) run.context.onProgram?.(run.input.program());
        } else cancelEverywhere(message.runId);
        return;
      }
      case 'events': {
        const run = following.get(message.runId);
        if (run) for (const event of message.events) run.context.emit(event);
        return;
      }
      case 'result':
        end(message.runId, message.result);
        return;
      case 'rejected': {
        remote?.forget(message.runId);
        queue.started(message.runId);
        const run = following.get(message.runId);
        if (run)
          end(
            message.runId,
            endedByRunbox(run, 'error', `the worker refused the job: ${message.reason}`),
          );
        return;
      }
      case 'session':
      case 'reply':
        remote?.onMessage(message);
        return;
    }
  }

  let relay: MessageRelay | null = null;
  /** The stream's last entry when the relay started: what it must read before judging orphans. */
  let catchUpId = '0-0';
  async function startRelay(): Promise<void> {
    if (relay) return;
    const cursor = options.cursor ? options.cursor.read() : await redis.get(keys.relayCursor);
    const last = (await redis.xrevrange(keys.messages, '+', '-', 'COUNT', 1))[0]?.[0] ?? '0-0';
    // The first start: from now on, noted at once, so that a crash before the first read's
    // events are stored goes back to here rather than to wherever the stream ends then.
    if (cursor === null && options.cursor) options.cursor.note(last);
    catchUpId = last;
    relay = startMessageRelay(reader, {
      stream: keys.messages,
      afterId: cursor ?? last,
      onMessage,
      onSkipped: (id) =>
        options.log.warn(`redis driver: stream entry ${id} is no runbox message; skipped`),
      onError: (error) =>
        options.log.error(error, 'redis driver: reading the message stream failed'),
      async onBatch(lastId) {
        if (options.cursor) options.cursor.note(lastId);
        else await redis.set(keys.relayCursor, lastId);
      },
    });
  }
  if (!options.deferRelay) await startRelay();

  let leasesLostAt = 0;
  /** Redis lost everything (restarted without persistence): the waiting runs go in again. */
  async function checkEpoch(): Promise<void> {
    if ((await redis.get(keys.epoch)) === epoch) return;
    options.log.warn('redis driver: Redis lost its data; queueing the waiting runs again');
    await redis.set(keys.epoch, epoch);
    // Leases went with the data: give every worker a lease's time to say it is alive again.
    leasesLostAt = Date.now();
    await queue.restore();
  }

  // A run whose worker's lease lapsed is over: its worker is gone or cut off (and kills its own
  // sandboxes when it notices).
  const watchdog = setInterval(
    () => {
      checkEpoch().catch((error: unknown) =>
        options.log.error(error, 'redis driver: checking that Redis kept its data failed'),
      );
      liveWorkers(redis, keys).then(
        (workers) => {
          queue.setCapacity(
            workers.filter((worker) => !worker.draining).reduce((sum, w) => sum + w.concurrency, 0),
          );
          remote?.check(workers);
        },
        () => {},
      );
      if (Date.now() - leasesLostAt < leaseMs) return;
      if (relay && compareStreamIds(relay.lastId(), catchUpId) >= 0) {
        for (const run of [...following.values()].filter((candidate) => candidate.orphan)) {
          end(
            run.record.id,
            endedByRunbox(run, 'interrupted', 'no worker ran it any more when runbox restarted'),
          );
        }
      }
      const runs = [...following.values()].filter((run) => run.worker !== null);
      const workers = new Set(runs.map((run) => run.worker ?? ''));
      void (async () => {
        for (const worker of workers) {
          const alive = await redis.exists(keys.worker(worker)).catch(() => 1);
          if (alive) continue;
          for (const run of runs) {
            if (run.worker !== worker || !following.has(run.record.id)) continue;
            cancelEverywhere(run.record.id);
            end(
              run.record.id,
              endedByRunbox(run, 'interrupted', `its worker ${worker} stopped answering`),
            );
          }
        }
      })();
    },
    Math.max(100, Math.floor(leaseMs / 4)),
  );
  watchdog.unref();

  return {
    queue,
    runsElsewhere: true,
    execute(record, context) {
      return new Promise<RunResult>((resolve) => {
        // Input sent now waits in the run's stream until a worker reads it.
        const input = takesInput(record.request)
          ? sendRunInput(redis, keys.runInput(record.id), context.stdin)
          : null;
        const run: Following = { record, context, worker: null, orphan: false, input, resolve };
        following.set(record.id, run);
        context.signal.addEventListener('abort', () => cancelEverywhere(record.id), {
          once: true,
        });
        if (context.resumed) {
          redis.get(keys.runningOn(record.id)).then(
            (worker) => {
              if (worker) run.worker ??= worker;
              else if (run.worker === null) run.orphan = true;
            },
            (error: unknown) =>
              options.log.error(error, `redis driver: which worker runs ${record.id}?`),
          );
        }
      });
    },
    adopt: (runId, start) => queue.adopt(runId, start),
    startRelay,
    workers: () => liveWorkers(redis, keys),
    drain: (name, draining) => setDraining(redis, keys, name, draining),
    sessions: remote,
    async close() {
      clearInterval(watchdog);
      await remote?.close();
      // What workers wrote up to now (this process's own worker's last results among it) is
      // relayed and stored before the relay stops: a restart goes on after it.
      const end = (
        await redis.xrevrange(keys.messages, '+', '-', 'COUNT', 1).catch(() => [])
      )[0]?.[0];
      const deadline = Date.now() + 2_000;
      while (relay && end && compareStreamIds(relay.lastId(), end) < 0 && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 10));
      await relay?.stop();
      await bull.close();
      redis.disconnect();
    },
  };
}
