import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, rmdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startRunbox, type RunningRunbox } from '../../src/boot.ts';
import { loadConfig } from '../../src/config.ts';
import { claimTestUid, releaseTestUid } from '../../../executor/test/support/test-uid.ts';

/** TEST SCAFFOLDING: a real runbox server in this process, on a free port, with its own dirs. */

export const REPO_ROOT = resolve(import.meta.dirname, '../../../..');
export const EXAMPLES_DIR = join(REPO_ROOT, 'examples');
export const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';

export interface TestServer {
  runbox: RunningRunbox;
  /** http://127.0.0.1:<port> */
  url: string;
  port: number;
  dataDir: string;
  sandboxDir: string;
  sandboxUid: number;
  /** What the server logged (kept quiet; shown when a test wants it). */
  logs: string[];
  /** Stops the server and removes its directories (the data directory kept with `keepData`). */
  stop(options?: { keepData?: boolean }): Promise<void>;
}

/**
 * Removes a v1 cgroup group a test server made under each hierarchy (the server removes the
 * groups of its runs, not the group that holds them). Only empty groups go; errors are ignored.
 */
export async function removeCgroupGroup(group: string): Promise<void> {
  let hierarchies: string[] = [];
  try {
    hierarchies = await readdir('/sys/fs/cgroup');
  } catch {
    return;
  }
  for (const hierarchy of hierarchies) {
    const dir = join('/sys/fs/cgroup', hierarchy, group);
    try {
      for (const entry of await readdir(dir, { withFileTypes: true }))
        if (entry.isDirectory()) await rmdir(join(dir, entry.name)).catch(() => {});
      await rmdir(dir);
    } catch {
      // not there, or not empty: left as it is
    }
  }
}

/**
 * A sandbox uid no other test process holds at the same time (API and CLI tests take
 * 64900..64999, executor tests 64100..64899, cluster tests 65000..65409): see test-uid.ts.
 */
export function testSandboxUid(): number {
  return claimTestUid(64_900, 100);
}

/**
 * Starts runbox with `startRunbox(loadConfig(...))` as `main.ts` does, on a free port of 127.0.0.1,
 * a temporary data dir and sandbox dir, and `env` on top.
 *
 * One deviation from main.ts: the host's v1 cgroup group gets a name of its own. At start the
 * server kills every run of its group (`host.removeStale()`), and the group name is not an
 * environment variable, so two servers with the default name (test files run in parallel) would
 * kill each other's runs.
 */
export async function startTestServer(
  name: string,
  env: Record<string, string> = {},
): Promise<TestServer> {
  // A server started again on an earlier one's data (RUNBOX_DATA_DIR) removes that at its stop.
  const dataDir =
    env.RUNBOX_DATA_DIR ?? (await mkdtemp(join(tmpdir(), `runbox-api-${name}-data-`)));
  const sandboxDir = await mkdtemp(join(tmpdir(), `runbox-api-${name}-sandbox-`));
  const sandboxUid = testSandboxUid();
  const config = loadConfig(
    {
      // PORT=0 is refused by loadConfig (it takes 1..65535); the port is set to 0 below.
      PORT: '1',
      HOST: '127.0.0.1',
      RUNBOX_DATA_DIR: dataDir,
      RUNBOX_ADMIN_TOKEN: ADMIN_TOKEN,
      RUNBOX_WEB: 'none',
      RUNBOX_SANDBOX_DIR: sandboxDir,
      RUNBOX_SANDBOX_UID: String(sandboxUid),
      RUNBOX_EXAMPLES_DIR: EXAMPLES_DIR,
      RUNBOX_SHUTDOWN_DEADLINE_MS: '500',
      // Off unless a test asks: tests prove a run left nothing by counting the sandbox uid's
      // processes, and waiting warm sandboxes are that uid's too. Warm sandboxes have their
      // own tests (and the hostile suites run through them).
      RUNBOX_WARM_SANDBOXES: '0',
      NODE_ENV: 'test',
      ...env,
    },
    REPO_ROOT,
  );
  config.port = 0;
  const cgroupGroup = `runbox-api-test-${name}-${randomBytes(3).toString('hex')}`;
  config.executor.host.cgroupGroupName = cgroupGroup;
  const logs: string[] = [];
  // RUNBOX_TEST_LOGS=1 shows the server's log as it goes.
  const runbox = await startRunbox(config, {
    log: (message) => {
      logs.push(message);
      if (process.env.RUNBOX_TEST_LOGS) console.log(`[${name}] ${message}`);
    },
  });
  const port = Number(new URL(runbox.url).port);
  return {
    runbox,
    url: runbox.url,
    port,
    dataDir,
    sandboxDir,
    sandboxUid,
    logs,
    async stop(options = {}) {
      await runbox.stop();
      await removeCgroupGroup(cgroupGroup);
      if (!options.keepData) await rm(dataDir, { recursive: true, force: true });
      await rm(sandboxDir, { recursive: true, force: true });
      releaseTestUid(sandboxUid);
    },
  };
}
