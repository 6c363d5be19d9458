import { randomInt } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * TEST SCAFFOLDING: sandbox uids for test files that run at the same time. Each test host counts
 * its sandbox uid's processes to prove a run left nothing; two hosts on one uid see each other's
 * (a waiting warm sandbox looked like a leftover of another file's run). A uid is held by a file
 * `/tmp/runbox-test-uids/<uid>` naming the holding process, made exclusively; one whose holder is
 * gone is taken over. Released by `releaseTestUid`, or when the process exits.
 */
const DIR = '/tmp/runbox-test-uids';
const held = new Set<number>();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function tryClaim(uid: number): boolean {
  const path = join(DIR, String(uid));
  try {
    writeFileSync(path, String(process.pid), { flag: 'wx' });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  let holder = Number.NaN;
  try {
    holder = Number(readFileSync(path, 'utf8'));
  } catch {
    // released meanwhile: try once more below
  }
  if (Number.isInteger(holder) && holder > 0 && alive(holder)) return false;
  rmSync(path, { force: true });
  try {
    writeFileSync(path, String(process.pid), { flag: 'wx' });
    return true;
  } catch {
    return false;
  }
}

/** A uid in [first, first + count) that no live test process holds. */
export function claimTestUid(first: number, count: number): number {
  mkdirSync(DIR, { recursive: true });
  const start = randomInt(count);
  for (let step = 0; step < count; step++) {
    const uid = first + ((start + step) % count);
    if (held.has(uid)) continue;
    if (tryClaim(uid)) {
      held.add(uid);
      return uid;
    }
  }
  throw new Error(`every test sandbox uid in ${first}..${first + count - 1} is held`);
}

export function releaseTestUid(uid: number): void {
  if (!held.delete(uid)) return;
  rmSync(join(DIR, String(uid)), { force: true });
}

process.once('exit', () => {
  for (const uid of held) rmSync(join(DIR, String(uid)), { force: true });
});
