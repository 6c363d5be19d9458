import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { mountPointsUnder, parseMountInfo } from './mount-table.ts';

const run = promisify(execFile);

async function currentMountPoints(dir: string): Promise<string[]> {
  return mountPointsUnder(dir, parseMountInfo(await readFile('/proc/self/mountinfo', 'utf8')));
}

/**
 * Detaches (`umount -l`) every mount under `dir`, deepest first, and `dir` itself when `including`.
 * A mount gone by the time it is reached is not an error: another process may detach the same
 * leftovers at the same moment (a dead host's files watchdog does, while the next host on the same
 * sandbox directory clears what it left). A mount still there after a failed attempt is.
 */
export async function detachMountsUnder(dir: string, including: boolean): Promise<void> {
  const wanted = (mountPoint: string): boolean => including || mountPoint !== dir;
  for (const mountPoint of (await currentMountPoints(dir)).filter(wanted)) {
    try {
      await run('umount', ['-l', mountPoint]);
    } catch (error) {
      if ((await currentMountPoints(mountPoint)).includes(mountPoint)) throw error;
    }
  }
}
