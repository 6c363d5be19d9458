import { describe, expect, it } from 'vitest';
import { mountPointsUnder, parseMountInfo, pathInFilesystem } from './mount-table.ts';

const MOUNTINFO = [
  '24 1 254:0 / / rw,relatime - ext4 /dev/vda rw',
  '25 24 0:22 / /proc rw,nosuid - proc proc rw',
  '26 24 0:40 / /run/runbox-sandbox rw,nosuid - tmpfs tmpfs rw,size=1048576k',
  '27 24 254:0 /srv/app /app ro,relatime - ext4 /dev/vda rw',
  '28 24 0:41 / /tmp/with\\040space rw - tmpfs tmpfs rw',
  '29 26 0:42 / /run/runbox-sandbox/files ro - tmpfs runbox-files ro',
  '30 29 0:43 / /run/runbox-sandbox/files/inner ro - tmpfs tmpfs ro',
  '',
].join('\n');

describe('parseMountInfo', () => {
  it('reads root, mount point and type, unescaping octal escapes', () => {
    const mounts = parseMountInfo(MOUNTINFO);
    expect(mounts).toHaveLength(7);
    expect(mounts[3]).toEqual({ root: '/srv/app', mountPoint: '/app', fsType: 'ext4' });
    expect(mounts[4]?.mountPoint).toBe('/tmp/with space');
  });

  it('skips lines without the separator', () => {
    expect(parseMountInfo('garbage\n\n24 1 254:0 / /\n')).toEqual([]);
  });
});

describe('pathInFilesystem', () => {
  const mounts = parseMountInfo(MOUNTINFO);

  it('names a path on the root filesystem by its full path', () => {
    expect(pathInFilesystem('/work/main/.runbox/toolchain/bin/node', mounts)).toBe(
      '/work/main/.runbox/toolchain/bin/node',
    );
  });

  it('names a path in a tmpfs from the tmpfs root', () => {
    expect(pathInFilesystem('/run/runbox-sandbox/files', mounts)).toBe('/');
    expect(pathInFilesystem('/run/runbox-sandbox/files/etc', mounts)).toBe('/etc');
    expect(pathInFilesystem('/run/runbox-sandbox/workspaces/r1', mounts)).toBe('/workspaces/r1');
  });

  it('adds a bind mount’s own root: a bind names where its source lives', () => {
    expect(pathInFilesystem('/app/packages/executor/runtime', mounts)).toBe(
      '/srv/app/packages/executor/runtime',
    );
  });

  it('takes the deepest mount, and a mount point shares no prefix with a sibling name', () => {
    expect(pathInFilesystem('/run/runbox-sandbox/files/inner/x', mounts)).toBe('/x');
    expect(pathInFilesystem('/application', mounts)).toBe('/application');
  });
});

describe('mountPointsUnder', () => {
  it('lists the directory itself and everything below it, deepest first', () => {
    expect(mountPointsUnder('/run/runbox-sandbox/files', parseMountInfo(MOUNTINFO))).toEqual([
      '/run/runbox-sandbox/files/inner',
      '/run/runbox-sandbox/files',
    ]);
    expect(mountPointsUnder('/run/runbox-sandbox/fil', parseMountInfo(MOUNTINFO))).toEqual([]);
  });
});
