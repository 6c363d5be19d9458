import { randomUUID } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { isEndState, type RunState, assertTransition } from '../run-state.ts';
import { resolveLimits, type LimitsOverride } from '../sandbox/limits.ts';
import { validateSnippet } from '../validation/validate-snippet.ts';
import { ENGINE_DEFAULTS } from './engine-defaults.ts';
import {
  EventsUnavailableError,
  InvalidRunRequestError,
  QueueFullError,
  RunNotFoundError,
  RunNotInteractiveError,
  ShuttingDownError,
} from './engine-errors.ts';
import { notStartedResult } from './execute-run.ts';
import { localDriver } from './local-driver.ts';
import type {
  CheckedRun,
  Executor,
  ExecutorConfig,
  QueueEntry,
  RunRecord,
  SubmitOptions,
} from './executor-types.ts';
import { pageEvents, type EventSource } from './event-pager.ts';
import type { BatchLimits } from './event-batch.ts';
import { createPositionAnnouncer } from './position-announcer.ts';
import type { RunEvent, RunEventInput, RunResult, RunWarning } from './run-events.ts';
import { createRunLog, type RunLog } from './run-log.ts';
import {
  MAX_STDIN_BYTES,
  runKindKey,
  runRequestSchema,
  takesInput,
  type RunRequest,
} from './run-request.ts';
import type { ProgramControl } from '../sandbox/sandbox-run.ts';
import { checkSyntaxInSandbox } from './syntax-check.ts';
import { createWaitEstimator } from './wait-estimator.ts';
import { createWorkspaceInspector } from './workspace-inspector.ts';

export type {
  CheckedRun,
  DriverRunContext,
  RunDriver,
  Executor,
  ExecutorConfig,
  ExecutorHooks,
  QueueEntry,
  QueueSnapshot,
  RunRecord,
  SubmitOptions,
} from './executor-types.ts';

interface LiveRun {
  record: RunRecord;
  log: RunLog;
  abort: AbortController;
  interrupt: boolean;
  /** An interactive run's stdin, fed by sendInput; null for every other run. */
  input: PassThrough | null;
  /** The running program, for signal(); null before it starts and after it ends. */
  program: ProgramControl | null;
  /** Waiting for SubmitOptions.after, outside the queue. */
  held: boolean;
}

export function createExecutor(config: ExecutorConfig): Executor {
  const host = config.host;
  const maxQueueLength = config.maxQueueLength ?? ENGINE_DEFAULTS.maxQueueLength;
  const keepEndedRuns = config.keepEndedRuns ?? ENGINE_DEFAULTS.keepEndedRuns;
  const logMaxEvents = config.logMaxEvents ?? ENGINE_DEFAULTS.logMaxEvents;
  const inspector = createWorkspaceInspector({ artifactsRoot: config.artifactsRoot ?? null });
  const driver = config.driver ?? localDriver(config, inspector);
  const queue = driver.queue;
  const estimator = createWaitEstimator();
  const runs = new Map<string, LiveRun>();
  const endedOrder: string[] = [];
  let shuttingDown = false;

  const queueListeners = new Set<() => void>();
  let queueChangePending = false;
  /** Tells queue listeners once per turn of the event loop, however many changes it saw. */
  function queueChanged(): void {
    if (queueChangePending || queueListeners.size === 0) return;
    queueChangePending = true;
    setImmediate(() => {
      queueChangePending = false;
      for (const listener of queueListeners) listener();
    });
  }

  function emit(run: LiveRun, input: RunEventInput): RunEvent {
    const event = run.log.append(input);
    try {
      config.hooks?.onEvent?.(run.record, event);
    } catch (error) {
      // A failing store must not stall a run: the engine goes on; the caller hears of it.
      config.hooks?.onHookError?.(error, run.record, event);
    }
    if (event.type === 'usage' || event.type === 'state') queueChanged();
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

  const positions = createPositionAnnouncer({
    queue,
    estimator,
    runOf: (runId) => runs.get(runId)?.record,
    emit: (runId, event) => {
      const run = runs.get(runId);
      if (run) emit(run, event);
    },
  });
  queue.onChange(() => {
    positions.announce();
    queueChanged();
  });

  function finish(run: LiveRun, result: RunResult): void {
    const { record } = run;
    record.result = result;
    record.finishedAt = result.finishedAt;
    record.state = result.state;
    run.program = null;
    run.input?.destroy();
    positions.forget(record.id);
    emit(run, { type: 'state', state: result.state });
    emit(run, { type: 'end', result });
    endedOrder.push(record.id);
    while (endedOrder.length > keepEndedRuns) {
      const old = endedOrder.shift();
      if (old) runs.delete(old);
    }
  }

  async function execute(run: LiveRun): Promise<void> {
    const { record } = run;
    if (run.abort.signal.aborted) {
      if (!isEndState(record.state)) finish(run, notStartedResult(record, 'cancelled', null));
      return;
    }
    record.startedAt = Date.now();
    setState(run, 'running');
    await follow(run, false);
  }

  /** Runs (or, resumed, follows) the run through the driver to its end. */
  async function follow(run: LiveRun, resumed: boolean): Promise<void> {
    const { record } = run;
    const result = await driver.execute(record, {
      emit: (event) => emit(run, event),
      signal: run.abort.signal,
      interrupted: () => run.interrupt,
      resumed,
      onInternalError: (error, phase) => config.hooks?.onInternalError?.(error, record, phase),
      stdin: run.input ?? undefined,
      onProgram: (program) => {
        run.program = program;
      },
    });
    if (result.startedAt !== null && result.durationMs > 0)
      estimator.record(record.kindKey, result.durationMs);
    // The end event means what it says: the workspace is gone and the cgroup too by then.
    finish(run, result);
  }

  /** The engine's events of a run, with older ones than its log keeps read from the store. */
  function eventSource(runId: string, run: LiveRun): EventSource {
    return {
      async read(afterSeq, limit) {
        if (afterSeq >= run.log.oldestKeptSeq() - 1) return run.log.after(afterSeq, limit);
        const older = (await config.hooks?.readEvents?.(runId, afterSeq, limit)) ?? [];
        const page = older.filter((event) => event.seq > afterSeq);
        if (page.length === 0)
          throw new EventsUnavailableError(runId, afterSeq, run.log.oldestKeptSeq());
        return page;
      },
      waitAfter(afterSeq, signal) {
        return new Promise<void>((resolve) => {
          if (run.log.lastSeq() > afterSeq || run.log.ended() || signal?.aborted) {
            resolve();
            return;
          }
          const done = (): void => {
            off();
            signal?.removeEventListener('abort', done);
            resolve();
          };
          const off = run.log.onAppend(done);
          signal?.addEventListener('abort', done, { once: true });
        });
      },
      ended: () => run.log.ended(),
    };
  }

  function eventBatches(
    runId: string,
    options: { afterSeq?: number; signal?: AbortSignal; limits?: BatchLimits } = {},
  ): AsyncGenerator<RunEvent[]> {
    // Found now, not at the first pull: an unknown run fails the call itself.
    const run = find(runId);
    return pageEvents(eventSource(runId, run), options);
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

  function parseRequest(input: unknown): RunRequest {
    const parsed = runRequestSchema.safeParse(input);
    if (parsed.success) return parsed.data;
    const issue = parsed.error.issues[0];
    throw new InvalidRunRequestError(
      issue?.path.join('.') || 'request',
      issue?.message ?? 'invalid',
    );
  }

  /**
   * Everything that can be known to be wrong with a request before it is queued: its limits, a
   * snippet's size, secrets and syntax, a tool's project against its workspace and entry file.
   * Returns the warnings a run still may go on with.
   */
  async function check(request: RunRequest, limits: RunRecord['limits']): Promise<RunWarning[]> {
    if (request.kind === 'cell') {
      // With workers elsewhere, a cell runs in its session's kernel on the session's worker.
      if (!config.sessions && !config.driver?.runsElsewhere)
        throw new InvalidRunRequestError('sessionId', 'this executor runs no sessions');
      const warnings = validateSnippet(request, config.validation);
      if (config.syntaxCheck ?? ENGINE_DEFAULTS.syntaxCheck)
        await checkSyntaxInSandbox(host, request.language, request.code);
      return warnings;
    }
    if (request.environment !== undefined) {
      if (!config.environments)
        throw new InvalidRunRequestError('environment', 'this server installs no environments');
      await config.environments.check({
        environment: request.environment,
        projectDir: request.kind === 'tool' ? request.projectDir : undefined,
      });
    }
    if (request.kind === 'tool') {
      if (!config.tools) throw new InvalidRunRequestError('toolId', 'this executor runs no tools');
      return config.tools.check({
        toolId: request.toolId,
        projectDir: request.projectDir,
        workspaceBytes: limits.workspaceBytes,
        entry: request.entry,
        args: request.args,
        env: request.env,
      });
    }
    const warnings = validateSnippet(request, config.validation);
    if (config.syntaxCheck ?? ENGINE_DEFAULTS.syntaxCheck)
      await checkSyntaxInSandbox(host, request.language, request.code);
    return warnings;
  }

  /** A request's limits: the tool's defaults, the request's own, within the server's maximums. */
  function limitsOf(request: RunRequest): RunRecord['limits'] {
    const toolLimits: LimitsOverride =
      request.kind === 'tool' && config.tools ? config.tools.limits(request.toolId) : {};
    return resolveLimits({ ...toolLimits, ...request.limits }, config.limits ?? {});
  }

  /** A new run's record and log, under a new (or the given, unused) id. */
  function newRun(
    request: RunRequest,
    options: SubmitOptions,
    fields: Pick<RunRecord, 'state' | 'limits' | 'warnings' | 'queuedAt' | 'startedAt'>,
  ): LiveRun {
    const id = options.id ?? randomUUID();
    if (runs.has(id)) throw new InvalidRunRequestError('id', `a run ${id} exists already`);
    let input: PassThrough | null = null;
    if (takesInput(request)) {
      input = new PassThrough();
      if (request.kind === 'snippet' && request.stdin !== undefined) input.write(request.stdin);
    }
    return {
      record: {
        id,
        request,
        meta: { ...options.meta },
        priority: options.priority ?? 0,
        kindKey: runKindKey(request),
        ...fields,
        finishedAt: null,
        usage: null,
        result: null,
      },
      log: createRunLog({ maxEvents: logMaxEvents, startAfterSeq: options.lastSeq ?? 0 }),
      abort: new AbortController(),
      interrupt: false,
      input,
      program: null,
      held: false,
    };
  }

  /** A run already running elsewhere, followed again after this process restarted. */
  function resume(input: unknown, options: SubmitOptions, startedAt: number): RunRecord {
    const adopt = driver.adopt;
    if (!adopt)
      throw new InvalidRunRequestError('resume', 'runs of this driver do not outlive the process');
    const request = parseRequest(input);
    const run = newRun(request, options, {
      state: 'running',
      limits: limitsOf(request),
      warnings: [],
      queuedAt: options.queuedAt ?? startedAt,
      startedAt,
    });
    runs.set(run.record.id, run);
    adopt(run.record.id, () => follow(run, true));
    return run.record;
  }

  /** Checked requests this executor made: only those are queued without checking again. */
  const checkedHere = new WeakSet<CheckedRun>();

  async function checkRun(input: unknown): Promise<CheckedRun> {
    if (shuttingDown) throw new ShuttingDownError();
    const request = parseRequest(input);
    const limits = limitsOf(request);
    const warnings = await check(request, limits);
    const checked: CheckedRun = Object.freeze({ request, limits, warnings });
    checkedHere.add(checked);
    return checked;
  }

  /** Queues a checked run at once: nothing in here waits, so a batch queues all of its runs in one go. */
  function submitChecked(checked: CheckedRun, options: SubmitOptions = {}): RunRecord {
    if (!checkedHere.has(checked))
      throw new InvalidRunRequestError('request', 'was not checked by this executor');
    if (shuttingDown) throw new ShuttingDownError();
    const waitingCount = queue.waiting().length;
    if (waitingCount >= maxQueueLength) throw new QueueFullError(waitingCount, maxQueueLength);

    const run = newRun(checked.request, options, {
      state: 'queued',
      limits: checked.limits,
      warnings: [...checked.warnings],
      queuedAt: options.queuedAt ?? Date.now(),
      startedAt: null,
    });
    const { record } = run;
    const id = record.id;
    options.beforeQueue?.(record);
    runs.set(id, run);
    emit(run, { type: 'state', state: 'queued' });
    const enqueue = (): void =>
      queue.enqueue({ runId: id, priority: record.priority, record, start: () => execute(run) });
    const after = options.after;
    if (!after) {
      enqueue();
      return record;
    }
    run.held = true;
    const release = (): void => {
      run.held = false;
      // Cancelled while it waited (cancel ended it), or the server stops: a stopped server's
      // store keeps it queued, and the next start queues it again.
      if (isEndState(record.state) || shuttingDown) return;
      enqueue();
    };
    after.then(release, release);
    return record;
  }

  return {
    async submit(input, options: SubmitOptions = {}) {
      if (shuttingDown) throw new ShuttingDownError();
      if (options.resume) return resume(input, options, options.resume.startedAt);
      return submitChecked(await checkRun(input), options);
    },

    check: checkRun,
    submitChecked,

    cancel(runId) {
      const run = find(runId);
      if (isEndState(run.record.state)) return run.record;
      run.abort.abort();
      if (run.record.state === 'queued' && (run.held || queue.remove(runId))) {
        finish(run, notStartedResult(run.record, 'cancelled', null));
      }
      return run.record;
    },

    sendInput(runId, data) {
      const run = find(runId);
      const input = run.input;
      if (!input) throw new RunNotInteractiveError(runId, 'was not created interactive');
      if (isEndState(run.record.state) || input.destroyed)
        throw new RunNotInteractiveError(runId, 'has ended');
      if (input.writableEnded) throw new RunNotInteractiveError(runId, 'has its input closed');
      const bytes = Buffer.byteLength(data, 'utf8');
      if (input.writableLength + bytes > MAX_STDIN_BYTES)
        throw new RunNotInteractiveError(
          runId,
          `has not read the input sent before: at most ${MAX_STDIN_BYTES} bytes wait for it`,
        );
      input.write(data);
    },

    closeInput(runId) {
      const run = find(runId);
      if (!run.input) throw new RunNotInteractiveError(runId, 'was not created interactive');
      if (!run.input.writableEnded && !run.input.destroyed) run.input.end();
    },

    async signal(runId, name) {
      const run = find(runId);
      if (!run.program || isEndState(run.record.state)) return false;
      return run.program.signal(name);
    },

    resize(runId, size) {
      const run = find(runId);
      const request = run.record.request;
      if (request.kind !== 'snippet' || !request.tty)
        throw new RunNotInteractiveError(runId, 'has no terminal (it was not created with tty)');
      // Kept for the program to start with when it has not started yet.
      request.tty = { ...size };
      if (!run.program || isEndState(run.record.state)) return false;
      return run.program.control(JSON.stringify(size));
    },

    get: (runId) => find(runId).record,
    events,
    eventBatches,

    queue() {
      const waiting = queue.waiting();
      const now = Date.now();
      const running = queue.running().flatMap((id) => {
        const run = runs.get(id);
        return run
          ? [{ kind: run.record.kindKey, elapsedMs: now - (run.record.startedAt ?? now) }]
          : [];
      });
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

    onQueueChange(listener) {
      queueListeners.add(listener);
      return () => queueListeners.delete(listener);
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
      if (driver.runsElsewhere) {
        // Workers elsewhere go on with every queued and running run; this process lets go.
        const leftQueued = [...queue.waiting()];
        await driver.close?.();
        return { interrupted: [], leftQueued };
      }
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
      await driver.close?.();
      return { interrupted, leftQueued };
    },
  };
}
