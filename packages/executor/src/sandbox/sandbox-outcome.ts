import { constants } from 'node:os';
import type { CgroupUsage } from './cgroup.ts';

/** What happened to one sandboxed process. Outcomes are flags, never parsed from messages. */
export interface SandboxOutcome {
  /** Exit status of the program as bwrap reports it (128+n after signal n); null when killed by runbox. */
  exitCode: number | null;
  /** The signal that ended the program, when one did. */
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  /** The kernel's OOM killer killed a process of the run (cgroup memory limit). */
  memoryLimitExceeded: boolean;
  outputLimitExceeded: boolean;
  cancelled: boolean;
  /** The sandbox could not be set up; the program never started. `setupError` says why. */
  setupFailed: boolean;
  setupError: string | null;
  startedAt: number;
  finishedAt: number;
  durationMs: number;
  usage: CgroupUsage;
  stdoutBytes: number;
  stderrBytes: number;
}

/** Maps bwrap's 128+n convention back to a signal name. */
export function signalFromExitCode(code: number): NodeJS.Signals | null {
  if (code <= 128 || code > 128 + 64) return null;
  const number = code - 128;
  for (const [name, value] of Object.entries(constants.signals)) {
    if (value === number) return name as NodeJS.Signals;
  }
  return null;
}

/** Parses bwrap's --json-status-fd stream: one JSON object per line. */
export function parseBwrapStatus(text: string): {
  childPid: number | null;
  exitCode: number | null;
} {
  let childPid: number | null = null;
  let exitCode: number | null = null;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      continue;
    }
    if (typeof value !== 'object' || value === null) continue;
    const record = value as Record<string, unknown>;
    if (typeof record['child-pid'] === 'number') childPid = record['child-pid'];
    if (typeof record['exit-code'] === 'number') exitCode = record['exit-code'];
  }
  return { childPid, exitCode };
}
