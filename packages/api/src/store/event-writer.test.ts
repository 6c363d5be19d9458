import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import type { Artifact, RunEvent } from '@runbox/executor';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DATABASE_FILE_NAME } from './open-database.ts';
import type { Store } from './store.ts';
import { EventWriteError, type StoreReportedError } from './store-errors.ts';
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
let reported: StoreReportedError[];

beforeEach(() => {
  tmp = makeTestDir();
});
afterEach(() => {
  store.close();
  tmp.remove();
});

function open(
  events: { maxBatchEvents?: number; maxDelayMs?: number; unknownRunGraceMs?: number } = {},
  busyTimeoutMs?: number,
): void {
  ({ store, reported } = openTestStore(tmp.dir, {
    events,
    ...(busyTimeoutMs !== undefined ? { busyTimeoutMs } : {}),
  }));
}

/** What another connection sees: the committed rows only. */
function committed(runId: string): { count: number; lastSeq: number | null } {
  const db = new DatabaseSync(join(tmp.dir, DATABASE_FILE_NAME));
  try {
    const count = db.prepare('SELECT COUNT(*) AS n FROM run_events WHERE run_id = ?').get(runId)?.n;
    const lastSeq = db.prepare('SELECT last_seq FROM runs WHERE id = ?').get(runId)?.last_seq;
    return {
      count: typeof count === 'number' ? count : -1,
      lastSeq: typeof lastSeq === 'number' ? lastSeq : null,
    };
  } finally {
    db.close();
  }
}

function appendOutput(runId: string, from: number, to: number): void {
  for (let seq = from; seq <= to; seq++) store.appendEvent(runId, outputEvent(seq, `line ${seq}`));
}

function seqs(events: RunEvent[]): number[] {
  return events.map((event) => event.seq);
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

describe('event batching', () => {
  it('writes 10,000 events in full batches and reads them back complete and in order', () => {
    open({ maxBatchEvents: 500, maxDelayMs: 60_000 });
    store.insertRun(snippetRun({ id: 'r1' }));
    appendOutput('r1', 1, 9_999);
    // 19 full batches are written; the 499 after them wait for the 500th.
    expect(committed('r1')).toEqual({ count: 9_500, lastSeq: 9_500 });
    // A reader sees the buffered tail too.
    const before = store.readEvents('r1', 0, 10_000);
    expect(seqs(before)).toEqual(range(1, 9_999));
    appendOutput('r1', 10_000, 10_000);
    expect(committed('r1')).toEqual({ count: 10_000, lastSeq: 10_000 });

    const events = store.readEvents('r1', 0, 10_000);
    expect(seqs(events)).toEqual(range(1, 10_000));
    expect(events[41]).toEqual(outputEvent(42, 'line 42'));
    expect(store.getRun('r1')?.lastSeq).toBe(10_000);
  });

  it('writes a partial batch after the delay', async () => {
    open({ maxBatchEvents: 500, maxDelayMs: 30 });
    store.insertRun(snippetRun({ id: 'r1' }));
    appendOutput('r1', 1, 7);
    expect(committed('r1').count).toBe(0);
    await sleep(150);
    expect(committed('r1')).toEqual({ count: 7, lastSeq: 7 });
  });

  it('merges stored and buffered events with no gap and no duplicate, whatever the window', () => {
    open({ maxBatchEvents: 10, maxDelayMs: 60_000 });
    store.insertRun(snippetRun({ id: 'r1' }));
    appendOutput('r1', 1, 25);
    expect(committed('r1').count).toBe(20);
    for (const afterSeq of [0, 5, 19, 20, 21, 24, 25, 30]) {
      for (const limit of [1, 3, 10, 100]) {
        const expected = range(afterSeq + 1, 25).slice(0, limit);
        expect(seqs(store.readEvents('r1', afterSeq, limit))).toEqual(expected);
      }
    }
    expect(store.readEvents('other-run', 0, 10)).toEqual([]);
  });

  it('keeps events across close and reopen (close writes the buffer)', () => {
    open({ maxBatchEvents: 500, maxDelayMs: 60_000 });
    store.insertRun(snippetRun({ id: 'r1' }));
    store.appendEvent('r1', { seq: 1, at: 10, type: 'state', state: 'queued' });
    store.appendEvent('r1', {
      seq: 2,
      at: 11,
      type: 'position',
      position: 1,
      running: 0,
      concurrency: 2,
      estimatedWaitMs: 0,
    });
    appendOutput('r1', 3, 4);
    store.appendEvent('r1', {
      seq: 5,
      at: 15,
      type: 'truncated',
      reason: 'lines',
      limit: 4,
      droppedBytes: 0,
    });
    store.appendEvent('r1', { seq: 6, at: 16, type: 'usage', cpuMs: 3, memoryBytes: 4_096 });
    const before = store.readEvents('r1', 0, 100);
    store.close();
    open();
    expect(store.readEvents('r1', 0, 100)).toEqual(before);
    expect(store.getRun('r1')?.lastSeq).toBe(6);
  });

  it('applies an end event to the run row in the same transaction, artifacts included', () => {
    open({ maxBatchEvents: 500, maxDelayMs: 60_000 });
    store.insertRun(snippetRun({ id: 'r1' }));
    const artifact: Artifact = {
      path: 'out.txt',
      kind: 'file',
      size: 2,
      sha256: 'cd'.repeat(32),
      mediaType: 'text/plain',
    };
    const result = completedResult({ artifacts: [artifact], value: 'done' });
    store.appendEvent('r1', { seq: 1, at: 1, type: 'state', state: 'completed' });
    store.appendEvent('r1', { seq: 2, at: 2, type: 'end', result });
    expect(store.getRun('r1')?.state).toBe('queued');
    store.flush();
    expect(store.getRun('r1')).toMatchObject({
      state: 'completed',
      finishedAt: 1_900,
      value: 'done',
      lastSeq: 2,
    });
    expect(store.listArtifacts('r1')).toEqual([artifact]);
    expect(store.readEvents('r1', 1, 10)).toEqual([{ seq: 2, at: 2, type: 'end', result }]);
  });

  it('holds events of a run that is stored just after its first event', () => {
    open({ maxBatchEvents: 3, maxDelayMs: 60_000 });
    // The executor emits `queued` inside submit; the API may store the run once submit returns.
    appendOutput('late', 1, 5);
    expect(store.readEvents('late', 0, 10).map((e) => e.seq)).toEqual(range(1, 5));
    store.insertRun(snippetRun({ id: 'late' }));
    store.flush();
    expect(committed('late')).toEqual({ count: 5, lastSeq: 5 });
    expect(reported).toEqual([]);
  });

  it('drops and reports events of a run that never appears', () => {
    open({ maxBatchEvents: 500, maxDelayMs: 60_000, unknownRunGraceMs: 0 });
    store.insertRun(snippetRun({ id: 'known' }));
    appendOutput('ghost', 1, 3);
    appendOutput('known', 1, 2);
    store.flush();
    expect(committed('known').count).toBe(2);
    expect(reported).toHaveLength(1);
    const error = reported[0];
    expect(error).toBeInstanceOf(EventWriteError);
    expect(error).toMatchObject({ runId: 'ghost', seqs: [1, 2, 3], kept: false });
    expect(store.readEvents('ghost', 0, 10)).toEqual([]);
  });

  it('drops only the duplicates of a batch and reports them', () => {
    open({ maxBatchEvents: 500, maxDelayMs: 60_000 });
    store.insertRun(snippetRun({ id: 'r1' }));
    appendOutput('r1', 1, 3);
    store.flush();
    store.appendEvent('r1', outputEvent(2, 'second time'));
    appendOutput('r1', 4, 5);
    store.flush();
    expect(committed('r1')).toEqual({ count: 5, lastSeq: 5 });
    expect(store.readEvents('r1', 1, 1)).toEqual([outputEvent(2, 'line 2')]);
    expect(reported).toHaveLength(1);
    expect(reported[0]).toMatchObject({ code: 'EVENT_WRITE_FAILED', runId: 'r1', seqs: [2] });
  });

  it('keeps a batch the database refused as a whole, and writes it once it can', async () => {
    open({ maxBatchEvents: 5, maxDelayMs: 10 }, 20);
    store.insertRun(snippetRun({ id: 'r1' }));
    const other = new DatabaseSync(join(tmp.dir, DATABASE_FILE_NAME));
    other.exec('BEGIN IMMEDIATE');
    appendOutput('r1', 1, 12);
    await sleep(100);
    expect(reported.length).toBeGreaterThan(0);
    expect(reported.every((e) => e.code === 'EVENT_WRITE_FAILED' && e.kept)).toBe(true);
    // Nothing is lost for a reader meanwhile.
    expect(seqs(store.readEvents('r1', 0, 100))).toEqual(range(1, 12));
    expect(() => store.flush()).toThrow(EventWriteError);
    other.exec('ROLLBACK');
    other.close();
    const deadline = Date.now() + 5_000;
    while (committed('r1').count < 12 && Date.now() < deadline) await sleep(20);
    expect(committed('r1')).toEqual({ count: 12, lastSeq: 12 });
  });

  it('writes a meta note with the events appended before it, or neither', async () => {
    open({ maxBatchEvents: 1_000, maxDelayMs: 10 }, 20);
    store.insertRun(snippetRun({ id: 'r1' }));
    const other = new DatabaseSync(join(tmp.dir, DATABASE_FILE_NAME));
    other.exec('BEGIN IMMEDIATE');
    appendOutput('r1', 1, 3);
    store.noteMeta('cursor', '17-0');
    expect(() => store.flush()).toThrow(EventWriteError);
    // The refused batch took the note with it: another connection sees neither.
    const seen = (): unknown =>
      other.prepare("SELECT value FROM store_meta WHERE key = 'cursor'").get()?.value ?? null;
    expect(seen()).toBe(null);
    expect(committed('r1').count).toBe(0);
    other.exec('ROLLBACK');
    const deadline = Date.now() + 5_000;
    while (committed('r1').count < 3 && Date.now() < deadline) await sleep(20);
    expect(committed('r1')).toEqual({ count: 3, lastSeq: 3 });
    expect(seen()).toBe('17-0');
    other.close();
    // A newer note replaces it, alone if no event came.
    store.noteMeta('cursor', '18-4');
    store.flush();
    store.close();
    open();
    expect(store.readMeta('cursor')).toBe('18-4');
    expect(store.readMeta('nothing')).toBe(null);
  });
});

// Runs in its own thread, with its own connection, while the main thread writes.
const READER = `
const { parentPort, workerData } = require('node:worker_threads');
const { DatabaseSync } = require('node:sqlite');
// timeout 0: a reader that had to wait for the writer would fail at once.
const db = new DatabaseSync(workerData.file, { timeout: 0 });
const read = db.prepare('SELECT COUNT(*) AS n, COALESCE(MAX(seq), 0) AS last FROM run_events WHERE run_id = ?');
const stop = new Int32Array(workerData.stop);
const seen = new Set();
let reads = 0;
let problem = null;
let previous = 0;
while (Atomics.load(stop, 0) === 0 && problem === null) {
  try {
    const { n, last } = read.get(workerData.runId);
    reads += 1;
    if (n !== last) problem = 'gap: ' + n + ' rows up to seq ' + last;
    else if (n % workerData.batch !== 0) problem = 'a batch seen half-written: ' + n;
    else if (n < previous) problem = 'went back from ' + previous + ' to ' + n;
    previous = n;
    seen.add(n);
  } catch (error) {
    problem = String(error);
  }
}
db.close();
parentPort.postMessage({ reads, distinct: seen.size, problem });
`;

describe('WAL', () => {
  it('lets another thread read while batches are written: never blocked, never half a batch', async () => {
    open({ maxBatchEvents: 500, maxDelayMs: 60_000 });
    store.insertRun(snippetRun({ id: 'r1' }));
    const stop = new SharedArrayBuffer(4);
    const worker = new Worker(READER, {
      eval: true,
      workerData: { file: store.file, runId: 'r1', batch: 500, stop },
    });
    const done = new Promise<{ reads: number; distinct: number; problem: string | null }>(
      (resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      },
    );
    await sleep(50);
    for (let block = 0; block < 40; block++) {
      appendOutput('r1', block * 1_000 + 1, (block + 1) * 1_000);
      await sleep(2);
    }
    await sleep(20);
    Atomics.store(new Int32Array(stop), 0, 1);
    const outcome = await done;
    await worker.terminate();
    expect(outcome.problem).toBeNull();
    expect(outcome.reads).toBeGreaterThan(10);
    expect(outcome.distinct).toBeGreaterThan(2);
    expect(committed('r1').count).toBe(40_000);
  });
});

describe('throughput', () => {
  it('measures 100,000 event appends with batching (printed, not asserted)', () => {
    open();
    store.insertRun(snippetRun({ id: 'bench' }));
    const text = 'x'.repeat(60);
    const started = performance.now();
    for (let seq = 1; seq <= 100_000; seq++) store.appendEvent('bench', outputEvent(seq, text));
    store.flush();
    const batchedMs = performance.now() - started;

    store.insertRun(snippetRun({ id: 'one-by-one' }));
    store.close();
    open({ maxBatchEvents: 1 });
    const unbatchedStarted = performance.now();
    for (let seq = 1; seq <= 5_000; seq++) store.appendEvent('one-by-one', outputEvent(seq, text));
    const unbatchedMs = performance.now() - unbatchedStarted;

    const readStarted = performance.now();
    let read = 0;
    for (let after = 0; after < 100_000; after += 1_000) {
      read += store.readEvents('bench', after, 1_000).length;
    }
    const readMs = performance.now() - readStarted;
    expect(read).toBe(100_000);
    console.log(
      `[store bench] 100,000 appends, batches of 500: ${batchedMs.toFixed(0)} ms ` +
        `(${((batchedMs * 1_000) / 100_000).toFixed(1)} µs/event); ` +
        `one transaction per event: ${((unbatchedMs * 1_000) / 5_000).toFixed(1)} µs/event; ` +
        `reading them back in pages of 1,000: ${readMs.toFixed(0)} ms`,
    );
  }, 120_000);
});
