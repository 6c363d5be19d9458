import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** Whether a process with this pid is alive (EPERM: alive, another user's). */
export function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error instanceof Error && 'code' in error && error.code === 'EPERM';
  }
}

/** When the lock was taken (its directory's mtime); now when it is gone. */
function lockTakenAt(lock: string): number {
  try {
    return statSync(lock).mtimeMs;
  } catch {
    return Date.now();
  }
}

/**
 * One container test at a time per store: a lock directory (mkdir is atomic) holding the owner's
 * pid. A lock whose owner died is taken over. Returns the release function.
 */
export async function lockStore(stateDir: string, timeoutMs: number): Promise<() => void> {
  const lock = join(stateDir, 'lock');
  const deadline = Date.now() + timeoutMs;
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(process.pid));
      return () => rmSync(lock, { recursive: true, force: true });
    } catch (error) {
      if (!(error instanceof Error && 'code' in error && error.code === 'EEXIST')) throw error;
    }
    let owner = Number.NaN;
    try {
      owner = Number(readFileSync(join(lock, 'pid'), 'utf8'));
    } catch {
      // being written or removed right now: look again
    }
    // No pid after a while: its owner died between mkdir and writing it.
    const orphaned = Number.isNaN(owner) && Date.now() - lockTakenAt(lock) > 10_000;
    if (orphaned || (!Number.isNaN(owner) && !isAlive(owner))) {
      rmSync(lock, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline)
      throw new Error(`another container test (pid ${owner}) holds ${lock}`);
    await sleep(1_000);
  }
}
