import { spawn, type ChildProcess } from 'node:child_process';
import { createSandboxHost } from '@runbox/executor';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { claimTestUid, releaseTestUid } from '../../../executor/test/support/test-uid.ts';

const SERVE_WORKER = fileURLToPath(new URL('./serve-worker.ts', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

/** TEST SCAFFOLDING: a worker in a process of its own, as in production. */
export interface WorkerProcess {
  name: string;
  child: ChildProcess;
  sandboxUid: number;
  output(): string;
  /** Host pids whose real uid is this worker's sandbox uid (its sandboxed processes). */
  sandboxProcesses(): number[];
  /** SIGKILL: no goodbye, its lease just stops being renewed. */
  kill(): Promise<void>;
  /** SIGTERM, then its exit code. */
  terminate(): Promise<number | null>;
  /** Removes its directories (after it exited). */
  cleanUp(): Promise<void>;
}

export async function startWorkerProcess(options: {
  redisUrl: string;
  name: string;
  leaseMs?: number;
  concurrency?: number;
  env?: Record<string, string>;
  /**
   * Run it in this network namespace (made by `ip netns add`). Entered with nsenter, which
   * changes the network namespace only: `ip netns exec` would also remount /sys, hiding the
   * cgroup hierarchies the sandbox needs.
   */
  netns?: string;
  /**
   * Start it as production does, `./runbox worker` (the bundled worker): its cgroup group is then
   * the production one, `runbox-worker-<name>`, and it says so in its log when it takes jobs.
   */
  bundled?: boolean;
}): Promise<WorkerProcess> {
  const suffix = randomBytes(3).toString('hex');
  // Cluster tests take sandbox uids 65000..65399 (executor tests 64100..64899, API servers 64900..64990).
  const sandboxUid = claimTestUid(65_000, 400);
  const dir = join(tmpdir(), `runbox-test-worker-${options.name}-${suffix}`);
  const group = options.bundled ? `runbox-worker-${options.name}` : `runbox-test-worker-${suffix}`;
  const command = options.bundled
    ? (['sh', [join(REPO_ROOT, 'runbox'), 'worker']] as const)
    : options.netns
      ? ([
          'nsenter',
          [`--net=/var/run/netns/${options.netns}`, '--', process.execPath, SERVE_WORKER],
        ] as const)
      : ([process.execPath, [SERVE_WORKER]] as const);
  const child = spawn(command[0], [...command[1]], {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/root',
      RUNBOX_REDIS_URL: options.redisUrl,
      RUNBOX_WORKER_NAME: options.name,
      RUNBOX_WORKER_CONCURRENCY: String(options.concurrency ?? 1),
      RUNBOX_WORKER_LEASE_MS: String(options.leaseMs ?? 2_000),
      RUNBOX_WORKER_CACHE_DIR: join(dir, 'cache'),
      RUNBOX_SANDBOX_DIR: join(dir, 'sandbox'),
      RUNBOX_SANDBOX_UID: String(sandboxUid),
      RUNBOX_TEST_CGROUP_GROUP: group,
      // Off unless a test asks: tests prove a run left nothing by counting the sandbox uid's
      // processes, and waiting warm sandboxes are that uid's too. Warm sandboxes have their
      // own tests (and the hostile suites run through them).
      RUNBOX_WARM_SANDBOXES: '0',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // A test process that dies without its afterAll takes its workers with it.
  const orphanGuard = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', orphanGuard);
  child.once('exit', () => process.removeListener('exit', orphanGuard));
  let text = '';
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      text += chunk.toString('utf8');
      if (/^WORKING$/m.test(text) || /takes runs from/.test(text)) resolve();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    void exited.then(([code, signal]) =>
      reject(new Error(`the worker exited (${code ?? signal}) before working:\n${text}`)),
    );
  });
  return {
    name: options.name,
    child,
    sandboxUid,
    output: () => text,
    sandboxProcesses: () => processesOfUid(sandboxUid),
    async kill() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    },
    async terminate() {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const [code] = await exited;
      return code;
    },
    async cleanUp() {
      // A worker killed with SIGKILL leaves its runs' cgroups and workspace mounts, which its
      // next start would remove: the test does what that start does, then lets go of the group.
      const host = await createSandboxHost({
        stateDir: join(dir, 'sandbox'),
        cgroupGroupName: group,
        sandboxUid,
      });
      await host.removeStale();
      await host.close();
      await rm(dir, { recursive: true, force: true });
      releaseTestUid(sandboxUid);
    },
  };
}

function processesOfUid(uid: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = readFileSync(`/proc/${entry}/status`, 'utf8');
      const real = /^Uid:\s+(\d+)/m.exec(status)?.[1];
      if (Number(real) === uid) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}
