import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createExecutor,
  createSandboxHost,
  type Executor,
  type ExecutorConfig,
  type SandboxHost,
} from '@runbox/executor';
import {
  createRedisDriver,
  type RedisDriver,
  type RedisDriverOptions,
} from '../../src/redis-driver.ts';
import { claimTestUid, releaseTestUid } from '../../../executor/test/support/test-uid.ts';

/** TEST SCAFFOLDING: the API's side of the redis driver, in the test process. */
export interface ApiSide {
  host: SandboxHost;
  driver: RedisDriver;
  executor: Executor;
  /** Shuts the engine down (runs interrupted at once), closes the host, removes its directory. */
  close(): Promise<void>;
}

/**
 * An engine on the redis driver with a sandbox host of its own (its uid claimed from the cluster
 * tests' API-side range, 65400..65409): what the API process has. `driver` and `executor` add to
 * or override the defaults (no syntax check; the driver's log dropped unless given).
 */
export async function startApiSide(options: {
  name: string;
  redisUrl: string;
  driver?: Partial<Omit<RedisDriverOptions, 'url'>>;
  executor?: Partial<Omit<ExecutorConfig, 'host' | 'driver'>>;
}): Promise<ApiSide> {
  const suffix = randomBytes(3).toString('hex');
  const stateDir = join(tmpdir(), `runbox-test-${options.name}-api-${suffix}`);
  const sandboxUid = claimTestUid(65_400, 10);
  const host = await createSandboxHost({
    stateDir,
    cgroupGroupName: `runbox-test-${options.name}-api-${suffix}`,
    sandboxUid,
  });
  const driver = await createRedisDriver({
    url: options.redisUrl,
    concurrency: 1,
    leaseMs: 2_000,
    output: { maxLines: 10_000, pii: false },
    projectDigest: () => Promise.reject(new Error('no projects in this test')),
    log: { warn: () => {}, error: () => {} },
    ...options.driver,
  });
  const executor = createExecutor({ host, driver, syntaxCheck: false, ...options.executor });
  return {
    host,
    driver,
    executor,
    async close() {
      await executor.shutdown({ deadlineMs: 0 });
      await host.close();
      await rm(stateDir, { recursive: true, force: true });
      releaseTestUid(sandboxUid);
    },
  };
}
