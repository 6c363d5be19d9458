import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { RunEvent } from '@runbox/executor';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DATABASE_FILE_NAME } from './open-database.ts';
import type { Store } from './store.ts';
import {
  completedResult,
  makeTestDir,
  openTestStore,
  outputEvent,
  snippetRun,
  type TestDir,
} from './store-test-fixtures.ts';

let tmp: TestDir;
let store: Store;

beforeEach(() => {
  tmp = makeTestDir();
  ({ store } = openTestStore(tmp.dir, { now: () => 5_000 }));
});
afterEach(() => {
  store.close();
  tmp.remove();
});

const CALLBACK = { url: 'https://hooks.example.org/runbox', secretId: 'server' };

function endEvent(seq: number, overrides = {}): RunEvent {
  return {
    seq,
    at: 1_900,
    type: 'end',
    result: completedResult({ value: { sum: 45 }, ...overrides }),
  };
}

describe('the outbox', () => {
  it('enqueues a delivery with the end, in the same write, only for runs with a callback', () => {
    store.insertRun(snippetRun({ id: 'with', callback: CALLBACK }));
    store.insertRun(snippetRun({ id: 'without' }));
    for (const id of ['with', 'without']) {
      store.appendEvent(id, outputEvent(1, 'hi'));
      expect(store.outbox.ofRun(id)).toEqual([]);
      store.appendEvent(id, endEvent(2));
    }
    // Buffered: neither the end nor the delivery is written yet.
    expect(store.outbox.ofRun('with')).toEqual([]);
    store.flush();
    expect(store.outbox.ofRun('without')).toEqual([]);
    const [delivery, more] = store.outbox.ofRun('with');
    expect(more).toBeUndefined();
    expect(delivery).toMatchObject({
      runId: 'with',
      eventType: 'run.ended',
      url: CALLBACK.url,
      secretId: 'server',
      state: 'pending',
      attempts: 0,
      createdAt: 5_000,
      nextAttemptAt: 5_000,
    });
    expect(delivery?.id).toMatch(/^msg_[A-Za-z0-9_-]{22}$/);
    expect(delivery?.summary).toMatchObject({
      id: 'with',
      kind: 'snippet',
      language: 'python',
      state: 'completed',
      exitCode: 0,
      durationMs: 800,
      usage: { cpuMs: 120, peakMemoryBytes: 10_000_000 },
      queuedAt: 1_000,
      startedAt: 1_100,
      finishedAt: 1_900,
      value: { sum: 45 },
    });
    expect(store.outbox.counts()).toEqual({
      pending: 1,
      delivered: 0,
      failed: 0,
      gone: 0,
      refused: 0,
    });
  });

  it('stores the callback with the run: a failed run insert leaves no callback behind', () => {
    store.insertRun(snippetRun({ id: 'r1', callback: CALLBACK }));
    expect(() => store.insertRun(snippetRun({ id: 'r1', callback: CALLBACK }))).toThrow();
    const db = new DatabaseSync(join(tmp.dir, DATABASE_FILE_NAME), { readOnly: true });
    try {
      expect(db.prepare('SELECT run_id, url, secret_id FROM run_callbacks').all()).toEqual([
        { run_id: 'r1', url: CALLBACK.url, secret_id: 'server' },
      ]);
    } finally {
      db.close();
    }
  });

  it('enqueues the end crash recovery gives a run that was running, once', () => {
    store.insertRun(snippetRun({ id: 'r1', callback: CALLBACK }));
    store.updateRun('r1', { state: 'running', startedAt: 1_100 });
    store.appendEvent('r1', outputEvent(1, 'half'));
    store.flush();
    store.close();
    ({ store } = openTestStore(tmp.dir, { now: () => 7_000 }));
    expect(store.recoverAfterCrash().interrupted).toEqual(['r1']);
    // Recovering again (another restart) adds no second delivery.
    store.recoverAfterCrash();
    const deliveries = store.outbox.ofRun('r1');
    expect(deliveries).toHaveLength(1);
    expect(deliveries[0]?.summary).toMatchObject({ id: 'r1', state: 'interrupted' });
    expect(deliveries[0]?.createdAt).toBe(7_000);
  });

  it('records attempts, retries, an end state, and a redelivery that starts a new round', () => {
    store.insertRun(snippetRun({ id: 'r1', callback: CALLBACK }));
    store.appendEvent('r1', endEvent(1));
    store.flush();
    const id = store.outbox.ofRun('r1')[0]?.id ?? '';
    expect(store.outbox.due(5_000, 10, new Set()).map((d) => d.id)).toEqual([id]);
    expect(store.outbox.due(5_000, 10, new Set([id]))).toEqual([]);
    expect(store.outbox.nextDueAt(new Set())).toBe(5_000);

    const failed = store.outbox.recordAttempt(id, {
      at: 5_100,
      address: '203.0.113.7',
      status: 503,
      outcome: 'failed',
      error: 'HTTP 503',
      durationMs: 12,
      state: 'pending',
      nextAttemptAt: 10_100,
    });
    expect(failed).toMatchObject({
      state: 'pending',
      attempts: 1,
      roundAttempts: 1,
      lastStatus: 503,
      lastError: 'HTTP 503',
      lastAttemptAt: 5_100,
      nextAttemptAt: 10_100,
    });
    expect(store.outbox.due(10_000, 10, new Set())).toEqual([]);
    expect(store.outbox.nextDueAt(new Set())).toBe(10_100);

    const done = store.outbox.recordAttempt(id, {
      at: 10_200,
      address: '203.0.113.7',
      status: 204,
      outcome: 'delivered',
      error: null,
      durationMs: 8,
      state: 'delivered',
      nextAttemptAt: null,
    });
    expect(done).toMatchObject({ state: 'delivered', attempts: 2, deliveredAt: 10_200 });
    expect(done?.nextAttemptAt).toBeNull();
    expect(store.outbox.nextDueAt(new Set())).toBeNull();
    expect(store.outbox.attemptsOf(id)).toEqual([
      {
        n: 1,
        at: 5_100,
        address: '203.0.113.7',
        status: 503,
        outcome: 'failed',
        error: 'HTTP 503',
        durationMs: 12,
      },
      {
        n: 2,
        at: 10_200,
        address: '203.0.113.7',
        status: 204,
        outcome: 'delivered',
        error: null,
        durationMs: 8,
      },
    ]);

    const again = store.outbox.redeliver(id, 20_000);
    expect(again).toMatchObject({
      id,
      state: 'pending',
      attempts: 2,
      roundAttempts: 0,
      roundStartedAt: 20_000,
      nextAttemptAt: 20_000,
    });
    // Pending already: a second redelivery changes nothing.
    expect(store.outbox.redeliver(id, 30_000)).toMatchObject({ roundStartedAt: 20_000 });
    expect(store.outbox.redeliver('msg_unknown', 30_000)).toBeNull();
    expect(
      store.outbox.recordAttempt('msg_unknown', {
        at: 1,
        address: null,
        status: null,
        outcome: 'failed',
        error: null,
        durationMs: 0,
        state: 'failed',
        nextAttemptAt: null,
      }),
    ).toBeNull();
  });

  it("lists every run's deliveries newest first, by state, in pages", () => {
    for (const [index, id] of ['a', 'b', 'c'].entries()) {
      ({ store } = reopenAt(5_000 + index));
      store.insertRun(snippetRun({ id, callback: CALLBACK }));
      store.appendEvent(id, endEvent(1));
      store.flush();
    }
    const all = store.outbox.list({ limit: 10 });
    expect(all.map((d) => d.runId)).toEqual(['c', 'b', 'a']);
    const page = store.outbox.list({ limit: 2 });
    const last = page.at(-1);
    expect(page.map((d) => d.runId)).toEqual(['c', 'b']);
    expect(
      store.outbox
        .list({ limit: 2, before: { createdAt: last?.createdAt ?? 0, id: last?.id ?? '' } })
        .map((d) => d.runId),
    ).toEqual(['a']);
    const first = all[2]?.id ?? '';
    store.outbox.recordAttempt(first, {
      at: 6_000,
      address: null,
      status: null,
      outcome: 'refused',
      error: 'x',
      durationMs: 0,
      state: 'refused',
      nextAttemptAt: null,
    });
    expect(store.outbox.list({ limit: 10, states: ['refused'] }).map((d) => d.runId)).toEqual([
      'a',
    ]);
    expect(store.outbox.list({ limit: 10, states: ['pending'] }).map((d) => d.runId)).toEqual([
      'c',
      'b',
    ]);
  });
});

function reopenAt(now: number): { store: Store } {
  store.close();
  return openTestStore(tmp.dir, { now: () => now });
}
