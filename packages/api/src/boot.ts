import { mkdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import {
  createRedisDriver,
  createRunWorker,
  type RedisDriver,
  type RunWorker,
} from '@runbox/cluster';
import {
  claimSandboxDir,
  createExecutor,
  createSandboxHost,
  createToolCatalog,
  syntaxCheckersOf,
  createEnvironmentStore,
  createWarmSandboxes,
  loadExamples,
  runSelfTest,
  type Executor,
} from '@runbox/executor';
import { createCallbacks } from './callbacks/index.ts';
import type { ServerConfig } from './config.ts';
import { createLogger, loggerToFunction, runLogger, type Logger } from './logger.ts';
import { createMetrics } from './metrics.ts';
import { createCreateThrottle } from './create-throttle.ts';
import { createOwnerCookies } from './owner-cookie.ts';
import { createProjectDigests } from './project-digests.ts';
import { loadOwnerCookieKey } from './owner-cookie-key.ts';
import { usageOfOwners } from './owner-usage.ts';
import { createRateLimiter } from './rate-limiter.ts';
import { createRunboxServer, type PageHandler, type RunboxServer } from './server.ts';
import type { Services } from './services.ts';
import { requeueCell, sweepSessions } from './sessions/session-service.ts';
import { createSessionRuntime, sessionStoreHooks } from './sessions/session-runtime.ts';
import { openStore, type Store } from './store/index.ts';
import { removeStaleUploadDirs } from './uploads/index.ts';

/** The store_meta key of the redis driver's place in its message stream. */
const RELAY_CURSOR = 'redis-relay-cursor';

export interface RunningRunbox {
  services: Services;
  server: RunboxServer;
  url: string;
  /** Stops taking runs, tells clients to reconnect, lets runs finish up to the deadline, stores everything. */
  stop(): Promise<void>;
}

/**
 * Starts runbox: the sandbox host and its self-test, the store (with crash recovery), the tools,
 * the engine, then the server on one port.
 */
export async function startRunbox(
  config: ServerConfig,
  options: { log?: Logger | ((message: string) => void); pages?: PageHandler } = {},
): Promise<RunningRunbox> {
  const logger =
    typeof options.log === 'function'
      ? loggerToFunction(options.log)
      : (options.log ?? createLogger({ level: config.logLevel, pretty: config.dev }));
  const log = (message: string): void => logger.info(message);
  const warn = (message: string): void => logger.warn(message);
  const paths = {
    projects: join(config.dataDir, 'projects'),
    artifacts: join(config.dataDir, 'artifacts'),
  };
  await mkdir(paths.projects, { recursive: true, mode: 0o700 });
  await mkdir(paths.artifacts, { recursive: true, mode: 0o700 });
  await removeStaleUploadDirs(paths.projects, { olderThanMs: 0 });
  const ownerCookies = createOwnerCookies(await loadOwnerCookieKey(config.dataDir));

  const host = await createSandboxHost({
    ...config.executor.host,
    onWorkspaceReleaseError: (error) =>
      logger.error(
        { err: error },
        'a run workspace could not be removed; what held it is detached',
      ),
  });
  const claim = await claimSandboxDir(host.stateDir);
  // No sandbox process of an earlier server survives it (a SIGKILL left them to the cgroup).
  await host.removeStale();
  const selfTest = await runSelfTest(host);
  const failed = selfTest.checks.filter((check) => !check.ok);
  if (failed.length > 0) {
    logger.error(
      `SANDBOX SELF-TEST FAILED: ${failed.map((check) => `${check.layer}: ${check.detail}`).join('; ')}`,
    );
    if (config.executor.allowUnsafeSandbox) {
      warn('WARNING: RUNBOX_ALLOW_UNSAFE_SANDBOX=1: running untrusted code anyway');
    } else {
      warn('untrusted runs are refused until every layer holds (./runbox doctor)');
    }
  } else {
    log(
      `sandbox: all ${selfTest.checks.length} layers hold (cgroup ${host.cgroups.version}, workspaces ${host.workspaces.mechanism})`,
    );
  }

  const store: Store = openStore({
    dataDir: config.dataDir,
    onError: (error) => warn(`store: ${error.message}`),
  });
  // With workers elsewhere, runs that were running went on without this process: follow them.
  const recovery = store.recoverAfterCrash({
    keepQueuedEvents: true,
    keepRunning: config.cluster !== null,
  });
  if (recovery.interrupted.length > 0)
    log(`${recovery.interrupted.length} runs were running when the server stopped: interrupted`);
  // No kernel of this process outlives it: every session that had one wakes from its snapshot.
  // With workers on Redis the kernels live on the workers, and their sessions stay as they are.
  if (config.cluster === null) {
    const hibernated = store.sessions.hibernateAll();
    if (hibernated.length > 0)
      log(`${hibernated.length} sessions were active when the server stopped: hibernated`);
  }
  // Checked at create here; installed where runs run (here, or on each worker for its own runs).
  const environments = createEnvironmentStore({
    host,
    dir: join(config.dataDir, 'environments'),
    settings: config.executor.environments,
  });
  host.onClose(() => environments.close());
  const sessionHooks = sessionStoreHooks({
    store,
    config: config.sessions,
    log: logger,
    environments,
  });

  // An API without a worker of its own need not have a working sandbox: its workers probe theirs.
  const tools = await createToolCatalog(host, { probe: config.cluster?.role !== 'api' });
  const examples = await loadExamples(config.examplesDir, {
    tools: tools.list().map((entry) => entry.tool),
  });

  let accepting = true;
  let lastBeat = Date.now();
  const rateLimiter = createRateLimiter({
    settings: config.rateLimits,
    usage: (owners, sinceMs) => usageOfOwners({ executor, store }, owners, sinceMs),
    throttle: createCreateThrottle(config.maxCreatesPerSecond),
  });
  // eslint-disable-next-line prefer-const -- the metrics read the executor made just below
  let executor: Executor;
  const metrics = createMetrics({
    executor: () => executor,
    refusals: () => rateLimiter.refusals(),
    cluster: () => driver,
    syntaxCheckers: () => syntaxCheckersOf(host).stats(),
    warmSandboxes: () => services.warmSandboxes(),
  });
  const callbacks = createCallbacks({
    config: config.callbacks,
    outbox: store.outbox,
    log: { info: log, warn },
    registry: metrics.registry,
    status: () => {
      const queue = executor.queue();
      return {
        accepting: accepting && (selfTestHolds || driver !== null),
        selfTestOk: selfTest.ok,
        queue: {
          waiting: queue.waiting.length,
          running: queue.running.length,
          concurrency: queue.concurrency,
          paused: queue.paused,
        },
      };
    },
  });
  const selfTestHolds = selfTest.ok || config.executor.allowUnsafeSandbox;
  // Sandboxes started ahead for this process's runs; an API whose workers are elsewhere has none.
  const warm =
    config.cluster?.role !== 'api' && selfTestHolds
      ? createWarmSandboxes(host, {
          ...config.executor.warm,
          onError: (error) => logger.warn({ err: error }, 'a warm sandbox could not be made'),
        })
      : null;
  const projectDigests = createProjectDigests();
  const driver: RedisDriver | null = config.cluster
    ? await createRedisDriver({
        url: config.cluster.redisUrl,
        concurrency: config.cluster.concurrencyCap,
        leaseMs: config.cluster.leaseMs,
        output: { maxLines: config.maxOutputLines, pii: config.piiFilter },
        projectDigest: (dir) => projectDigests.digestOf(dir),
        cursor: {
          read: () => store.readMeta(RELAY_CURSOR),
          // Written at once with what the read handed to the engine (the `running` state among
          // it), so a subscriber never saw an event a restarted server would number again.
          note: (lastId) => {
            store.noteMeta(RELAY_CURSOR, lastId);
            store.flush();
          },
        },
        deferRelay: true,
        sessions: sessionHooks,
        log: {
          warn,
          error: (error, message) => logger.error({ err: error }, message),
        },
      })
    : null;
  const sessionRuntime = createSessionRuntime({
    host,
    store,
    config: config.sessions,
    hooks: sessionHooks,
    remote: driver?.sessions ?? null,
    environments,
  });
  executor = createExecutor({
    host,
    ...(driver ? { driver } : {}),
    concurrency: config.concurrency,
    maxQueueLength: config.maxQueueLength,
    limits: { maximums: config.maximums },
    // An API without a worker of its own may have no working sandbox: the worker's interpreter
    // reports a syntax error as the run's own failure instead.
    syntaxCheck: config.cluster?.role !== 'api',
    output: { maxLines: config.maxOutputLines, pii: config.piiFilter },
    artifactsRoot: paths.artifacts,
    tools,
    warm,
    environments,
    sessions: sessionRuntime.local,
    hooks: {
      onEvent(run, event) {
        store.appendEvent(run.id, event);
        // The cell's end lets the next cell of its session go.
        if (event.type === 'end' && run.request.kind === 'cell')
          sessionRuntime.cellEnded(run.request.sessionId, run.id);
        // The row takes the result when the batch is written: write it now, so that whoever sees
        // the end event and asks for the run gets it ended, with its artifacts.
        if (event.type === 'end') {
          store.flush();
          // The end's delivery (if the run has a callback) was enqueued with it: send it now.
          callbacks.poke();
        }
        metrics.observe(run, event);
        if (event.type === 'state') {
          const tool = run.request.kind === 'tool' ? run.request.toolId : run.request.language;
          runLogger(logger, { id: run.id, owner: run.meta.owner ?? '?', tool }).info(
            { state: event.state },
            `run ${event.state}`,
          );
          if (event.state === 'running')
            store.updateRun(run.id, { state: 'running', startedAt: run.startedAt });
        }
      },
      readEvents: async (runId, afterSeq, limit) => store.readEvents(runId, afterSeq, limit),
      onHookError: (error, run, event) =>
        logger.error(
          { err: error, runId: run.id, event: event.type },
          'storing a run event failed',
        ),
      onInternalError: (error, run, phase) =>
        logger.error({ err: error, runId: run.id, phase }, `runbox failed a run in its ${phase}`),
    },
  });
  // With workers elsewhere a pause would stop them all: this host's failing sandbox only keeps
  // its own worker from starting.
  if (!selfTestHolds && !driver) executor.pause();
  let localWorker: RunWorker | null = null;
  if (config.cluster?.role === 'all' && selfTestHolds) {
    // The worker of `./runbox start` shares this process's sandbox host and data directory: it
    // keeps a run's files where the API serves them and reads projects where they are stored.
    localWorker = createRunWorker({
      url: config.cluster.redisUrl,
      name: `${hostname()}-${process.pid}`,
      address: `${hostname()}:${process.pid}`,
      concurrency: config.concurrency,
      leaseMs: config.cluster.leaseMs,
      host,
      tools,
      maximums: config.maximums,
      artifactsRoot: paths.artifacts,
      warm,
      environments,
      projects: {
        get(digest) {
          const dir = projectDigests.dirOf(digest);
          if (!dir) return Promise.reject(new Error(`no project with digest ${digest} here`));
          return Promise.resolve({ dir, release() {} });
        },
      },
      selfTest: 'ok',
      log: {
        info: log,
        warn,
        error: (error, message) => logger.error({ err: error }, message),
      },
    });
    localWorker.start();
  }

  for (const entry of recovery.requeue) {
    try {
      const request = entry.request;
      if (request.kind === 'cell') {
        await requeueCell(executor, sessionRuntime, { ...entry, request });
        continue;
      }
      await executor.submit(entry.request, {
        id: entry.id,
        meta: { owner: entry.owner },
        priority: entry.priority,
        queuedAt: entry.queuedAt,
        lastSeq: entry.lastSeq,
      });
    } catch (error) {
      warn(
        `run ${entry.id} could not be queued again: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }

  for (const entry of recovery.resume) {
    try {
      await executor.submit(entry.request, {
        id: entry.id,
        meta: { owner: entry.owner },
        priority: entry.priority,
        queuedAt: entry.queuedAt,
        lastSeq: entry.lastSeq,
        resume: { startedAt: entry.startedAt },
      });
    } catch (error) {
      warn(
        `run ${entry.id} could not be followed again: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
  if (recovery.resume.length > 0)
    log(
      `${recovery.resume.length} runs were running on workers when the server stopped: following them`,
    );
  await driver?.startRelay();

  const heartbeat = setInterval(() => {
    executor.queue();
    lastBeat = Date.now();
  }, 5_000);
  heartbeat.unref();

  const services: Services = {
    config,
    host,
    executor,
    store,
    tools,
    examples,
    rateLimiter,
    ownerCookies,
    log: logger,
    metrics,
    callbacks,
    sessions: sessionRuntime,
    selfTest,
    paths,
    projectDigests,
    cluster: driver,
    warmSandboxes: () => warm?.stats() ?? Promise.resolve([]),
    heartbeat: () => lastBeat,
    accepting: () => accepting && (selfTestHolds || driver !== null),
  };
  const server = createRunboxServer(services, options.pages);
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.server.listen(config.port, config.host, () => resolve());
  });
  const address = server.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${port}`;
  // Deliveries still pending from before this start (and those crash recovery enqueued) go now.
  callbacks.start();
  // Idle sessions hibernate, expired ones close; one sweep at a time.
  let sweeping: Promise<void> | null = null;
  const sessionSweep = setInterval(() => {
    sweeping ??= sweepSessions(services)
      .catch((error: unknown) => logger.error({ err: error }, 'the session sweep failed'))
      .finally(() => {
        sweeping = null;
      });
  }, config.sessions.sweepMs);
  sessionSweep.unref();

  let stopping: Promise<void> | null = null;
  return {
    services,
    server,
    url,
    stop() {
      stopping ??= (async () => {
        accepting = false;
        server.broadcastReconnect();
        await localWorker?.stop({ deadlineMs: config.shutdownDeadlineMs });
        const outcome = await executor.shutdown({ deadlineMs: config.shutdownDeadlineMs });
        if (outcome.interrupted.length > 0)
          log(`${outcome.interrupted.length} runs interrupted by the shutdown`);
        clearInterval(heartbeat);
        clearInterval(sessionSweep);
        await sweeping;
        // This process's kernels end; their sessions hibernate with their snapshots, for the next
        // start (kernels on workers live on).
        await sessionRuntime.stop();
        await server.close(2_000);
        // Attempts in flight are aborted unrecorded: still pending, they go at the next start.
        await callbacks.stop();
        store.close();
        await host.close();
        await claim.release();
      })();
      return stopping;
    },
  };
}
