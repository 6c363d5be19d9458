import { DEFAULT_LIMITS, type RunRecord } from '@runbox/executor';
import { describe, expect, it } from 'vitest';
import { createMirroredQueue, type MirroredQueue, type SharedQueue } from './mirrored-queue.ts';

interface Deferred {
  promise: Promise<void>;
  resolve(): void;
  reject(error: unknown): void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((ok, fail) => {
    resolve = ok;
    reject = fail;
  });
  return { promise, resolve, reject };
}

/**
 * The shared queue around the mirror: records every call in order. Each call takes a few
 * milliseconds (as a round trip to Redis does) and an add records when it is done, so a call that
 * overtook an add shows in the record.
 */
function recordingShared(): SharedQueue & { calls: string[]; idle(): Promise<void> } {
  const calls: string[] = [];
  let inFlight = 0;
  const call = async (what: string, after?: string): Promise<void> => {
    calls.push(what);
    inFlight++;
    await new Promise((resolve) => setTimeout(resolve, 2));
    if (after !== undefined) calls.push(after);
    inFlight--;
  };
  return {
    calls,
    add: (record) => call(`add ${record.id}`, `added ${record.id}`),
    remove: (runId) => call(`remove ${runId}`),
    setConcurrency: (concurrency) => call(`setConcurrency ${String(concurrency)}`),
    pause: () => call('pause'),
    resume: () => call('resume'),
    /** Resolves once no call is in flight: the mirror calls the next one as soon as one is done. */
    async idle() {
      do await new Promise((resolve) => setTimeout(resolve, 5));
      while (inFlight > 0);
    },
  };
}

function record(id: string, priority: number): RunRecord {
  return {
    id,
    state: 'queued',
    request: { kind: 'snippet', language: 'python', code: 'print(1)' },
    meta: {},
    priority,
    kindKey: 'lang:python',
    limits: { ...DEFAULT_LIMITS },
    warnings: [],
    queuedAt: 0,
    startedAt: null,
    finishedAt: null,
    usage: null,
    result: null,
  };
}

function setUp(concurrency: number | null = 4): {
  queue: MirroredQueue;
  shared: ReturnType<typeof recordingShared>;
  errors: unknown[];
} {
  const shared = recordingShared();
  const errors: unknown[] = [];
  const queue = createMirroredQueue({
    shared,
    concurrency,
    onError: (error) => errors.push(error),
  });
  return { queue, shared, errors };
}

/** Enqueues a run whose start() resolves or rejects when the test says. */
function enqueue(queue: MirroredQueue, runId: string, priority = 0): Deferred {
  const done = deferred();
  queue.enqueue({ runId, priority, record: record(runId, priority), start: () => done.promise });
  return done;
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('createMirroredQueue', () => {
  it('orders waiting runs by priority, then by arrival, and adds them to the shared queue as they come', async () => {
    const { queue, shared, errors } = setUp();
    enqueue(queue, 'a', 0);
    enqueue(queue, 'b', 5);
    enqueue(queue, 'c', 0);
    enqueue(queue, 'd', 5);
    enqueue(queue, 'e', 10);
    enqueue(queue, 'f', -1);
    expect(queue.waiting()).toEqual(['e', 'b', 'd', 'a', 'c', 'f']);
    await shared.idle();
    const adds = shared.calls.filter((call) => call.startsWith('add '));
    expect(adds.slice(0, 6)).toEqual(['add a', 'add b', 'add c', 'add d', 'add e', 'add f']);
    expect(errors).toEqual([]);
  });

  it('refuses a run without its record (the shared queue needs it for the job)', () => {
    const { queue } = setUp();
    expect(() => {
      queue.enqueue({ runId: 'a', priority: 0, start: () => Promise.resolve() });
    }).toThrow(/record/);
    expect(queue.waiting()).toEqual([]);
  });

  it('moves a started run from waiting to running and calls its start', () => {
    const { queue } = setUp();
    let startedA = false;
    queue.enqueue({
      runId: 'a',
      priority: 0,
      record: record('a', 0),
      start: () => {
        startedA = true;
        return new Promise(() => {});
      },
    });
    enqueue(queue, 'b');
    expect(startedA).toBe(false);
    expect(queue.started('a')).toBe(true);
    expect(startedA).toBe(true);
    expect(queue.waiting()).toEqual(['b']);
    expect(queue.running()).toEqual(['a']);
  });

  it('answers false to started() of an unknown run, or of one started already', () => {
    const { queue } = setUp();
    enqueue(queue, 'a');
    expect(queue.started('nope')).toBe(false);
    expect(queue.started('a')).toBe(true);
    expect(queue.started('a')).toBe(false);
    expect(queue.waiting()).toEqual([]);
    expect(queue.running()).toEqual(['a']);
  });

  it('takes a finished run out of running', async () => {
    const { queue } = setUp();
    const a = enqueue(queue, 'a');
    queue.started('a');
    a.resolve();
    await turn();
    expect(queue.running()).toEqual([]);
  });

  it('removes a waiting run, and removes its job only after the job was added', async () => {
    const { queue, shared } = setUp();
    enqueue(queue, 'a');
    enqueue(queue, 'b');
    // Synchronously after its enqueue: the add has not even been called yet.
    expect(queue.remove('b')).toBe(true);
    expect(queue.waiting()).toEqual(['a']);
    await shared.idle();
    const at = (call: string): number => shared.calls.indexOf(call);
    expect(at('remove b')).toBeGreaterThan(at('added b'));
    expect(at('added b')).toBeGreaterThan(at('added a'));
    expect(shared.calls.filter((call) => call === 'remove b')).toHaveLength(1);
  });

  it('answers false to remove() of a running run, and leaves it running', async () => {
    const { queue, shared } = setUp();
    enqueue(queue, 'a');
    queue.started('a');
    expect(queue.remove('a')).toBe(false);
    expect(queue.remove('unknown')).toBe(false);
    expect(queue.running()).toEqual(['a']);
    await shared.idle();
    expect(shared.calls.filter((call) => call.startsWith('remove'))).toEqual([]);
  });

  it('runs min(cap, capacity) at once, at least 1, and passes a new cap on', async () => {
    const { queue, shared } = setUp(4);
    // No worker known yet: 1, for the estimates.
    expect(queue.concurrency).toBe(1);
    queue.setCapacity(3);
    expect(queue.concurrency).toBe(3);
    queue.setCapacity(10);
    expect(queue.concurrency).toBe(4);
    queue.setConcurrency(2);
    expect(queue.concurrency).toBe(2);
    queue.setConcurrency(50);
    expect(queue.concurrency).toBe(10);
    queue.setCapacity(0);
    expect(queue.concurrency).toBe(1);
    await shared.idle();
    expect(shared.calls).toEqual(['setConcurrency 2', 'setConcurrency 50']);
  });

  // RunQueue.setConcurrency takes a number: no cap (null) can only be set when the mirror is made.
  it('runs what the workers can at once when made with no cap (concurrency null)', async () => {
    const { queue, shared } = setUp(null);
    expect(queue.concurrency).toBe(1);
    queue.setCapacity(7);
    expect(queue.concurrency).toBe(7);
    queue.setCapacity(300);
    expect(queue.concurrency).toBe(300);
    await queue.restore();
    expect(shared.calls).toEqual(['setConcurrency null']);
  });

  it('restore() sets the cap and the pause again, then adds the waiting runs again in order', async () => {
    const { queue, shared, errors } = setUp(4);
    enqueue(queue, 'a', 0);
    enqueue(queue, 'b', 5);
    enqueue(queue, 'c', 0);
    enqueue(queue, 'd', 1);
    queue.started('b');
    queue.setConcurrency(3);
    queue.pause();
    await shared.idle();
    shared.calls.length = 0;

    await queue.restore();
    expect(shared.calls).toEqual([
      'setConcurrency 3',
      'pause',
      'add d',
      'added d',
      'add a',
      'added a',
      'add c',
      'added c',
    ]);
    expect(errors).toEqual([]);
  });

  it('restore() leaves out a run removed while it restores', async () => {
    const { queue, shared } = setUp();
    enqueue(queue, 'a');
    enqueue(queue, 'b');
    await shared.idle();
    shared.calls.length = 0;
    const restoring = queue.restore();
    queue.remove('b');
    await restoring;
    await shared.idle();
    expect(shared.calls.filter((call) => call === 'add b')).toEqual([]);
  });

  it('calls onChange on every change', async () => {
    const { queue } = setUp();
    let changes = 0;
    const off = queue.onChange(() => changes++);
    const expectChange = (what: string, act: () => void, count = 1): void => {
      const before = changes;
      act();
      expect(changes - before, what).toBe(count);
    };
    const a = deferred();
    expectChange('enqueue', () => {
      queue.enqueue({ runId: 'a', priority: 0, record: record('a', 0), start: () => a.promise });
    });
    expectChange('enqueue', () => enqueue(queue, 'b'));
    expectChange('started', () => queue.started('a'));
    expectChange('remove', () => queue.remove('b'));
    expectChange('remove of nothing', () => queue.remove('b'), 0);
    expectChange('setConcurrency', () => queue.setConcurrency(2));
    expectChange('setCapacity', () => queue.setCapacity(5));
    expectChange('the same capacity', () => queue.setCapacity(5), 0);
    expectChange('pause', () => queue.pause());
    expect(queue.isPaused()).toBe(true);
    expectChange('resume', () => queue.resume());
    expect(queue.isPaused()).toBe(false);
    expectChange('adopt', () => queue.adopt('c', () => new Promise(() => {})));
    const before = changes;
    a.resolve();
    await turn();
    expect(changes - before, 'a run ends').toBe(1);
    off();
    enqueue(queue, 'd');
    expect(changes - before).toBe(1);
  });

  it('whenNoneRunning() resolves at once when nothing runs, waiting runs or not', async () => {
    const { queue } = setUp();
    enqueue(queue, 'a');
    await expect(queue.whenNoneRunning()).resolves.toBeUndefined();
  });

  it('whenNoneRunning() resolves when the start() of the last running run settles', async () => {
    const { queue } = setUp();
    const a = enqueue(queue, 'a');
    const b = enqueue(queue, 'b');
    queue.started('a');
    queue.started('b');
    let resolved = false;
    const none = queue.whenNoneRunning().then(() => {
      resolved = true;
    });
    a.resolve();
    await turn();
    expect(resolved).toBe(false);
    expect(queue.running()).toEqual(['b']);
    b.resolve();
    await none;
    expect(queue.running()).toEqual([]);
  });

  it('takes a run whose start() rejects out of running, without an unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const listener = (reason: unknown): void => {
      unhandled.push(reason);
    };
    process.on('unhandledRejection', listener);
    try {
      const { queue } = setUp();
      const a = enqueue(queue, 'a');
      queue.started('a');
      const none = queue.whenNoneRunning();
      a.reject(new Error('start failed'));
      await none;
      expect(queue.running()).toEqual([]);
      // Node reports an unhandled rejection once the microtasks of its turn ran.
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', listener);
    }
  });

  it('adopt() puts a run that runs elsewhere already in running, without a job', async () => {
    const { queue, shared } = setUp();
    let started = false;
    const done = deferred();
    queue.adopt('x', () => {
      started = true;
      return done.promise;
    });
    expect(started).toBe(true);
    expect(queue.running()).toEqual(['x']);
    expect(queue.waiting()).toEqual([]);
    expect(queue.started('x')).toBe(false);
    done.resolve();
    await queue.whenNoneRunning();
    await shared.idle();
    expect(shared.calls.filter((call) => call.startsWith('add'))).toEqual([]);
  });

  it('reports a failed add to onError with the run id, and goes on with the next', async () => {
    const shared = recordingShared();
    const failing: SharedQueue = {
      ...shared,
      add: (run) =>
        run.id === 'bad' ? Promise.reject(new Error('redis said no')) : shared.add(run),
    };
    const errors: [unknown, string | null][] = [];
    const queue = createMirroredQueue({
      shared: failing,
      concurrency: 1,
      onError: (error, runId) => errors.push([error, runId]),
    });
    enqueue(queue, 'bad');
    enqueue(queue, 'good');
    await shared.idle();
    expect(errors).toHaveLength(1);
    expect(errors[0]?.[1]).toBe('bad');
    expect(String(errors[0]?.[0])).toMatch(/redis said no/);
    expect(shared.calls).toContain('added good');
  });
});
