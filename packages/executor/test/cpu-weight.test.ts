import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RUN_CPU_SHARES_V1, RUN_CPU_WEIGHT_V2 } from '../src/sandbox/cgroup.ts';
import { parseV1Mounts } from '../src/sandbox/cgroup-v1.ts';
import { parseV2Mount } from '../src/sandbox/cgroup-v2.ts';
import { HOST_CPUS } from '../src/sandbox/limits.ts';
import {
  createSandboxHarness,
  leftoversOf,
  type SandboxHarness,
} from './support/sandbox-harness.ts';

let harness: SandboxHarness;

beforeAll(async () => {
  harness = await createSandboxHarness('cpuweight');
});
afterAll(async () => {
  await harness.close();
});

interface CpuGroup {
  dir: string;
  weight: number;
  quotaUs: number;
}

/** The cpu cgroup directory (host view) of every process of the sandbox uid, read from /proc. */
function cpuGroupsOfSandbox(): string[] {
  const mountinfo = readFileSync('/proc/self/mountinfo', 'utf8');
  const dirs = new Set<string>();
  for (const pid of harness.sandboxProcesses()) {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/cgroup`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    for (const line of text.split('\n')) {
      const [, controllers = '', path = ''] = /^\d+:([^:]*):(.*)$/.exec(line) ?? [];
      if (harness.host.cgroups.version === 'v2' && controllers === '') {
        dirs.add(join(parseV2Mount(mountinfo) ?? '/sys/fs/cgroup', path));
      } else if (controllers.split(',').includes('cpu')) {
        dirs.add(join(parseV1Mounts(mountinfo)?.cpu ?? '/sys/fs/cgroup/cpu', path));
      }
    }
  }
  return [...dirs];
}

function readGroup(dir: string): CpuGroup {
  const read = (name: string): string => readFileSync(join(dir, name), 'utf8').trim();
  if (harness.host.cgroups.version === 'v2') {
    const [quota = 'max'] = read('cpu.max').split(' ');
    return { dir, weight: Number(read('cpu.weight')), quotaUs: Number(quota) };
  }
  return { dir, weight: Number(read('cpu.shares')), quotaUs: Number(read('cpu.cfs_quota_us')) };
}

function parentWeight(dir: string): number {
  const file = harness.host.cgroups.version === 'v2' ? 'cpu.weight' : 'cpu.shares';
  return Number(readFileSync(join(dir, file), 'utf8').trim());
}

describe('CPU between runs', () => {
  it('gives every run the same weight, as sibling groups, each with its own quota, and their parent one per run', async () => {
    const controller = new AbortController();
    // Two runs at once, one with the smallest useful quota and one with the whole host.
    const runs = [0.5, HOST_CPUS].map((cpus) =>
      harness.run('bash', 'sleep 60', { limits: { cpus }, signal: controller.signal }),
    );
    let dirs: string[] = [];
    let parent = '';
    const expectedWeight =
      harness.host.cgroups.version === 'v2' ? RUN_CPU_WEIGHT_V2 : RUN_CPU_SHARES_V1;
    try {
      for (let tries = 0; tries < 200 && dirs.length < 2; tries++) {
        await sleep(50);
        dirs = cpuGroupsOfSandbox();
      }
      expect(dirs).toHaveLength(2);
      const groups = dirs.map(readGroup).sort((a, b) => a.quotaUs - b.quotaUs);
      expect(groups.map((group) => group.weight)).toEqual([expectedWeight, expectedWeight]);
      expect(groups.map((group) => group.quotaUs)).toEqual([50_000, HOST_CPUS * 100_000]);
      // Siblings under one parent: the scheduler splits the parent's time between the two runs,
      // never between one run and the other's processes.
      parent = dirname(groups[0]?.dir ?? 'a');
      expect(dirname(groups[1]?.dir ?? 'b')).toBe(parent);
      // Which weighs two runs against the rest of the machine while two are alive.
      expect(parentWeight(parent)).toBe(2 * expectedWeight);
    } finally {
      controller.abort();
    }
    for (const result of await Promise.all(runs)) {
      expect(result.state).toBe('cancelled');
      expect(leftoversOf(harness, result)).toEqual([]);
    }
    expect(parentWeight(parent)).toBe(expectedWeight);
  });
});
