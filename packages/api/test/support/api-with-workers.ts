import { randomBytes } from 'node:crypto';
import { createSandboxHost } from '@runbox/executor';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestRedis, type TestRedis } from '../../../cluster/test/support/redis-server.ts';
import {
  startWorkerProcess,
  type WorkerProcess,
} from '../../../cluster/test/support/worker-process.ts';
import { removeCgroupGroup, testSandboxUid } from './server.ts';
import { startServerProcess, type ServerProcess } from './subprocess.ts';

/**
 * runbox as deployed with workers: a real Redis, an API process with no worker of its own
 * (RUNBOX_ROLE=api) and worker processes that reach it with the worker token. Each has its own
 * data, sandbox directory and cgroup group; `stop()` removes them all, whatever the tests did.
 */
export interface ApiWithWorkers {
  redis: TestRedis;
  server: ServerProcess;
  workers: WorkerProcess[];
  /** The token workers and the API share (RUNBOX_WORKER_TOKEN). */
  workerToken: string;
  /** Stops the API with SIGTERM and starts it again on its data, at the same URL. */
  restartServer(): Promise<ServerProcess>;
  stop(): Promise<void>;
}

export async function startApiWithWorkers(options: {
  /** Names a test's directories and groups. */
  label: string;
  workers: readonly { name: string; concurrency?: number; env?: Record<string, string> }[];
  /** More variables for the API process. */
  apiEnv?: Record<string, string>;
  /** More variables for every worker. */
  workerEnv?: Record<string, string>;
}): Promise<ApiWithWorkers> {
  const workerToken = `test-worker-token-${options.label}-${randomBytes(8).toString('hex')}`;
  const dirs: string[] = [];
  const cgroupGroup = `runbox-api-test-${options.label}-${randomBytes(3).toString('hex')}`;
  const redis = await startTestRedis();
  let server: ServerProcess | null = null;
  let apiSandbox: { dir: string; uid: number } | null = null;
  const workers: WorkerProcess[] = [];
  const stop = async (): Promise<void> => {
    for (const worker of workers) {
      await worker.terminate();
      await worker.cleanUp();
    }
    if (server && server.child.exitCode === null) await server.terminate();
    if (apiSandbox) {
      // An API that died (killed, or crashed) leaves its workspaces mounted and its cgroups: the
      // test does what its next start would do.
      const host = await createSandboxHost({
        stateDir: apiSandbox.dir,
        cgroupGroupName: cgroupGroup,
        sandboxUid: apiSandbox.uid,
      });
      await host.removeStale();
      await host.close();
    }
    await redis.stop();
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
    await removeCgroupGroup(cgroupGroup);
  };
  try {
    const dataDir = await mkdtemp(join(tmpdir(), `runbox-api-${options.label}-data-`));
    const sandboxDir = await mkdtemp(join(tmpdir(), `runbox-api-${options.label}-sandbox-`));
    dirs.push(dataDir, sandboxDir);
    apiSandbox = { dir: sandboxDir, uid: testSandboxUid() };
    const serverOptions = {
      dataDir,
      sandboxDir,
      sandboxUid: apiSandbox.uid,
      cgroupGroup,
      env: {
        RUNBOX_REDIS_URL: redis.url,
        RUNBOX_ROLE: 'api',
        RUNBOX_WORKER_TOKEN: workerToken,
        RUNBOX_WORKER_LEASE_MS: '2000',
        ...options.apiEnv,
      },
    };
    server = await startServerProcess(serverOptions);
    const url = server.url;
    workers.push(
      ...(await Promise.all(
        options.workers.map((worker) =>
          startWorkerProcess({
            redisUrl: redis.url,
            name: worker.name,
            ...(worker.concurrency !== undefined ? { concurrency: worker.concurrency } : {}),
            env: {
              RUNBOX_API_URL: url,
              RUNBOX_WORKER_TOKEN: workerToken,
              ...options.workerEnv,
              ...worker.env,
            },
          }),
        ),
      )),
    );
    const deployed: ApiWithWorkers = {
      redis,
      server,
      workers,
      workerToken,
      async restartServer() {
        await deployed.server.terminate();
        server = await startServerProcess({
          ...serverOptions,
          env: { ...serverOptions.env, RUNBOX_TEST_PORT: new URL(url).port },
        });
        deployed.server = server;
        return server;
      },
      stop,
    };
    return deployed;
  } catch (error) {
    await stop();
    throw error;
  }
}
