import { readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/*
 * cgroup files are the kernel's own, in memory: reading or writing one takes microseconds, far
 * less than the thread-pool round trip and promises of an asynchronous call (a run makes about
 * thirty of them; together they cost the server ~1 ms of its event loop per run). So they are
 * read and written synchronously, behind the same asynchronous signatures.
 */

export async function readText(path: string): Promise<string> {
  return readFileSync(path, 'utf8');
}

export async function readNumber(path: string): Promise<number> {
  const text = readFileSync(path, 'utf8').trim();
  return text === 'max' ? Number.POSITIVE_INFINITY : Number(text);
}

export async function writeText(path: string, value: string): Promise<void> {
  writeFileSync(path, value);
}

/** Parses `key value` lines such as memory.stat, cpu.stat, memory.events, memory.oom_control. */
export function parseKeyValues(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    const [key, value] = line.trim().split(/\s+/);
    if (key && value !== undefined) values.set(key, Number(value));
  }
  return values;
}

export function parsePids(text: string): number[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map(Number);
}

export async function readPids(procsFile: string): Promise<number[]> {
  try {
    return parsePids(readFileSync(procsFile, 'utf8'));
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return [];
    throw error;
  }
}

export function isErrno(error: unknown, code: string): boolean {
  return error instanceof Error && 'code' in error && error.code === code;
}

export function killPids(pids: readonly number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch (error) {
      if (!isErrno(error, 'ESRCH')) throw error;
    }
  }
}

/**
 * The kill both cgroup versions share: freeze (so nothing forks or runs between reading the pid
 * list and the kill), SIGKILL everything but `spare`, thaw, let `spare` reap its children and exit,
 * then kill whatever is left.
 */
export async function killFrozenGroup(group: {
  freeze(): Promise<void>;
  thaw(): Promise<void>;
  pids(): Promise<number[]>;
  spare: number | undefined;
  name: string;
}): Promise<void> {
  // The usual end: the program exited and took the sandbox with it. Nothing to freeze.
  if ((await group.pids()).length === 0) return;
  await group.freeze();
  killPids((await group.pids()).filter((pid) => pid !== group.spare));
  await group.thaw();
  const onlySpareLeft = async (): Promise<boolean> =>
    (await group.pids()).every((pid) => pid === group.spare);
  await waitUntil(onlySpareLeft, { timeoutMs: 1_000 });
  // A process leaves cgroup.procs when it exits, before its parent has reaped it: the spare (bwrap's
  // monitor) may not have collected the sandbox's init yet. It exits by itself once it has; killed
  // before that, the init would be left a zombie of the host's init (which, in a container whose
  // pid 1 does not reap, stays for ever). So it gets a moment to go on its own first.
  if (group.spare !== undefined)
    await waitUntil(async () => (await group.pids()).length === 0, { timeoutMs: 500 });
  for (let round = 0; round < 3; round++) {
    killPids(await group.pids());
    if (await waitUntil(async () => (await group.pids()).length === 0, { timeoutMs: 2_000 }))
      return;
  }
  throw new Error(
    `processes survived the kill of cgroup ${group.name}: ${(await group.pids()).join(', ')}`,
  );
}

/** Polls `check` until it returns true or the deadline passes. Returns whether it held. */
export async function waitUntil(
  check: () => Promise<boolean>,
  options: { timeoutMs: number; intervalMs?: number },
): Promise<boolean> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(options.intervalMs ?? 2);
  }
}

/** rmdir that tolerates a cgroup already gone and retries while the kernel is still emptying it. */
/** Removes a cgroup directory if it is empty; one that holds groups or processes stays. */
export async function removeCgroupDirIfEmpty(path: string): Promise<void> {
  try {
    rmdirSync(path);
  } catch (error) {
    if (!isErrno(error, 'ENOENT') && !isErrno(error, 'EBUSY') && !isErrno(error, 'ENOTEMPTY'))
      throw error;
  }
}

export async function removeCgroupDir(path: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      rmdirSync(path);
      return;
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return;
      if (!isErrno(error, 'EBUSY') || attempt >= 200) throw error;
      await sleep(5);
    }
  }
}
