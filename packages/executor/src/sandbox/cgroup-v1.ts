import { constants, mkdirSync } from 'node:fs';
import { access, mkdir, readdir, readFile, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import {
  assertCgroupName,
  CgroupUnavailableError,
  RUN_CPU_SHARES_V1,
  type CgroupDriver,
  type CgroupPriority,
  type CgroupUsage,
  type RunCgroup,
} from './cgroup.ts';
import {
  isErrno,
  killFrozenGroup,
  parseKeyValues,
  readNumber,
  readPids,
  readText,
  removeCgroupDir,
  removeCgroupDirIfEmpty,
  waitUntil,
  writeText,
} from './cgroup-files.ts';
import type { SandboxLimits } from './limits.ts';
import { countedRun, parentCpuWeight } from './parent-cpu-weight.ts';

/** The v1 controllers a run needs, and where each hierarchy is mounted. */
export interface V1Mounts {
  memory: string;
  pids: string;
  cpu: string;
  cpuacct: string;
  freezer: string;
}

const CPU_PERIOD_US = 100_000;

/** Finds the v1 hierarchies in /proc/self/mountinfo text. Returns null when one is missing. */
export function parseV1Mounts(mountinfo: string): V1Mounts | null {
  const found: Partial<V1Mounts> = {};
  for (const line of mountinfo.split('\n')) {
    const [left, right] = line.split(' - ');
    if (!left || !right) continue;
    const [fstype, , superOptions = ''] = right.split(' ');
    if (fstype !== 'cgroup') continue;
    const mountPoint = left.split(' ')[4];
    if (!mountPoint) continue;
    for (const option of superOptions.split(',')) {
      if (option in emptyMounts && found[option as keyof V1Mounts] === undefined) {
        found[option as keyof V1Mounts] = mountPoint;
      }
    }
  }
  const { memory, pids, cpu, cpuacct, freezer } = found;
  if (!memory || !pids || !cpu || !cpuacct || !freezer) return null;
  return { memory, pids, cpu, cpuacct, freezer };
}

const emptyMounts: Record<keyof V1Mounts, true> = {
  memory: true,
  pids: true,
  cpu: true,
  cpuacct: true,
  freezer: true,
};

export function createV1Driver(mounts: V1Mounts, groupName = 'runbox'): CgroupDriver {
  const parents = {
    memory: join(mounts.memory, groupName),
    pids: join(mounts.pids, groupName),
    cpu: join(mounts.cpu, groupName),
    cpuacct: join(mounts.cpuacct, groupName),
    freezer: join(mounts.freezer, groupName),
  };
  const uniqueParents = [...new Set(Object.values(parents))];
  const parentWeight = parentCpuWeight({
    perRun: RUN_CPU_SHARES_V1,
    max: 262_144,
    write: (shares) => writeText(join(parents.cpu, 'cpu.shares'), String(shares)),
  });

  let parentsReady: Promise<unknown> | null = null;
  function ensureParents(): Promise<unknown> {
    parentsReady ??= Promise.all(uniqueParents.map((parent) => mkdir(parent, { recursive: true })));
    return parentsReady;
  }

  function runGroup(runId: string): RunCgroup {
    const dirs = {
      memory: join(parents.memory, runId),
      pids: join(parents.pids, runId),
      cpu: join(parents.cpu, runId),
      cpuacct: join(parents.cpuacct, runId),
      freezer: join(parents.freezer, runId),
    };
    const paths = [...new Set(Object.values(dirs))];
    const procsFiles = paths.map((dir) => join(dir, 'cgroup.procs'));
    const joinFiles = paths.map((dir) => join(dir, 'tasks'));

    async function pids(): Promise<number[]> {
      const all = new Set<number>();
      for (const file of procsFiles) for (const pid of await readPids(file)) all.add(pid);
      return [...all];
    }

    return {
      version: 'v1',
      paths,
      joinFiles,
      async usage(): Promise<CgroupUsage> {
        const [cpuNs, peak, current] = await Promise.all([
          readNumber(join(dirs.cpuacct, 'cpuacct.usage')),
          readNumber(join(dirs.memory, 'memory.max_usage_in_bytes')),
          readNumber(join(dirs.memory, 'memory.usage_in_bytes')),
        ]);
        return {
          cpuMs: Math.round(cpuNs / 1e6),
          peakMemoryBytes: peak,
          currentMemoryBytes: current,
        };
      },
      async oomKilled(): Promise<boolean> {
        const control = parseKeyValues(await readText(join(dirs.memory, 'memory.oom_control')));
        return (control.get('oom_kill') ?? 0) > 0;
      },
      pids,
      async killAll(spare?: number): Promise<void> {
        const freezerState = join(dirs.freezer, 'freezer.state');
        await killFrozenGroup({
          name: dirs.freezer,
          spare,
          pids,
          async freeze() {
            await writeText(freezerState, 'FROZEN');
            await waitUntil(async () => (await readText(freezerState)).trim() === 'FROZEN', {
              timeoutMs: 1_000,
            });
          },
          thaw: () => writeText(freezerState, 'THAWED'),
        });
      },
      async remove(): Promise<void> {
        for (const dir of paths) await removeCgroupDir(dir);
      },
      async setLimits(limits: SandboxLimits): Promise<void> {
        const limitFile = join(dirs.memory, 'memory.limit_in_bytes');
        const memswFile = join(dirs.memory, 'memory.memsw.limit_in_bytes');
        const wanted = String(limits.memoryBytes);
        // memsw (memory + swap) may never be below memory.limit_in_bytes: lowered second, raised
        // first.
        if (limits.memoryBytes < (await readNumber(limitFile))) {
          await writeText(limitFile, wanted);
          await writeOptional(memswFile, wanted);
        } else {
          await writeOptional(memswFile, wanted);
          await writeText(limitFile, wanted);
        }
        const quota = Math.max(1_000, Math.round(limits.cpus * CPU_PERIOD_US));
        await Promise.all([
          writeText(join(dirs.pids, 'pids.max'), String(limits.maxProcesses)),
          writeText(join(dirs.cpu, 'cpu.cfs_quota_us'), String(quota)),
          writeText(join(dirs.cpu, 'cpu.shares'), String(RUN_CPU_SHARES_V1)),
        ]);
      },
      async resetUsage(): Promise<void> {
        await Promise.all([
          writeText(join(dirs.cpuacct, 'cpuacct.usage'), '0'),
          writeText(join(dirs.memory, 'memory.max_usage_in_bytes'), '0'),
        ]);
      },
    };
  }

  return {
    version: 'v1',
    location: `v1 hierarchies memory, pids, cpu, cpuacct, freezer under /${groupName}`,
    async create(
      runId: string,
      limits: SandboxLimits,
      priority: CgroupPriority = 'run',
    ): Promise<RunCgroup> {
      assertCgroupName(runId);
      await ensureParents();
      const group = runGroup(runId);
      // Synchronous, as every cgroup file operation (cgroup-files.ts): the kernel's, in memory.
      for (const dir of group.paths) mkdirSync(dir);
      const memoryDir = join(parents.memory, runId);
      const cpuDir = join(parents.cpu, runId);
      await Promise.all([
        writeOptional(join(memoryDir, 'memory.swappiness'), '0'),
        writeText(join(cpuDir, 'cpu.cfs_period_us'), String(CPU_PERIOD_US)),
      ]);
      await group.setLimits(limits);
      if (priority === 'background') await writeText(join(cpuDir, 'cpu.shares'), '2');
      return countedRun(group, parentWeight);
    },
    async removeStale(): Promise<number> {
      let removed = 0;
      let names: string[] = [];
      try {
        names = (await readdir(parents.freezer, { withFileTypes: true }))
          .filter((entry) => entry.isDirectory())
          .map((entry) => entry.name);
      } catch (error) {
        if (isErrno(error, 'ENOENT')) return 0;
        throw error;
      }
      for (const name of names) {
        const group = runGroup(name);
        await group.killAll();
        await group.remove();
        removed++;
      }
      return removed;
    },
    async close() {
      await Promise.all(uniqueParents.map((parent) => removeCgroupDirIfEmpty(parent)));
    },
  };
}

async function writeOptional(path: string, value: string): Promise<void> {
  try {
    await access(path);
  } catch {
    return;
  }
  await writeText(path, value);
}

/**
 * Throws unless this process can make run cgroups in every v1 hierarchy: in the group runs go in
 * (`groupName`) where it exists already (a delegated one), else at the hierarchy's root.
 */
export async function assertV1Writable(mounts: V1Mounts, groupName = 'runbox'): Promise<void> {
  for (const [controller, mountPoint] of Object.entries(mounts)) {
    try {
      await access(join(mountPoint, 'cgroup.procs'));
    } catch {
      throw new CgroupUnavailableError(
        `cgroup v1 ${controller} hierarchy at ${mountPoint} is not usable`,
      );
    }
    const group = join(mountPoint, groupName);
    const existing = await access(group).then(
      () => group,
      () => mountPoint,
    );
    await assertCgroupDirWritable(existing, `cgroup v1 ${controller} hierarchy: ${existing}`);
  }
}

const DELEGATION_DOC = 'docs/deploy.md, "A delegated cgroup for per-run limits"';

/**
 * Whether `dir` is on a read-only mount: the mount with the longest mount point above it, the
 * last one mounted there when several are (the one a path lookup reaches), from
 * /proc/self/mountinfo text. Containers bind the cgroup tree read-only over a read-write
 * filesystem, which access(2) reports as EACCES to a non-owner before it says EROFS.
 */
export function isOnReadOnlyMount(dir: string, mountinfo: string): boolean {
  let found: { point: string; options: string[] } | null = null;
  for (const line of mountinfo.split('\n')) {
    const fields = line.split(' ');
    const [rawPoint, options] = [fields[4], fields[5]];
    if (!rawPoint || !options) continue;
    const point = rawPoint.replace(/\\([0-7]{3})/g, (_, octal: string) =>
      String.fromCharCode(parseInt(octal, 8)),
    );
    const covers = point === '/' || dir === point || dir.startsWith(`${point}/`);
    if (covers && (!found || point.length >= found.point.length))
      found = { point, options: options.split(',') };
  }
  return found?.options.includes('ro') ?? false;
}

/**
 * Throws unless this process may make cgroups in `dir`, saying why and what fixes it. Checked
 * before the first mkdir: a container's cgroup tree is mounted read-only (EROFS), which Node's
 * recursive mkdir reports as a misleading ENOENT for the path it wanted.
 */
export async function assertCgroupDirWritable(dir: string, what: string): Promise<void> {
  const readOnly = new CgroupUnavailableError(
    `${what} is read-only (EROFS): a container gets its cgroup tree read-only; delegate a writable cgroup to it (${DELEGATION_DOC})`,
  );
  let code: string;
  try {
    if (isOnReadOnlyMount(await realpath(dir), await readFile('/proc/self/mountinfo', 'utf8')))
      throw readOnly;
    await access(dir, constants.W_OK);
    return;
  } catch (error) {
    if (error === readOnly) throw readOnly;
    code = error instanceof Error && 'code' in error ? String(error.code) : String(error);
  }
  if (code === 'EROFS') throw readOnly;
  if (code === 'EACCES' || code === 'EPERM')
    throw new CgroupUnavailableError(
      `${what} is not writable by uid ${process.getuid?.() ?? '?'} (${code}): run as root, or delegate it to this uid (${DELEGATION_DOC})`,
    );
  throw new CgroupUnavailableError(`${what} is not usable (${code})`);
}
