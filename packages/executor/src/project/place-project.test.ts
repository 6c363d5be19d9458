import { lchown, lstat, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { placeProject } from './place-project.ts';
import { forgetProjectListings } from './project-listings.ts';

const asRoot = process.getuid?.() === 0;
const owner = { uid: 64_901, gid: 64_901 };
const MiB = 1024 * 1024;
let base: string;
let project: string;
let workspace: string;

beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), 'runbox-place-'));
  project = join(base, 'project');
  workspace = join(base, 'workspace');
  await mkdir(join(project, 'src'), { recursive: true });
  await mkdir(workspace);
  await writeFile(join(project, 'main.py'), 'print(1)\n');
  await symlink('main.py', join(project, 'CLAUDE.md'));
  forgetProjectListings();
});
afterEach(async () => {
  forgetProjectListings();
  await rm(base, { recursive: true, force: true });
});

async function giveTo(dir: string, who: { uid: number; gid: number }): Promise<void> {
  for (const path of ['', ...(await readdir(dir, { recursive: true }))])
    await lchown(join(dir, path), who.uid, who.gid);
}

const place = (layers: boolean, bytes = 64 * MiB) =>
  placeProject({
    projectDir: project,
    workspaceDir: workspace,
    workspaceBytes: bytes,
    owner,
    layers,
  });

describe.runIf(asRoot)('placeProject', () => {
  it("layers a project the sandbox user owns: nothing copied, its entries as the run's before", async () => {
    await giveTo(project, owner);
    const placed = await place(true);
    expect(placed.layer?.projectDir).toBe(project);
    expect([...(placed.layer?.contents.entries.keys() ?? [])].sort()).toEqual([
      'CLAUDE.md',
      'main.py',
      'src',
    ]);
    expect(await readdir(workspace)).toEqual([]);
  });

  it('copies when layers are off, the owner differs, or the project holds what a copy skips', async () => {
    expect((await place(false)).layer).toBeNull();
    expect((await lstat(join(workspace, 'CLAUDE.md'))).isSymbolicLink()).toBe(true);
    await rm(workspace, { recursive: true });
    await mkdir(workspace);
    expect((await place(true)).layer).toBeNull();

    await rm(workspace, { recursive: true });
    await mkdir(workspace);
    await symlink('/etc/passwd', join(project, 'passwd'));
    await giveTo(project, owner);
    forgetProjectListings();
    const placed = await place(true);
    expect(placed.layer).toBeNull();
    expect(placed.scan.skipped).toEqual([{ path: 'passwd', kind: 'symlink' }]);
    expect(await readdir(workspace)).not.toContain('passwd');
  });

  it('refuses a layered project that would not fit the workspace, as a copy would be', async () => {
    await giveTo(project, owner);
    await expect(place(true, 1024)).rejects.toMatchObject({ code: 'PROJECT_TOO_LARGE' });
  });
});
