import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, cp, mkdir, mkdtemp, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  assertTreeDigest,
  digestTree,
  InvalidDigestError,
  isTreeDigest,
  listTree,
  openTreeFile,
  readTreeFile,
  summarizeTree,
  TreeChangedError,
  TreeLimitError,
  UnsupportedEntryError,
} from './tree-digest.ts';

const LIMITS = { maxFiles: 100, maxBytes: 1_000_000 };
let base: string;
let tree: string;

beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), 'runbox-digest-'));
  tree = join(base, 'tree');
  await mkdir(join(tree, 'src', 'lib'), { recursive: true });
  await mkdir(join(tree, 'empty'));
  await writeFile(join(tree, 'README.md'), '# hi\n');
  await writeFile(join(tree, 'src', 'main.js'), 'console.log(1)\n');
  await writeFile(join(tree, 'src', 'lib', 'util.js'), 'export const x = 1;\n');
  await writeFile(join(tree, 'run.sh'), '#!/bin/sh\necho hi\n', { mode: 0o755 });
  await chmod(join(tree, 'run.sh'), 0o755);
});
afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

const sha = (text: string): string => createHash('sha256').update(text).digest('hex');

describe('the tree digest', () => {
  it('follows the documented format (kind, bit, content hash, path, NUL; paths in byte order)', async () => {
    const expected = createHash('sha256')
      .update('runbox-tree-v1\n')
      .update(`f - ${sha('# hi\n')} README.md\0`)
      .update('d empty\0')
      .update(`f x ${sha('#!/bin/sh\necho hi\n')} run.sh\0`)
      .update('d src\0')
      .update('d src/lib\0')
      .update(`f - ${sha('export const x = 1;\n')} src/lib/util.js\0`)
      .update(`f - ${sha('console.log(1)\n')} src/main.js\0`)
      .digest('hex');
    expect(await digestTree(tree, LIMITS)).toBe(`sha256-${expected}`);
    expect(await summarizeTree(tree, LIMITS)).toEqual({
      digest: `sha256-${expected}`,
      entries: 7,
      bytes: 5 + 18 + 20 + 15,
    });
  });

  it('sorts whole paths by their bytes, not per directory', async () => {
    await mkdir(join(base, 'order', 'a'), { recursive: true });
    await writeFile(join(base, 'order', 'a', 'b'), '');
    await writeFile(join(base, 'order', 'a-c'), '');
    await writeFile(join(base, 'order', 'Z'), '');
    await writeFile(join(base, 'order', 'é'), '');
    const paths = (await listTree(join(base, 'order'), LIMITS)).map((entry) => entry.path);
    expect(paths).toEqual(['Z', 'a', 'a-c', 'a/b', 'é']);
  });

  it('is the same for a copy with other times and other non-execute mode bits', async () => {
    const copy = join(base, 'copy');
    await cp(tree, copy, { recursive: true });
    await utimes(join(copy, 'README.md'), 1, 1);
    await chmod(join(copy, 'README.md'), 0o600);
    await chmod(join(copy, 'src'), 0o700);
    expect(await digestTree(copy, LIMITS)).toBe(await digestTree(tree, LIMITS));
  });

  it.each([
    ['a byte of a file', () => writeFile(join(tree, 'src', 'main.js'), 'console.log(2)\n')],
    ['the executable bit', () => chmod(join(tree, 'README.md'), 0o744)],
    ['an empty directory more', () => mkdir(join(tree, 'empty', 'more'))],
    ['an empty file more', () => writeFile(join(tree, 'empty', 'more'), '')],
  ])('changes with %s', async (_what, change) => {
    const before = await digestTree(tree, LIMITS);
    await change();
    expect(await digestTree(tree, LIMITS)).not.toBe(before);
  });

  it('tells a file from an empty directory of the same name', async () => {
    const one = join(base, 'one');
    const two = join(base, 'two');
    await mkdir(join(one, 'x'), { recursive: true });
    await mkdir(two);
    await writeFile(join(two, 'x'), '');
    expect(await digestTree(one, LIMITS)).not.toBe(await digestTree(two, LIMITS));
  });

  it('refuses a symbolic link that leaves the tree, naming its path, and never follows it', async () => {
    await symlink('/etc', join(tree, 'src', 'lib', 'etc'));
    const error = await digestTree(tree, LIMITS).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UnsupportedEntryError);
    expect(error).toMatchObject({ path: 'src/lib/etc' });
    expect((error as Error).message).toContain('a symbolic link that leaves the tree');
    await rm(join(tree, 'src', 'lib', 'etc'));
    await symlink('../../../outside', join(tree, 'src', 'lib', 'up'));
    await expect(digestTree(tree, LIMITS)).rejects.toMatchObject({ path: 'src/lib/up' });
  });

  it('covers a link that stays inside by its target, never by what it leads to', async () => {
    await symlink('../README.md', join(tree, 'src', 'readme'));
    const entries = await listTree(tree, LIMITS);
    expect(entries.find((entry) => entry.path === 'src/readme')).toEqual({
      path: 'src/readme',
      kind: 'symlink',
      executable: false,
      size: 0,
      target: '../README.md',
    });
    const expected = createHash('sha256')
      .update('runbox-tree-v1\n')
      .update(`f - ${sha('# hi\n')} README.md\0`)
      .update('d empty\0')
      .update(`f x ${sha('#!/bin/sh\necho hi\n')} run.sh\0`)
      .update('d src\0')
      .update('d src/lib\0')
      .update(`f - ${sha('export const x = 1;\n')} src/lib/util.js\0`)
      .update(`f - ${sha('console.log(1)\n')} src/main.js\0`)
      .update(`l ${sha('../README.md')} src/readme\0`)
      .digest('hex');
    const withLink = await digestTree(tree, LIMITS);
    expect(withLink).toBe(`sha256-${expected}`);
    // Another target is another tree; what the link leads to is not part of it.
    await rm(join(tree, 'src', 'readme'));
    await symlink('main.js', join(tree, 'src', 'readme'));
    expect(await digestTree(tree, LIMITS)).not.toBe(withLink);
    await rm(join(tree, 'src', 'readme'));
    await symlink('../README.md', join(tree, 'src', 'readme'));
    await writeFile(join(tree, 'README.md'), '# changed\n');
    const changedFile = await digestTree(tree, LIMITS);
    await rm(join(tree, 'src', 'readme'));
    await writeFile(join(tree, 'README.md'), '# hi\n');
    await symlink('../README.md', join(tree, 'src', 'readme'));
    expect(await digestTree(tree, LIMITS)).toBe(withLink);
    expect(changedFile).not.toBe(withLink);
  });

  it('refuses a FIFO and a root that is a link', async () => {
    execFileSync('mkfifo', [join(tree, 'pipe')]);
    await expect(listTree(tree, LIMITS)).rejects.toMatchObject({
      name: 'UnsupportedEntryError',
      path: 'pipe',
      kind: 'a FIFO',
    });
    await rm(join(tree, 'pipe'));
    await symlink(tree, join(base, 'link'));
    await expect(listTree(join(base, 'link'), LIMITS)).rejects.toBeInstanceOf(
      UnsupportedEntryError,
    );
  });

  it('refuses a name that is not UTF-8', async () => {
    const name = Buffer.concat([Buffer.from(`${tree}/bad-`), Buffer.from([0xff, 0xfe])]);
    await writeFile(name, 'x');
    await expect(listTree(tree, LIMITS)).rejects.toMatchObject({
      name: 'UnsupportedEntryError',
      kind: 'a name that is not valid UTF-8',
    });
  });

  it.each([
    ['maxFiles', { maxFiles: 6, maxBytes: 1_000 }, 'more than 6 files and directories'],
    ['maxBytes', { maxFiles: 100, maxBytes: 50 }, 'more than 50 bytes'],
    ['maxDepth', { maxFiles: 100, maxBytes: 1_000, maxDepth: 2 }, 'more than 2 levels deep'],
  ] as const)('stops past %s, naming the limit', async (limit, limits, words) => {
    const error = await digestTree(tree, limits).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TreeLimitError);
    expect(error).toMatchObject({ limit });
    expect((error as Error).message).toContain(words);
    expect((error as Error).message).toContain(`${limit}=`);
  });

  it('takes a tree exactly at its limits', async () => {
    await expect(digestTree(tree, { maxFiles: 7, maxBytes: 58, maxDepth: 3 })).resolves.toMatch(
      /^sha256-/,
    );
  });
});

describe('readTreeFile', () => {
  it('fails when a file is not the size the walk saw', async () => {
    for (const expected of [4, 6]) {
      const file = await openTreeFile(tree, 'README.md');
      const read = async (): Promise<void> => {
        for await (const _chunk of readTreeFile(file, 'README.md', expected)) {
          // read it all
        }
      };
      await expect(read()).rejects.toBeInstanceOf(TreeChangedError);
      await file.handle.close();
    }
  });

  it('opens nothing through a link on the way', async () => {
    await symlink(join(tree, 'src'), join(tree, 'alias'));
    await expect(openTreeFile(tree, 'alias/main.js')).rejects.toMatchObject({
      name: 'UnsupportedEntryError',
      path: 'alias',
      kind: 'a symbolic link',
    });
    await symlink('/etc/passwd', join(tree, 'src', 'passwd'));
    await expect(openTreeFile(tree, 'src/passwd')).rejects.toMatchObject({
      name: 'UnsupportedEntryError',
      path: 'src/passwd',
      kind: 'a symbolic link',
    });
    await expect(openTreeFile(tree, '../tree/README.md')).rejects.toBeInstanceOf(
      UnsupportedEntryError,
    );
  });
});

describe('digest strings', () => {
  it('are sha256- and 64 lowercase hex digits', () => {
    const good = `sha256-${'a'.repeat(64)}`;
    expect(isTreeDigest(good)).toBe(true);
    for (const bad of [
      `sha256-${'A'.repeat(64)}`,
      `sha256-${'a'.repeat(63)}`,
      `sha512-${'a'.repeat(64)}`,
      `sha256-${'a'.repeat(62)}/..`,
      `../${'a'.repeat(64)}`,
      '',
    ]) {
      expect(isTreeDigest(bad)).toBe(false);
      expect(() => assertTreeDigest(bad)).toThrow(InvalidDigestError);
    }
  });
});
