import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ArtifactNotFoundError, InvalidArtifactPathError } from './artifact-errors.ts';
import {
  artifactFilesDir,
  openArtifact,
  readArtifactList,
  removeArtifacts,
  storeArtifacts,
} from './artifact-store.ts';
import { EMPTY_SNAPSHOT } from './workspace-snapshot.ts';

let base: string;
let workspace: string;
let root: string;

beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), 'runbox-store-'));
  workspace = join(base, 'workspace');
  root = join(base, 'store');
  await mkdir(join(workspace, 'data'), { recursive: true });
  await writeFile(join(workspace, 'out.txt'), 'hello\n');
  await writeFile(join(workspace, 'data', 'result.csv'), 'a,b\n1,2\n');
  await writeFile(join(workspace, 'big.bin'), Buffer.alloc(64));
  await symlink('/etc/passwd', join(workspace, 'leak'));
});
afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

const store = (runId = 'run-1') =>
  storeArtifacts({
    root,
    runId,
    workspaceDir: workspace,
    before: EMPTY_SNAPSHOT,
    maxFileBytes: 32,
  });

describe('the artifact store', () => {
  it('keeps the files under <root>/<runId> and records the list', async () => {
    const collection = await store();
    expect(collection.artifacts.map((a) => a.path)).toEqual(['data/result.csv', 'leak', 'out.txt']);
    expect(collection.skipped).toEqual([{ path: 'big.bin', reason: 'file_too_large', size: 64 }]);
    expect(await readArtifactList(root, 'run-1')).toEqual(collection);
    expect(artifactFilesDir(root, 'run-1')).toBe(join(root, 'run-1', 'files'));
    expect(await readArtifactList(root, 'other-run')).toBeNull();
  });

  it('serves a listed file with its size, media type and hash', async () => {
    await store();
    const opened = await openArtifact(root, 'run-1', 'data/result.csv');
    expect(opened.size).toBe(8);
    expect(opened.mediaType).toBe('text/csv');
    expect(opened.sha256).toBe(createHash('sha256').update('a,b\n1,2\n').digest('hex'));
    expect(await text(opened.stream)).toBe('a,b\n1,2\n');
  });

  it('never serves a link, a skipped file, or anything unlisted', async () => {
    await store();
    await expect(openArtifact(root, 'run-1', 'leak')).rejects.toBeInstanceOf(ArtifactNotFoundError);
    await expect(openArtifact(root, 'run-1', 'big.bin')).rejects.toBeInstanceOf(
      ArtifactNotFoundError,
    );
    await expect(openArtifact(root, 'run-1', 'manifest.json')).rejects.toBeInstanceOf(
      ArtifactNotFoundError,
    );
    await expect(openArtifact(root, 'nope', 'out.txt')).rejects.toBeInstanceOf(
      ArtifactNotFoundError,
    );
  });

  it('refuses paths and run ids that climb, before touching the disk', async () => {
    await store();
    for (const path of ['../run-1/manifest.json', '/etc/passwd', 'data/../out.txt', '', 'a\0b'])
      await expect(openArtifact(root, 'run-1', path)).rejects.toBeInstanceOf(
        InvalidArtifactPathError,
      );
    for (const runId of ['..', 'a/b', '', '.hidden'])
      await expect(openArtifact(root, runId, 'out.txt')).rejects.toBeInstanceOf(
        InvalidArtifactPathError,
      );
    await expect(removeArtifacts(root, '../store')).rejects.toBeInstanceOf(
      InvalidArtifactPathError,
    );
  });

  it('removes everything kept for a run', async () => {
    await store('run-1');
    await store('run-2');
    await removeArtifacts(root, 'run-1');
    expect(existsSync(join(root, 'run-1'))).toBe(false);
    expect(existsSync(join(root, 'run-2', 'files', 'out.txt'))).toBe(true);
    await removeArtifacts(root, 'run-1');
  });
});
