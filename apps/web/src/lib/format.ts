import type { RunView } from '@runbox/api';

export type RunState = RunView['state'];

export function ordinal(n: number): string {
  const mod100 = n % 100;
  if (mod100 >= 11 && mod100 <= 13) return `${n}th`;
  switch (n % 10) {
    case 1:
      return `${n}st`;
    case 2:
      return `${n}nd`;
    case 3:
      return `${n}rd`;
    default:
      return `${n}th`;
  }
}

/** A duration in the largest unit that fits; each unit is rounded before the next is chosen. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  if (Math.round(ms) < 1000) return `${Math.round(ms)} ms`;
  const seconds = ms / 1000;
  if (seconds < 9.95) return `${seconds.toFixed(1).replace(/\.0$/, '')} s`;
  const wholeSeconds = Math.round(seconds);
  if (wholeSeconds < 60) return `${wholeSeconds} s`;
  if (wholeSeconds < 3600) {
    const m = Math.floor(wholeSeconds / 60);
    const rest = wholeSeconds % 60;
    return rest ? `${m} min ${rest} s` : `${m} min`;
  }
  const wholeMinutes = Math.round(seconds / 60);
  return `${Math.floor(wholeMinutes / 60)} h ${wholeMinutes % 60} min`;
}

/** "about 20 s": estimates rounded so they do not flicker. */
export function formatEstimate(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return 'unknown wait';
  if (ms < 1000) return 'about 1 s';
  if (ms < 60_000)
    return `about ${Math.max(1, Math.round(ms / 5000) * 5 || Math.round(ms / 1000))} s`;
  return `about ${Math.round(ms / 60_000)} min`;
}

export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) return '—';
  if (bytes < 1024) return `${bytes} B`;
  // Binary units, named as such: the limits are set in MiB (64 MiB = 64 × 2^20 bytes).
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  // One decimal below 100, none above; rounded before the unit is chosen, so 1,048,575 bytes
  // reads 1 MiB, not 1024 KiB.
  const shown = (value: number): number =>
    value >= 99.95 ? Math.round(value) : Math.round(value * 10) / 10;
  let value = bytes / 1024;
  let unit = 0;
  while (shown(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const rounded = shown(value);
  const exact = Number.isInteger(value);
  return `${rounded >= 100 || exact ? rounded : rounded.toFixed(1)} ${units[unit]}`;
}

export function isEnded(state: RunState): boolean {
  return state !== 'queued' && state !== 'running';
}

export interface StateWords {
  label: string;
  tone: 'neutral' | 'busy' | 'good' | 'bad' | 'warn';
}

/** The state of a run in words a person reads at a glance. */
export function describeState(
  run: Pick<RunView, 'state' | 'exitCode' | 'signal' | 'limits' | 'error'>,
): StateWords {
  const limits = run.limits ?? {};
  switch (run.state) {
    case 'queued':
      return { label: 'Waiting in line', tone: 'busy' };
    case 'running':
      return { label: 'Running', tone: 'busy' };
    case 'completed':
      return { label: 'Completed', tone: 'good' };
    case 'failed':
      return {
        label:
          run.exitCode !== null
            ? `Failed with exit code ${run.exitCode}`
            : run.signal
              ? `Failed: killed by ${run.signal}`
              : 'Failed',
        tone: 'bad',
      };
    case 'timed_out':
      return {
        label: limits.wallTimeMs
          ? `Stopped: ran longer than ${formatDuration(limits.wallTimeMs)}`
          : 'Stopped: ran too long',
        tone: 'warn',
      };
    case 'memory_limit':
      return {
        label: limits.memoryBytes
          ? `Stopped: used more than ${formatBytes(limits.memoryBytes)} of memory`
          : 'Stopped: used too much memory',
        tone: 'warn',
      };
    case 'output_limit':
      return { label: 'Output limit reached', tone: 'warn' };
    case 'cancelled':
      return { label: 'Cancelled', tone: 'neutral' };
    case 'error':
      return { label: 'runbox failed to run this (not your code)', tone: 'bad' };
    case 'interrupted':
      return { label: 'Interrupted by a server restart', tone: 'warn' };
  }
}

export const STATE_NAMES: Record<RunState, string> = {
  queued: 'Queued',
  running: 'Running',
  completed: 'Completed',
  failed: 'Failed',
  timed_out: 'Timed out',
  memory_limit: 'Memory limit',
  output_limit: 'Output limit',
  cancelled: 'Cancelled',
  error: 'Error',
  interrupted: 'Interrupted',
};

export function formatTime(ms: number | null | undefined): string {
  if (!ms) return '—';
  return new Date(ms).toLocaleString(undefined, {
    dateStyle: 'medium',
    timeStyle: 'medium',
  });
}

/**
 * "Python snippet", "Python cell" (a cell of a session), "pytest run", "python run on
 * hello-python" (a tool on a bundled example).
 */
export function runTitle(
  run: Pick<RunView, 'kind' | 'language' | 'toolId'> & { exampleId?: string | null },
): string {
  const names: Record<string, string> = {
    python: 'Python',
    javascript: 'JavaScript',
    typescript: 'TypeScript',
    bash: 'Bash',
  };
  const language = names[run.language ?? ''] ?? 'Code';
  switch (run.kind) {
    case 'snippet':
      return `${language} snippet`;
    case 'cell':
      return `${language} cell`;
    case 'tool': {
      const tool = `${run.toolId ?? 'tool'} run`;
      return run.exampleId ? `${tool} on ${run.exampleId}` : tool;
    }
  }
}
