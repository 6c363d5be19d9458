import type { WorkspaceSnapshot } from '../artifacts/workspace-snapshot.ts';
import { runInSandbox, type PreparedCommand, type RunPhase } from '../run-path/run-in-sandbox.ts';
import type { SandboxSource } from '../run-path/sandbox-source.ts';
import { snippetCommand } from '../run-path/snippet-command.ts';
import type { EndState } from '../run-state.ts';
import { EnvironmentRefusedError } from '../environments/environment-errors.ts';
import { withEnvironment, type ReadyEnvironment } from '../environments/environment-store.ts';
import type { SandboxHost } from '../sandbox/sandbox-host.ts';
import type { OutputStream } from '../sandbox/sandbox-run.ts';
import type { ProgramControl } from '../sandbox/sandbox-run.ts';
import { SessionGoneError } from '../sessions/session-errors.ts';
import type { Readable } from 'node:stream';
import { ENGINE_DEFAULTS } from './engine-defaults.ts';
import { InvalidRunRequestError } from './engine-errors.ts';
import type { ExecutorConfig, RunRecord } from './executor-types.ts';
import { createOutputPipeline } from './output-pipeline.ts';
import type { RunEventInput, RunResult, RunWarning } from './run-events.ts';
import type { RunRequest } from './run-request.ts';
import { VerdictJudge } from './verdict.ts';
import type { InspectedWorkspace, WorkspaceInspector } from './workspace-inspector.ts';

export interface ExecuteRunContext {
  host: SandboxHost;
  config: ExecutorConfig;
  inspector: WorkspaceInspector;
  emit(event: RunEventInput): void;
  onInternalError(error: unknown, phase: RunPhase): void;
  /**
   * Holds the program's output back while whoever takes the events is behind (a worker whose
   * writes to Redis lag): a promise that settles when it may go on, or null.
   */
  outputGate?: () => Promise<void> | null;
  /** An interactive run's stdin (its `stdin` already written into it), kept open by the engine. */
  stdin?: Readable | undefined;
  /** The started program, for a signal from the client. */
  onProgram?: ((program: ProgramControl) => void) | undefined;
}

/** A tty run's partial lines (a prompt, an echoed key) show after this long. */
const TERMINAL_FLUSH_MS = 15;
/** ... and what redaction holds of them after this long without more output. */
const TERMINAL_RELEASE_MS = 60;

/** The result of a run that never started its program. */
export function notStartedResult(
  record: RunRecord,
  state: EndState,
  error: string | null,
): RunResult {
  return {
    state,
    exitCode: null,
    signal: null,
    queuedAt: record.queuedAt,
    startedAt: record.startedAt,
    finishedAt: Date.now(),
    durationMs: 0,
    usage: { cpuMs: 0, peakMemoryBytes: 0 },
    warnings: record.warnings,
    error,
    outputBytes: { stdout: 0, stderr: 0 },
    outputLines: 0,
    artifacts: [],
  };
}

/**
 * A warm sandbox for a snippet, when the pool has one: not for a run with `env`, whose
 * interpreter must start with it (a warm one started with the sandbox's own environment).
 * Arguments are fine warm: the waiting runner is given them with the file to run.
 */
function warmSourceFor(config: ExecutorConfig, request: RunRequest): SandboxSource | undefined {
  if (request.kind !== 'snippet') return undefined;
  if (request.env && Object.keys(request.env).length > 0) return undefined;
  // An environment is bound into the sandbox when it starts: a warm one started without it. A
  // terminal wraps the runner in runtime/tty_run.py: not the runner a warm one waits with.
  if (request.environment !== undefined || request.tty) return undefined;
  return config.warm?.sourceFor(request.language);
}

/** A cell's source: its session's kernel. `warn` takes what the cell is to be told. */
function cellSourceFor(
  config: ExecutorConfig,
  request: Extract<RunRequest, { kind: 'cell' }>,
  warn: (warning: RunWarning) => void,
): SandboxSource {
  const sessions = config.sessions;
  if (!sessions) return { claim: () => Promise.reject(new SessionGoneError(request.sessionId)) };
  return sessions.cellSource({ sessionId: request.sessionId, code: request.code }, warn);
}

/**
 * A run's environment, made ready in its prepare step (installed there when it is not cached,
 * its output in the run's stderr): null for a run that asked for none.
 */
function environmentFor(
  context: ExecuteRunContext,
  record: RunRecord,
  signal: AbortSignal,
  onOutput: (stream: OutputStream, chunk: Buffer) => void,
): (() => Promise<ReadyEnvironment>) | null {
  const request = record.request;
  if (request.kind === 'cell' || request.environment === undefined) return null;
  const store = context.config.environments;
  const name = request.environment;
  if (!store)
    return () =>
      Promise.reject(new EnvironmentRefusedError('this server installs no environments'));
  return () =>
    store.ensure(
      { environment: name, projectDir: request.kind === 'tool' ? request.projectDir : undefined },
      {
        runId: record.id,
        // Install output is not the program's: stderr, never the stdout a verdict judges.
        onOutput: (_stream, chunk) => onOutput('stderr', chunk),
        signal,
        onInternalError: context.onInternalError,
      },
    );
}

function environmentNote(ready: ReadyEnvironment): RunWarning {
  return {
    check: 'environment',
    rule: ready.reused ? 'cached' : 'installed',
    message: `environment "${ready.label}" ${ready.reused ? 'taken from the cache' : 'installed for this run and cached'} (${ready.key.slice(0, 12)})`,
  };
}

function verdictJudgeFor(request: RunRequest): VerdictJudge | null {
  return request.kind === 'snippet' && request.expectedOutput !== undefined
    ? new VerdictJudge(request.expectedOutput)
    : null;
}

/** The run's files put into its workspace, and what to start. */
function prepareRequest(
  context: ExecuteRunContext,
  record: RunRecord,
): (workspaceDir: string) => Promise<PreparedCommand> {
  const request: RunRequest = record.request;
  const { host, config } = context;
  // A cell's code goes to its kernel as a request: nothing to put in the workspace.
  if (request.kind === 'cell') return () => Promise.resolve({ argv: ['session-cell'], env: {} });
  if (request.kind === 'snippet') {
    return snippetCommand({
      language: request.language,
      code: request.code,
      owner: host.runAs,
      entry: request.entry,
      files: request.files,
      args: request.args,
      env: request.env,
      tty: request.tty,
    });
  }
  const tools = config.tools;
  if (!tools)
    return () =>
      Promise.reject(new InvalidRunRequestError('toolId', 'this executor runs no tools'));
  return (workspaceDir) =>
    tools.prepare({
      toolId: request.toolId,
      projectDir: request.projectDir,
      workspaceDir,
      workspaceBytes: record.limits.workspaceBytes,
      entry: request.entry,
      args: request.args,
      env: request.env,
      owner: host.runAs,
      layers: host.projectLayers.available,
    });
}

/**
 * One run of the engine through the run path: output through the pipeline, live usage, artifacts
 * and the result value read before the workspace goes. Never throws: every way a run can go ends
 * in a result (runbox's own failures as `error`, with the details to onInternalError).
 */
export async function executeRun(
  context: ExecuteRunContext,
  record: RunRecord,
  control: { signal: AbortSignal; interrupted: () => boolean },
): Promise<RunResult> {
  const { config, inspector } = context;
  const output = config.output ?? {};
  const judge = verdictJudgeFor(record.request);
  // The judge reads stdout as it is shown (redacted, tokenized): what the run's output is.
  const emit: ExecuteRunContext['emit'] = judge
    ? (event) => {
        if (event.type === 'output' && event.stream === 'stdout')
          judge.take(event.text, event.partial);
        context.emit(event);
      }
    : context.emit;
  // A terminal echoes each key: its partial lines show at once, and what redaction holds of
  // them shortly after (output-pipeline.ts releaseHeldMs).
  const onTerminal = record.request.kind === 'snippet' && record.request.tty !== undefined;
  const partialFlushMs = output.partialFlushMs ?? ENGINE_DEFAULTS.partialFlushMs;
  const pipeline = createOutputPipeline({
    maxLineBytes: output.maxLineBytes ?? ENGINE_DEFAULTS.maxLineBytes,
    maxLines: output.maxLines ?? ENGINE_DEFAULTS.maxOutputLines,
    partialFlushMs: onTerminal ? Math.min(partialFlushMs, TERMINAL_FLUSH_MS) : partialFlushMs,
    redactPatterns: output.redactPatterns ?? [],
    pii: record.request.outputFilters?.pii ?? output.pii ?? false,
    releaseHeldMs: onTerminal ? TERMINAL_RELEASE_MS : undefined,
    emit,
  });
  const prepare = prepareRequest(context, record);
  const request = record.request;
  const runNotes: RunWarning[] = [];
  const environment = environmentFor(context, record, control.signal, (stream, chunk) =>
    pipeline.push(stream, chunk),
  );
  let before: WorkspaceSnapshot | null = null;
  let ready: ReadyEnvironment | null = null;
  const outcome = await runInSandbox<InspectedWorkspace>(context.host, {
    runId: record.id,
    limits: record.limits,
    source:
      request.kind === 'cell'
        ? cellSourceFor(config, request, (warning) => runNotes.push(warning))
        : warmSourceFor(config, request),
    prepare: async (workspaceDir) => {
      ready = environment ? await environment() : null;
      if (ready) runNotes.push(environmentNote(ready));
      const command = await prepare(workspaceDir);
      // A layered project's files are the project's, listed already; the run's are what differs.
      before = command.layer ? command.layer.contents : await inspector.snapshot(workspaceDir);
      return ready
        ? { ...command, env: withEnvironment(command.env, ready), mounts: ready.mounts }
        : command;
    },
    stdin: context.stdin ?? (request.kind === 'cell' ? undefined : request.stdin),
    onProgram: context.onProgram,
    onOutput: (stream, chunk) => pipeline.push(stream, chunk),
    outputGate: context.outputGate,
    onUsage: (usage) => {
      record.usage = { cpuMs: usage.cpuMs, memoryBytes: usage.currentMemoryBytes };
      emit({ type: 'usage', cpuMs: usage.cpuMs, memoryBytes: usage.currentMemoryBytes });
    },
    usageIntervalMs: config.usageIntervalMs ?? ENGINE_DEFAULTS.usageIntervalMs,
    signal: control.signal,
    inspect: (workspaceDir) => {
      if (!before) throw new Error('the workspace was not listed before the run');
      return inspector.inspect({ runId: record.id, workspaceDir, before, request: record.request });
    },
    onInternalError: context.onInternalError,
  });
  // The sandbox is gone: the store may remove the environment again to keep within its cap.
  (ready as ReadyEnvironment | null)?.release();
  pipeline.finish();

  const interrupt = (state: EndState): EndState =>
    state === 'cancelled' && control.interrupted() ? 'interrupted' : state;
  const { report } = outcome;
  if (!report)
    return {
      ...notStartedResult(record, interrupt(outcome.state), outcome.failure),
      warnings: [...record.warnings, ...runNotes],
    };

  const warnings: RunWarning[] = [...record.warnings, ...runNotes];
  const delivered = Math.min(record.limits.outputBytes, report.stdoutBytes + report.stderrBytes);
  if (report.outputLimitExceeded && !pipeline.lineLimitHit()) {
    emit({
      type: 'truncated',
      reason: 'bytes',
      limit: record.limits.outputBytes,
      droppedBytes: report.stdoutBytes + report.stderrBytes - delivered,
    });
  }
  const inspected = outcome.inspected;
  if (inspected) warnings.push(...inspected.warnings);
  if (outcome.inspectFailed) {
    warnings.push({
      check: 'artifact',
      rule: 'internal',
      message: "runbox could not keep this run's files (its own fault; the server log has why)",
    });
  }
  if (report.setupFailed) {
    warnings.push({ check: 'sandbox', message: outcome.failure ?? 'the sandbox did not start' });
  }
  return {
    state: interrupt(outcome.state),
    exitCode: report.exitCode,
    signal: report.signal,
    queuedAt: record.queuedAt,
    startedAt: report.startedAt,
    finishedAt: report.finishedAt,
    durationMs: report.durationMs,
    usage: { cpuMs: report.usage.cpuMs, peakMemoryBytes: report.usage.peakMemoryBytes },
    warnings,
    error: outcome.failure,
    outputBytes: { stdout: report.stdoutBytes, stderr: report.stderrBytes },
    outputLines: pipeline.lines(),
    artifacts: inspected?.artifacts ?? [],
    ...(inspected && 'value' in inspected ? { value: inspected.value } : {}),
    ...(judge ? { verdict: judge.verdict() } : {}),
  };
}
