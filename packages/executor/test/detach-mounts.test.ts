import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { detachMountsUnder } from '../src/sandbox/detach-mounts.ts';
import { mountPointsUnder, parseMountInfo } from '../src/sandbox/mount-table.ts';

const run = promisify(execFile);

async function mountsUnder(dir: string): Promise<string[]> {
  return mountPointsUnder(dir, parseMountInfo(await readFile('/proc/self/mountinfo', 'utf8')));
}

async function mountTmpfs(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await run('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'runbox-test', dir]);
}

describe('detachMountsUnder', () => {
  let scratch = '';
  afterEach(async () => {
    for (const mountPoint of await mountsUnder(scratch)) await run('umount', ['-l', mountPoint]);
    await rm(scratch, { recursive: true, force: true });
  });

  it('detaches nested mounts deepest first, keeping the directory itself when asked to', async () => {
    scratch = await mkdtemp(join(tmpdir(), 'runbox-detach-'));
    await mountTmpfs(scratch);
    await mountTmpfs(join(scratch, 'a'));
    await mountTmpfs(join(scratch, 'a', 'b'));
    await detachMountsUnder(scratch, false);
    expect(await mountsUnder(scratch)).toEqual([scratch]);
    await detachMountsUnder(scratch, true);
    expect(await mountsUnder(scratch)).toEqual([]);
  });

  it('two clearing the same leftovers at once both succeed (a dead host’s watchdog and the next host)', async () => {
    scratch = await mkdtemp(join(tmpdir(), 'runbox-detach-'));
    for (let round = 0; round < 10; round++) {
      for (let index = 0; index < 8; index++) await mountTmpfs(join(scratch, `m${index}`));
      await Promise.all([detachMountsUnder(scratch, false), detachMountsUnder(scratch, false)]);
      expect(await mountsUnder(scratch)).toEqual([]);
    }
  });
});
