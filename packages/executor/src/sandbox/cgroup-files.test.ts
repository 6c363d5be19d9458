import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { killFrozenGroup } from './cgroup-files.ts';

function alive(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

describe('killFrozenGroup', () => {
  it('lets the spare (bwrap’s monitor) exit by itself once the rest is gone, instead of killing it', async () => {
    // Around the unit: a "group" of two real processes, with no cgroup files to freeze.
    const other = spawn('sleep', ['60']);
    // Exits by itself shortly after: as the monitor does once it has reaped the sandbox's init.
    const spare = spawn('sh', ['-c', 'sleep 0.2; exit 7']);
    const spareEnded = once(spare, 'exit');
    await killFrozenGroup({
      name: 'test',
      spare: spare.pid,
      freeze: () => Promise.resolve(),
      thaw: () => Promise.resolve(),
      pids: () => Promise.resolve([other, spare].filter(alive).map((child) => child.pid ?? -1)),
    });
    const [code, signal] = (await spareEnded) as [number | null, NodeJS.Signals | null];
    expect(signal).toBeNull();
    expect(code).toBe(7);
    expect(other.signalCode).toBe('SIGKILL');
  });

  it('kills a spare that does not go by itself', async () => {
    const spare = spawn('sleep', ['60']);
    const spareEnded = once(spare, 'exit');
    await killFrozenGroup({
      name: 'test',
      spare: spare.pid,
      freeze: () => Promise.resolve(),
      thaw: () => Promise.resolve(),
      pids: () => Promise.resolve(alive(spare) ? [spare.pid ?? -1] : []),
    });
    await spareEnded;
    expect(spare.signalCode).toBe('SIGKILL');
  });
});
