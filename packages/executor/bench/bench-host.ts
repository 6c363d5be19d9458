import { readdirSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, rmdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createExecutor,
  createSandboxHost,
  hostEnvFrom,
  type Executor,
  type ExecutorConfig,
  type SandboxHost,
} from '../src/index.ts';
import { describeError } from './section.ts';
import { within } from './stats.ts';

const CGROUP_ROOT = '/sys/fs/cgroup';

/** A sandbox host of one bench section, with everything it made removed when the section ends. */
export interface BenchHost {
  readonly host: SandboxHost;
  /** The v1 group under each hierarchy that holds this host's runs (this host's alone). */
  readonly group: string;
  /** An executor on this host; shut down (running runs interrupted) before the host goes. */
  executor(config: Omit<ExecutorConfig, 'host'>): Executor;
  /** Run cgroups now in this host's group (v1: memory and pids; 0 elsewhere). */
  runCgroups(): number;
}

/** Executors get this long to let running runs finish before they are interrupted. */
const SHUTDOWN_DEADLINE_MS = 2_000;

/**
 * Runs `body` with a sandbox host of its own: a temporary sandbox directory (so its workspaces
 * and mounts are nobody else's) and a v1 cgroup group named for this process. Afterwards, whether
 * `body` threw or not: its executors shut down, any run cgroup still in the group is killed and
 * removed, the host closes (idle workspaces unmounted), any mount left under the directory is
 * detached, the group's directories and the sandbox directory are removed, and then checked to be
 * gone. A clean-up that leaves something behind fails the section.
 */
export async function withBenchHost(
  label: string,
  body: (bench: BenchHost) => Promise<void>,
): Promise<void> {
  const env = hostEnvFrom(process.env);
  const stateDir = await mkdtemp(join(tmpdir(), `runbox-bench-${label}-`));
  const group = `runbox-bench-${label}-${process.pid}`;
  let host: SandboxHost;
  try {
    host = await createSandboxHost({ ...env.host, stateDir, cgroupGroupName: group });
  } catch (error) {
    await rm(stateDir, { recursive: true, force: true }).catch(() => {});
    await removeGroupDirs(group).catch(() => {});
    throw error;
  }
  const executors: Executor[] = [];
  const bench: BenchHost = {
    host,
    group,
    executor(config) {
      const executor = createExecutor({ ...config, host });
      executors.push(executor);
      return executor;
    },
    runCgroups: () =>
      host.cgroups.version === 'v1'
        ? ['memory', 'pids'].reduce(
            (sum, hierarchy) => sum + Math.max(0, subdirs(hierarchy, group)),
            0,
          )
        : 0,
  };
  let failure: { error: unknown } | null = null;
  try {
    await body(bench);
  } catch (error) {
    failure = { error };
  }
  const problems = await tearDown(host, executors, group, stateDir);
  const cleanUp = problems.length > 0 ? `clean-up: ${problems.join('; ')}` : null;
  if (failure) {
    // The body's own error is the one to report; the clean-up's goes alongside it.
    if (cleanUp) console.error(`  ${cleanUp}`);
    throw failure.error;
  }
  if (cleanUp) throw new Error(cleanUp);
}

/** Every step runs whatever the one before did; returns what went wrong or stayed behind. */
async function tearDown(
  host: SandboxHost,
  executors: Executor[],
  group: string,
  stateDir: string,
): Promise<string[]> {
  const problems: string[] = [];
  const step = async (what: string, action: () => Promise<unknown>): Promise<void> => {
    try {
      await action();
    } catch (error) {
      problems.push(`${what}: ${describeError(error)}`);
    }
  };
  for (const executor of executors) {
    await step('executor shutdown', () =>
      within(
        executor.shutdown({ deadlineMs: SHUTDOWN_DEADLINE_MS }),
        SHUTDOWN_DEADLINE_MS + 15_000,
        'executor shutdown',
      ),
    );
  }
  // Processes before workspaces, so that nothing holds a workspace when it is unmounted. v2 runs
  // share one parent with every other server on the host: theirs are not ours to kill.
  if (host.cgroups.version === 'v1') {
    await step('run cgroups', async () => {
      const removed = await host.cgroups.removeStale();
      if (removed > 0) problems.push(`${removed} run cgroups were still there (killed, removed)`);
    });
  }
  await step('host close', () => within(host.close(), 15_000, 'host close'));
  await step('workspaces', () => host.workspaces.removeStale());
  await step('cgroup group', () => removeGroupDirs(group));
  await step('sandbox directory', () => rm(stateDir, { recursive: true, force: true }));
  await step('check', async () => {
    const mounts = (await readFile('/proc/self/mounts', 'utf8'))
      .split('\n')
      .filter((line) => line.split(' ')[1]?.startsWith(`${stateDir}/`)).length;
    if (mounts > 0) problems.push(`${mounts} mounts left under ${stateDir}`);
    const left = (await readdir(CGROUP_ROOT).catch(() => [] as string[])).filter(
      (hierarchy) => subdirs(hierarchy, group) >= 0,
    );
    if (left.length > 0) problems.push(`cgroup group ${group} left in ${left.join(', ')}`);
  });
  return problems;
}

/** Subdirectories of the group in one hierarchy; -1 when the group is not there. */
function subdirs(hierarchy: string, group: string): number {
  try {
    return readdirSync(join(CGROUP_ROOT, hierarchy, group), { withFileTypes: true }).filter(
      (entry) => entry.isDirectory(),
    ).length;
  } catch {
    return -1;
  }
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
