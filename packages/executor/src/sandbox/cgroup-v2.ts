import { mkdirSync } from 'node:fs';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  assertCgroupName,
  CgroupUnavailableError,
  RUN_CPU_WEIGHT_V2,
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
import { pathExists } from './path-exists.ts';

const CPU_PERIOD_US = 100_000;
const REQUIRED_CONTROLLERS = ['memory', 'pids', 'cpu'] as const;

/** The cgroup2 mount point from /proc/self/mountinfo text, or null. */
export function parseV2Mount(mountinfo: string): string | null {
  for (const line of mountinfo.split('\n')) {
    const [left, right] = line.split(' - ');
    if (!left || !right) continue;
    if (right.split(' ')[0] === 'cgroup2') return left.split(' ')[4] ?? null;
  }
  return null;
}

/** The v2 path of this process from /proc/self/cgroup text ("0::/some/path"). */
export function parseOwnV2Path(procSelfCgroup: string): string | null {
  for (const line of procSelfCgroup.split('\n')) {
    if (line.startsWith('0::')) return line.slice(3);
  }
  return null;
}

/**
 * A delegated v2 subtree: `base` must be writable by this process (root, or a subtree systemd or
 * the container runtime delegated). Runs live in `<base>/runs/<runId>`; v2 forbids processes in a
 * cgroup whose children use controllers, so the server moves itself into `<base>/server` first.
 */
export async function createV2Driver(base: string): Promise<CgroupDriver> {
  const controllers = (await readText(join(base, 'cgroup.controllers'))).trim().split(/\s+/);
  const missing = REQUIRED_CONTROLLERS.filter((c) => !controllers.includes(c));
  if (missing.length > 0) {
    throw new CgroupUnavailableError(
      `cgroup v2 at ${base} lacks the controllers ${missing.join(', ')} (has: ${controllers.join(' ') || 'none'})`,
    );
  }
  const runsParent = join(base, 'runs');
  const enable = REQUIRED_CONTROLLERS.map((c) => `+${c}`).join(' ');

  async function prepare(): Promise<void> {
    const ownPids = await readPids(join(base, 'cgroup.procs'));
    if (ownPids.length > 0) {
      const serverGroup = join(base, 'server');
      await mkdir(serverGroup, { recursive: true });
      for (const pid of ownPids) {
        try {
          await writeText(join(serverGroup, 'cgroup.procs'), String(pid));
        } catch (error) {
          // A process that is not ours to move (another user's) makes the subtree unusable.
          if (!isErrno(error, 'ESRCH')) throw error;
        }
      }
    }
    await writeText(join(base, 'cgroup.subtree_control'), enable);
    await mkdir(runsParent, { recursive: true });
    await writeText(join(runsParent, 'cgroup.subtree_control'), enable);
  }
  await prepare();
  // Against the server's own group (`server`), its sibling; the delegated base's weight against
  // the rest of the machine is the delegator's.
  const parentWeight = parentCpuWeight({
    perRun: RUN_CPU_WEIGHT_V2,
    max: 10_000,
    write: (weight) => writeText(join(runsParent, 'cpu.weight'), String(weight)),
  });

  function runGroup(runId: string): RunCgroup {
    const dir = join(runsParent, runId);
    const procsFile = join(dir, 'cgroup.procs');
    let sampledPeak = 0;
    let cpuBaselineUsec = 0;
    return {
      version: 'v2',
      paths: [dir],
      joinFiles: [procsFile],
      async usage(): Promise<CgroupUsage> {
        const cpu = parseKeyValues(await readText(join(dir, 'cpu.stat')));
        const current = await readNumber(join(dir, 'memory.current'));
        let peak: number;
        try {
          peak = await readNumber(join(dir, 'memory.peak'));
        } catch {
          // memory.peak arrived in Linux 5.19; before that the best is the highest value seen.
          peak = Math.max(sampledPeak, current);
        }
        sampledPeak = Math.max(sampledPeak, peak);
        return {
          cpuMs: Math.round(Math.max(0, (cpu.get('usage_usec') ?? 0) - cpuBaselineUsec) / 1000),
          peakMemoryBytes: sampledPeak,
          currentMemoryBytes: current,
        };
      },
      async oomKilled(): Promise<boolean> {
        const events = parseKeyValues(await readText(join(dir, 'memory.events')));
        return (events.get('oom_kill') ?? 0) > 0;
      },
      pids: () => readPids(procsFile),
      async killAll(spare?: number): Promise<void> {
        const freezeFile = join(dir, 'cgroup.freeze');
        await killFrozenGroup({
          name: dir,
          spare,
          pids: () => readPids(procsFile),
          async freeze() {
            await writeText(freezeFile, '1');
            await waitUntil(
              async () => /frozen 1/.test(await readFile(join(dir, 'cgroup.events'), 'utf8')),
              { timeoutMs: 1_000 },
            );
          },
          thaw: () => writeText(freezeFile, '0'),
        });
      },
      async remove(): Promise<void> {
        await removeCgroupDir(dir);
      },
      async setLimits(limits: SandboxLimits): Promise<void> {
        await writeText(join(dir, 'memory.max'), String(limits.memoryBytes));
        await writeText(join(dir, 'pids.max'), String(limits.maxProcesses));
        const quota = Math.max(1_000, Math.round(limits.cpus * CPU_PERIOD_US));
        await writeText(join(dir, 'cpu.max'), `${quota} ${CPU_PERIOD_US}`);
        await writeText(join(dir, 'cpu.weight'), String(RUN_CPU_WEIGHT_V2));
      },
      async resetUsage(): Promise<void> {
        // cpu.stat cannot be reset; memory.peak only per open file (Linux 6.12), so the peak of a
        // warm sandbox's run includes its interpreter's start (what a cold run's peak holds too).
        const cpu = parseKeyValues(await readText(join(dir, 'cpu.stat')));
        cpuBaselineUsec = cpu.get('usage_usec') ?? 0;
      },
    };
  }

  return {
    version: 'v2',
    location: runsParent,
    async create(
      runId: string,
      limits: SandboxLimits,
      priority: CgroupPriority = 'run',
    ): Promise<RunCgroup> {
      assertCgroupName(runId);
      const group = runGroup(runId);
      const dir = join(runsParent, runId);
      // Synchronous, as every cgroup file operation (cgroup-files.ts): the kernel's, in memory.
      mkdirSync(dir);
      if (await pathExists(join(dir, 'memory.swap.max')))
        await writeText(join(dir, 'memory.swap.max'), '0');
      await group.setLimits(limits);
      if (priority === 'background') await writeText(join(dir, 'cpu.weight'), '1');
      return countedRun(group, parentWeight);
    },
    async removeStale(): Promise<number> {
      let names: string[];
      try {
        names = (await readdir(runsParent, { withFileTypes: true }))
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
      }
      return names.length;
    },
    // The server stays in its own group (`server`), which is the delegator's to remove.
    close: () => removeCgroupDirIfEmpty(runsParent),
  };
}
