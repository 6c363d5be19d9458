import { mkdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import {
  claimSandboxDir,
  createSandboxHost,
  createEnvironmentStore,
  createWarmSandboxes,
  createToolCatalog,
  runSelfTest,
  type SelfTestReport,
} from '@runbox/executor';
import type { Logger } from 'pino';
import { createRunWorker, type RunWorker } from './run-worker.ts';
import type { WorkerConfig } from './worker-config.ts';
import { createWorkerFiles } from './worker-files.ts';

/** How often a worker whose self-test failed tries again. */
const SELF_TEST_RETRY_MS = 60_000;

function failedLayers(report: SelfTestReport): string {
  const failed = report.checks.filter((check) => !check.ok);
  return failed.length === 0
    ? 'ok'
    : failed.map((check) => `${check.layer}: ${check.detail}`).join('; ');
}

export interface StartedWorker {
  worker: RunWorker;
  /** Lets running runs finish, then lets go of Redis, the sandbox host and its directory. */
  stop(): Promise<void>;
}

/**
 * A worker process's start: the sandbox host (stale runs of an earlier process removed), the
 * self-test, which it proves before it takes a job (taking none while a layer fails, trying again
 * every minute), the tools, then the BullMQ worker.
 */
export async function startWorker(
  config: WorkerConfig,
  options: { log: Logger; cgroupGroupName?: string },
): Promise<StartedWorker> {
  const { log } = options;
  const host = await createSandboxHost({
    ...config.executor.host,
    // Named after the worker: replicas of one image share a sandbox directory path, and each
    // clears its group's stale runs at start.
    cgroupGroupName: options.cgroupGroupName ?? `runbox-worker-${config.name}`,
    onWorkspaceReleaseError: (error) =>
      log.error({ err: error }, 'a run workspace could not be removed; what held it is detached'),
  });
  const claim = await claimSandboxDir(host.stateDir);
  await host.removeStale();
  let selfTest = await runSelfTest(host);
  while (!selfTest.ok && !config.executor.allowUnsafeSandbox) {
    log.error(
      `SANDBOX SELF-TEST FAILED: ${failedLayers(selfTest)}; taking no job until every layer holds`,
    );
    await new Promise((done) => setTimeout(done, SELF_TEST_RETRY_MS));
    selfTest = await runSelfTest(host);
  }
  log.info(`sandbox: all ${selfTest.checks.length} layers hold`);
  const warm = createWarmSandboxes(host, {
    ...config.executor.warm,
    onError: (error) => log.warn({ err: error }, 'a warm sandbox could not be made'),
  });
  const tools = await createToolCatalog(host);
  const cacheDir = resolve(config.cacheDir);
  // Installed here, cached beside the projects: workers on other hosts each keep their own.
  const environments = createEnvironmentStore({
    host,
    dir: join(cacheDir, 'environments'),
    settings: config.executor.environments,
  });
  host.onClose(() => environments.close());
  const artifactsRoot = join(cacheDir, 'artifacts');
  await mkdir(artifactsRoot, { recursive: true, mode: 0o700 });
  const files = config.api
    ? createWorkerFiles({ ...config.api, cacheDir: join(cacheDir, 'projects'), owner: host.runAs })
    : null;
  const worker = createRunWorker({
    url: config.redisUrl,
    name: config.name,
    address: `${hostname()}:${process.pid}`,
    concurrency: config.concurrency,
    leaseMs: config.leaseMs,
    maximums: config.maximums,
    host,
    tools,
    artifactsRoot,
    ...(files ? { projects: files.projects, uploadArtifacts: files.uploadArtifacts } : {}),
    selfTest: failedLayers(selfTest),
    warm,
    environments,
    log: {
      info: (message) => log.info(message),
      warn: (message) => log.warn(message),
      error: (error, message) => log.error({ err: error }, message),
    },
  });
  worker.start();
  return {
    worker,
    async stop() {
      await worker.stop({ deadlineMs: config.shutdownDeadlineMs });
      await host.close();
      await claim.release();
    },
  };
}
