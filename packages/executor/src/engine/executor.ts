import { randomUUID } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { setImmediate as setImmediatePromise } from 'node:timers/promises';
import { LANGUAGE_RUNTIMES } from '../languages/index.ts';
import { isEndState, type EndState, type RunState, assertTransition } from '../run-state.ts';
import { endStateOf } from '../sandbox/end-state.ts';
import { resolveLimits, type LimitsOverride, type SandboxLimits } from '../sandbox/limits.ts';
import { writeNewWorkspaceFile } from '../sandbox/safe-fs.ts';
import { SANDBOX_WORKSPACE } from '../sandbox/sandbox-command.ts';
import { baseSandboxEnv } from '../sandbox/sandbox-environment.ts';
import type { SandboxHost } from '../sandbox/sandbox-host.ts';
import { validateCode, type ValidationPolicy } from '../validation/validate-code.ts';
import { checkSyntaxInSandbox } from './syntax-check.ts';
import {
  EventsUnavailableError,
  InvalidRunRequestError,
  QueueFullError,
  RunNotFoundError,
  ShuttingDownError,
} from './engine-errors.ts';
import { cutBatches, type BatchLimits } from './event-batch.ts';
import { createOutputPipeline } from './output-pipeline.ts';
import type { RunEvent, RunEventInput, RunResult, RunWarning } from './run-events.ts';
import { createRunLog, type RunLog } from './run-log.ts';
import { createRunQueue } from './run-queue.ts';
import { runKindKey, runRequestSchema, type RunRequest } from './run-request.ts';
import { createWaitEstimator } from './wait-estimator.ts';
import type { ToolSupport } from './tool-support.ts';
import { createWorkspaceInspector } from './workspace-inspector.ts';

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
}

export interface ExecutorConfig {
  host: SandboxHost;
  /** Runs at once. Default: the number of cores. */
  concurrency?: number;
  /** Waiting runs at most; beyond it submit fails with QueueFullError. Default 100. */
  maxQueueLength?: number;
  /** Per-run limit defaults and the server maximums. Defaults: DEFAULT_LIMITS, DEFAULT_MAXIMUMS. */
  limits?: { defaults?: SandboxLimits; maximums?: SandboxLimits };
  /** Size, secret and dangerous-pattern policy for snippets. */
  validation?: ValidationPolicy;
  /** Check a snippet's syntax inside the sandbox before it is queued. Default true. */
  syntaxCheck?: boolean;
  output?: {
    /** Longest line before it is cut into pieces. Default 16 KiB. */
    maxLineBytes?: number;
    /** Lines per run before it ends as output_limit. Default 100,000. */
    maxLines?: number;
    /** A line without newline is shown after this long. Default 100 ms. */
    partialFlushMs?: number;
    /** Secret patterns to redact besides the built-in kinds. */
    redactPatterns?: RegExp[];
  };
  /** Events kept in memory per run. Default 20,000; older ones come from hooks.readEvents. */
  logMaxEvents?: number;
  /** Ended runs kept in memory. Default 500. */
  keepEndedRuns?: number;
  /** Live usage events while running. Default every 1000 ms. */
  usageIntervalMs?: number;
  tools?: ToolSupport;
  /** Where the files runs create are kept for download; null keeps none. Default null. */
  artifactsRoot?: string | null;
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

export interface Executor {
  submit(request: unknown, options?: SubmitOptions): Promise<RunRecord>;
  cancel(runId: string): RunRecord;
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
  setConcurrency(concurrency: number): void;
  pause(): void;
  resume(): void;
  /** Stops taking runs, lets running ones finish up to the deadline, ends the rest as interrupted. */
  shutdown(options: {
    deadlineMs: number;
  }): Promise<{ interrupted: string[]; leftQueued: string[] }>;
}

interface LiveRun {
  record: RunRecord;
  log: RunLog;
  abort: AbortController;
  interrupt: boolean;
  lastPosition: string | null;
}

const POSITION_INTERVAL_MS = 100;

export function createExecutor(config: ExecutorConfig): Executor {
  const host = config.host;
  const maxQueueLength = config.maxQueueLength ?? 100;
  const keepEndedRuns = config.keepEndedRuns ?? 500;
  const logMaxEvents = config.logMaxEvents ?? 20_000;
  const queue = createRunQueue({ concurrency: config.concurrency ?? availableParallelism() });
  const estimator = createWaitEstimator();
  const runs = new Map<string, LiveRun>();
  const endedOrder: string[] = [];
  let shuttingDown = false;
  const inspector = createWorkspaceInspector({ artifactsRoot: config.artifactsRoot ?? null });

  function emit(run: LiveRun, input: RunEventInput): RunEvent {
    const event = run.log.append(input);
    try {
      config.hooks?.onEvent?.(run.record, event);
    } catch (error) {
      // A failing store must not stall a run: the engine goes on; the caller hears of it.
      config.hooks?.onHookError?.(error, run.record, event);
    }
    return event;
  }

  function setState(run: LiveRun, state: RunState): void {
    assertTransition(run.record.state, state);
    run.record.state = state;
    emit(run, { type: 'state', state });
  }

  function find(runId: string): LiveRun {
    const run = runs.get(runId);
    if (!run) throw new RunNotFoundError(runId);
    return run;
  }

  function runningEntries(): { kind: string; elapsedMs: number }[] {
    const now = Date.now();
    return queue.running().flatMap((id) => {
      const run = runs.get(id);
      return run
        ? [{ kind: run.record.kindKey, elapsedMs: now - (run.record.startedAt ?? now) }]
        : [];
    });
  }

  /**
   * Position events for every waiting run whose place, the concurrency or the pause changed. At
   * most one round per POSITION_INTERVAL_MS: with a long queue every change moves every waiting
   * run, and announcing each change at once would cost O(n²) events for n runs.
   */
  let positionTimer: NodeJS.Timeout | null = null;
  let lastAnnounced = 0;
  function announcePositions(): void {
    if (positionTimer) return;
    const due = lastAnnounced + POSITION_INTERVAL_MS - Date.now();
    if (due > 0) {
      positionTimer = setTimeout(() => {
        positionTimer = null;
        announcePositions();
      }, due);
      positionTimer.unref();
      return;
    }
    lastAnnounced = Date.now();
    const waiting = queue.waiting();
    const running = runningEntries();
    const waits = estimator.estimateWaits({
      waiting: waiting.map((id) => runs.get(id)?.record.kindKey ?? ''),
      running,
      concurrency: queue.concurrency,
    });
    waiting.forEach((id, index) => {
      const run = runs.get(id);
      if (!run || run.record.state !== 'queued') return;
      // Not for the moment between one run ending and the next starting, when only the running
      // count blinks.
      const key = `${index + 1}/${queue.concurrency}/${queue.isPaused()}`;
      if (key === run.lastPosition) return;
      run.lastPosition = key;
      emit(run, {
        type: 'position',
        position: index + 1,
        running: running.length,
        concurrency: queue.concurrency,
        estimatedWaitMs: waits[index] ?? 0,
      });
    });
  }
  queue.onChange(announcePositions);

  function finish(run: LiveRun, result: RunResult): void {
    const { record } = run;
    record.result = result;
    record.finishedAt = result.finishedAt;
    record.state = result.state;
    emit(run, { type: 'state', state: result.state });
    emit(run, { type: 'end', result });
    endedOrder.push(record.id);
    while (endedOrder.length > keepEndedRuns) {
      const old = endedOrder.shift();
      if (old) runs.delete(old);
    }
  }

  function notStartedResult(run: LiveRun, state: EndState, error: string | null): RunResult {
    return {
      state,
      exitCode: null,
      signal: null,
      queuedAt: run.record.queuedAt,
      startedAt: null,
      finishedAt: Date.now(),
      durationMs: 0,
      usage: { cpuMs: 0, peakMemoryBytes: 0 },
      warnings: run.record.warnings,
      error,
      outputBytes: { stdout: 0, stderr: 0 },
      outputLines: 0,
      artifacts: [],
    };
  }

  async function execute(run: LiveRun): Promise<void> {
    const { record } = run;
    if (run.abort.signal.aborted) return;
    record.startedAt = Date.now();
    setState(run, 'running');
    const pipeline = createOutputPipeline({
      maxLineBytes: config.output?.maxLineBytes ?? 16 * 1024,
      maxLines: config.output?.maxLines ?? 100_000,
      partialFlushMs: config.output?.partialFlushMs ?? 100,
      redactPatterns: config.output?.redactPatterns ?? [],
      emit: (event) => emit(run, event),
    });
    let workspace: Awaited<ReturnType<SandboxHost['workspaces']['acquire']>> | null = null;
    let outcome: RunResult;
    try {
      workspace = await host.workspaces.acquire(record.limits.workspaceBytes);
      const plan = await prepare(record.request, workspace.dir, record.limits);
      const before = await inspector.snapshot(workspace.dir);
      const report = await host.run({
        runId: record.id,
        argv: plan.argv,
        env: plan.env,
        limits: record.limits,
        workspaceDir: workspace.dir,
        stdin: record.request.kind === 'snippet' ? record.request.stdin : undefined,
        onOutput: (stream, chunk) => pipeline.push(stream, chunk),
        onUsage: (usage) => {
          record.usage = { cpuMs: usage.cpuMs, memoryBytes: usage.currentMemoryBytes };
          emit(run, { type: 'usage', cpuMs: usage.cpuMs, memoryBytes: usage.currentMemoryBytes });
        },
        usageIntervalMs: config.usageIntervalMs ?? 1_000,
        signal: run.abort.signal,
      });
      pipeline.finish();
      const warnings = [...record.warnings];
      const delivered = Math.min(
        record.limits.outputBytes,
        report.stdoutBytes + report.stderrBytes,
      );
      if (report.outputLimitExceeded && !pipeline.lineLimitHit()) {
        emit(run, {
          type: 'truncated',
          reason: 'bytes',
          limit: record.limits.outputBytes,
          droppedBytes: report.stdoutBytes + report.stderrBytes - delivered,
        });
      }
      const inspected = await inspector.inspect({
        runId: record.id,
        workspaceDir: workspace.dir,
        before,
        request: record.request,
      });
      warnings.push(...inspected.warnings);
      let state = endStateOf(report);
      if (state === 'cancelled' && run.interrupt) state = 'interrupted';
      if (report.setupFailed)
        warnings.push({
          check: 'sandbox',
          message: report.setupError ?? 'the sandbox did not start',
        });
      const result: RunResult = {
        state,
        exitCode: report.exitCode,
        signal: report.signal,
        queuedAt: record.queuedAt,
        startedAt: report.startedAt,
        finishedAt: report.finishedAt,
        durationMs: report.durationMs,
        usage: { cpuMs: report.usage.cpuMs, peakMemoryBytes: report.usage.peakMemoryBytes },
        warnings,
        error: report.setupFailed ? report.setupError : null,
        outputBytes: { stdout: report.stdoutBytes, stderr: report.stderrBytes },
        outputLines: pipeline.lines(),
        artifacts: inspected.artifacts,
        ...('value' in inspected ? { value: inspected.value } : {}),
      };
      estimator.record(record.kindKey, report.durationMs);
      outcome = result;
    } catch (error) {
      pipeline.finish();
      // Only runbox's own failures land here: the user's code ends in a state, not an exception.
      const message = error instanceof Error ? error.message : String(error);
      const state: EndState = run.interrupt
        ? 'interrupted'
        : run.abort.signal.aborted
          ? 'cancelled'
          : 'error';
      outcome = {
        ...notStartedResult(run, state, state === 'error' ? message : null),
        startedAt: record.startedAt,
      };
    }
    // The end event means what it says: the workspace is empty and the cgroup gone by then.
    await workspace?.release().catch(() => {});
    finish(run, outcome);
  }

  async function prepare(
    request: RunRequest,
    workspaceDir: string,
    limits: SandboxLimits,
  ): Promise<{ argv: string[]; env: Record<string, string> }> {
    if (request.kind === 'snippet') {
      const runtime = LANGUAGE_RUNTIMES[request.language];
      await writeNewWorkspaceFile(workspaceDir, runtime.fileName, request.code, host.runAs);
      return {
        argv: runtime.runArgv(`${SANDBOX_WORKSPACE}/${runtime.fileName}`),
        env: baseSandboxEnv(),
      };
    }
    if (!config.tools) throw new InvalidRunRequestError('toolId', 'this executor runs no tools');
    return config.tools.prepare({
      toolId: request.toolId,
      projectDir: request.projectDir,
      workspaceDir,
      workspaceBytes: limits.workspaceBytes,
      entry: request.entry,
      owner: host.runAs,
    });
  }

  async function* eventBatches(
    runId: string,
    options: { afterSeq?: number; signal?: AbortSignal; limits?: BatchLimits } = {},
  ): AsyncGenerator<RunEvent[]> {
    const run = find(runId);
    let cursor = options.afterSeq ?? 0;
    let wake: (() => void) | null = null;
    // Listen before reading, so that nothing appended between the two is missed.
    const off = run.log.onAppend(() => wake?.());
    const onAbort = (): void => wake?.();
    options.signal?.addEventListener('abort', onAbort);
    try {
      for (;;) {
        if (options.signal?.aborted) return;
        let page: RunEvent[];
        if (cursor < run.log.oldestKeptSeq() - 1) {
          const older = (await config.hooks?.readEvents?.(runId, cursor, 1_000)) ?? [];
          page = older.filter((event) => event.seq > cursor);
          if (page.length === 0)
            throw new EventsUnavailableError(runId, cursor, run.log.oldestKeptSeq());
        } else {
          page = run.log.after(cursor, 1_000);
        }
        for (const batch of cutBatches(page, options.limits)) {
          yield batch;
          const last = batch.at(-1)!;
          cursor = last.seq;
          if (last.type === 'end') return;
        }
        if (page.length > 0) {
          // A subscriber catching up never waits: give the event loop a turn between pages.
          await setImmediatePromise();
          continue;
        }
        if (run.log.ended()) return;
        await new Promise<void>((resolve) => {
          wake = resolve;
          if (run.log.lastSeq() > cursor || options.signal?.aborted) resolve();
        });
        wake = null;
      }
    } finally {
      off();
      options.signal?.removeEventListener('abort', onAbort);
    }
  }

  async function* events(
    runId: string,
    options: { afterSeq?: number; signal?: AbortSignal } = {},
  ): AsyncGenerator<RunEvent> {
    for await (const batch of eventBatches(runId, options)) yield* batch;
  }

  function entry(
    run: LiveRun,
    position: number | null,
    estimatedWaitMs: number | null,
  ): QueueEntry {
    const { record } = run;
    return {
      id: record.id,
      meta: record.meta,
      kindKey: record.kindKey,
      queuedAt: record.queuedAt,
      startedAt: record.startedAt,
      position,
      estimatedWaitMs,
      usage: record.usage,
    };
  }

  return {
    async submit(input, options = {}) {
      if (shuttingDown) throw new ShuttingDownError();
      const parsed = runRequestSchema.safeParse(input);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new InvalidRunRequestError(
          issue?.path.join('.') || 'request',
          issue?.message ?? 'invalid',
        );
      }
      const request = parsed.data;
      const toolLimits: LimitsOverride =
        request.kind === 'tool' && config.tools ? config.tools.limits(request.toolId) : {};
      const limits = resolveLimits({ ...toolLimits, ...request.limits }, config.limits ?? {});
      const warnings: RunWarning[] = [];
      if (request.kind === 'snippet') {
        const validation = validateCode({
          language: request.language,
          code: request.code,
          policy: config.validation,
        });
        warnings.push(
          ...validation.warnings.map((w) => ({
            check: w.check,
            rule: w.rule,
            line: w.line,
            message: w.message,
          })),
        );
        if (config.syntaxCheck !== false)
          await checkSyntaxInSandbox(host, request.language, request.code);
      } else if (!config.tools) {
        throw new InvalidRunRequestError('toolId', 'this executor runs no tools');
      }
      if (shuttingDown) throw new ShuttingDownError();
      const waitingCount = queue.waiting().length;
      if (waitingCount >= maxQueueLength) throw new QueueFullError(waitingCount, maxQueueLength);

      const id = options.id ?? randomUUID();
      if (runs.has(id)) throw new InvalidRunRequestError('id', `a run ${id} exists already`);
      const record: RunRecord = {
        id,
        state: 'queued',
        request,
        meta: { ...options.meta },
        priority: options.priority ?? 0,
        kindKey: runKindKey(request),
        limits,
        warnings,
        queuedAt: options.queuedAt ?? Date.now(),
        startedAt: null,
        finishedAt: null,
        usage: null,
        result: null,
      };
      const run: LiveRun = {
        record,
        log: createRunLog({ maxEvents: logMaxEvents, startAfterSeq: options.lastSeq ?? 0 }),
        abort: new AbortController(),
        interrupt: false,
        lastPosition: null,
      };
      options.beforeQueue?.(record);
      runs.set(id, run);
      emit(run, { type: 'state', state: 'queued' });
      queue.enqueue({ runId: id, priority: record.priority, start: () => execute(run) });
      return record;
    },

    cancel(runId) {
      const run = find(runId);
      if (isEndState(run.record.state)) return run.record;
      if (run.record.state === 'queued' && queue.remove(runId)) {
        run.abort.abort();
        finish(run, notStartedResult(run, 'cancelled', null));
      } else {
        run.abort.abort();
      }
      return run.record;
    },

    get: (runId) => find(runId).record,
    events,
    eventBatches,

    queue() {
      const waiting = queue.waiting();
      const running = runningEntries();
      const kinds = waiting.map((id) => runs.get(id)?.record.kindKey ?? '');
      const waits = estimator.estimateWaits({
        waiting: [...kinds, ''],
        running,
        concurrency: queue.concurrency,
      });
      return {
        waiting: waiting.flatMap((id, index) => {
          const run = runs.get(id);
          return run ? [entry(run, index + 1, waits[index] ?? 0)] : [];
        }),
        running: queue.running().flatMap((id) => {
          const run = runs.get(id);
          return run ? [entry(run, null, null)] : [];
        }),
        concurrency: queue.concurrency,
        paused: queue.isPaused(),
        maxQueueLength,
        estimatedWaitMs: waits.at(-1) ?? 0,
      };
    },

    setConcurrency(concurrency) {
      if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256) {
        throw new InvalidRunRequestError(
          'concurrency',
          `must be a whole number from 1 to 256, got ${concurrency}`,
        );
      }
      queue.setConcurrency(concurrency);
    },
    pause: () => queue.pause(),
    resume: () => queue.resume(),

    async shutdown({ deadlineMs }) {
      shuttingDown = true;
      queue.pause();
      const leftQueued = [...queue.waiting()];
      let deadline: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        queue.whenNoneRunning().then(() => false),
        new Promise<true>((resolve) => {
          deadline = setTimeout(() => resolve(true), deadlineMs);
        }),
      ]);
      clearTimeout(deadline);
      const interrupted: string[] = [];
      if (timedOut) {
        for (const id of queue.running()) {
          const run = runs.get(id);
          if (!run) continue;
          run.interrupt = true;
          run.abort.abort();
          interrupted.push(id);
        }
        await queue.whenNoneRunning();
      }
      return { interrupted, leftQueued };
    },
  };
}
