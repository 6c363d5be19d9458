import { mkdir, readdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { removeStaleUploadDirs } from './stale-uploads.ts';
import { makeProjectsRoot, removeProjectsRoot } from './test-support/expect-rejected.ts';

let root: string;
beforeEach(async () => {
  root = await makeProjectsRoot();
});
afterEach(async () => {
  await removeProjectsRoot(root);
});

describe('removeStaleUploadDirs', () => {
  it('removes old temporary upload directories and nothing else', async () => {
    const old = new Date(Date.now() - 2 * 3600_000);
    await mkdir(join(root, '.upload-p1-abc123/src'), { recursive: true });
    await writeFile(join(root, '.upload-p1-abc123/src/a.ts'), 'x');
    await utimes(join(root, '.upload-p1-abc123'), old, old);
    await mkdir(join(root, '.upload-p2-fresh'));
    await mkdir(join(root, 'project'));
    await utimes(join(root, 'project'), old, old);
    const removed = await removeStaleUploadDirs(root, { olderThanMs: 3600_000 });
    expect(removed).toEqual(['.upload-p1-abc123']);
    expect((await readdir(root)).sort()).toEqual(['.upload-p2-fresh', 'project']);
  });
});
