import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, rmdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { startRunbox, type RunningRunbox } from '../../src/boot.ts';
import { ConfigError, loadConfig, type ServerConfig } from '../../src/config.ts';
import { within } from './stats.ts';

export interface BenchServer {
  runbox: RunningRunbox;
  config: ServerConfig;
  token: string;
  /** http://127.0.0.1:<port>/api/trpc */
  trpcUrl: string;
  /** ws://127.0.0.1:<port>/api/trpc */
  wsUrl: string;
  /** What the bench had to do differently from the brief to start the server (empty when none). */
  notes: string[];
  /** Server log lines at warn level and above. */
  warnings: string[];
  /**
   * Stops the server (at most `deadlineMs`; a run whose sandbox never reports its end keeps
   * `runbox.stop()` waiting for ever, so past the deadline the HTTP server and the store are closed
   * directly), then removes what runs left (mounts, cgroups) and the temporary directories.
   * Resolves to whether `runbox.stop()` finished in time.
   */
  stop(deadlineMs: number): Promise<boolean>;
}

/** A port free on the loopback now (for a server whose config refuses PORT=0). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => (port > 0 ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}

/**
 * Removes this bench's v1 group directories under every hierarchy, with any run cgroups a stalled
 * run left in them (empty of processes by then: rmdir refuses any other).
 */
async function removeCgroupGroup(group: string): Promise<void> {
  const root = '/sys/fs/cgroup';
  const hierarchies = await readdir(root).catch(() => [] as string[]);
  for (const hierarchy of hierarchies) {
    const dir = join(root, hierarchy, group);
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      if (entry.isDirectory()) await rmdir(join(dir, entry.name)).catch(() => {});
    }
    await rmdir(dir).catch(() => {});
  }
}

/**
 * The whole server in this process, on the loopback, with temporary data and sandbox directories,
 * a cgroup group named here (so that its directories can be removed at the end), and the admin
 * token as the bench's identity. `env` adds to (and overrides) the bench defaults.
 */
export async function startBenchServer(env: Record<string, string>): Promise<BenchServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'runbox-bench-data-'));
  const sandboxDir = await mkdtemp(join(tmpdir(), 'runbox-bench-sandbox-'));
  const group = `runbox-bench-api-${process.pid}`;
  const cleanUp = async (): Promise<void> => {
    await rm(dataDir, { recursive: true, force: true });
    await rm(sandboxDir, { recursive: true, force: true });
    await removeCgroupGroup(group);
  };
  const token = randomBytes(24).toString('base64url');
  const notes: string[] = [];
  const warnings: string[] = [];
  const environment = (port: string): NodeJS.ProcessEnv => ({
    ...process.env,
    PORT: port,
    HOST: '127.0.0.1',
    RUNBOX_DATA_DIR: dataDir,
    RUNBOX_SANDBOX_DIR: sandboxDir,
    RUNBOX_ADMIN_TOKEN: token,
    RUNBOX_WEB: 'none',
    // The checkout's examples, whatever the working directory.
    RUNBOX_EXAMPLES_DIR: fileURLToPath(new URL('../../../../examples/', import.meta.url)),
    ...env,
  });
  try {
    let loaded: ServerConfig;
    try {
      loaded = loadConfig(environment('0'));
    } catch (error) {
      if (!(error instanceof ConfigError) || error.variable !== 'PORT') throw error;
      const port = await freePort();
      notes.push(`config.ts refuses PORT=0 (${error.message}); used free port ${port}`);
      loaded = loadConfig(environment(String(port)));
    }
    const config: ServerConfig = {
      ...loaded,
      executor: { ...loaded.executor, host: { ...loaded.executor.host, cgroupGroupName: group } },
    };
    // JSON lines as in production (pino at info), kept off the terminal; warnings are kept.
    const logger = pino(
      { level: 'info', base: { service: 'runbox' } },
      {
        write(line: string) {
          if (!/"level":(10|20|30),/.test(line)) warnings.push(line.trim());
        },
      },
    );
    const runbox = await startRunbox(config, { log: logger });
    const base = runbox.url.replace(/^http/, 'ws');
    return {
      runbox,
      config,
      token,
      trpcUrl: `${runbox.url}/api/trpc`,
      wsUrl: `${base}/api/trpc`,
      notes,
      warnings,
      async stop(deadlineMs) {
        const stopped = await within(runbox.stop(), deadlineMs, 'runbox.stop()').then(
          () => true,
          () => false,
        );
        if (!stopped) {
          await runbox.server.close(1_000).catch(() => {});
          try {
            runbox.services.store.close();
          } catch {
            // Closed already, or its last write failed: the directory goes anyway.
          }
        }
        // Scoped to this bench's cgroup group and sandbox directory.
        await runbox.services.host.cgroups.removeStale().catch(() => 0);
        await runbox.services.host.workspaces.removeStale().catch(() => {});
        await cleanUp();
        return stopped;
      },
    };
  } catch (error) {
    await cleanUp().catch(() => {});
    throw error;
  }
}
