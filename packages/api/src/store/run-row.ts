import type { SQLInputValue } from 'node:sqlite';
import {
  END_STATES,
  type Artifact,
  RUN_STATES,
  type RunRequest,
  type RunResult,
  type RunState,
  type RunWarning,
  type SandboxLimits,
  type Verdict,
  verdictSchema,
} from '@runbox/executor';
import type { RunCallback } from './outbox.ts';
import { isPlainObject, readRow, type ReportCorruption, type Row } from './row-reader.ts';

/**
 * The one place where a run becomes a row and a row becomes a run. Everything else speaks in
 * NewRun, RunPatch, StoredRun and RunResult.
 */

/** `cell`: a run of a session (its row names the session in session_id). */
export type RunKind = 'snippet' | 'tool' | 'cell';

/** What insertRun takes: the fields of the executor's RunRecord, plus who owns it. */
export interface NewRun {
  id: string;
  owner: string;
  /** The uploaded project a tool run works on. */
  projectId?: string | null;
  /** The bundled example a tool run works on. */
  exampleId?: string | null;
  /** The full request, snippets' code and stdin included: it is the owner's data. */
  request: RunRequest;
  limits: SandboxLimits;
  /** Default 'queued'. */
  state?: RunState;
  /** Default 0. */
  priority?: number;
  queuedAt: number;
  startedAt?: number | null;
  /** Findings of validation at submit; the end's result replaces them. */
  warnings?: readonly RunWarning[];
  /** Where the run reports its end (signed), stored with the run; none when absent. */
  callback?: RunCallback | null;
}

/** What updateRun may change. `result` sets the state, the times and every result column. */
export interface RunPatch {
  state?: RunState;
  startedAt?: number | null;
  finishedAt?: number | null;
  warnings?: readonly RunWarning[];
  result?: RunResult;
}

/** A run as the store hands it out: the API's output, for the owner and for admins. */
export interface StoredRun {
  id: string;
  owner: string;
  kind: RunKind;
  /** The snippet's (or cell's) language; null for a tool run. */
  language: string | null;
  /** The session a cell ran in; null for every other run. */
  sessionId: string | null;
  /** The tool; null for a snippet. */
  toolId: string | null;
  projectId: string | null;
  exampleId: string | null;
  /** Null only when the stored JSON is damaged (then 'request' is in `damaged`). */
  request: RunRequest | null;
  /** Null only when the stored JSON is damaged. */
  limits: SandboxLimits | null;
  state: RunState;
  priority: number;
  queuedAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  exitCode: number | null;
  signal: string | null;
  /** Wall time of the sandboxed process; null until the run ends. */
  durationMs: number | null;
  /** Null until the run ends. */
  usage: { cpuMs: number; peakMemoryBytes: number } | null;
  warnings: RunWarning[];
  /** runbox's own failure (state `error`), or why a run was interrupted. */
  error: string | null;
  /** The value the run handed back through the result channel, when it did. */
  value?: unknown;
  /** Null until the run ends. */
  outputBytes: { stdout: number; stderr: number } | null;
  outputLines: number | null;
  /** The snippet's stdout against its expectedOutput; null when it had none or has not ended. */
  verdict: Verdict | null;
  /** The highest event seq stored for the run. */
  lastSeq: number;
  /** Columns that did not read back (bad JSON, unknown state); empty for a healthy row. */
  damaged: string[];
}

/** Every column of `runs`, in the order SELECTs use. */
export const RUN_COLUMNS = [
  'id',
  'owner',
  'kind',
  'language',
  'tool_id',
  'project_id',
  'request',
  'limits',
  'state',
  'priority',
  'queued_at',
  'started_at',
  'finished_at',
  'exit_code',
  'signal',
  'duration_ms',
  'cpu_ms',
  'peak_memory_bytes',
  'warnings',
  'error',
  'value',
  'stdout_bytes',
  'stderr_bytes',
  'output_lines',
  'last_seq',
  'example_id',
  'verdict',
  'session_id',
] as const;
export type RunColumn = (typeof RUN_COLUMNS)[number];
export const RUN_SELECT_LIST = RUN_COLUMNS.join(', ');

type Params = Record<string, SQLInputValue>;

/** Timestamps and durations are whole milliseconds in the table (STRICT INTEGER). */
function whole(value: number): number;
function whole(value: number | null): number | null;
function whole(value: number | null): number | null {
  return value === null ? null : Math.round(value);
}

export function insertRunParams(input: NewRun): Params {
  const { request } = input;
  return {
    id: input.id,
    owner: input.owner,
    // The column's CHECK predates cells: a cell's row is told apart by its session_id.
    kind: request.kind === 'cell' ? 'snippet' : request.kind,
    language: request.kind === 'tool' ? null : request.language,
    session_id: request.kind === 'cell' ? request.sessionId : null,
    tool_id: request.kind === 'tool' ? request.toolId : null,
    project_id: input.projectId ?? null,
    example_id: input.exampleId ?? null,
    request: JSON.stringify(request),
    limits: JSON.stringify(input.limits),
    state: input.state ?? 'queued',
    priority: Math.trunc(input.priority ?? 0),
    queued_at: whole(input.queuedAt),
    started_at: whole(input.startedAt ?? null),
    warnings: JSON.stringify(input.warnings ?? []),
  };
}

/** The columns an end sets. */
export const RESULT_COLUMNS = [
  'state',
  'started_at',
  'finished_at',
  'exit_code',
  'signal',
  'duration_ms',
  'cpu_ms',
  'peak_memory_bytes',
  'warnings',
  'error',
  'value',
  'stdout_bytes',
  'stderr_bytes',
  'output_lines',
  'verdict',
] as const satisfies readonly RunColumn[];
type ResultColumn = (typeof RESULT_COLUMNS)[number];

/** `value` is SQL NULL when the run handed back none. */
export function resultColumns(result: RunResult): Record<ResultColumn, SQLInputValue> {
  return {
    state: result.state,
    started_at: whole(result.startedAt),
    finished_at: whole(result.finishedAt),
    exit_code: result.exitCode,
    signal: result.signal,
    duration_ms: whole(result.durationMs),
    cpu_ms: whole(result.usage.cpuMs),
    peak_memory_bytes: whole(result.usage.peakMemoryBytes),
    warnings: JSON.stringify(result.warnings),
    error: result.error,
    value: result.value !== undefined ? (JSON.stringify(result.value) ?? null) : null,
    stdout_bytes: result.outputBytes.stdout,
    stderr_bytes: result.outputBytes.stderr,
    output_lines: result.outputLines,
    verdict: result.verdict ? JSON.stringify(result.verdict) : null,
  };
}

/** The columns a patch sets: the result's first, then the explicit fields over them. */
export function patchColumns(patch: RunPatch): Partial<Record<RunColumn, SQLInputValue>> {
  const columns: Partial<Record<RunColumn, SQLInputValue>> = patch.result
    ? resultColumns(patch.result)
    : {};
  if (patch.state !== undefined) columns.state = patch.state;
  if (patch.startedAt !== undefined) columns.started_at = whole(patch.startedAt);
  if (patch.finishedAt !== undefined) columns.finished_at = whole(patch.finishedAt);
  if (patch.warnings !== undefined) columns.warnings = JSON.stringify(patch.warnings);
  return columns;
}

/** `UPDATE runs SET a = :a, b = :b WHERE id = :id` for the given columns, in a stable order. */
export function updateRunSql(columns: readonly RunColumn[]): string {
  const sets = RUN_COLUMNS.filter((column) => columns.includes(column)).map(
    (column) => `${column} = :${column}`,
  );
  return `UPDATE runs SET ${sets.join(', ')} WHERE id = :id`;
}

function isRunRequest(value: unknown): value is RunRequest {
  if (!isPlainObject(value)) return false;
  if (value.kind === 'snippet')
    return typeof value.language === 'string' && typeof value.code === 'string';
  if (value.kind === 'tool')
    return typeof value.toolId === 'string' && typeof value.projectDir === 'string';
  if (value.kind === 'cell')
    return (
      typeof value.sessionId === 'string' &&
      typeof value.language === 'string' &&
      typeof value.code === 'string'
    );
  return false;
}

/** NULL: no verdict; JSON of another shape (a newer runbox's) reads as none rather than damage. */
function verdictOf(stored: { present: false } | { present: true; value: unknown }): Verdict | null {
  if (!stored.present) return null;
  const parsed = verdictSchema.safeParse(stored.value);
  return parsed.success ? parsed.data : null;
}

function isLimits(value: unknown): value is SandboxLimits {
  return isPlainObject(value) && Object.values(value).every((v) => typeof v === 'number');
}

function isWarnings(value: unknown): value is RunWarning[] {
  return (
    Array.isArray(value) &&
    value.every(
      (w) => isPlainObject(w) && typeof w.check === 'string' && typeof w.message === 'string',
    )
  );
}

export function storedRunFromRow(row: Row, report: ReportCorruption): StoredRun {
  const key = typeof row.id === 'string' ? row.id : '?';
  const r = readRow(row, { table: 'runs', key }, report);
  const cpuMs = r.nullableInt('cpu_ms');
  const peakMemoryBytes = r.nullableInt('peak_memory_bytes');
  const stdout = r.nullableInt('stdout_bytes');
  const stderr = r.nullableInt('stderr_bytes');
  const value = r.optionalJson('value');
  const request = r.json('request', isRunRequest, null);
  const sessionId = r.nullableText('session_id');
  const run: StoredRun = {
    id: r.text('id'),
    owner: r.text('owner'),
    kind: request?.kind === 'cell' ? 'cell' : r.oneOf('kind', ['snippet', 'tool'], 'snippet'),
    language: r.nullableText('language'),
    sessionId,
    toolId: r.nullableText('tool_id'),
    projectId: r.nullableText('project_id'),
    exampleId: r.nullableText('example_id'),
    request,
    limits: r.json('limits', isLimits, null),
    state: r.oneOf('state', RUN_STATES, 'error'),
    priority: r.int('priority'),
    queuedAt: r.int('queued_at'),
    startedAt: r.nullableInt('started_at'),
    finishedAt: r.nullableInt('finished_at'),
    exitCode: r.nullableInt('exit_code'),
    signal: r.nullableText('signal'),
    durationMs: r.nullableInt('duration_ms'),
    usage:
      cpuMs === null && peakMemoryBytes === null
        ? null
        : { cpuMs: cpuMs ?? 0, peakMemoryBytes: peakMemoryBytes ?? 0 },
    warnings: r.json('warnings', isWarnings, []),
    error: r.nullableText('error'),
    outputBytes:
      stdout === null && stderr === null ? null : { stdout: stdout ?? 0, stderr: stderr ?? 0 },
    outputLines: r.nullableInt('output_lines'),
    verdict: verdictOf(r.optionalJson('verdict')),
    lastSeq: r.int('last_seq'),
    damaged: r.damaged,
    ...(value.present ? { value: value.value } : {}),
  };
  return run;
}

/**
 * A RunResult made from what is stored about an ended run, for an `end` event the stream lacks.
 * Missing measurements become 0, as for a run that never started.
 */
export function resultFromStoredRun(
  run: StoredRun,
  end: { state: RunResult['state']; finishedAt: number; artifacts: Artifact[] },
): RunResult {
  return {
    state: end.state,
    exitCode: run.exitCode,
    signal: run.signal,
    queuedAt: run.queuedAt,
    startedAt: run.startedAt,
    finishedAt: end.finishedAt,
    durationMs: run.durationMs ?? 0,
    usage: run.usage ?? { cpuMs: 0, peakMemoryBytes: 0 },
    warnings: run.warnings,
    error: run.error,
    outputBytes: run.outputBytes ?? { stdout: 0, stderr: 0 },
    outputLines: run.outputLines ?? 0,
    artifacts: end.artifacts,
    ...(run.verdict ? { verdict: run.verdict } : {}),
    ...('value' in run ? { value: run.value } : {}),
  };
}

/** For a state read back as text: is it one a run never leaves? */
export function isEndStateName(state: string): boolean {
  return (END_STATES as readonly string[]).includes(state);
}
