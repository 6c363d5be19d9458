import { readFile, mkdir } from 'node:fs/promises';
import { removeCgroupDirIfEmpty } from './cgroup-files.ts';
import { join } from 'node:path';
import { CgroupUnavailableError, type CgroupDriver } from './cgroup.ts';
import {
  assertCgroupDirWritable,
  assertV1Writable,
  createV1Driver,
  parseV1Mounts,
} from './cgroup-v1.ts';
import { createV2Driver, parseOwnV2Path, parseV2Mount } from './cgroup-v2.ts';

export type CgroupPreference = 'auto' | 'v1' | 'v2';

export interface CgroupDetectOptions {
  /** 'auto' takes v2 where a delegated subtree with memory, pids and cpu is writable, else v1. */
  prefer: CgroupPreference;
  /** v2: the delegated subtree to use; default this process's own cgroup (or <mount>/runbox at the root). */
  v2Base?: string | undefined;
  /** v1: the group made under each hierarchy to hold runs. */
  v1GroupName?: string | undefined;
}

/** Picks the cgroup mechanism in force and says why the other one was not taken. */
export async function detectCgroupDriver(options: CgroupDetectOptions): Promise<CgroupDriver> {
  const mountinfo = await readFile('/proc/self/mountinfo', 'utf8');
  const reasons: string[] = [];

  if (options.prefer !== 'v1') {
    const mount = parseV2Mount(mountinfo);
    if (!mount) {
      reasons.push('v2: no cgroup2 mount');
    } else {
      let made: string | null = null;
      try {
        const base = options.v2Base ?? (await defaultV2Base(mount, (dir) => (made = dir)));
        await assertCgroupDirWritable(base, `cgroup v2 subtree ${base}`);
        return await createV2Driver(base);
      } catch (error) {
        // A base made only to find v2 unusable (a hybrid host's empty `unified`) does not stay.
        if (made !== null) await removeCgroupDirIfEmpty(made);
        reasons.push(`v2: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }
  if (options.prefer !== 'v2') {
    const mounts = parseV1Mounts(mountinfo);
    if (!mounts) {
      reasons.push('v1: memory, pids, cpu, cpuacct and freezer hierarchies are not all mounted');
    } else {
      try {
        await assertV1Writable(mounts, options.v1GroupName);
        return createV1Driver(mounts, options.v1GroupName);
      } catch (error) {
        reasons.push(`v1: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }
  throw new CgroupUnavailableError(`no usable cgroup for per-run limits (${reasons.join('; ')})`);
}

async function defaultV2Base(mount: string, onMade: (dir: string) => void): Promise<string> {
  const own = parseOwnV2Path(await readFile('/proc/self/cgroup', 'utf8'));
  if (own === null) throw new CgroupUnavailableError('this process has no v2 cgroup');
  if (own === '/') {
    const base = join(mount, 'runbox');
    await assertCgroupDirWritable(mount, `cgroup v2 root ${mount}`);
    if ((await mkdir(base, { recursive: true })) !== undefined) onMade(base);
    return base;
  }
  return join(mount, own);
}
