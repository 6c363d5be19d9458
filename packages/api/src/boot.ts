import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  createExecutor,
  createSandboxHost,
  createToolCatalog,
  loadExamples,
  runSelfTest,
  type Executor,
} from '@runbox/executor';
import type { ServerConfig } from './config.ts';
import { createRateLimiter } from './rate-limiter.ts';
import { createRunboxServer, type PageHandler, type RunboxServer } from './server.ts';
import type { Services } from './services.ts';
import { openStore, type Store } from './store/index.ts';
import { removeStaleUploadDirs } from './uploads/index.ts';

export interface RunningRunbox {
  services: Services;
  server: RunboxServer;
  url: string;
  /** Stops taking runs, tells clients to reconnect, lets runs finish up to the deadline, stores everything. */
  stop(): Promise<void>;
}

export type Log = (message: string) => void;

/**
 * Starts runbox: the sandbox host and its self-test, the store (with crash recovery), the tools,
 * the engine, then the server on one port.
 */
export async function startRunbox(
  config: ServerConfig,
  options: { log?: Log; pages?: PageHandler } = {},
): Promise<RunningRunbox> {
  const log = options.log ?? ((message: string) => console.log(message));
  const paths = {
    projects: join(config.dataDir, 'projects'),
    artifacts: join(config.dataDir, 'artifacts'),
  };
  await mkdir(paths.projects, { recursive: true, mode: 0o700 });
  await mkdir(paths.artifacts, { recursive: true, mode: 0o700 });
  await removeStaleUploadDirs(paths.projects, { olderThanMs: 0 });

  const host = await createSandboxHost(config.executor.host);
  // No sandbox process of an earlier server survives it (a SIGKILL left them to the cgroup).
  await host.removeStale();
  const selfTest = await runSelfTest(host);
  const failed = selfTest.checks.filter((check) => !check.ok);
  if (failed.length > 0) {
    log(
      `SANDBOX SELF-TEST FAILED: ${failed.map((check) => `${check.layer}: ${check.detail}`).join('; ')}`,
    );
    if (config.executor.allowUnsafeSandbox)
      log('WARNING: RUNBOX_ALLOW_UNSAFE_SANDBOX=1: running untrusted code anyway');
    else log('untrusted runs are refused until every layer holds (./runbox doctor)');
  } else {
    log(
      `sandbox: all ${selfTest.checks.length} layers hold (cgroup ${host.cgroups.version}, workspaces ${host.workspaces.mechanism})`,
    );
  }

  const store: Store = openStore({
    dataDir: config.dataDir,
    onError: (error) => log(`store: ${error.message}`),
  });
  const recovery = store.recoverAfterCrash({ keepQueuedEvents: true });
  if (recovery.interrupted.length > 0)
    log(`${recovery.interrupted.length} runs were running when the server stopped: interrupted`);

  const tools = await createToolCatalog(host);
  const examples = await loadExamples(config.examplesDir, {
    tools: tools.list().map((entry) => entry.tool),
  });

  let accepting = true;
  let lastBeat = Date.now();
  const executor: Executor = createExecutor({
    host,
    concurrency: config.concurrency,
    maxQueueLength: config.maxQueueLength,
    limits: { maximums: config.maximums },
    artifactsRoot: paths.artifacts,
    tools,
    hooks: {
      onEvent(run, event) {
        store.appendEvent(run.id, event);
        if (event.type === 'state' && event.state === 'running') {
          store.updateRun(run.id, { state: 'running', startedAt: run.startedAt });
        }
      },
      readEvents: async (runId, afterSeq, limit) => store.readEvents(runId, afterSeq, limit),
    },
  });
  const selfTestHolds = selfTest.ok || config.executor.allowUnsafeSandbox;
  if (!selfTestHolds) executor.pause();

  for (const entry of recovery.requeue) {
    try {
      await executor.submit(entry.request, {
        id: entry.id,
        meta: { owner: entry.owner },
        priority: entry.priority,
        queuedAt: entry.queuedAt,
        lastSeq: entry.lastSeq,
      });
    } catch (error) {
      log(
        `run ${entry.id} could not be queued again: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }

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
    rateLimiter: createRateLimiter(config.rateLimits),
    selfTest,
    paths,
    heartbeat: () => lastBeat,
    accepting: () => accepting && selfTestHolds,
  };
  const server = createRunboxServer(services, options.pages);
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.server.listen(config.port, config.host, () => resolve());
  });
  const address = server.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${port}`;

  let stopping: Promise<void> | null = null;
  return {
    services,
    server,
    url,
    stop() {
      stopping ??= (async () => {
        accepting = false;
        server.broadcastReconnect();
        const outcome = await executor.shutdown({ deadlineMs: config.shutdownDeadlineMs });
        if (outcome.interrupted.length > 0)
          log(`${outcome.interrupted.length} runs interrupted by the shutdown`);
        clearInterval(heartbeat);
        await server.close(2_000);
        store.close();
        await host.close();
      })();
      return stopping;
    },
  };
}
