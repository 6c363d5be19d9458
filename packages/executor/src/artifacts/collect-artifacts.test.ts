import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ArtifactOptionsError } from './artifact-errors.ts';
import { collectArtifacts } from './collect-artifacts.ts';
import { EMPTY_SNAPSHOT, snapshotWorkspace } from './workspace-snapshot.ts';

const sha256 = (content: string | Buffer): string =>
  createHash('sha256').update(content).digest('hex');

let base: string;
let workspace: string;
let destination: string;

beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), 'runbox-artifacts-'));
  workspace = join(base, 'workspace');
  destination = join(base, 'kept');
  await mkdir(workspace);
});
afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

describe('collectArtifacts', () => {
  it('lists and copies created and changed files, not unchanged ones', async () => {
    await writeFile(join(workspace, 'unchanged.txt'), 'same');
    await writeFile(join(workspace, 'changed.json'), '{"v":1}');
    await mkdir(join(workspace, 'src'));
    await writeFile(join(workspace, 'src', 'lib.py'), 'x = 1\n');
    const past = new Date(Date.now() - 60_000);
    for (const name of ['unchanged.txt', 'changed.json', 'src/lib.py'])
      await utimes(join(workspace, name), past, past);
    const before = await snapshotWorkspace(workspace);

    await writeFile(join(workspace, 'changed.json'), '{"v":2}'); // same size, new mtime
    await mkdir(join(workspace, 'out', 'deep'), { recursive: true });
    await writeFile(join(workspace, 'out', 'deep', 'plot.png'), Buffer.from([0x89, 0x50]));
    await writeFile(join(workspace, 'notes.txt'), 'hello');

    const result = await collectArtifacts({
      workspaceDir: workspace,
      before,
      destinationDir: destination,
    });
    expect(result).toEqual({
      artifacts: [
        {
          path: 'changed.json',
          kind: 'file',
          size: 7,
          sha256: sha256('{"v":2}'),
          mediaType: 'application/json',
        },
        {
          path: 'notes.txt',
          kind: 'file',
          size: 5,
          sha256: sha256('hello'),
          mediaType: 'text/plain',
        },
        {
          path: 'out/deep/plot.png',
          kind: 'file',
          size: 2,
          sha256: sha256(Buffer.from([0x89, 0x50])),
          mediaType: 'image/png',
        },
      ],
      skipped: [],
      truncated: false,
    });
    expect(await readFile(join(destination, 'out', 'deep', 'plot.png'))).toEqual(
      Buffer.from([0x89, 0x50]),
    );
    expect(await readFile(join(destination, 'changed.json'), 'utf8')).toBe('{"v":2}');
    expect(existsSync(join(destination, 'unchanged.txt'))).toBe(false);
    expect(existsSync(join(destination, 'src'))).toBe(false);
  });

  it('lists a link as a link with its target, and never copies or follows it', async () => {
    await symlink('/etc/passwd', join(workspace, 'leak'));
    await mkdir(join(workspace, 'dir'));
    await symlink('/etc', join(workspace, 'etc-link'));
    await symlink('../../..', join(workspace, 'dir', 'up'));

    const result = await collectArtifacts({
      workspaceDir: workspace,
      before: EMPTY_SNAPSHOT,
      destinationDir: destination,
    });
    expect(result.artifacts).toEqual([
      {
        path: 'dir/up',
        kind: 'symlink',
        size: 0,
        sha256: null,
        mediaType: 'inode/symlink',
        linkTarget: '../../..',
      },
      {
        path: 'etc-link',
        kind: 'symlink',
        size: 0,
        sha256: null,
        mediaType: 'inode/symlink',
        linkTarget: '/etc',
      },
      {
        path: 'leak',
        kind: 'symlink',
        size: 0,
        sha256: null,
        mediaType: 'inode/symlink',
        linkTarget: '/etc/passwd',
      },
    ]);
    expect(existsSync(join(destination, 'leak'))).toBe(false);
    expect(existsSync(join(destination, 'etc-link'))).toBe(false);
    expect(existsSync(join(destination, 'dir', 'up'))).toBe(false);
  });

  it('skips a FIFO without opening it', async () => {
    execFileSync('mkfifo', [join(workspace, 'pipe')]);
    const result = await collectArtifacts({
      workspaceDir: workspace,
      before: EMPTY_SNAPSHOT,
      destinationDir: destination,
    });
    expect(result).toEqual({
      artifacts: [],
      skipped: [{ path: 'pipe', reason: 'not_a_regular_file', size: null }],
      truncated: false,
    });
  });

  it('skips a file over the per-file cap with its size, and stops at the total cap', async () => {
    await writeFile(join(workspace, 'a.bin'), Buffer.alloc(400));
    await writeFile(join(workspace, 'b.bin'), Buffer.alloc(2000));
    await writeFile(join(workspace, 'c.bin'), Buffer.alloc(400));
    await writeFile(join(workspace, 'd.bin'), Buffer.alloc(100));
    const result = await collectArtifacts({
      workspaceDir: workspace,
      before: EMPTY_SNAPSHOT,
      destinationDir: destination,
      maxFileBytes: 1000,
      maxTotalBytes: 900,
    });
    expect(result.artifacts.map((a) => [a.path, a.size])).toEqual([
      ['a.bin', 400],
      ['c.bin', 400],
      ['d.bin', 100],
    ]);
    expect(result.skipped).toEqual([{ path: 'b.bin', reason: 'file_too_large', size: 2000 }]);
    expect(existsSync(join(destination, 'b.bin'))).toBe(false);

    await rm(destination, { recursive: true });
    const tight = await collectArtifacts({
      workspaceDir: workspace,
      before: EMPTY_SNAPSHOT,
      destinationDir: destination,
      maxFileBytes: 1000,
      maxTotalBytes: 500,
    });
    expect(tight.artifacts.map((a) => a.path)).toEqual(['a.bin', 'd.bin']);
    expect(tight.skipped).toEqual([
      { path: 'b.bin', reason: 'file_too_large', size: 2000 },
      { path: 'c.bin', reason: 'total_too_large', size: 400 },
    ]);
  });

  it('lists at most maxFiles and says the list was cut', async () => {
    for (let i = 0; i < 5; i++) await writeFile(join(workspace, `f${i}.txt`), String(i));
    const result = await collectArtifacts({
      workspaceDir: workspace,
      before: EMPTY_SNAPSHOT,
      destinationDir: destination,
      maxFiles: 3,
    });
    expect(result.artifacts.map((a) => a.path)).toEqual(['f0.txt', 'f1.txt', 'f2.txt']);
    expect(result.truncated).toBe(true);
  });

  it('leaves out the excluded paths and runbox’s own directory', async () => {
    await writeFile(join(workspace, 'main.py'), 'print(1)');
    await mkdir(join(workspace, '.runbox'));
    await writeFile(join(workspace, '.runbox', 'result.json'), '42');
    await mkdir(join(workspace, 'cache'));
    await writeFile(join(workspace, 'cache', 'x'), 'x');
    await writeFile(join(workspace, 'cachet'), 'kept');
    const result = await collectArtifacts({
      workspaceDir: workspace,
      before: EMPTY_SNAPSHOT,
      destinationDir: destination,
      exclude: ['main.py', 'cache'],
    });
    expect(result.artifacts.map((a) => a.path)).toEqual(['cachet']);
  });

  it('reports a name that is not UTF-8 instead of failing the listing', async () => {
    execFileSync('python3', [
      '-c',
      `open(b${JSON.stringify(workspace)} + b"/bad\\xff.txt", "w").write("x")`,
    ]);
    await writeFile(join(workspace, 'good.txt'), 'ok');
    const result = await collectArtifacts({
      workspaceDir: workspace,
      before: EMPTY_SNAPSHOT,
      destinationDir: destination,
    });
    expect(result.artifacts.map((a) => a.path)).toEqual(['good.txt']);
    expect(result.skipped).toEqual([
      { path: 'bad\uFFFD.txt', reason: 'unreadable_name', size: null },
    ]);
  });

  it('notices a file replaced by a link of the same name', async () => {
    await writeFile(join(workspace, 'data'), 'original');
    const before = await snapshotWorkspace(workspace);
    await rm(join(workspace, 'data'));
    await symlink('/etc/shadow', join(workspace, 'data'));
    const result = await collectArtifacts({
      workspaceDir: workspace,
      before,
      destinationDir: destination,
    });
    expect(result.artifacts).toMatchObject([
      { path: 'data', kind: 'symlink', linkTarget: '/etc/shadow' },
    ]);
    expect(lstatSync(destination).isDirectory()).toBe(true);
    expect(existsSync(join(destination, 'data'))).toBe(false);
  });

  it('refuses caps that are not whole numbers', async () => {
    await expect(
      collectArtifacts({
        workspaceDir: workspace,
        before: EMPTY_SNAPSHOT,
        destinationDir: destination,
        maxFiles: -1,
      }),
    ).rejects.toBeInstanceOf(ArtifactOptionsError);
  });
});
