import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CgroupUnavailableError } from './cgroup.ts';
import { assertCgroupDirWritable, isOnReadOnlyMount } from './cgroup-v1.ts';

/** /proc/self/mountinfo of runbox's server in a podman container on a cgroup v1 host. */
const CONTAINER = [
  '315 300 0:120 / / ro,relatime - overlay overlay rw,lowerdir=/l,upperdir=/u,workdir=/w',
  '366 315 0:125 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime - tmpfs tmpfs rw,mode=755',
  '376 366 0:32 /p/libpod-1 /sys/fs/cgroup/memory ro,nosuid,nodev,noexec,relatime - cgroup cgroup rw,memory',
  '380 366 0:36 /p/libpod-1 /sys/fs/cgroup/pids ro,nosuid,nodev,noexec,relatime - cgroup cgroup rw,pids',
  '390 315 0:40 / /run/runbox\\040sandbox rw,nosuid,nodev - tmpfs tmpfs rw,size=1048576k',
].join('\n');

/** The same container with docs/deploy.md's v1 delegation: `runs` bound over the memory one. */
const DELEGATED = `${CONTAINER}\n383 376 0:32 /p/runs /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory`;

describe('isOnReadOnlyMount', () => {
  it('sees a container’s cgroup hierarchy, and anything below it, as read-only', () => {
    expect(isOnReadOnlyMount('/sys/fs/cgroup/memory', CONTAINER)).toBe(true);
    expect(isOnReadOnlyMount('/sys/fs/cgroup/memory/runbox-ab12', CONTAINER)).toBe(true);
    expect(isOnReadOnlyMount('/sys/fs/cgroup/pids', CONTAINER)).toBe(true);
  });

  it('goes by the mount a lookup reaches: the last one mounted at a point, the deepest above it', () => {
    expect(isOnReadOnlyMount('/sys/fs/cgroup/memory', DELEGATED)).toBe(false);
    expect(isOnReadOnlyMount('/sys/fs/cgroup/memory/runbox-ab12', DELEGATED)).toBe(false);
    expect(isOnReadOnlyMount('/sys/fs/cgroup/pids', DELEGATED)).toBe(true);
    // A path beside a mount point that merely starts with the same letters is not under it.
    expect(isOnReadOnlyMount('/sys/fs/cgroup/memory2', CONTAINER)).toBe(false);
  });

  it('reads escaped mount points and falls back to the root mount', () => {
    expect(isOnReadOnlyMount('/run/runbox sandbox/files', CONTAINER)).toBe(false);
    expect(isOnReadOnlyMount('/app', CONTAINER)).toBe(true);
    expect(isOnReadOnlyMount('/app', '')).toBe(false);
  });
});

const isRoot = process.getuid?.() === 0;
const MODULE = fileURLToPath(new URL('./cgroup-v1.ts', import.meta.url));

/** assertCgroupDirWritable(dir) in a child process started by `prefix`: its message, or 'ok'. */
function checkInChild(prefix: string[], script: string): string {
  const program = `import { assertCgroupDirWritable } from ${JSON.stringify(MODULE)};
${script}
assertCgroupDirWritable(dir, 'cgroup t').then(() => console.log('ok'), (e) => console.log(e.message));`;
  return execFileSync(
    prefix[0] ?? '',
    [...prefix.slice(1), process.execPath, '--input-type=module', '-e', program],
    {
      encoding: 'utf8',
    },
  ).trim();
}

describe('assertCgroupDirWritable', () => {
  it('passes a directory this process may write', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cgroup-writable-'));
    try {
      await expect(assertCgroupDirWritable(dir, 'cgroup t')).resolves.toBeUndefined();
    } finally {
      await rm(dir, { recursive: true });
    }
  });

  it.skipIf(!isRoot)('names EROFS and the fix for a directory on a read-only mount', () => {
    // A read-only tmpfs in a mount namespace of the child's own, as a container's cgroup tree is.
    const message = checkInChild(
      [
        'unshare',
        '--mount',
        '--propagation',
        'private',
        'sh',
        '-c',
        'mount -t tmpfs -o ro none /mnt && exec "$@"',
        'sh',
      ],
      "const dir = '/mnt';",
    );
    expect(message).toBe(
      'cgroup t is read-only (EROFS): a container gets its cgroup tree read-only; delegate a writable cgroup to it (docs/deploy.md, "A delegated cgroup for per-run limits")',
    );
  });

  it.skipIf(!isRoot)(
    'names EACCES, the uid and the fix for a directory of another user',
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'cgroup-root-owned-'));
      try {
        const message = checkInChild(
          ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'],
          `const dir = ${JSON.stringify(dir)};`,
        );
        expect(message).toMatch(
          /^cgroup t is not writable by uid 65534 \(EACCES\): run as root, or delegate it to this uid \(docs\/deploy\.md/,
        );
      } finally {
        await rm(dir, { recursive: true });
      }
    },
  );

  it('says why as a CgroupUnavailableError, which the server reports instead of failing to start', async () => {
    const error = await assertCgroupDirWritable('/nonexistent/cgroup', 'cgroup x').catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(CgroupUnavailableError);
    expect((error as Error).message).toBe('cgroup x is not usable (ENOENT)');
  });
});
