import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  createWorkspaceInspector,
  executeRun,
  resolveLimits,
  runKindKey,
  takesInput,
  type EnvironmentStore,
  type ExecutorConfig,
  type RunRecord,
  type SandboxHost,
  type SandboxLimits,
  type ToolSupport,
  type WarmSandboxes,
} from '@runbox/executor';
import { WaitingError, Worker, type Job } from 'bullmq';
import { clusterKeys, type ClusterKeys } from './cluster-keys.ts';
import { runJobSchema, type RunJob } from './job-data.ts';
import { receiveRunInput } from './run-input.ts';
import { createMessageWriter } from './message-writer.ts';
import { connectRedis } from './redis-connection.ts';
import { startWorkerLease, type WorkerLease } from './worker-lease.ts';
import { createWorkerSessions } from './worker-sessions.ts';

/** A project's files on this worker, held while a run copies them. */
export interface ProjectFiles {
  get(digest: string): Promise<{ dir: string; release(): void }>;
}

export interface RunWorkerOptions {
  url: string;
  keys?: ClusterKeys;
  name: string;
  /** Where the API can tell this worker apart (host:pid); shown on the admin page. */
  address: string;
  concurrency: number;
  /** @default 10_000 */
  leaseMs?: number;
  host: SandboxHost;
  tools?: ToolSupport;
  /** The largest limits this worker runs a job with; a job asking more is refused. */
  maximums?: SandboxLimits;
  /** Where a run's files are kept until they are sent to the API. */
  artifactsRoot: string;
  projects?: ProjectFiles;
  /** Sends `<artifactsRoot>/<runId>` to the API. */
  uploadArtifacts?(runId: string, dir: string): Promise<void>;
  /** `ok`, or what failed in the self-test (shown on the admin page). */
  selfTest: string;
  /** Sandboxes started ahead for this worker's snippet runs. @default none */
  warm?: WarmSandboxes | null | undefined;
  /** Where this worker installs and caches runs' environments. @default none: such runs fail */
  environments?: EnvironmentStore | null | undefined;
  log: {
    info(message: string): void;
    warn(message: string): void;
    error(error: unknown, message: string): void;
  };
}

export interface RunWorker {
  /** Starts taking jobs. */
  start(): void;
  /** Runs going now. */
  running(): number;
  /**
   * Takes no new job and lets running ones finish up to the deadline (then they end
   * `interrupted`), then lets go of Redis.
   */
  stop(options?: { deadlineMs?: number }): Promise<void>;
}

interface Active {
  abort: AbortController;
  interrupted: boolean;
}

const STREAM_MAX_LENGTH = 100_000;
/**
 * Events a worker keeps waiting for Redis before it holds its programs' output back (they block
 * on their full pipes): a run printing flat out must not grow the worker's memory without end.
 */
const MAX_EVENT_BACKLOG = 20_000;

/**
 * A worker: takes run jobs from BullMQ and runs each through the engine's run path in this
 * host's sandbox, writing what happens to the message stream. It trusts nothing it reads from
 * Redis: a job that is not a valid run is refused (the API ends it `error`), never run; one that
 * asks for more than this worker's maximums too. Its lease tells the API it is alive; when it
 * cannot renew it, it kills its sandboxes (the API has ended those runs `interrupted`).
 */
export function createRunWorker(options: RunWorkerOptions): RunWorker {
  const keys = options.keys ?? clusterKeys();
  const leaseMs = options.leaseMs ?? 10_000;
  const { log } = options;
  const redis = connectRedis(options.url, `runbox-worker-${options.name}`);
  const cancels = connectRedis(options.url, `runbox-worker-${options.name}-cancels`);
  // A new one each start: a session placed on this process is not taken for one of a restarted one.
  const instance = randomUUID();
  const writer = createMessageWriter(redis, {
    stream: keys.messages,
    worker: options.name,
    maxLength: STREAM_MAX_LENGTH,
    onError: (error) => log.error(error, 'writing to the message stream failed'),
  });
  const inspector = createWorkspaceInspector({ artifactsRoot: options.artifactsRoot });
  const active = new Map<string, Active>();
  let draining = false;
  let lapsed = false;
  // Sessions placed on this worker: their kernels, and their cells, which come by their own stream.
  const sessions = createWorkerSessions({
    redis,
    reader: connectRedis(options.url, `runbox-worker-${options.name}-sessions`),
    keys,
    name: options.name,
    instance,
    host: options.host,
    environments: options.environments ?? null,
    maximums: options.maximums,
    writer,
    runCell: async (job) => {
      if (!lapsed) await takeOrRefuse(job);
    },
    checkMs: leaseMs,
    log,
  });
  let lease: WorkerLease | null = null;

  void cancels.subscribe(keys.cancelChannel);
  cancels.on('message', (_channel: string, runId: string) => active.get(runId)?.abort.abort());

  function refuse(runId: string, reason: string): void {
    log.warn(`job ${runId} refused: ${reason}`);
    writer.send({ kind: 'rejected', runId, worker: options.name, reason });
  }

  async function run(job: Job, token?: string): Promise<void> {
    // A pause does not end a fetch already waiting in Redis: a job that arrives while this worker
    // drains or is cut off goes back to the queue for another worker.
    if ((draining || lapsed) && token !== undefined) {
      await job.moveToWait(token);
      throw new WaitingError();
    }
    const parsed = runJobSchema.safeParse(job.data);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const reason = `not a valid run: ${issue?.path.join('.') || 'job'}: ${issue?.message ?? 'invalid'}`;
      const runId: unknown = (job.data as { runId?: unknown } | null)?.runId;
      if (typeof runId === 'string' && /^[0-9a-f-]{36}$/.test(runId)) refuse(runId, reason);
      else log.warn(`job ${job.id ?? '?'} dropped: ${reason}`);
      await writer.flush();
      return;
    }
    await takeOrRefuse(parsed.data);
  }

  /**
   * Whatever failed before the run could start, the API hears of it: a job that only failed in
   * BullMQ (or a cell that only failed here) would leave the run queued there for ever.
   */
  async function takeOrRefuse(data: RunJob): Promise<void> {
    try {
      await take(data);
    } catch (error) {
      log.error(
        error,
        `${data.request.kind === 'cell' ? 'cell' : 'job'} ${data.runId} failed before it started`,
      );
      // Its own fault, and its message may name the worker's paths: the details go to its log.
      refuse(data.runId, `worker ${options.name} could not start it (the worker's log has why)`);
      await writer.flush();
    }
  }

  /** A valid job: checked against this worker, its files fetched, then run. */
  async function take(data: RunJob): Promise<void> {
    if ((await redis.exists(keys.cancelled(data.runId))) === 1) return;
    let limits: SandboxLimits;
    try {
      limits = resolveLimits(data.limits, options.maximums ? { maximums: options.maximums } : {});
    } catch (error) {
      refuse(data.runId, error instanceof Error ? error.message : String(error));
      await writer.flush();
      return;
    }
    const project = data.projectDigest ? await options.projects?.get(data.projectDigest) : null;
    if (data.projectDigest && !project) {
      refuse(data.runId, 'this worker has no way to fetch project files (no API URL)');
      await writer.flush();
      return;
    }
    try {
      await execute(data, limits, project?.dir ?? null);
    } finally {
      project?.release();
    }
  }

  async function execute(
    data: RunJob,
    limits: SandboxLimits,
    projectDir: string | null,
  ): Promise<void> {
    const request =
      data.request.kind === 'tool' && projectDir !== null
        ? { ...data.request, projectDir }
        : data.request;
    const record: RunRecord = {
      id: data.runId,
      state: 'running',
      request,
      meta: {},
      priority: data.priority,
      kindKey: runKindKey(request),
      limits,
      warnings: data.warnings,
      queuedAt: data.queuedAt,
      startedAt: Date.now(),
      finishedAt: null,
      usage: null,
      result: null,
    };
    // The API's output settings for this run (its own filters decided there).
    const config: ExecutorConfig = {
      host: options.host,
      ...(options.tools ? { tools: options.tools } : {}),
      output: { maxLines: data.output.maxLines, pii: data.output.pii },
      warm: options.warm ?? null,
      environments: options.environments ?? null,
      sessions: sessions.kernels,
    };
    const entry: Active = { abort: new AbortController(), interrupted: false };
    active.set(data.runId, entry);
    // An interactive run's input comes from the API through its stream (run-input.ts).
    const input = takesInput(record.request)
      ? receiveRunInput(redis, keys.runInput(data.runId))
      : null;
    // For an API that restarts meanwhile: which worker to ask after (its lease) for this run.
    await redis.set(keys.runningOn(data.runId), options.name, 'PX', 24 * 3_600_000);
    writer.send({ kind: 'started', runId: data.runId, worker: options.name });
    try {
      const result = await executeRun(
        {
          host: options.host,
          config,
          inspector,
          emit: (event) => writer.event(data.runId, event),
          outputGate: () => (writer.backlog() > MAX_EVENT_BACKLOG ? writer.flush() : null),
          onInternalError: (error, phase) =>
            log.error(error, `run ${data.runId} failed in its ${phase}`),
          ...(input ? { stdin: input.stdin, onProgram: input.onProgram } : {}),
        },
        record,
        { signal: entry.abort.signal, interrupted: () => entry.interrupted },
      );
      const kept = join(options.artifactsRoot, data.runId);
      if (result.artifacts.length > 0 && options.uploadArtifacts) {
        try {
          await options.uploadArtifacts(data.runId, kept);
        } catch (error) {
          log.error(error, `the files of run ${data.runId} could not be sent to the API`);
          result.warnings.push({
            check: 'artifact',
            rule: 'internal',
            message:
              "runbox could not keep this run's files (its own fault; the worker log has why)",
          });
          result.artifacts = [];
        }
      }
      await rm(kept, { recursive: true, force: true });
      writer.send({ kind: 'result', runId: data.runId, worker: options.name, result });
      await writer.flush();
      await redis.del(keys.runningOn(data.runId));
    } finally {
      active.delete(data.runId);
      await input?.stop();
    }
  }

  const worker = new Worker(keys.queueName, run, {
    connection: redis,
    concurrency: options.concurrency,
    autorun: false,
    // A job whose worker died is never started again (code is not idempotent): it fails.
    lockDuration: leaseMs,
    maxStalledCount: 0,
    stalledInterval: leaseMs,
  });
  worker.on('error', (error) => log.error(error, 'the BullMQ worker failed'));
  function takeJobs(): void {
    Promise.resolve(worker.resume()).catch((error: unknown) =>
      log.error(error, 'the BullMQ worker did not resume'),
    );
  }

  return {
    start() {
      lease ??= startWorkerLease(redis, keys, {
        leaseMs,
        info: () => ({
          name: options.name,
          address: options.address,
          concurrency: options.concurrency,
          running: active.size,
          selfTest: options.selfTest,
          draining,
          instance,
          sessions: sessions.summary(),
        }),
        onDrain(asked) {
          if (asked === draining) return;
          draining = asked;
          log.info(asked ? 'draining: taking no new job' : 'no longer draining: taking jobs');
          if (asked) worker.pause(true).catch(() => {});
          else if (!lapsed) takeJobs();
        },
        onLapse() {
          lapsed = true;
          log.warn('the lease lapsed (Redis unreachable): killing every sandbox of this worker');
          for (const entry of active.values()) {
            entry.interrupted = true;
            entry.abort.abort();
          }
          // The API counts its sessions lost and wakes them elsewhere, or here, from their snapshot.
          void sessions.dropAll('its worker was cut off from Redis');
          worker.pause(true).catch(() => {});
        },
        onRejoin() {
          lapsed = false;
          log.info('Redis answers again: taking jobs');
          if (!draining) takeJobs();
        },
        onError: () => {},
      });
      void worker.run().catch((error: unknown) => log.error(error, 'the BullMQ worker stopped'));
    },
    running: () => active.size,
    async stop({ deadlineMs = Number.POSITIVE_INFINITY } = {}) {
      const closing = worker.close();
      let timer: NodeJS.Timeout | undefined;
      if (Number.isFinite(deadlineMs)) {
        timer = setTimeout(() => {
          for (const entry of active.values()) {
            entry.interrupted = true;
            entry.abort.abort();
          }
        }, deadlineMs);
      }
      await closing;
      // Cells run outside BullMQ: they finish (or are ended at the deadline) here.
      await sessions.close();
      clearTimeout(timer);
      await lease?.stop();
      await writer.flush();
      await redis.del(keys.worker(options.name)).catch(() => 0);
      cancels.disconnect();
      redis.disconnect();
    },
  };
}
