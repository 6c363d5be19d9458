import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isCreatedOrChanged, snapshotWorkspace } from './workspace-snapshot.ts';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'runbox-snapshot-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('snapshotWorkspace', () => {
  it('records every entry by relative path, links as links', async () => {
    await mkdir(join(root, 'src'));
    await writeFile(join(root, 'src', 'main.py'), 'print(1)');
    await symlink('/etc/passwd', join(root, 'link'));
    const snapshot = await snapshotWorkspace(root);
    expect([...snapshot.entries.keys()]).toEqual(['link', 'src', 'src/main.py']);
    expect(snapshot.entries.get('src/main.py')).toMatchObject({ kind: 'file', size: 8 });
    expect(snapshot.entries.get('link')).toMatchObject({ kind: 'symlink' });
    expect(snapshot.truncated).toBe(false);
  });

  it('tells created and changed entries from unchanged ones', async () => {
    await writeFile(join(root, 'a'), 'a');
    const snapshot = await snapshotWorkspace(root);
    const a = snapshot.entries.get('a');
    if (!a) throw new Error('a is missing');
    expect(isCreatedOrChanged(snapshot, { path: 'a', ...a })).toBe(false);
    expect(isCreatedOrChanged(snapshot, { path: 'a', ...a, size: 2 })).toBe(true);
    expect(isCreatedOrChanged(snapshot, { path: 'a', ...a, mtimeMs: a.mtimeMs + 1 })).toBe(true);
    expect(isCreatedOrChanged(snapshot, { path: 'a', ...a, kind: 'symlink' })).toBe(true);
    expect(isCreatedOrChanged(snapshot, { path: 'b', ...a })).toBe(true);
  });

  it('says when it stopped at the cap', async () => {
    for (const name of ['a', 'b', 'c']) await writeFile(join(root, name), name);
    const snapshot = await snapshotWorkspace(root, { maxEntries: 2 });
    expect(snapshot.entries.size).toBe(2);
    expect(snapshot.truncated).toBe(true);
  });
});
