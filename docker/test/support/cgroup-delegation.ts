import { readFileSync } from 'node:fs';
import { existsSync, readdirSync } from 'node:fs';
import { chown, mkdir, readdir, readFile, rmdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseV1Mounts, type V1Mounts } from '../../../packages/executor/src/sandbox/cgroup-v1.ts';

/**
 * The cgroup v1 delegation of docs/deploy.md ("A delegated cgroup for per-run limits"), done the
 * way the recipe there says: a parent group per container with the container's backstops on it,
 * its `runs` child owned by the server's uid, bound read-write over each hierarchy's mount point
 * in the container (where the server looks for its cgroups), the container itself placed in the
 * parent with --cgroup-parent. The container's own cgroup and every run's then sit side by side
 * under the parent, whose limits hold for all of them.
 */
export interface V1Delegation {
  /** The parent's cgroup path, `/name`. */
  readonly parent: string;
  /** `--cgroup-parent` and one `--volume` per hierarchy, for podman create (or docker create). */
  readonly containerArgs: readonly string[];
  /** Directories of the parent, one per hierarchy (for checks from outside). */
  readonly dirs: Readonly<Record<keyof V1Mounts, string>>;
  /** Kills whatever is left in the tree and removes it; safe to call twice. */
  remove(): Promise<void>;
}

export interface V1DelegationOptions {
  /** The parent group's name, made at the root of every hierarchy. */
  name: string;
  /** The server's uid and gid inside the container (the image's USER). */
  uid: number;
  gid: number;
  /** The container's backstops, applied to the parent so that they also bound the runs. */
  limits: { memoryBytes: number; memorySwapBytes: number; pids: number; cpus: number };
}

export class CgroupDelegationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CgroupDelegationError';
  }
}

const CONTROLLERS = ['memory', 'pids', 'cpu', 'cpuacct', 'freezer'] as const;
const CGROUP_ROOT = '/sys/fs/cgroup';

/** This host's v1 hierarchies, or null on a cgroup v2 host (or one missing a controller). */
export function hostV1Mounts(): V1Mounts | null {
  return parseV1Mounts(readFileSync('/proc/self/mountinfo', 'utf8'));
}

export async function delegateV1(options: V1DelegationOptions): Promise<V1Delegation> {
  if (!/^[A-Za-z0-9_-]+$/.test(options.name))
    throw new CgroupDelegationError(`not a cgroup name: ${options.name}`);
  const mounts = hostV1Mounts();
  if (!mounts)
    throw new CgroupDelegationError(
      'this host has no cgroup v1 hierarchies for every controller runbox needs',
    );
  const dirs = Object.fromEntries(
    CONTROLLERS.map((controller) => [controller, join(mounts[controller], options.name)]),
  ) as Record<keyof V1Mounts, string>;
  const delegation: V1Delegation = {
    parent: `/${options.name}`,
    dirs,
    containerArgs: [
      '--cgroup-parent',
      `/${options.name}`,
      ...CONTROLLERS.flatMap((controller) => [
        '--volume',
        `${join(dirs[controller], 'runs')}:${mounts[controller]}:rw`,
      ]),
    ],
    // Every hierarchy, not only runbox's five: the container's own groups (podman's, conmon's) are
    // made under the parent in blkio, cpuset, devices, systemd and the unified tree as well.
    remove: () =>
      removeTrees([...new Set([...Object.values(dirs), ...everyHierarchy(options.name)])]),
  };
  try {
    for (const controller of CONTROLLERS) {
      const runs = join(dirs[controller], 'runs');
      await mkdir(runs, { recursive: true });
      // Everything in `runs` is the server's: the groups it makes there, the files it writes
      // (cgroup.procs and tasks to move a run in, cpu.shares for the runs' weight). The limits
      // it must not raise are on the parent, which stays root's.
      for (const entry of ['', ...(await readdir(runs))])
        await chown(join(runs, entry), options.uid, options.gid);
    }
    const { limits } = options;
    await writeFile(join(dirs.memory, 'memory.limit_in_bytes'), String(limits.memoryBytes));
    await writeOptional(
      join(dirs.memory, 'memory.memsw.limit_in_bytes'),
      String(limits.memorySwapBytes),
    );
    await writeFile(join(dirs.pids, 'pids.max'), String(limits.pids));
    await writeFile(join(dirs.cpu, 'cpu.cfs_period_us'), '100000');
    await writeFile(join(dirs.cpu, 'cpu.cfs_quota_us'), String(Math.round(limits.cpus * 100_000)));
  } catch (error) {
    await delegation.remove();
    throw error;
  }
  return delegation;
}

async function writeOptional(path: string, value: string): Promise<void> {
  try {
    await stat(path);
  } catch {
    return; // no swap accounting on this kernel: memory.limit_in_bytes alone bounds it
  }
  await writeFile(path, value);
}

/** `<hierarchy>/<name>` for every hierarchy mounted under /sys/fs/cgroup that has it. */
function everyHierarchy(name: string): string[] {
  let hierarchies: string[];
  try {
    hierarchies = readdirSync(CGROUP_ROOT);
  } catch {
    return [];
  }
  return hierarchies
    .map((hierarchy) => join(CGROUP_ROOT, hierarchy, name))
    .filter((dir) => existsSync(dir));
}

/** Every process still in a tree, from its cgroup.procs files. */
async function pidsIn(dir: string): Promise<number[]> {
  const pids: number[] = [];
  let entries: string[];
  try {
    entries = (await readdir(dir, { withFileTypes: true }))
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name);
    const own = await readFile(join(dir, 'cgroup.procs'), 'utf8');
    pids.push(...own.split('\n').filter(Boolean).map(Number));
  } catch {
    return pids;
  }
  for (const entry of entries) pids.push(...(await pidsIn(join(dir, entry))));
  return pids;
}

async function removeTree(dir: string): Promise<void> {
  let entries: string[];
  try {
    entries = (await readdir(dir, { withFileTypes: true }))
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name);
  } catch {
    return;
  }
  for (const entry of entries) await removeTree(join(dir, entry));
  for (let attempt = 0; ; attempt++) {
    try {
      await rmdir(dir);
      return;
    } catch (error) {
      const code = error instanceof Error && 'code' in error ? error.code : '';
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY' || attempt >= 100) throw error;
      await sleep(50);
    }
  }
}

/** Kills what is left (a server that died leaves its runs), thaws frozen groups, removes all. */
async function removeTrees(dirs: readonly string[]): Promise<void> {
  for (let round = 0; round < 5; round++) {
    const pids = new Set<number>();
    for (const dir of dirs) for (const pid of await pidsIn(dir)) pids.add(pid);
    if (pids.size === 0) break;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    await thawAll(dirs);
    await sleep(200);
  }
  for (const dir of dirs) await removeTree(dir);
}

async function thawAll(dirs: readonly string[]): Promise<void> {
  const visit = async (dir: string): Promise<void> => {
    try {
      await writeFile(join(dir, 'freezer.state'), 'THAWED');
    } catch {
      // not the freezer hierarchy, or gone
    }
    let entries: string[] = [];
    try {
      entries = (await readdir(dir, { withFileTypes: true }))
        .filter((entry) => entry.isDirectory())
        .map((entry) => entry.name);
    } catch {
      return;
    }
    for (const entry of entries) await visit(join(dir, entry));
  };
  for (const dir of dirs) await visit(dir);
}

/** Parents left by test runs whose process is gone (killed before its clean-up ran). */
export async function removeStaleDelegations(prefix: string, isStale: (name: string) => boolean) {
  const mounts = hostV1Mounts();
  if (!mounts) return;
  const names = new Set<string>();
  for (const hierarchy of readdirSync(CGROUP_ROOT)) {
    try {
      for (const entry of await readdir(join(CGROUP_ROOT, hierarchy)))
        if (entry.startsWith(prefix) && isStale(entry)) names.add(entry);
    } catch {
      // not a directory, or unreadable: nothing of ours there
    }
  }
  for (const name of names) await removeTrees(everyHierarchy(name));
}
