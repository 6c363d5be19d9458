import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  copyProject,
  ProjectCopyError,
  ProjectTooLargeError,
  scanProject,
} from './copy-project.ts';

const MiB = 1024 * 1024;
let base: string;
let project: string;
let dest: string;

beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), 'runbox-copy-'));
  project = join(base, 'project');
  dest = join(base, 'workspace');
  await mkdir(join(project, 'src', 'deep'), { recursive: true });
  await mkdir(dest);
  await writeFile(join(project, 'main.py'), 'print("hi")\n');
  await writeFile(join(project, 'src', 'util.py'), 'X = 1\n');
  await writeFile(join(project, 'src', 'deep', 'data.bin'), Buffer.alloc(300_000, 7));
  await writeFile(join(project, 'run.sh'), 'echo hi\n');
  await chmod(join(project, 'run.sh'), 0o755);
});
afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

describe('scanProject', () => {
  it('lists files and directories, sorted, with sizes', async () => {
    const scan = await scanProject(project, { maxBytes: 64 * MiB });
    expect(scan.files.map((file) => file.path)).toEqual([
      'main.py',
      'run.sh',
      'src/deep/data.bin',
      'src/util.py',
    ]);
    expect(scan.directories).toEqual(['src', 'src/deep']);
    expect(scan.totalBytes).toBe(12 + 300_000 + 6 + 8);
    expect(scan.workspaceBytes).toBe(3 * 4096 + 74 * 4096);
    expect(scan.files.find((file) => file.path === 'run.sh')?.executable).toBe(true);
  });

  it('refuses a project bigger than the workspace, saying both sizes', async () => {
    await writeFile(join(project, 'big.bin'), Buffer.alloc(2 * MiB));
    const scan = scanProject(project, { maxBytes: 1 * MiB });
    await expect(scan).rejects.toBeInstanceOf(ProjectTooLargeError);
    await expect(scan).rejects.toThrow(
      /the project is too large: it needs \d+ bytes in the workspace, which holds 1048576/,
    );
  });

  it('refuses too many entries and too deep a tree', async () => {
    await expect(scanProject(project, { maxBytes: MiB, maxEntries: 3 })).rejects.toMatchObject({
      code: 'PROJECT_TOO_LARGE',
      limit: 'entries',
    });
    await expect(scanProject(project, { maxBytes: MiB, maxDepth: 1 })).rejects.toMatchObject({
      limit: 'depth',
    });
  });

  it('refuses a root that is a link or not a directory', async () => {
    await symlink(project, join(base, 'link'));
    await expect(scanProject(join(base, 'link'), { maxBytes: MiB })).rejects.toBeInstanceOf(
      ProjectCopyError,
    );
    await expect(scanProject(join(project, 'main.py'), { maxBytes: MiB })).rejects.toThrow(
      /not a directory/,
    );
  });
});

describe('copyProject', () => {
  it('copies files and directories, keeping the executable bit', async () => {
    const copied = await copyProject({
      root: project,
      destDir: dest,
      limits: { maxBytes: 64 * MiB },
      owner: null,
    });
    expect(copied.files).toHaveLength(4);
    expect(readFileSync(join(dest, 'main.py'), 'utf8')).toBe('print("hi")\n');
    expect(
      readFileSync(join(dest, 'src', 'deep', 'data.bin')).equals(Buffer.alloc(300_000, 7)),
    ).toBe(true);
    expect(statSync(join(dest, 'run.sh')).mode & 0o111).not.toBe(0);
    expect(statSync(join(dest, 'main.py')).mode & 0o111).toBe(0);
  });

  it('never follows a symbolic link: links that leave the project are skipped and reported', async () => {
    const outside = join(base, 'secret');
    await mkdir(outside);
    await writeFile(join(outside, 'key'), 'SECRET');
    await symlink(join(outside, 'key'), join(project, 'key-link'));
    await symlink(outside, join(project, 'src', 'dir-link'));
    await symlink('/etc/passwd', join(project, 'passwd'));
    await symlink('../../secret/key', join(project, 'src', 'climbs'));

    const copied = await copyProject({
      root: project,
      destDir: dest,
      limits: { maxBytes: 64 * MiB },
      owner: null,
    });
    expect(copied.skipped).toEqual([
      { path: 'key-link', kind: 'symlink' },
      { path: 'passwd', kind: 'symlink' },
      { path: 'src/climbs', kind: 'symlink' },
      { path: 'src/dir-link', kind: 'symlink' },
    ]);
    for (const name of ['key-link', 'passwd', 'src/climbs', 'src/dir-link']) {
      expect(existsSync(join(dest, name)) || isLink(join(dest, name)), name).toBe(false);
    }
    expect(JSON.stringify(listAll(dest))).not.toMatch(/SECRET|root:/);
  });

  it('keeps a link whose target stays inside the project as a link, never its target', async () => {
    await symlink('main.py', join(project, 'CLAUDE.md'));
    await symlink('../main.py', join(project, 'src', 'up'));
    await symlink('deep', join(project, 'src', 'deep-link'));
    await symlink('missing', join(project, 'dangling'));

    const copied = await copyProject({
      root: project,
      destDir: dest,
      limits: { maxBytes: 64 * MiB },
      owner: null,
    });
    expect(copied.skipped).toEqual([]);
    expect(copied.links).toEqual([
      { path: 'CLAUDE.md', target: 'main.py' },
      { path: 'dangling', target: 'missing' },
      { path: 'src/deep-link', target: 'deep' },
      { path: 'src/up', target: '../main.py' },
    ]);
    for (const link of copied.links) {
      expect(lstatSync(join(dest, link.path)).isSymbolicLink(), link.path).toBe(true);
      expect(readlinkSync(join(dest, link.path)), link.path).toBe(link.target);
    }
    // The files a link leads to are copied once, as themselves; nothing is copied through one.
    expect(copied.files.map((file) => file.path)).not.toContain('src/deep-link/data.bin');
    expect(copied.entries.get('CLAUDE.md')).toMatchObject({ kind: 'symlink', size: 0 });
  });

  it('lists every entry with its kind, size and time, and the owner they share', async () => {
    const scan = await scanProject(project, { maxBytes: 64 * MiB });
    expect([...scan.entries.keys()].sort()).toEqual([
      'main.py',
      'run.sh',
      'src',
      'src/deep',
      'src/deep/data.bin',
      'src/util.py',
    ]);
    expect(scan.entries.get('src/deep/data.bin')).toEqual({
      kind: 'file',
      size: 300_000,
      mtimeMs: statSync(join(project, 'src', 'deep', 'data.bin')).mtimeMs,
    });
    const own = statSync(project);
    expect(scan.owner).toEqual({ uid: own.uid, gid: own.gid });
  });

  it.runIf(process.getuid?.() === 0)('has no one owner when the entries differ', async () => {
    await chown(join(project, 'src', 'util.py'), 64_321, 64_321);
    expect((await scanProject(project, { maxBytes: 64 * MiB })).owner).toBeNull();
  });

  it('skips FIFOs and other special files without opening them', async () => {
    execFileSync('mkfifo', [join(project, 'pipe')]);
    const copied = await copyProject({
      root: project,
      destDir: dest,
      limits: { maxBytes: 64 * MiB },
      owner: null,
    });
    expect(copied.skipped).toEqual([{ path: 'pipe', kind: 'other' }]);
    expect(existsSync(join(dest, 'pipe'))).toBe(false);
  });

  it('applies the size limit again while it copies', async () => {
    await writeFile(join(project, 'big.bin'), Buffer.alloc(2 * MiB));
    await expect(
      copyProject({ root: project, destDir: dest, limits: { maxBytes: MiB }, owner: null }),
    ).rejects.toBeInstanceOf(ProjectTooLargeError);
  });

  // Only root may give files to another uid: as anyone else the test shows as skipped.
  const asRoot = process.getuid?.() === 0;
  it.runIf(asRoot)('gives the copies to the sandbox user when one is named', async () => {
    const owner = { uid: 64_321, gid: 64_322 };
    await symlink('main.py', join(project, 'link'));
    await copyProject({ root: project, destDir: dest, limits: { maxBytes: 64 * MiB }, owner });
    for (const path of ['main.py', 'src', 'src/deep', 'src/deep/data.bin', 'link']) {
      const stats = lstatSync(join(dest, path));
      expect([stats.uid, stats.gid], path).toEqual([owner.uid, owner.gid]);
    }
  });

  it('never writes through anything already in the destination', async () => {
    await symlink(join(base, 'elsewhere'), join(dest, 'main.py'));
    await expect(
      copyProject({ root: project, destDir: dest, limits: { maxBytes: 64 * MiB }, owner: null }),
    ).rejects.toMatchObject({ code: 'EEXIST' });
    expect(existsSync(join(base, 'elsewhere'))).toBe(false);
  });
});

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

function listAll(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    const full = join(entry.parentPath, entry.name);
    if (entry.isFile()) out[full] = readFileSync(full, 'utf8');
  }
  return out;
}
