import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_LIMITS, type RunEvent, type RunResult } from '@runbox/executor';
import type { NewRun } from './run-row.ts';
import { openStore, type Store, type StoreOptions } from './store.ts';
import type { StoreReportedError } from './store-errors.ts';

/** Helpers shared by the store's tests: real SQLite files in a fresh temporary directory. */

export interface TestDir {
  dir: string;
  remove(): void;
}

export function makeTestDir(): TestDir {
  const dir = mkdtempSync(join(tmpdir(), 'runbox-store-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A store that collects what it reports instead of printing it. */
export function openTestStore(
  dataDir: string,
  options: Partial<StoreOptions> = {},
): { store: Store; reported: StoreReportedError[] } {
  const reported: StoreReportedError[] = [];
  const store = openStore({ dataDir, onError: (error) => reported.push(error), ...options });
  return { store, reported };
}

export function snippetRun(overrides: Partial<NewRun> & { id: string }): NewRun {
  return {
    owner: 'alice',
    request: { kind: 'snippet', language: 'python', code: 'print("hi")\n' },
    limits: { ...DEFAULT_LIMITS },
    queuedAt: 1_000,
    ...overrides,
  };
}

export function toolRun(overrides: Partial<NewRun> & { id: string; toolId: string }): NewRun {
  const { toolId, ...rest } = overrides;
  return {
    owner: 'alice',
    request: { kind: 'tool', toolId, projectDir: '/srv/runbox/projects/p1' },
    limits: { ...DEFAULT_LIMITS },
    queuedAt: 1_000,
    ...rest,
  };
}

export function outputEvent(seq: number, text: string, at = 2_000 + seq): RunEvent {
  return { seq, at, type: 'output', stream: 'stdout', text, partial: false, continuation: false };
}

export function completedResult(overrides: Partial<RunResult> = {}): RunResult {
  return {
    state: 'completed',
    exitCode: 0,
    signal: null,
    queuedAt: 1_000,
    startedAt: 1_100,
    finishedAt: 1_900,
    durationMs: 800,
    usage: { cpuMs: 120, peakMemoryBytes: 10_000_000 },
    warnings: [],
    error: null,
    outputBytes: { stdout: 3, stderr: 0 },
    outputLines: 1,
    artifacts: [],
    ...overrides,
  };
}
