import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { RunEvent } from '@runbox/executor';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DATABASE_FILE_NAME } from './open-database.ts';
import { INTERRUPTED_MESSAGE, UNREADABLE_REQUEST_MESSAGE } from './recover-after-crash.ts';
import type { Store } from './store.ts';
import type { StoreReportedError } from './store-errors.ts';
import {
  completedResult,
  makeTestDir,
  openTestStore,
  snippetRun,
  toolRun,
  type TestDir,
} from './store-test-fixtures.ts';

let tmp: TestDir;
let store: Store;
let reported: StoreReportedError[];

beforeEach(() => {
  tmp = makeTestDir();
  ({ store, reported } = openTestStore(tmp.dir, { now: () => 5_000 }));
});
afterEach(() => {
  store.close();
  tmp.remove();
});

/** A restart: the old store goes away (its buffer written), a new one opens the same file. */
function restart(): void {
  store.close();
  ({ store, reported } = openTestStore(tmp.dir, { now: () => 9_000 }));
}

function raw(sql: string): void {
  const db = new DatabaseSync(join(tmp.dir, DATABASE_FILE_NAME));
  db.exec('PRAGMA ignore_check_constraints = ON');
  db.exec(sql);
  db.close();
}

function output(seq: number, stream: 'stdout' | 'stderr', text: string, partial = false): RunEvent {
  return { seq, at: 1_000 + seq * 10, type: 'output', stream, text, partial, continuation: false };
}

function seedRunning(): void {
  store.insertRun(snippetRun({ id: 'running-1', queuedAt: 1_000 }));
  store.updateRun('running-1', { state: 'running', startedAt: 1_050 });
  const events: RunEvent[] = [
    { seq: 1, at: 1_000, type: 'state', state: 'queued' },
    {
      seq: 2,
      at: 1_001,
      type: 'position',
      position: 1,
      running: 0,
      concurrency: 1,
      estimatedWaitMs: 0,
    },
    { seq: 3, at: 1_050, type: 'state', state: 'running' },
    output(4, 'stdout', 'héllo'),
    { seq: 5, at: 1_100, type: 'usage', cpuMs: 40, memoryBytes: 9_000 },
    output(6, 'stderr', 'oops'),
    output(7, 'stdout', 'no newline yet', true),
    { seq: 8, at: 1_250, type: 'usage', cpuMs: 90, memoryBytes: 7_000 },
  ];
  for (const event of events) store.appendEvent('running-1', event);

  store.insertRun(toolRun({ id: 'running-2', toolId: 'ruff', queuedAt: 1_500 }));
  store.updateRun('running-2', { state: 'running', startedAt: 1_600 });
}

describe('recoverAfterCrash', () => {
  it('ends running runs as interrupted, with a state and an end event after the last seq', () => {
    seedRunning();
    restart();
    const outcome = store.recoverAfterCrash();
    expect(outcome.interrupted).toEqual(['running-1', 'running-2']);

    const run = store.getRun('running-1');
    expect(run).toMatchObject({
      state: 'interrupted',
      startedAt: 1_050,
      finishedAt: 9_000,
      error: INTERRUPTED_MESSAGE,
      durationMs: 1_250 - 1_050,
      usage: { cpuMs: 90, peakMemoryBytes: 9_000 },
      // 'héllo' is 6 bytes + newline, 'oops' 4 + newline, the partial line 14 without one.
      outputBytes: { stdout: 7 + 14, stderr: 5 },
      outputLines: 3,
      lastSeq: 10,
    });

    const tail = store.readEvents('running-1', 8, 10);
    expect(tail).toEqual([
      { seq: 9, at: 9_000, type: 'state', state: 'interrupted' },
      {
        seq: 10,
        at: 9_000,
        type: 'end',
        result: {
          state: 'interrupted',
          exitCode: null,
          signal: null,
          queuedAt: 1_000,
          startedAt: 1_050,
          finishedAt: 9_000,
          durationMs: 200,
          usage: { cpuMs: 90, peakMemoryBytes: 9_000 },
          warnings: [],
          error: INTERRUPTED_MESSAGE,
          outputBytes: { stdout: 21, stderr: 5 },
          outputLines: 3,
          artifacts: [],
        },
      },
    ]);
    expect(store.readEvents('running-1', 0, 100).map((e) => e.seq)).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
    ]);

    // A run with no events at all starts its stream at 1.
    expect(store.readEvents('running-2', 0, 10).map((e) => e.type)).toEqual(['state', 'end']);
    expect(store.getRun('running-2')).toMatchObject({ state: 'interrupted', lastSeq: 2 });
    expect(reported).toEqual([]);
  });

  it('hands back queued runs in the order they were queued, their old events cleared', () => {
    store.insertRun(snippetRun({ id: 'q-late', queuedAt: 3_000, owner: 'bob' }));
    store.insertProject({
      id: 'p1',
      owner: 'alice',
      name: 'p',
      source: 'example',
      dir: '/ex/p',
      fileCount: 1,
      totalBytes: 1,
    });
    store.insertRun(
      toolRun({ id: 'q-early', toolId: 'eslint', queuedAt: 1_000, priority: 5, projectId: 'p1' }),
    );
    store.insertRun(snippetRun({ id: 'q-middle', queuedAt: 2_000 }));
    store.appendEvent('q-middle', { seq: 1, at: 2_000, type: 'state', state: 'queued' });
    store.appendEvent('q-middle', {
      seq: 2,
      at: 2_001,
      type: 'position',
      position: 2,
      running: 1,
      concurrency: 1,
      estimatedWaitMs: 500,
    });
    restart();
    const outcome = store.recoverAfterCrash();
    expect(outcome.requeue.map((entry) => entry.id)).toEqual(['q-early', 'q-middle', 'q-late']);
    expect(outcome.requeue[0]).toEqual({
      id: 'q-early',
      owner: 'alice',
      projectId: 'p1',
      request: { kind: 'tool', toolId: 'eslint', projectDir: '/srv/runbox/projects/p1' },
      priority: 5,
      queuedAt: 1_000,
      lastSeq: 0,
    });
    expect(outcome.requeue[2]?.owner).toBe('bob');
    // The resubmitted run numbers its events from 1 again; the old ones would collide.
    expect(store.readEvents('q-middle', 0, 10)).toEqual([]);
    expect(store.getRun('q-middle')).toMatchObject({ state: 'queued', lastSeq: 0 });
    store.appendEvent('q-middle', { seq: 1, at: 9_001, type: 'state', state: 'queued' });
    store.flush();
    expect(reported).toEqual([]);
  });

  it('keeps queued runs’ events when asked to', () => {
    store.insertRun(snippetRun({ id: 'q' }));
    store.appendEvent('q', { seq: 1, at: 2_000, type: 'state', state: 'queued' });
    restart();
    const outcome = store.recoverAfterCrash({ keepQueuedEvents: true });
    expect(outcome.requeue).toMatchObject([{ id: 'q', lastSeq: 1 }]);
    expect(store.readEvents('q', 0, 10)).toHaveLength(1);
  });

  it('with keepRunning, leaves running runs running and hands them back to follow', () => {
    seedRunning();
    restart();
    const outcome = store.recoverAfterCrash({ keepRunning: true });
    expect(outcome.interrupted).toEqual([]);
    expect(outcome.resume).toMatchObject([
      { id: 'running-1', startedAt: 1_050, lastSeq: 8 },
      { id: 'running-2', lastSeq: 0 },
    ]);
    expect(store.getRun('running-1')).toMatchObject({ state: 'running', lastSeq: 8 });
    expect(store.readEvents('running-1', 0, 100).map((e) => e.seq)).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8,
    ]);
  });

  it('settles, repairs and fails the runs a crash left half-written', () => {
    // The end event made it to disk but the row says running (written by something else later).
    store.insertRun(snippetRun({ id: 'settled', queuedAt: 1_000 }));
    store.updateRun('settled', { state: 'running', startedAt: 1_100 });
    store.appendEvent('settled', { seq: 1, at: 1_900, type: 'end', result: completedResult() });
    store.flush();
    raw("UPDATE runs SET state = 'running' WHERE id = 'settled'");

    // The row ended, but the process died before the batch with the end event was written.
    store.insertRun(snippetRun({ id: 'no-end', queuedAt: 1_100 }));
    store.appendEvent('no-end', { seq: 1, at: 1_100, type: 'state', state: 'queued' });
    store.flush();
    store.updateRun('no-end', { result: completedResult({ state: 'failed', exitCode: 3 }) });

    // A queued run whose request does not read back cannot be queued again.
    store.insertRun(snippetRun({ id: 'unreadable', queuedAt: 1_200 }));
    raw(`UPDATE runs SET request = '{"kind":' WHERE id = 'unreadable'`);

    restart();
    const outcome = store.recoverAfterCrash();
    expect(outcome).toEqual({
      interrupted: [],
      resume: [],
      requeue: [],
      settled: ['settled'],
      repaired: ['no-end'],
      failed: ['unreadable'],
    });
    expect(store.getRun('settled')).toMatchObject({ state: 'completed', finishedAt: 1_900 });

    expect(store.readEvents('no-end', 0, 10)).toMatchObject([
      { seq: 1, type: 'state', state: 'queued' },
      { seq: 2, type: 'state', state: 'failed' },
      { seq: 3, type: 'end', result: { state: 'failed', exitCode: 3, finishedAt: 1_900 } },
    ]);

    expect(store.getRun('unreadable')).toMatchObject({
      state: 'error',
      error: UNREADABLE_REQUEST_MESSAGE,
      damaged: ['request'],
    });
    expect(store.readEvents('unreadable', 0, 10).map((e) => e.type)).toEqual(['state', 'end']);
    expect(reported.every((e) => e.code === 'CORRUPT_COLUMN')).toBe(true);
  });

  it('changes nothing the second time', () => {
    seedRunning();
    store.insertRun(snippetRun({ id: 'q', queuedAt: 4_000 }));
    restart();
    store.recoverAfterCrash();
    const events = store.readEvents('running-1', 0, 100);
    const again = store.recoverAfterCrash();
    expect(again).toMatchObject({ interrupted: [], settled: [], repaired: [], failed: [] });
    expect(again.requeue.map((entry) => entry.id)).toEqual(['q']);
    expect(store.readEvents('running-1', 0, 100)).toEqual(events);
  });
});
