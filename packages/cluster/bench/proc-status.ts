import { readdirSync, readFileSync } from 'node:fs';

/** USER_HZ: 100 on every Linux Node runs on (x86_64, aarch64). */
const CLOCK_TICKS_PER_SECOND = 100;

/** Resident memory of a process now, in bytes: VmRSS of /proc/<pid>/status and its parts. */
export interface Resident {
  rss: number;
  /** Its own memory: heap, stacks, WebAssembly, buffers. */
  anon: number;
  /** Pages of files it mapped (the Node binary and its libraries mostly), shared with others. */
  file: number;
  shmem: number;
}

export function resident(pid: number): Resident {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string): number => {
    const kib = new RegExp(`^${name}:\\s+(\\d+)\\s+kB$`, 'm').exec(status)?.[1];
    if (kib === undefined) throw new Error(`/proc/${pid}/status has no ${name} (a zombie?)`);
    return Number(kib) * 1024;
  };
  return {
    rss: field('VmRSS'),
    anon: field('RssAnon'),
    file: field('RssFile'),
    shmem: field('RssShmem'),
  };
}

/** CPU time a process has used so far (user + system, /proc/<pid>/stat), in seconds. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
  const ticks = Number(fields[11]) + Number(fields[12]);
  return ticks / CLOCK_TICKS_PER_SECOND;
}

/** Host pids whose real uid is `uid` (a sandbox uid: the processes of its runs). */
export function processesOfUid(uid: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSafe('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const real = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${entry}/status`, 'utf8'))?.[1];
      if (Number(real) === uid) pids.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return pids;
}

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** The host's CPU time so far over all cores (the `cpu` line of /proc/stat), in ticks. */
export interface HostCpu {
  busy: number;
  total: number;
}

export function hostCpu(): HostCpu {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
  // user nice system idle iowait irq softirq steal (guest time is inside user already).
  const ticks = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = ticks.reduce((sum, value) => sum + value, 0);
  const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
  return { busy: total - idle, total };
}

/** The share of the host's CPU that was busy since `since`, 0 to 1. */
export function busySince(since: HostCpu): number {
  const now = hostCpu();
  const total = now.total - since.total;
  return total > 0 ? (now.busy - since.busy) / total : 0;
}
