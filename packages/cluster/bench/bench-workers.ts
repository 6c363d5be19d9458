import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, readdir, rm, rmdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeError } from '../../executor/bench/section.ts';
import { TimeoutError, within } from '../../executor/bench/stats.ts';
import { cpuSeconds, processesOfUid, resident, type Resident } from './proc-status.ts';

// Workers start as production starts them, `./runbox worker` (the bundled worker, its flags), so
// that their memory and speed are what an operator gets. Each has its v1 cgroup group
// `runbox-worker-<name>`, which the clean-up removes.
const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CGROUP_ROOT = '/sys/fs/cgroup';
/** The bench's workers take sandbox uids 65411..65420 (its API-side hosts 65410). */
const FIRST_WORKER_UID = 65_411;
const WORKER_UIDS = 10;
/** A start proves every sandbox layer first (the self-test): seconds on a busy machine. */
const START_TIMEOUT_MS = 60_000;
/** SIGTERM lets running runs finish; past this the worker is killed (and that is reported). */
const STOP_TIMEOUT_MS = 20_000;
const TAIL_CHARS = 1_500;

/** A worker process of the bench: src/worker-main.ts as production runs it, on the bench's Redis. */
export interface BenchWorker {
  readonly name: string;
  readonly pid: number;
  /** Its resident memory now (VmRSS and its parts). */
  resident(): Resident;
  /** CPU time it has used so far, in seconds. */
  cpuSeconds(): number;
}

export interface BenchWorkers {
  /** Starts a worker process; resolves once it takes jobs (its self-test passed). */
  start(name: string, options?: { concurrency?: number; leaseMs?: number }): Promise<BenchWorker>;
}

interface Started {
  name: string;
  child: ChildProcess;
  exited: Promise<unknown>;
  uid: number;
  dir: string;
  group: string;
  /** It said it takes jobs (and so handles SIGTERM by letting its runs finish). */
  ready: boolean;
  output(): string;
}

/** Worker processes alive now, for the bench's signal handler. */
const live = new Set<ChildProcess>();

/** SIGKILLs every bench worker still alive (their sandboxes die with their cgroups' clean-up). */
export function killWorkerProcesses(): void {
  for (const child of live) child.kill('SIGKILL');
  live.clear();
}

function alive(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/**
 * Runs `body` with worker processes it starts on `redisUrl`, each with its own sandbox directory,
 * sandbox uid and v1 cgroup group. Afterwards, whether `body` threw or not, every worker gets
 * SIGTERM (SIGKILL past STOP_TIMEOUT_MS), then whatever it left is removed: processes of its
 * sandbox uid, mounts under its directory, the directory, its cgroup group; and checked to be
 * gone. A worker that did not exit cleanly, or a clean-up that leaves something, fails the section.
 */
export async function withBenchWorkers(
  redisUrl: string,
  body: (workers: BenchWorkers) => Promise<void>,
): Promise<void> {
  const started: Started[] = [];
  const workers: BenchWorkers = {
    async start(name, options = {}) {
      if (started.length >= WORKER_UIDS)
        throw new Error(`a section has at most ${WORKER_UIDS} workers`);
      const uid = FIRST_WORKER_UID + started.length;
      const dir = await mkdtemp(join(tmpdir(), `runbox-bench-worker-${name}-`));
      // mkdtemp makes it 0700; the sandbox (its own uid) reaches the worker's files through it.
      await chmod(dir, 0o755);
      const group = `runbox-worker-${name}`;
      const child = spawn('sh', [join(REPO_ROOT, 'runbox'), 'worker'], {
        cwd: REPO_ROOT,
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          HOME: process.env.HOME ?? '/root',
          RUNBOX_REDIS_URL: redisUrl,
          RUNBOX_WORKER_NAME: name,
          RUNBOX_WORKER_CONCURRENCY: String(options.concurrency ?? 1),
          RUNBOX_WORKER_LEASE_MS: String(options.leaseMs ?? 3_000),
          RUNBOX_WORKER_CACHE_DIR: join(dir, 'cache'),
          RUNBOX_SANDBOX_DIR: join(dir, 'sandbox'),
          RUNBOX_SANDBOX_UID: String(uid),
          // Measured without them: a worker's warm sandboxes are processes of their own, and the
          // runs/s figures compare workers, not pools.
          RUNBOX_WARM_SANDBOXES: '0',
          RUNBOX_LOG_LEVEL: 'info',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      live.add(child);
      let text = '';
      const exited = once(child, 'exit').finally(() => live.delete(child));
      const entry: Started = {
        name,
        child,
        exited,
        uid,
        dir,
        group,
        ready: false,
        output: () => text,
      };
      started.push(entry);
      await within(
        new Promise<void>((resolve, reject) => {
          const onData = (chunk: Buffer): void => {
            text += chunk.toString('utf8');
            if (/takes runs from/.test(text)) {
              entry.ready = true;
              resolve();
            }
            // It would try again in a minute; a bench has no use for a worker without a sandbox.
            if (text.includes('SANDBOX SELF-TEST FAILED'))
              reject(new Error(`worker ${name}: its sandbox self-test failed:\n${tail(text)}`));
          };
          child.stdout?.on('data', onData);
          child.stderr?.on('data', onData);
          exited.then(
            () => reject(new Error(`worker ${name} exited before it took jobs:\n${tail(text)}`)),
            reject,
          );
        }),
        START_TIMEOUT_MS,
        `worker ${name} start`,
      );
      const pid = child.pid;
      if (pid === undefined) throw new Error(`worker ${name} has no pid`);
      return {
        name,
        pid,
        resident: () => resident(pid),
        cpuSeconds: () => cpuSeconds(pid),
      };
    },
  };
  let failure: { error: unknown } | null = null;
  try {
    await body(workers);
  } catch (error) {
    failure = { error };
  }
  const problems: string[] = [];
  for (const worker of started) problems.push(...(await tearDown(worker)));
  const cleanUp = problems.length > 0 ? `worker clean-up: ${problems.join('; ')}` : null;
  if (failure) {
    // The body's own error is the one to report; the clean-up's goes alongside it.
    if (cleanUp) console.error(`  ${cleanUp}`);
    throw failure.error;
  }
  if (cleanUp) throw new Error(cleanUp);
}

/** Every step runs whatever the one before did; returns what went wrong or stayed behind. */
async function tearDown(worker: Started): Promise<string[]> {
  const problems: string[] = [];
  const step = async (what: string, action: () => Promise<unknown>): Promise<void> => {
    try {
      await action();
    } catch (error) {
      problems.push(`${worker.name}: ${what}: ${describeError(error)}`);
    }
  };
  await step('stop', async () => {
    const { child } = worker;
    if (!alive(child)) return;
    child.kill('SIGTERM');
    try {
      await within(worker.exited, STOP_TIMEOUT_MS, 'SIGTERM');
    } catch (error) {
      if (!(error instanceof TimeoutError)) throw error;
      child.kill('SIGKILL');
      await worker.exited;
      throw new Error(`still running ${STOP_TIMEOUT_MS} ms after SIGTERM (killed)`);
    }
    // Before it took jobs, SIGTERM ends it by Node's default (the start already failed the section).
    if (child.exitCode !== 0 && worker.ready)
      throw new Error(
        `exited ${child.exitCode ?? child.signalCode} after SIGTERM:\n${tail(worker.output())}`,
      );
  });
  // A killed worker leaves its sandboxes; their processes go before their mounts.
  await step('sandbox processes', async () => {
    const left = processesOfUid(worker.uid);
    for (const pid of left) process.kill(pid, 'SIGKILL');
    if (left.length > 0) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      throw new Error(`${left.length} processes of uid ${worker.uid} were still there (killed)`);
    }
  });
  await step('mounts', async () => {
    // Its files tmpfs goes by a watcher of its own once it exited: detach whatever is still there.
    for (const mountPoint of mountsUnder(worker.dir)) spawnSync('umount', ['-l', mountPoint]);
  });
  await step('directory', () => rm(worker.dir, { recursive: true, force: true }));
  await step('cgroup group', () => removeGroupDirs(worker.group));
  await step('check', async () => {
    const left: string[] = [];
    const processes = processesOfUid(worker.uid).length;
    if (processes > 0) left.push(`${processes} processes of uid ${worker.uid}`);
    const mounts = mountsUnder(worker.dir).length;
    if (mounts > 0) left.push(`${mounts} mounts under ${worker.dir}`);
    if (existsSync(worker.dir)) left.push(`directory ${worker.dir}`);
    const hierarchies = await readdir(CGROUP_ROOT).catch(() => [] as string[]);
    const groups = hierarchies.filter((hierarchy) =>
      existsSync(join(CGROUP_ROOT, hierarchy, worker.group)),
    );
    if (groups.length > 0) left.push(`cgroup group ${worker.group} in ${groups.join(', ')}`);
    if (left.length > 0) throw new Error(`left behind: ${left.join(', ')}`);
  });
  return problems;
}

/** Mount points under `dir`, deepest first (so that each is detached before its parent). */
function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4] ?? '')
    .filter((mountPoint) => mountPoint.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
}

/** The group's directory under every v1 hierarchy (rmdir: the kernel refuses one with tasks). */
async function removeGroupDirs(group: string): Promise<void> {
  for (const hierarchy of await readdir(CGROUP_ROOT).catch(() => [] as string[])) {
    const dir = join(CGROUP_ROOT, hierarchy, group);
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const entry of entries)
      if (entry.isDirectory()) await rmdir(join(dir, entry.name)).catch(() => {});
    await rmdir(dir).catch((error: unknown) => {
      if ((error as { code?: unknown }).code !== 'ENOENT') throw error;
    });
  }
}

/** The end of a worker's output: its last lines, at most TAIL_CHARS. */
function tail(text: string): string {
  const lines = text.trimEnd().split('\n').slice(-10).join('\n');
  return lines.length > TAIL_CHARS ? `…${lines.slice(-TAIL_CHARS)}` : lines;
}
