import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ProjectCopyError, ProjectTooLargeError } from '../tools/copy-project.ts';
import { fitWorkspace, forgetProjectListings, listProject } from './project-listings.ts';

let base: string;
let project: string;

beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), 'runbox-listings-'));
  project = join(base, 'project');
  await mkdir(join(project, 'src'), { recursive: true });
  await writeFile(join(project, 'main.py'), 'print(1)\n');
  await writeFile(join(project, 'src', 'a.py'), 'A = 1\n');
  forgetProjectListings();
});
afterEach(async () => {
  forgetProjectListings();
  await rm(base, { recursive: true, force: true });
});

describe('listProject', () => {
  it('lists a project once and hands the same listing to every later call', async () => {
    const first = await listProject(project);
    expect(first.files.map((file) => file.path)).toEqual(['main.py', 'src/a.py']);
    // A file added below the root is not noticed: a stored project never changes.
    await writeFile(join(project, 'src', 'b.py'), 'B = 2\n');
    expect(await listProject(project)).toBe(first);
  });

  it('lists again when the root is another directory or changed', async () => {
    const first = await listProject(project);
    await writeFile(join(project, 'new.txt'), 'x');
    const second = await listProject(project);
    expect(second).not.toBe(first);
    expect(second.files.map((file) => file.path)).toContain('new.txt');
    await rename(project, join(base, 'old'));
    await mkdir(project);
    await writeFile(join(project, 'other.py'), '');
    expect((await listProject(project)).files.map((file) => file.path)).toEqual(['other.py']);
  });

  it("keeps no failure: a missing root is refused each time, in the scan's words", async () => {
    await expect(listProject(join(base, 'missing'))).rejects.toBeInstanceOf(ProjectCopyError);
    await mkdir(join(base, 'missing'));
    await writeFile(join(base, 'missing', 'x'), '');
    expect((await listProject(join(base, 'missing'))).files).toHaveLength(1);
  });
});

describe('fitWorkspace', () => {
  it('refuses a project whose files need more than the workspace, saying both sizes', async () => {
    const scan = await listProject(project);
    expect(fitWorkspace(scan, 8192)).toBe(scan);
    expect(() => fitWorkspace(scan, 4096)).toThrow(ProjectTooLargeError);
    expect(() => fitWorkspace(scan, 4096)).toThrow(
      /needs 8192 bytes in the workspace, which holds 4096/,
    );
  });
});
