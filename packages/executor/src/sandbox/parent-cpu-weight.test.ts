import { describe, expect, it } from 'vitest';
import { parentCpuWeight } from './parent-cpu-weight.ts';

function recorder(fail: (weight: number) => boolean = () => false) {
  const written: number[] = [];
  const write = async (weight: number): Promise<void> => {
    await Promise.resolve();
    if (fail(weight)) throw new Error(`cannot write ${weight}`);
    written.push(weight);
  };
  return { written, write };
}

describe('parentCpuWeight', () => {
  it('follows the number of live runs, never below one run', async () => {
    const { written, write } = recorder();
    const weight = parentCpuWeight({ perRun: 1024, max: 262_144, write });
    await weight.add();
    await weight.add();
    await weight.drop();
    await weight.drop();
    await weight.drop();
    expect(written).toEqual([1024, 2048, 1024, 1024, 1024]);
  });

  it('stops at the largest weight the file takes', async () => {
    const { written, write } = recorder();
    const weight = parentCpuWeight({ perRun: 100, max: 250, write });
    for (let i = 0; i < 4; i++) await weight.add();
    expect(written).toEqual([100, 200, 250, 250]);
  });

  it('writes one at a time, the last write carrying the latest count', async () => {
    const { written, write } = recorder();
    const weight = parentCpuWeight({ perRun: 1, max: 100, write });
    await Promise.all([weight.add(), weight.add(), weight.add(), weight.drop()]);
    expect(written.at(-1)).toBe(2);
  });

  it('does not count a run whose write failed, and a failed drop does not throw', async () => {
    let failing = true;
    const { written, write } = recorder(() => failing);
    const weight = parentCpuWeight({ perRun: 10, max: 1000, write });
    await expect(weight.add()).rejects.toThrow('cannot write 10');
    await expect(weight.drop()).resolves.toBeUndefined();
    failing = false;
    await weight.add();
    expect(written).toEqual([10]);
  });
});
