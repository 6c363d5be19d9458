import { describe, expect, it } from 'vitest';
import { createRunQueue } from './run-queue.ts';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => {};
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('run queue', () => {
  it('keeps the waiting order p-queue starts them in: priority, then arrival', async () => {
    const queue = createRunQueue({ concurrency: 1 });
    const started: string[] = [];
    const gates = new Map<string, ReturnType<typeof deferred>>();
    for (const [runId, priority] of [
      ['a', 0],
      ['b', 0],
      ['c', 5],
      ['d', 0],
      ['e', 5],
    ] as const) {
      const gate = deferred();
      gates.set(runId, gate);
      queue.enqueue({
        runId,
        priority,
        start: async () => {
          started.push(runId);
          await gate.promise;
        },
      });
    }
    // a started at once; the rest wait in order.
    await Promise.resolve();
    expect(queue.running()).toEqual(['a']);
    expect(queue.waiting()).toEqual(['c', 'e', 'b', 'd']);
    for (const runId of ['a', 'c', 'e', 'b', 'd']) {
      gates.get(runId)?.resolve();
      await queue.whenNoneRunning();
      await new Promise((r) => setTimeout(r, 0));
    }
    expect(started).toEqual(['a', 'c', 'e', 'b', 'd']);
  });

  it('removes a waiting run at once and never starts it', async () => {
    const queue = createRunQueue({ concurrency: 1 });
    const gate = deferred();
    const started: string[] = [];
    queue.enqueue({
      runId: 'a',
      priority: 0,
      start: async () => {
        started.push('a');
        await gate.promise;
      },
    });
    queue.enqueue({
      runId: 'b',
      priority: 0,
      start: async () => {
        started.push('b');
      },
    });
    queue.enqueue({
      runId: 'c',
      priority: 0,
      start: async () => {
        started.push('c');
      },
    });
    expect(queue.remove('b')).toBe(true);
    expect(queue.remove('b')).toBe(false);
    expect(queue.waiting()).toEqual(['c']);
    gate.resolve();
    await new Promise((r) => setTimeout(r, 10));
    expect(started).toEqual(['a', 'c']);
  });

  it('pauses, resumes and changes concurrency, telling listeners', async () => {
    const queue = createRunQueue({ concurrency: 1 });
    let changes = 0;
    queue.onChange(() => changes++);
    queue.pause();
    const started: string[] = [];
    queue.enqueue({
      runId: 'a',
      priority: 0,
      start: async () => {
        started.push('a');
      },
    });
    queue.enqueue({
      runId: 'b',
      priority: 0,
      start: async () => {
        started.push('b');
      },
    });
    await new Promise((r) => setTimeout(r, 5));
    expect(started).toEqual([]);
    expect(queue.isPaused()).toBe(true);
    queue.setConcurrency(2);
    expect(queue.concurrency).toBe(2);
    queue.resume();
    await new Promise((r) => setTimeout(r, 5));
    expect(started.sort()).toEqual(['a', 'b']);
    expect(changes).toBeGreaterThan(4);
  });
});
