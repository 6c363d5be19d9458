import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UnsafeWorkspacePathError } from './safe-fs.ts';
import { openWorkspaceReadStream, readWorkspaceLink } from './safe-read-stream.ts';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'runbox-safe-read-'));
  await mkdir(join(root, 'a', 'b'), { recursive: true });
  await writeFile(join(root, 'a', 'b', 'file.txt'), 'inside');
  await writeFile(join(root, 'empty'), '');
  await symlink('/etc/passwd', join(root, 'leak'));
  await symlink('/etc', join(root, 'a', 'etc'));
  await symlink('b', join(root, 'a', 'alias'));
  execFileSync('mkfifo', [join(root, 'pipe')]);
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('openWorkspaceReadStream', () => {
  it('streams a regular file at any depth, with its size', async () => {
    const opened = await openWorkspaceReadStream(root, 'a/b/file.txt');
    expect(opened.size).toBe(6);
    expect(await text(opened.stream)).toBe('inside');
    const empty = await openWorkspaceReadStream(root, 'empty');
    expect(empty.size).toBe(0);
    expect(await text(empty.stream)).toBe('');
  });

  it('refuses a link as the file or anywhere on the path', async () => {
    await expect(openWorkspaceReadStream(root, 'leak')).rejects.toBeInstanceOf(
      UnsafeWorkspacePathError,
    );
    await expect(openWorkspaceReadStream(root, 'a/etc/passwd')).rejects.toBeInstanceOf(
      UnsafeWorkspacePathError,
    );
    await expect(openWorkspaceReadStream(root, 'a/alias/file.txt')).rejects.toBeInstanceOf(
      UnsafeWorkspacePathError,
    );
  });

  it('refuses a FIFO without blocking, a directory, and paths that climb', async () => {
    await expect(openWorkspaceReadStream(root, 'pipe')).rejects.toBeInstanceOf(
      UnsafeWorkspacePathError,
    );
    await expect(openWorkspaceReadStream(root, 'a')).rejects.toBeInstanceOf(
      UnsafeWorkspacePathError,
    );
    for (const path of ['../etc/passwd', '/etc/passwd', 'a//b', './a', 'a/b/', ''])
      await expect(openWorkspaceReadStream(root, path)).rejects.toBeInstanceOf(
        UnsafeWorkspacePathError,
      );
  });

  it('fails with ENOENT when nothing is there', async () => {
    await expect(openWorkspaceReadStream(root, 'a/missing')).rejects.toMatchObject({
      code: 'ENOENT',
    });
  });
});

describe('readWorkspaceLink', () => {
  it('reads the target text of a link without following it', async () => {
    expect(await readWorkspaceLink(root, 'leak')).toBe('/etc/passwd');
    expect(await readWorkspaceLink(root, 'a/alias')).toBe('b');
  });

  it('refuses a path through a link and a name that is not a link', async () => {
    await expect(readWorkspaceLink(root, 'a/etc/passwd')).rejects.toBeInstanceOf(
      UnsafeWorkspacePathError,
    );
    await expect(readWorkspaceLink(root, 'empty')).rejects.toBeInstanceOf(UnsafeWorkspacePathError);
  });
});
