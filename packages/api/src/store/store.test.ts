import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { RunNotFoundError, type Artifact } from '@runbox/executor';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DATABASE_FILE_NAME } from './open-database.ts';
import type { RunCursor } from './run-filter.ts';
import type { StoredRun } from './run-row.ts';
import type { Store } from './store.ts';
import {
  CorruptColumnError,
  InvalidStoreArgumentError,
  RunAlreadyEndedError,
  StoreClosedError,
  StoreConstraintError,
  type StoreReportedError,
} from './store-errors.ts';
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

function reopen(): void {
  store.close();
  ({ store, reported } = openTestStore(tmp.dir, { now: () => 6_000 }));
}

/** Writes straight into the file, as a bug, an old version or a hand edit might. */
function tamper(sql: string, ...params: (string | number)[]): void {
  const db = new DatabaseSync(join(tmp.dir, DATABASE_FILE_NAME));
  // Bypasses the json_valid CHECKs, which is the point.
  db.exec('PRAGMA ignore_check_constraints = ON');
  db.prepare(sql).run(...params);
  db.close();
}

describe('projects', () => {
  it('are inserted, read back and listed per owner, newest first', () => {
    const base = {
      source: 'upload',
      dir: '/data/projects/x',
      fileCount: 3,
      totalBytes: 42,
    } as const;
    const p1 = store.insertProject({ id: 'p1', owner: 'alice', name: 'one', ...base });
    expect(p1).toEqual({ id: 'p1', owner: 'alice', name: 'one', ...base, createdAt: 5_000 });
    store.insertProject({ id: 'p2', owner: 'alice', name: 'two', ...base, createdAt: 9_000 });
    store.insertProject({ id: 'p3', owner: 'bob', name: 'three', ...base, source: 'example' });
    expect(store.getProject('p3')?.source).toBe('example');
    expect(store.getProject('nope')).toBeNull();
    expect(store.listProjects('alice').map((p) => p.id)).toEqual(['p2', 'p1']);
    expect(store.listProjects('carol')).toEqual([]);
    expect(() => store.insertProject({ id: 'p1', owner: 'x', name: 'dup', ...base })).toThrow(
      StoreConstraintError,
    );
  });
});

describe('runs', () => {
  it('are inserted with their request, limits and warnings, and survive a reopen', () => {
    store.insertProject({
      id: 'p1',
      owner: 'alice',
      name: 'proj',
      source: 'upload',
      dir: '/d',
      fileCount: 1,
      totalBytes: 1,
    });
    const warnings = [{ check: 'secrets', message: 'looks like a key', line: 3, rule: 'aws' }];
    const inserted = store.insertRun(
      snippetRun({ id: 'r1', priority: 2, warnings, queuedAt: 1_234.4 }),
    );
    store.insertRun(toolRun({ id: 'r2', toolId: 'eslint', projectId: 'p1' }));
    expect(inserted).toMatchObject({
      id: 'r1',
      owner: 'alice',
      kind: 'snippet',
      language: 'python',
      toolId: null,
      projectId: null,
      request: { kind: 'snippet', language: 'python', code: 'print("hi")\n' },
      state: 'queued',
      priority: 2,
      queuedAt: 1_234,
      startedAt: null,
      finishedAt: null,
      usage: null,
      outputBytes: null,
      warnings,
      lastSeq: 0,
      damaged: [],
    });
    expect(inserted).not.toHaveProperty('value');
    reopen();
    expect(store.getRun('r1')).toEqual(inserted);
    expect(store.getRun('r2')).toMatchObject({ kind: 'tool', toolId: 'eslint', projectId: 'p1' });
    expect(store.getRun('missing')).toBeNull();
    expect(() => store.insertRun(snippetRun({ id: 'r1' }))).toThrow(StoreConstraintError);
  });

  it('take a patch, then a result, and an ended run stays ended', () => {
    store.insertRun(snippetRun({ id: 'r1' }));
    expect(store.updateRun('r1', { state: 'running', startedAt: 1_100 })).toMatchObject({
      state: 'running',
      startedAt: 1_100,
    });
    const result = completedResult({
      value: { answer: 42 },
      warnings: [{ check: 'result', message: 'trimmed' }],
      outputBytes: { stdout: 10, stderr: 4 },
      outputLines: 3,
    });
    const ended = store.updateRun('r1', { result });
    expect(ended).toMatchObject({
      state: 'completed',
      startedAt: 1_100,
      finishedAt: 1_900,
      exitCode: 0,
      signal: null,
      durationMs: 800,
      usage: { cpuMs: 120, peakMemoryBytes: 10_000_000 },
      warnings: result.warnings,
      error: null,
      value: { answer: 42 },
      outputBytes: { stdout: 10, stderr: 4 },
      outputLines: 3,
    });
    // A value of null is a value, and it is kept as one.
    store.insertRun(snippetRun({ id: 'r2' }));
    expect(store.updateRun('r2', { result: completedResult({ value: null }) })).toHaveProperty(
      'value',
      null,
    );

    expect(() => store.updateRun('r1', { state: 'running' })).toThrow(RunAlreadyEndedError);
    expect(store.updateRun('r1', { state: 'completed', warnings: [] }).warnings).toEqual([]);
    expect(() => store.updateRun('nope', { state: 'running' })).toThrow(RunNotFoundError);
  });

  it('are counted with the same filters as they are listed', () => {
    store.insertRun(snippetRun({ id: 'a', owner: 'alice' }));
    store.insertRun(snippetRun({ id: 'b', owner: 'bob' }));
    store.insertRun(toolRun({ id: 'c', owner: 'alice', toolId: 'eslint' }));
    store.updateRun('a', { state: 'running' });
    expect(store.countRuns()).toBe(3);
    expect(store.countRuns({ owner: 'alice' })).toBe(2);
    expect(store.countRuns({ states: ['queued', 'running'] })).toBe(3);
    expect(store.countRuns({ states: ['running'] })).toBe(1);
    expect(store.countRuns({ states: [] })).toBe(0);
    expect(store.countRuns({ owner: 'alice', toolId: 'eslint' })).toBe(1);
    expect(store.countRuns({ language: 'python' })).toBe(2);
  });
});

describe('listRuns', () => {
  function seed(): void {
    // 30 runs; queued_at repeats so that the cursor's tie-break on id matters.
    for (let i = 0; i < 30; i++) {
      const id = `run-${String(i).padStart(2, '0')}`;
      const queuedAt = 10_000 + Math.floor(i / 3) * 100;
      const owner = i % 2 === 0 ? 'alice' : 'bob';
      store.insertRun(
        i % 5 === 0
          ? toolRun({ id, owner, queuedAt, toolId: i % 10 === 0 ? 'eslint' : 'ruff' })
          : snippetRun({
              id,
              owner,
              queuedAt,
              request: {
                kind: 'snippet',
                language: i % 3 === 0 ? 'bash' : 'python',
                code: 'true',
              },
            }),
      );
      if (i % 4 === 0) store.updateRun(id, { result: completedResult() });
    }
  }

  function allPages(options: Parameters<Store['listRuns']>[0]): StoredRun[][] {
    const pages: StoredRun[][] = [];
    let before: RunCursor | undefined;
    for (;;) {
      const page = store.listRuns({ ...options, ...(before ? { before } : {}) });
      pages.push(page.runs);
      if (!page.nextCursor) return pages;
      before = page.nextCursor;
    }
  }

  it('pages newest first through everything with no gap and no duplicate', () => {
    seed();
    const pages = allPages({ limit: 7 });
    expect(pages.map((p) => p.length)).toEqual([7, 7, 7, 7, 2]);
    const ids = pages.flat().map((r) => r.id);
    const expected = Array.from({ length: 30 }, (_, i) => `run-${String(i).padStart(2, '0')}`)
      .map((id, i) => ({ id, queuedAt: 10_000 + Math.floor(i / 3) * 100 }))
      .sort((a, b) => b.queuedAt - a.queuedAt || (a.id < b.id ? 1 : -1))
      .map((r) => r.id);
    expect(ids).toEqual(expected);
  });

  it('says there is no next page when the last one is exactly full', () => {
    seed();
    const page = store.listRuns({ limit: 30 });
    expect(page.runs).toHaveLength(30);
    expect(page.nextCursor).toBeNull();
  });

  it('filters by owner, states, tool and language, and pages through the filtered set', () => {
    seed();
    const alice = allPages({ owner: 'alice', limit: 4 }).flat();
    expect(alice).toHaveLength(15);
    expect(alice.every((r) => r.owner === 'alice')).toBe(true);

    const completed = allPages({ states: ['completed'], limit: 3 }).flat();
    expect(completed.map((r) => r.id).sort()).toEqual(
      ['00', '04', '08', '12', '16', '20', '24', '28'].map((n) => `run-${n}`),
    );

    const eslint = store.listRuns({ toolId: 'eslint', limit: 50 }).runs;
    expect(eslint.map((r) => r.id).sort()).toEqual(['run-00', 'run-10', 'run-20']);

    const bash = store.listRuns({ language: 'bash', owner: 'bob', limit: 50 }).runs;
    expect(bash.map((r) => r.id).sort()).toEqual(['run-03', 'run-09', 'run-21', 'run-27']);
    expect(store.countRuns({ language: 'bash', owner: 'bob' })).toBe(4);

    const queuedAlice = store.listRuns({ owner: 'alice', states: ['queued'], limit: 50 }).runs;
    expect(queuedAlice.every((r) => r.owner === 'alice' && r.state === 'queued')).toBe(true);
    expect(queuedAlice).toHaveLength(15 - 8);
  });

  it('refuses a limit out of range', () => {
    expect(() => store.listRuns({ limit: 0 })).toThrow(InvalidStoreArgumentError);
    expect(() => store.listRuns({ limit: 1.5 })).toThrow(InvalidStoreArgumentError);
    expect(() => store.listRuns({ limit: 100_000 })).toThrow(InvalidStoreArgumentError);
  });
});

describe('artifacts', () => {
  it('are stored per run, replaced by path, listed by path', () => {
    store.insertRun(snippetRun({ id: 'r1' }));
    const report: Artifact = {
      path: 'out/report.txt',
      kind: 'file',
      size: 12,
      sha256: 'ab'.repeat(32),
      mediaType: 'text/plain',
    };
    const link: Artifact = {
      path: 'escape',
      kind: 'symlink',
      size: 0,
      sha256: null,
      mediaType: 'inode/symlink',
      linkTarget: '/etc/passwd',
    };
    store.insertArtifacts('r1', [report, link]);
    store.insertArtifacts('r1', [{ ...report, size: 13 }]);
    expect(store.listArtifacts('r1')).toEqual([link, { ...report, size: 13 }]);
    expect(store.listArtifacts('other')).toEqual([]);
    expect(() => store.insertArtifacts('no-run', [report])).toThrow(StoreConstraintError);
  });
});

describe('a malformed JSON column', () => {
  it('never crashes a reader: the run comes back with the column listed as damaged', () => {
    store.insertRun(snippetRun({ id: 'good' }));
    store.insertRun(snippetRun({ id: 'bad', queuedAt: 2_000 }));
    store.updateRun('bad', { result: completedResult({ value: [1, 2] }) });
    tamper(`UPDATE runs SET request = '{"kind":', warnings = '"not a list"',
            value = '{oops', state = 'exploded' WHERE id = 'bad'`);

    const bad = store.getRun('bad');
    expect(bad).toMatchObject({
      id: 'bad',
      request: null,
      warnings: [],
      state: 'error',
      exitCode: 0,
      damaged: expect.arrayContaining(['request', 'warnings', 'value', 'state']),
    });
    expect(bad).not.toHaveProperty('value');
    expect(store.listRuns({ limit: 10 }).runs.map((r) => r.id)).toEqual(['bad', 'good']);
    expect(store.getRun('good')?.damaged).toEqual([]);
    expect(reported.length).toBeGreaterThan(0);
    expect(reported.every((e) => e instanceof CorruptColumnError)).toBe(true);
    expect(reported[0]?.message).toMatch(/runs bad: column/);
  });

  it('in an event is skipped and reported, and the events around it still come', () => {
    store.insertRun(snippetRun({ id: 'r1' }));
    for (let seq = 1; seq <= 5; seq++) {
      store.appendEvent('r1', {
        seq,
        at: seq,
        type: 'output',
        stream: 'stdout',
        text: `line ${seq}`,
        partial: false,
        continuation: false,
      });
    }
    store.flush();
    tamper(`UPDATE run_events SET data = '{broken' WHERE run_id = 'r1' AND seq = 2`);
    tamper(`UPDATE run_events SET type = 'mystery' WHERE run_id = 'r1' AND seq = 3`);
    tamper(`UPDATE run_events SET data = '{"stream":"stdout"}' WHERE run_id = 'r1' AND seq = 4`);
    expect(store.readEvents('r1', 0, 100).map((e) => e.seq)).toEqual([1, 5]);
    // A page is filled past the damaged rows rather than cut short by them.
    expect(store.readEvents('r1', 0, 2).map((e) => e.seq)).toEqual([1, 5]);
    expect(reported.filter((e) => e.code === 'CORRUPT_COLUMN')).toHaveLength(6);
  });
});

describe('a closed store', () => {
  it('refuses calls, except appendEvent, which reports the drop instead of throwing', () => {
    store.close();
    expect(() => store.getRun('x')).toThrow(StoreClosedError);
    expect(() =>
      store.appendEvent('x', { seq: 1, at: 1, type: 'state', state: 'queued' }),
    ).not.toThrow();
    expect(reported.at(-1)?.code).toBe('EVENT_WRITE_FAILED');
    store.close();
  });
});
