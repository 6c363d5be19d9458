import type { Artifact } from '../artifacts/collect-artifacts.ts';
import type { EndState, RunState } from '../run-state.ts';
import type { Verdict } from './verdict.ts';

export type OutputStreamName = 'stdout' | 'stderr';

/** What a run hands back when it ends. */
export interface RunResult {
  state: EndState;
  exitCode: number | null;
  signal: string | null;
  queuedAt: number;
  startedAt: number | null;
  finishedAt: number;
  /** Wall time of the sandboxed process; 0 for a run that never started. */
  durationMs: number;
  usage: { cpuMs: number; peakMemoryBytes: number };
  /** Validation findings and anything the run should know (a dropped result, a truncation). */
  warnings: RunWarning[];
  /**
   * Why the program never started or runbox failed, in words for the user (no host path): for
   * `error` runbox's own fault, never the user's code; for `failed` what was wrong with the
   * request (the project outgrew its workspace, its entry file is gone). Null otherwise.
   */
  error: string | null;
  /** The JSON value the run handed back through the result channel, when it did. */
  value?: unknown;
  outputBytes: { stdout: number; stderr: number };
  outputLines: number;
  /** Files the run created or changed, kept for download (links listed, never followed). */
  artifacts: Artifact[];
  /** Its stdout against the snippet's `expectedOutput`, when it was sent one and its program ran. */
  verdict?: Verdict;
}

export interface RunWarning {
  check: string;
  message: string;
  line?: number | null;
  rule?: string;
}

/**
 * Every event of a run carries a sequence number: one counter orders stdout, stderr and status,
 * so a subscriber that resumes after `seq` n misses nothing and sees nothing twice.
 */
export type RunEvent =
  | { seq: number; at: number; type: 'state'; state: RunState }
  | {
      seq: number;
      at: number;
      type: 'position';
      /** 1 = next to start. */
      position: number;
      running: number;
      concurrency: number;
      estimatedWaitMs: number;
    }
  | {
      seq: number;
      at: number;
      type: 'output';
      stream: OutputStreamName;
      text: string;
      /** The line had no newline yet when it was flushed; more of it may follow. */
      partial: boolean;
      /** This piece continues a line flushed earlier as partial. */
      continuation: boolean;
    }
  | { seq: number; at: number; type: 'usage'; cpuMs: number; memoryBytes: number }
  | {
      seq: number;
      at: number;
      type: 'truncated';
      reason: 'bytes' | 'lines';
      limit: number;
      droppedBytes: number;
    }
  | { seq: number; at: number; type: 'end'; result: RunResult };

export type RunEventType = RunEvent['type'];

/** An event before the engine gives it a number. */
export type RunEventInput = RunEvent extends infer E
  ? E extends RunEvent
    ? Omit<E, 'seq' | 'at'>
    : never
  : never;
