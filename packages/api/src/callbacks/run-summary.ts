import type { RunResult, RunWarning, Verdict } from '@runbox/executor';

/**
 * What a callback says about a run: its end as the run's result has it, frozen into the outbox
 * in the end's own transaction, so every attempt sends the same summary.
 */
export interface RunSummary {
  id: string;
  kind: 'snippet' | 'tool';
  language: string | null;
  toolId: string | null;
  projectId: string | null;
  exampleId: string | null;
  state: RunResult['state'];
  exitCode: number | null;
  signal: string | null;
  /** Why runbox failed the run or why it was interrupted; null otherwise. */
  error: string | null;
  durationMs: number;
  usage: { cpuMs: number; peakMemoryBytes: number };
  /** Milliseconds since the epoch, as everywhere in the API. */
  queuedAt: number;
  startedAt: number | null;
  finishedAt: number;
  outputLines: number;
  outputBytes: { stdout: number; stderr: number };
  warnings: RunWarning[];
  /** Files the run kept for download. */
  artifactCount: number;
  /** The value the run handed back through the result channel; absent when it handed none. */
  value?: unknown;
  /** A snippet sent with `expectedOutput`: passed, or the first line that differs. */
  verdict?: Verdict;
}

/** The run row's columns the summary needs besides the result. */
export interface RunIdentity {
  id: string;
  kind: 'snippet' | 'tool';
  language: string | null;
  toolId: string | null;
  projectId: string | null;
  exampleId: string | null;
}

export function runSummary(run: RunIdentity, result: RunResult): RunSummary {
  // Results read back from old rows may lack the artifact list.
  const artifacts: unknown = result.artifacts;
  return {
    ...run,
    state: result.state,
    exitCode: result.exitCode,
    signal: result.signal,
    error: result.error,
    durationMs: Math.round(result.durationMs),
    usage: { cpuMs: result.usage.cpuMs, peakMemoryBytes: result.usage.peakMemoryBytes },
    queuedAt: Math.round(result.queuedAt),
    startedAt: result.startedAt === null ? null : Math.round(result.startedAt),
    finishedAt: Math.round(result.finishedAt),
    outputLines: result.outputLines,
    outputBytes: { stdout: result.outputBytes.stdout, stderr: result.outputBytes.stderr },
    warnings: result.warnings,
    artifactCount: Array.isArray(artifacts) ? artifacts.length : 0,
    ...(result.value !== undefined ? { value: result.value } : {}),
    ...(result.verdict !== undefined ? { verdict: result.verdict } : {}),
  };
}
