import { cp, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { digestTree, UnsupportedEntryError } from '@runbox/cluster';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createProjectDigests } from './project-digests.ts';

let base: string;
let one: string;

beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), 'runbox-project-digests-'));
  one = join(base, 'one');
  await mkdir(join(one, 'src'), { recursive: true });
  await writeFile(join(one, 'src', 'main.js'), 'console.log(1)\n');
});
afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

describe('project digests', () => {
  it('gives the tree digest of a directory, and the directory of a digest', async () => {
    const digests = createProjectDigests();
    const digest = await digests.digestOf(one);
    expect(digest).toBe(await digestTree(one, { maxFiles: 10, maxBytes: 1000 }));
    expect(digests.dirOf(digest)).toBe(one);
    expect(digests.dirOf(`sha256-${'0'.repeat(64)}`)).toBeUndefined();
  });

  it('computes a directory once: a stored project never changes', async () => {
    const digests = createProjectDigests();
    const [first, second] = await Promise.all([digests.digestOf(one), digests.digestOf(`${one}/`)]);
    expect(second).toBe(first);
    // Changed behind its back (never done to a stored project): the digest kept is the first.
    await writeFile(join(one, 'src', 'main.js'), 'console.log(2)\n');
    expect(await digests.digestOf(one)).toBe(first);
  });

  it('serves a digest from any directory with that content until it is forgotten', async () => {
    const two = join(base, 'two');
    await cp(one, two, { recursive: true });
    const digests = createProjectDigests();
    const digest = await digests.digestOf(one);
    expect(await digests.digestOf(two)).toBe(digest);
    digests.forget(one);
    expect(digests.dirOf(digest)).toBe(two);
    digests.forget(two);
    expect(digests.dirOf(digest)).toBeUndefined();
  });

  it('fails for a tree with a link, and tries again next time', async () => {
    await symlink('/etc/passwd', join(one, 'leak'));
    const digests = createProjectDigests();
    await expect(digests.digestOf(one)).rejects.toBeInstanceOf(UnsupportedEntryError);
    await rm(join(one, 'leak'));
    await expect(digests.digestOf(one)).resolves.toMatch(/^sha256-[0-9a-f]{64}$/);
  });

  it('keeps to its limits', async () => {
    const digests = createProjectDigests({ limits: { maxFiles: 1, maxBytes: 1000 } });
    await expect(digests.digestOf(one)).rejects.toMatchObject({
      name: 'TreeLimitError',
      limit: 'maxFiles',
    });
  });
});
