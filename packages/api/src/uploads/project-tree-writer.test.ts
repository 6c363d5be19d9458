import {
  lstat,
  mkdir,
  readdir,
  readFile,
  readlink,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ProjectTreeWriter } from './project-tree-writer.ts';
import { makeProjectsRoot, removeProjectsRoot } from './test-support/expect-rejected.ts';
import { UploadRejectedError } from './upload-errors.ts';

let root: string;
let outside: string;

beforeEach(async () => {
  root = await makeProjectsRoot();
  outside = await makeProjectsRoot();
});
afterEach(async () => {
  await removeProjectsRoot(root);
  await removeProjectsRoot(outside);
});

async function* chunks(...parts: string[]): AsyncGenerator<Uint8Array> {
  for (const part of parts) yield Buffer.from(part);
}

describe('ProjectTreeWriter', () => {
  it('creates parents and writes files with fixed modes', async () => {
    const writer = new ProjectTreeWriter(root);
    expect(await writer.file('a/b/c.txt', Buffer.from('hello'))).toBe(5);
    expect(await writer.file('a/d.txt', chunks('wor', 'ld'))).toBe(5);
    await writer.directory('a/empty');
    expect(await readFile(join(root, 'a/b/c.txt'), 'utf8')).toBe('hello');
    expect(await readFile(join(root, 'a/d.txt'), 'utf8')).toBe('world');
    expect((await stat(join(root, 'a/b/c.txt'))).mode & 0o7777).toBe(0o644);
    expect((await stat(join(root, 'a/b'))).mode & 0o7777).toBe(0o755);
    expect((await stat(join(root, 'a/empty'))).isDirectory()).toBe(true);
  });

  it('never writes through a link planted at the file path', async () => {
    await symlink(join(outside, 'target'), join(root, 'link'));
    const writer = new ProjectTreeWriter(root);
    await expect(writer.file('link', Buffer.from('x'))).rejects.toBeInstanceOf(UploadRejectedError);
    await expect(stat(join(outside, 'target'))).rejects.toThrow();
  });

  it('never creates files inside a directory it did not create', async () => {
    await symlink(outside, join(root, 'dir'));
    const writer = new ProjectTreeWriter(root);
    await expect(writer.file('dir/x.txt', Buffer.from('x'))).rejects.toBeInstanceOf(
      UploadRejectedError,
    );
    await mkdir(join(root, 'real'));
    await expect(writer.file('real/x.txt', Buffer.from('x'))).rejects.toBeInstanceOf(
      UploadRejectedError,
    );
    expect(await readdir(outside)).toEqual([]);
    expect(await readdir(join(root, 'real'))).toEqual([]);
  });

  it('never overwrites an existing file', async () => {
    await writeFile(join(root, 'x.txt'), 'old');
    const writer = new ProjectTreeWriter(root);
    await expect(writer.file('x.txt', Buffer.from('new'))).rejects.toMatchObject({
      rule: 'name-collision',
    });
    expect(await readFile(join(root, 'x.txt'), 'utf8')).toBe('old');
  });

  it('makes a link without following anything, never over something already there', async () => {
    const writer = new ProjectTreeWriter(root);
    await writer.symlink('docs/readme', '../README.md');
    expect(await readlink(join(root, 'docs/readme'))).toBe('../README.md');
    await symlink(outside, join(root, 'planted'));
    await expect(writer.symlink('planted', 'x')).rejects.toMatchObject({
      rule: 'name-collision',
    });
    expect(await readlink(join(root, 'planted'))).toBe(outside);
  });

  it('copies a file it wrote into a new one (a hard link of the upload), not through a link', async () => {
    const writer = new ProjectTreeWriter(root);
    await writer.file('a.txt', Buffer.from('bytes'));
    expect(await writer.copy('b/c.txt', 'a.txt')).toBe(5);
    expect(await readFile(join(root, 'b/c.txt'), 'utf8')).toBe('bytes');
    expect((await lstat(join(root, 'b/c.txt'))).nlink).toBe(1);
    await writeFile(join(outside, 'secret'), 'SECRET');
    await symlink(join(outside, 'secret'), join(root, 'link'));
    await expect(writer.copy('d.txt', 'link')).rejects.toMatchObject({ code: 'ELOOP' });
  });

  it('passes an error from the content stream through and closes the file', async () => {
    const writer = new ProjectTreeWriter(root);
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield Buffer.from('part');
      throw new Error('limit broken');
    }
    await expect(writer.file('f.txt', failing())).rejects.toThrow('limit broken');
  });
});
