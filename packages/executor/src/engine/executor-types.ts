import type { EnvironmentStore } from '../environments/environment-store.ts';
import type { TerminalSize } from './run-request.ts';
import type { SandboxLimits } from '../sandbox/limits.ts';
import type { SandboxHost } from '../sandbox/sandbox-host.ts';
import type { RunPhase } from '../run-path/run-in-sandbox.ts';
import type { WarmSandboxes } from '../run-path/warm-sandboxes.ts';
import type { ProgramControl, ProgramSignal } from '../sandbox/sandbox-run.ts';
import type { SessionKernels } from '../sessions/session-kernels.ts';
import type { Readable } from 'node:stream';
import type { RunQueue } from './run-queue.ts';
import type { RunState } from '../run-state.ts';
import type { ValidationPolicy } from '../validation/validate-code.ts';
import type { BatchLimits } from './event-batch.ts';
import type { RunEvent, RunEventInput, RunResult, RunWarning } from './run-events.ts';
import type { RunRequest } from './run-request.ts';
import type { ToolSupport } from './tool-support.ts';

/** A run as the engine knows it. */
export interface RunRecord {
  id: string;
  state: RunState;
  request: RunRequest;
  /** Opaque labels of the caller (owner, project), kept and returned, never interpreted. */
  meta: Readonly<Record<string, string>>;
  priority: number;
  kindKey: string;
  limits: SandboxLimits;
  warnings: RunWarning[];
  queuedAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  /** Latest CPU and memory while running. */
  usage: { cpuMs: number; memoryBytes: number } | null;
  result: RunResult | null;
}

export interface ExecutorHooks {
  /** Every event of every run, in order per run, as it is made (the store batches its writes). */
  onEvent?(run: RunRecord, event: RunEvent): void;
  /** Events older than the in-memory log keeps, for a subscriber that comes back late. */
  readEvents?(runId: string, afterSeq: number, limit: number): Promise<RunEvent[]>;
  /** onEvent threw; the run goes on regardless. */
  onHookError?(error: unknown, run: RunRecord, event: RunEvent): void;
  /**
   * runbox itself failed in a phase of the run (the run ends `error`, or keeps its end state with
   * a warning when only inspecting its files failed). The run's own message names no host path;
   * this has the whole error, for the log.
   */
  onInternalError?(error: unknown, run: RunRecord, phase: RunPhase): void;
}

/** What a driver gets to run one run: where its events go, and the run's abort. */
export interface DriverRunContext {
  emit(event: RunEventInput): void;
  /** Aborted by a cancel, a timeout of the shutdown, or the driver's own lease. */
  signal: AbortSignal;
  /** True when the abort is the shutdown's (the run then ends `interrupted`, not `cancelled`). */
  interrupted(): boolean;
  /** The run was already running when this process started (SubmitOptions.resume): follow it. */
  resumed: boolean;
  onInternalError(error: unknown, phase: RunPhase): void;
  /** An interactive run's stdin, open while the client sends more (Executor.sendInput). */
  stdin?: Readable | undefined;
  /** The started program, for Executor.signal. */
  onProgram?: ((program: ProgramControl) => void) | undefined;
}

/**
 * Where runs wait and where they run. The engine keeps each run's record, events, subscribers and
 * end; the driver keeps the queue (its order, the running set, the concurrency) and runs a run
 * when the queue starts it. The local driver runs everything in this process; the redis driver
 * (@runbox/cluster) queues runs as BullMQ jobs that worker processes run.
 */
export interface RunDriver {
  /** The waiting order and the running set as the driver keeps them; `start` runs execute(). */
  queue: RunQueue;
  /** Runs one run to its end. Never throws: every way a run can go ends in a result. */
  execute(record: RunRecord, context: DriverRunContext): Promise<RunResult>;
  /**
   * Runs go on without this process (workers elsewhere): a shutdown leaves them running instead
   * of interrupting them, and this process follows them again when it comes back.
   */
  readonly runsElsewhere: boolean;
  /**
   * Takes a run that is already running elsewhere into the running set and calls `start` (which
   * runs execute()). Only drivers whose runs go on without this process have it.
   */
  adopt?(runId: string, start: () => Promise<void>): void;
  /** Stops what the driver started (connections, timers). */
  close?(): Promise<void>;
}

export interface ExecutorConfig {
  host: SandboxHost;
  /**
   * Where runs wait and run. Default: this process (a p-queue of `concurrency` and the sandbox
   * host above). `concurrency` is then the driver's.
   */
  driver?: RunDriver;
  /** Runs at once. @default ENGINE_DEFAULTS.concurrency (the cores) */
  concurrency?: number;
  /** Waiting runs at most; beyond it submit fails with QueueFullError. @default ENGINE_DEFAULTS.maxQueueLength */
  maxQueueLength?: number;
  /** Per-run limit defaults and the server maximums. Defaults: DEFAULT_LIMITS, DEFAULT_MAXIMUMS. */
  limits?: { defaults?: SandboxLimits; maximums?: SandboxLimits };
  /** Size, secret and dangerous-pattern policy for snippets. */
  validation?: ValidationPolicy;
  /** Check a snippet's syntax inside the sandbox before it is queued. @default ENGINE_DEFAULTS.syntaxCheck */
  syntaxCheck?: boolean;
  output?: {
    /** Longest line before it is cut into pieces. @default ENGINE_DEFAULTS.maxLineBytes */
    maxLineBytes?: number;
    /** Lines per run before it ends as output_limit. @default ENGINE_DEFAULTS.maxOutputLines */
    maxLines?: number;
    /** A line without newline is shown after this long. @default ENGINE_DEFAULTS.partialFlushMs */
    partialFlushMs?: number;
    /** Secret patterns to redact besides the built-in kinds. */
    redactPatterns?: RegExp[];
    /**
     * Replace e-mail addresses, phone, card and IBAN numbers in output with per-run tokens
     * (`<EMAIL_1>`) for runs whose request does not say (`outputFilters.pii`). @default false
     */
    pii?: boolean;
  };
  /** Events kept in memory per run; older ones come from hooks.readEvents. @default ENGINE_DEFAULTS.logMaxEvents */
  logMaxEvents?: number;
  /** Ended runs kept in memory. @default ENGINE_DEFAULTS.keepEndedRuns */
  keepEndedRuns?: number;
  /** Time between live usage events while running. @default ENGINE_DEFAULTS.usageIntervalMs */
  usageIntervalMs?: number;
  tools?: ToolSupport;
  /** Where the files runs create are kept for download; null keeps none. Default null. */
  artifactsRoot?: string | null;
  /** Sandboxes started ahead for snippet runs; null or absent: every run starts cold. */
  warm?: WarmSandboxes | null;
  /**
   * Where runs' dependency environments are installed and cached (environments/); null or
   * absent: a run that asks for one is refused.
   */
  environments?: EnvironmentStore | null;
  /** The kernels of sessions, where cells run; null or absent: cells end `failed`. */
  sessions?: SessionKernels | null;
  hooks?: ExecutorHooks;
}

export interface SubmitOptions {
  /** Reuse an id (a queued run coming back after a restart). Default: a new UUID. */
  id?: string;
  meta?: Record<string, string>;
  /** Higher runs first. Default 0. */
  priority?: number;
  /** When the run was first queued (a run coming back after a restart). Default now. */
  queuedAt?: number;
  /** Its events up to this seq are stored already (a run coming back after a restart). Default 0. */
  lastSeq?: number;
  /**
   * Called once the run passed every check, before its first event and before it is queued (the
   * API stores the run here). If it throws, submit throws and nothing is queued.
   */
  beforeQueue?: (record: RunRecord) => void;
  /**
   * The run was running when this process stopped, on a worker that may still run it (a driver
   * whose runs go on elsewhere): it is followed, not queued or checked again. Its events go on
   * after `lastSeq`.
   */
  resume?: { startedAt: number };
  /**
   * The run joins the queue only once this settles (a session's cell after the cell before it):
   * until then it is `queued` but waits outside the queue, with no place in line.
   */
  after?: Promise<unknown>;
}

export interface QueueEntry {
  id: string;
  meta: Readonly<Record<string, string>>;
  kindKey: string;
  queuedAt: number;
  startedAt: number | null;
  position: number | null;
  estimatedWaitMs: number | null;
  usage: { cpuMs: number; memoryBytes: number } | null;
}

export interface QueueSnapshot {
  waiting: QueueEntry[];
  running: QueueEntry[];
  concurrency: number;
  paused: boolean;
  maxQueueLength: number;
  /** What a run submitted now would wait. */
  estimatedWaitMs: number;
}

/**
 * A request that passed every check a submit makes (its schema, limits, code, syntax, tool), made
 * by `Executor.check` and queued by the same executor's `submitChecked` without checking again.
 */
export interface CheckedRun {
  readonly request: RunRequest;
  readonly limits: SandboxLimits;
  readonly warnings: readonly RunWarning[];
}

export interface Executor {
  /** Checks the request and queues it: `submitChecked(await check(request), options)`. */
  submit(request: unknown, options?: SubmitOptions): Promise<RunRecord>;
  /**
   * Every check of submit, nothing queued: a batch checks all its runs before it queues any.
   * Throws what submit would throw for the request.
   */
  check(request: unknown): Promise<CheckedRun>;
  /**
   * Queues a run this executor checked, at once (no await inside: runs queued one after the
   * other in one turn go in together). Throws for a full queue, a shutdown, a throwing
   * beforeQueue, or a CheckedRun another executor made.
   */
  submitChecked(checked: CheckedRun, options?: SubmitOptions): RunRecord;
  cancel(runId: string): RunRecord;
  /**
   * Writes to an interactive run's stdin (queued or running). Throws RunNotInteractiveError for a
   * run that is not interactive, whose input is closed, that has ended, or that has not read what
   * it was sent before (MAX_STDIN_BYTES waiting).
   */
  sendInput(runId: string, data: string): void;
  /** Closes an interactive run's stdin (the program reads end of file); idempotent. */
  closeInput(runId: string): void;
  /**
   * Sends SIGINT or SIGTERM to a running run's program. False when it has no program running
   * (it has not started, or has ended).
   */
  signal(runId: string, name: ProgramSignal): Promise<boolean>;
  /**
   * A tty run's terminal size (the program gets SIGWINCH). Throws RunNotInteractiveError for a
   * run without a terminal; false when its program is not running (a queued one starts with it).
   */
  resize(runId: string, size: TerminalSize): boolean;
  get(runId: string): RunRecord;
  /** The run's events after `afterSeq` (default 0: all), then live ones, until its `end` event. */
  events(
    runId: string,
    options?: { afterSeq?: number; signal?: AbortSignal },
  ): AsyncIterable<RunEvent>;
  /**
   * The same events in batches: what is already there when the subscriber asks goes out
   * together (within `limits`), so a subscriber that fell behind catches up in few steps.
   */
  eventBatches(
    runId: string,
    options?: { afterSeq?: number; signal?: AbortSignal; limits?: BatchLimits },
  ): AsyncIterable<RunEvent[]>;
  queue(): QueueSnapshot;
  /**
   * Calls `listener` whenever what queue() shows may have changed: a run queued, started, ended
   * or cancelled, its usage updated, the concurrency changed, the queue paused or resumed. Calls
   * come at most once per turn of the event loop. Returns the function that stops them.
   */
  onQueueChange(listener: () => void): () => void;
  setConcurrency(concurrency: number): void;
  pause(): void;
  resume(): void;
  /** Stops taking runs, lets running ones finish up to the deadline, ends the rest as interrupted. */
  shutdown(options: {
    deadlineMs: number;
  }): Promise<{ interrupted: string[]; leftQueued: string[] }>;
}
