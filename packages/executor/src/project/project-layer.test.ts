import { lstat, mkdir, mkdtemp, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  LAYER_MOUNT_OPTIONS,
  layerMergedDir,
  layerUpperDir,
  makeProjectLayer,
  probeProjectLayer,
} from './project-layer.ts';

const asRoot = process.getuid?.() === 0;
let base: string;
let workspace: string;

beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), 'runbox-layer-'));
  workspace = join(base, 'ws');
  await mkdir(workspace, { mode: 0o700 });
});
afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

describe('the project layer', () => {
  it('names its layers relatively, pins its options, and is nosuid and nodev', () => {
    expect(LAYER_MOUNT_OPTIONS).toBe(
      'nosuid,nodev,lowerdir=lower,upperdir=upper,workdir=work,redirect_dir=off,metacopy=off,index=off',
    );
    expect(layerUpperDir('/w/r1')).toBe('/w/r1/upper');
    expect(layerMergedDir('/w/r1')).toBe('/w/r1/merged');
  });

  it.runIf(asRoot)(
    'lays out its parts; the sandbox user owns the upper layer, not their directory',
    async () => {
      const owner = { uid: 64_902, gid: 64_903 };
      await makeProjectLayer(workspace, '/srv/projects/p1', owner);
      expect(await readlink(join(workspace, 'lower'))).toBe('/srv/projects/p1');
      const of = async (name: string) => {
        const stats = await lstat(join(workspace, name));
        return [stats.uid, stats.gid, stats.mode & 0o7777];
      };
      expect(await of('upper')).toEqual([owner.uid, owner.gid, 0o700]);
      expect(await of('merged')).toEqual([owner.uid, owner.gid, 0o700]);
      expect(await of('work')).toEqual([0, 0, 0o700]);
      expect(await of('')).toEqual([0, 0, 0o711]);
    },
  );

  it.runIf(asRoot)('mounts on this host, and says why not where it cannot', async () => {
    const tools = { unshare: '/usr/bin/unshare', mount: '/usr/bin/mount', sh: '/usr/bin/bash' };
    expect(await probeProjectLayer(tools, workspace)).toBeNull();
    const other = join(base, 'other');
    await mkdir(other);
    const broken = await probeProjectLayer({ ...tools, mount: '/usr/bin/false' }, other);
    expect(broken).toMatch(/^an overlay could not be mounted/);
  });
});
