import { existsSync, readdirSync } from 'node:fs';
import {
  chmod,
  cp,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  rm,
  stat,
  symlink,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { pack, type Header } from 'tar-stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  BundleRejectedError,
  BundleTargetExistsError,
  packTree,
  unpackTree,
  type BundleRule,
} from './tree-bundle.ts';
import { digestTree, TreeLimitError, UnsupportedEntryError } from './tree-digest.ts';

const LIMITS = { maxFiles: 100, maxBytes: 10_000_000 };
let base: string;
let tree: string;

beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), 'runbox-bundle-'));
  tree = join(base, 'tree');
  await mkdir(join(tree, 'src', 'deep'), { recursive: true });
  await mkdir(join(tree, 'empty'));
  await writeFile(join(tree, 'README.md'), '# hi\n');
  await writeFile(join(tree, 'src', 'main.js'), 'console.log(1)\n');
  await writeFile(join(tree, 'src', 'deep', 'data.bin'), Buffer.alloc(300_000, 7));
  await writeFile(join(tree, 'run.sh'), '#!/bin/sh\n');
  await chmod(join(tree, 'run.sh'), 0o700);
  // Longer than ustar's 100-byte name field and not ASCII: carried by a pax record.
  const long = join(tree, 'ñ'.repeat(60));
  await mkdir(long);
  await writeFile(join(long, `${'x'.repeat(120)}.txt`), 'long\n');
});
afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

/** A tar made with tar-stream's own pack(), for bundles packTree would never write. */
async function tarOf(
  entries: (Partial<Header> & { name: string; data?: string })[],
): Promise<Buffer> {
  const archive = pack();
  for (const { data, ...header } of entries) {
    if (data === undefined) archive.entry(header);
    else archive.entry(header, data);
  }
  archive.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of archive) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function unpackRefusal(bytes: Buffer, limits = LIMITS): Promise<unknown> {
  const target = join(base, 'out');
  const error = await unpackTree(Readable.from([bytes]), target, limits).catch(
    (caught: unknown) => caught,
  );
  // Nothing written survives a refusal.
  expect(existsSync(target)).toBe(false);
  return error;
}

/** This process's open file descriptors. */
function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

describe('packTree and unpackTree', () => {
  it('carry a tree whole: same digest, same bytes, only the executable bit of modes', async () => {
    const out = join(base, 'out');
    const unpacked = await unpackTree(packTree(tree), out, LIMITS);
    expect(unpacked).toEqual({ entries: 9, bytes: 5 + 15 + 300_000 + 10 + 5 });
    expect(await digestTree(out, LIMITS)).toBe(await digestTree(tree, LIMITS));
    expect(await readFile(join(out, 'src', 'deep', 'data.bin'))).toEqual(Buffer.alloc(300_000, 7));
    expect(await readFile(join(out, 'ñ'.repeat(60), `${'x'.repeat(120)}.txt`), 'utf8')).toBe(
      'long\n',
    );
    expect((await stat(out)).mode & 0o7777).toBe(0o700);
    expect((await stat(join(out, 'src'))).mode & 0o7777).toBe(0o755);
    expect((await stat(join(out, 'run.sh'))).mode & 0o7777).toBe(0o755);
    expect((await stat(join(out, 'README.md'))).mode & 0o7777).toBe(0o644);
    expect(await readdir(join(out, 'empty'))).toEqual([]);
  });

  it('writes the same bytes for the same tree, whatever its times and owners', async () => {
    const copy = join(base, 'copy');
    await cp(tree, copy, { recursive: true });
    await utimes(join(copy, 'README.md'), 1, 1);
    const [one, two] = await Promise.all([buffer(packTree(tree)), buffer(packTree(copy))]);
    expect(one.equals(two)).toBe(true);
  });

  it('fails the stream on a link that leaves the tree, without following it', async () => {
    await symlink('/etc/passwd', join(tree, 'src', 'passwd'));
    await expect(buffer(packTree(tree))).rejects.toBeInstanceOf(UnsupportedEntryError);
  });

  it('carries a link that stays inside as a link, when the unpack takes links', async () => {
    await symlink('../README.md', join(tree, 'src', 'readme'));
    await symlink('src', join(tree, 'code'));
    const out = join(base, 'out');
    const unpacked = await unpackTree(packTree(tree), out, LIMITS, { links: true });
    expect(unpacked.entries).toBe(11);
    expect(await readlink(join(out, 'src', 'readme'))).toBe('../README.md');
    expect(await readlink(join(out, 'code'))).toBe('src');
    expect(await digestTree(out, LIMITS)).toBe(await digestTree(tree, LIMITS));
    // Without `links` (a run's kept files), a link is refused as before.
    const refused = await unpackTree(packTree(tree), join(base, 'out2'), LIMITS).catch(
      (caught: unknown) => caught,
    );
    expect(refused).toMatchObject({ rule: 'symlink' });
    expect(existsSync(join(base, 'out2'))).toBe(false);
  });

  it.runIf(process.getuid?.() === 0)('gives the owner named every entry it writes', async () => {
    await symlink('README.md', join(tree, 'readme'));
    const out = join(base, 'out');
    const owner = { uid: 64_555, gid: 64_556 };
    await unpackTree(packTree(tree), out, LIMITS, { links: true, owner });
    for (const path of ['', 'src', 'src/deep/data.bin', 'run.sh', 'readme']) {
      const stats = await lstat(join(out, path));
      expect([stats.uid, stats.gid], path).toEqual([owner.uid, owner.gid]);
    }
  });

  it.each([
    ['an absolute target', [{ name: 'l', type: 'symlink', linkname: '/etc/passwd' }]],
    ['a target above the tree', [{ name: 'l', type: 'symlink', linkname: '../x' }]],
    [
      'an entry below a link',
      [
        { name: 'real', type: 'directory' },
        { name: 'l', type: 'symlink', linkname: 'real' },
        { name: 'l/x', data: 'x' },
      ],
    ],
  ] as const)('refuses, even taking links, %s', async (_what, entries) => {
    const bytes = await tarOf([{ name: 'first.txt', data: 'ok' }, ...entries]);
    const target = join(base, 'out');
    const error = await unpackTree(Readable.from([bytes]), target, LIMITS, { links: true }).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(BundleRejectedError);
    expect(existsSync(target)).toBe(false);
    expect(existsSync(join(base, 'x'))).toBe(false);
  });

  it('fails the stream past a limit', async () => {
    await expect(buffer(packTree(tree, { maxFiles: 100, maxBytes: 1000 }))).rejects.toMatchObject({
      name: 'TreeLimitError',
      limit: 'maxBytes',
    });
  });

  it('closes what it opened when the reader stops early', async () => {
    const before = openFds();
    const stream = packTree(tree);
    for await (const _chunk of stream) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(openFds()).toBeLessThanOrEqual(before);
  });

  it('unpacks only into a new directory', async () => {
    const out = join(base, 'out');
    await mkdir(out);
    await writeFile(join(out, 'keep'), 'mine');
    const error = await unpackTree(packTree(tree), out, LIMITS).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BundleTargetExistsError);
    expect(await readdir(out)).toEqual(['keep']);
  });
});

describe('unpackTree refuses', () => {
  it.each<[string, (Partial<Header> & { name: string; data?: string })[], BundleRule]>([
    ['an absolute path', [{ name: '/etc/x', data: 'x' }], 'absolute-path'],
    [
      'a climb out',
      [
        { name: 'a', type: 'directory' },
        { name: 'a/../../x', data: 'x' },
      ],
      'parent-reference',
    ],
    ['a "." component', [{ name: './x', data: 'x' }], 'invalid-path'],
    [
      'an empty component',
      [
        { name: 'a', type: 'directory' },
        { name: 'a//x', data: 'x' },
      ],
      'invalid-path',
    ],
    ['a symbolic link', [{ name: 'l', type: 'symlink', linkname: '/etc/passwd' }], 'symlink'],
    [
      'a hard link',
      [
        { name: 'x', data: 'x' },
        { name: 'l', type: 'link', linkname: 'x' },
      ],
      'hardlink',
    ],
    ['a device', [{ name: 'd', type: 'character-device', devmajor: 1, devminor: 3 }], 'device'],
    ['a FIFO', [{ name: 'p', type: 'fifo' }], 'fifo'],
    [
      'a duplicate',
      [
        { name: 'x', data: 'one' },
        { name: 'x', data: 'two' },
      ],
      'duplicate-entry',
    ],
    [
      'a file and a directory of one name',
      [
        { name: 'x', data: '' },
        { name: 'x', type: 'directory' },
      ],
      'duplicate-entry',
    ],
    ['a file before its directory', [{ name: 'a/x', data: 'x' }], 'missing-parent'],
    [
      'a file below a file',
      [
        { name: 'a', data: '' },
        { name: 'a/x', data: 'x' },
      ],
      'missing-parent',
    ],
  ])('%s, and removes what it wrote', async (_what, entries, rule) => {
    // A good entry first, so there is something to remove.
    const bytes = await tarOf([{ name: 'first.txt', data: 'ok' }, ...entries]);
    const error = await unpackRefusal(bytes);
    expect(error).toBeInstanceOf(BundleRejectedError);
    expect(error).toMatchObject({ rule });
  });

  it('a stream that is not a tar, or one cut short', async () => {
    expect(await unpackRefusal(Buffer.alloc(2048, 'x'))).toMatchObject({ rule: 'corrupt' });
    const whole = await tarOf([{ name: 'a.txt', data: 'y'.repeat(5000) }]);
    expect(await unpackRefusal(whole.subarray(0, 1500))).toMatchObject({
      name: 'BundleRejectedError',
      rule: 'corrupt',
    });
  });

  it.each([
    ['maxFiles', { maxFiles: 2, maxBytes: 100 }],
    ['maxBytes', { maxFiles: 10, maxBytes: 5 }],
    ['maxDepth', { maxFiles: 10, maxBytes: 100, maxDepth: 1 }],
  ] as const)('past %s, naming the limit', async (limit, limits) => {
    const bytes = await tarOf([
      { name: 'a', type: 'directory' },
      { name: 'a/b.txt', data: 'abc' },
      { name: 'c.txt', data: 'def' },
    ]);
    const error = await unpackRefusal(bytes, limits);
    expect(error).toBeInstanceOf(TreeLimitError);
    expect(error).toMatchObject({ limit });
    expect((error as Error).message).toContain(`${limit}=`);
  });

  it('a tar stream far longer than its entries can explain (a huge pax header)', async () => {
    const bytes = await tarOf([
      { name: 'a.txt', data: 'x', pax: { comment: 'y'.repeat(200_000) } } as Partial<Header> & {
        name: string;
        data: string;
      },
    ]);
    const error = await unpackRefusal(bytes, { maxFiles: 2, maxBytes: 1000 });
    expect(error).toMatchObject({ name: 'TreeLimitError', limit: 'maxBytes' });
  });

  it('at once, without waiting for a source that stalls after a bad entry', async () => {
    const bad = await tarOf([{ name: 'l', type: 'symlink', linkname: '/etc' }]);
    async function* stalling(): AsyncGenerator<Buffer> {
      yield bad.subarray(0, 512);
      await new Promise(() => {});
    }
    const target = join(base, 'out');
    await expect(unpackTree(stalling(), target, LIMITS)).rejects.toMatchObject({
      rule: 'symlink',
    });
    expect(existsSync(target)).toBe(false);
  });

  it('a source that fails, with its own error', async () => {
    const good = await tarOf([{ name: 'a.txt', data: 'x'.repeat(4000) }]);
    async function* broken(): AsyncGenerator<Buffer> {
      yield good.subarray(0, 1024);
      throw new Error('connection reset');
    }
    const target = join(base, 'out');
    await expect(unpackTree(broken(), target, LIMITS)).rejects.toThrow('connection reset');
    expect(existsSync(target)).toBe(false);
  });
});
