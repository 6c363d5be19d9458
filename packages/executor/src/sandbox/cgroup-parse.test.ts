import { describe, expect, it } from 'vitest';
import { parseKeyValues, parsePids } from './cgroup-files.ts';
import { parseV1Mounts } from './cgroup-v1.ts';
import { parseOwnV2Path, parseV2Mount } from './cgroup-v2.ts';

const V1_MOUNTINFO = [
  '30 23 0:26 / /sys/fs/cgroup rw,nosuid - tmpfs tmpfs rw,mode=755',
  '31 30 0:27 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:9 - cgroup cgroup rw,cpu,cpuacct',
  '32 30 0:28 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory',
  '33 30 0:29 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids',
  '34 30 0:30 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer',
  '35 30 0:31 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
].join('\n');

describe('cgroup mount parsing', () => {
  it('finds each v1 controller, including co-mounted ones', () => {
    expect(parseV1Mounts(V1_MOUNTINFO)).toEqual({
      memory: '/sys/fs/cgroup/memory',
      pids: '/sys/fs/cgroup/pids',
      cpu: '/sys/fs/cgroup/cpu,cpuacct',
      cpuacct: '/sys/fs/cgroup/cpu,cpuacct',
      freezer: '/sys/fs/cgroup/freezer',
    });
  });

  it('returns null when a v1 controller is missing', () => {
    expect(parseV1Mounts(V1_MOUNTINFO.replace(/.*freezer.*\n/, ''))).toBeNull();
  });

  it('finds the cgroup2 mount and this process path', () => {
    expect(parseV2Mount(V1_MOUNTINFO)).toBe('/sys/fs/cgroup/unified');
    expect(parseV2Mount('')).toBeNull();
    expect(parseOwnV2Path('12:pids:/x\n0::/system.slice/runbox.service\n')).toBe(
      '/system.slice/runbox.service',
    );
    expect(parseOwnV2Path('12:pids:/x\n')).toBeNull();
  });

  it('parses key-value and pid files', () => {
    expect(parseKeyValues('oom_kill_disable 0\nunder_oom 0\noom_kill 3\n').get('oom_kill')).toBe(3);
    expect(parsePids('12\n13\n\n')).toEqual([12, 13]);
  });
});
