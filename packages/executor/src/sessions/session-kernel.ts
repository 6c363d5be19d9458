import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { z } from 'zod';
import { SANDBOX_RESULT_PATH } from '../result/result-path.ts';
import type { CgroupUsage } from '../sandbox/cgroup.ts';
import type { SandboxLimits } from '../sandbox/limits.ts';
import type { ReadOnlyMount } from '../sandbox/sandbox-command.ts';
import { baseSandboxEnv } from '../sandbox/sandbox-environment.ts';
import type { SandboxHost } from '../sandbox/sandbox-host.ts';
import type {
  OutputStream,
  SandboxRunOptions,
  SandboxRunReport,
  SpawnedSandbox,
} from '../sandbox/sandbox-run.ts';
import type { Workspace } from '../sandbox/workspace-pool.ts';
import { createFrameReader, encodeFrame } from './kernel-frames.ts';
import {
  cellReplySchema,
  restoreReplySchema,
  setReplySchema,
  variablesReplySchema,
  type CellReply,
  type KernelSnapshot,
  type RestoreReply,
  type VariableView,
} from './kernel-messages.ts';
import { createFenceSplitter, type FenceSplitter } from './output-fence.ts';
import {
  InvalidVariableError,
  SessionBusyError,
  SessionKernelEndedError,
} from './session-errors.ts';
import { kernelArgv, type SessionLanguage } from './session-languages.ts';

export interface SessionKernelOptions {
  /** Names the kernel's cgroup: letters, digits, _ and - only. */
  cgroupName: string;
  language: SessionLanguage;
  /**
   * The session's limits. Memory, processes, CPU, /tmp, the workspace and open files hold for the
   * kernel and every cell together; `wallTimeMs` is how long the kernel may live at most.
   * `outputBytes` is not used here (each cell has its own).
   */
  limits: SandboxLimits;
  /** Added to the kernel's environment (over the sandbox's base). */
  env?: Readonly<Record<string, string>> | undefined;
  /** Read-only binds for the kernel (its session's dependency environment). */
  mounts?: readonly ReadOnlyMount[] | undefined;
  /** A cell still running this long after its SIGINT has its kernel killed. @default 2000 */
  interruptGraceMs?: number | undefined;
  /** The kernel not ready by then is given up. @default 15000 */
  readyTimeoutMs?: number | undefined;
  /** The kernel ended, however: killed, out of memory, exited, closed. */
  onExit?: ((why: string, report: SandboxRunReport) => void) | undefined;
}

export interface CellOptions {
  code: string;
  /** The cell's own time: past it the cell is interrupted, and killed after the grace. */
  timeoutMs: number;
  /** stdout and stderr bytes of this cell before it is interrupted as output_limit. */
  outputBytes: number;
  onOutput?: SandboxRunOptions['onOutput'];
  outputGate?: SandboxRunOptions['outputGate'];
  onUsage?: SandboxRunOptions['onUsage'];
  usageIntervalMs?: number | undefined;
  /** Aborted: the cell is interrupted (SIGINT), then killed after the grace; it ends cancelled. */
  signal?: AbortSignal | undefined;
}

export interface CellOutcome {
  /** The cell as a sandbox report: its exit status, flags, time, usage and output bytes. */
  report: SandboxRunReport;
  /** The variables after the cell; null when the kernel ended with it. */
  snapshot: KernelSnapshot | null;
  /** The kernel ended during the cell: why, in words for the user. Null when it lives on. */
  kernelEnded: string | null;
}

/** A session's kernel: one long-lived sandbox, every layer a run has, running cells in turn. */
export interface SessionKernel {
  readonly language: SessionLanguage;
  /** Host directory bound at /workspace for every cell of this kernel. */
  readonly workspaceDir: string;
  readonly startedAt: number;
  alive(): boolean;
  /** A cell is running. */
  busy(): boolean;
  runCell(options: CellOptions): Promise<CellOutcome>;
  variables(): Promise<VariableView[]>;
  setVariable(name: string, value: unknown): Promise<void>;
  restore(snapshot: Pick<KernelSnapshot, 'values' | 'modules'>): Promise<RestoreReply>;
  /** The kernel's cgroup usage (its memory while idle); null once it ended. */
  usage(): Promise<CgroupUsage | null>;
  /**
   * Ends the kernel (everything it started goes with its cgroup); resolves once its workspace is
   * removed, which happens whenever the kernel ends.
   */
  close(): Promise<void>;
}

const DEFAULT_GRACE_MS = 2_000;
const DEFAULT_READY_TIMEOUT_MS = 15_000;
/** setTimeout takes at most a signed 32-bit count of milliseconds. */
const MAX_TIMER_MS = 2_147_483_647;
/** Output printed between cells (a thread, a timer) kept for the next cell, per stream. */
const MAX_IDLE_BYTES = 64 * 1024;
/** After its reply, a cell's fences are waited for this long at most (its own stdout closed). */
const FENCE_WAIT_MS = 2_000;
/** A request other than a cell (variables, set, restore) answered by then, or the kernel ends. */
const REQUEST_TIMEOUT_MS = 10_000;
/** An idle kernel told to end has this long to exit by itself before it is killed. */
const CLOSE_GRACE_MS = 2_000;
const ZERO_USAGE: CgroupUsage = { cpuMs: 0, peakMemoryBytes: 0, currentMemoryBytes: 0 };

type InterruptReason = 'timeout' | 'cancel' | 'output';

interface RunningCell {
  options: CellOptions;
  reason: InterruptReason | null;
  graceTimer: NodeJS.Timeout | null;
  outputLimited: boolean;
  budget: number;
  bytes: Record<OutputStream, number>;
  fenced: Record<OutputStream, boolean>;
  onFenced: () => void;
}

interface PendingReply {
  resolve(message: unknown): void;
  reject(error: Error): void;
}

/**
 * Starts a session's kernel through the same spawn as every run (the forker's launcher, cgroup,
 * rlimits, the privilege drop, bwrap with every namespace, seccomp, tini), the language's kernel
 * as the program, and
 * keeps it going: one `go` for the kernel's whole life, its stdin a pipe the host writes requests
 * into, its output split into cells at their fences.
 */
export async function startSessionKernel(
  host: SandboxHost,
  options: SessionKernelOptions,
): Promise<SessionKernel> {
  const grace = options.interruptGraceMs ?? DEFAULT_GRACE_MS;
  const workspace: Workspace = await host.workspaces.acquire(options.limits.workspaceBytes);
  let sandbox: SpawnedSandbox;
  try {
    sandbox = await host.spawn({
      runId: options.cgroupName,
      argv: kernelArgv(options.language),
      limits: options.limits,
      workspaceDir: workspace.dir,
      env: { ...baseSandboxEnv(), ...options.env },
      mounts: options.mounts,
      readyFd: true,
    });
  } catch (error) {
    await workspace.release();
    throw error;
  }
  let readyTimer: NodeJS.Timeout | undefined;
  const ready = await Promise.race([
    sandbox.whenReady(),
    new Promise<false>((resolve) => {
      readyTimer = setTimeout(
        () => resolve(false),
        options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS,
      );
    }),
  ]);
  clearTimeout(readyTimer);
  if (!ready) {
    await sandbox.discard().catch(() => {});
    await workspace.release();
    throw new SessionKernelEndedError(`the ${options.language} kernel did not start`);
  }

  const input = new PassThrough();
  const closing = new AbortController();
  const splitters: Record<OutputStream, FenceSplitter> = {
    stdout: createFenceSplitter(),
    stderr: createFenceSplitter(),
  };
  const idle: Record<OutputStream, Buffer[]> = { stdout: [], stderr: [] };
  const idleBytes: Record<OutputStream, number> = { stdout: 0, stderr: 0 };
  const pending = new Map<string, PendingReply>();
  let requestCounter = 0;
  let cell: RunningCell | null = null;
  let endedBy: string | null = null;
  let kernelReport: SandboxRunReport | null = null;

  /** Ends the kernel: its cgroup is killed, `go` returns, every waiting request fails. */
  const kill = (why: string): void => {
    endedBy ??= why;
    closing.abort();
  };

  const deliver = (stream: OutputStream, bytes: Buffer): void => {
    const running = cell;
    if (!running || bytes.length === 0) return;
    running.bytes[stream] += bytes.length;
    if (running.outputLimited) return;
    let chunk = bytes;
    if (chunk.length > running.budget) {
      chunk = chunk.subarray(0, running.budget);
      running.outputLimited = true;
    }
    running.budget -= chunk.length;
    if (chunk.length > 0 && running.options.onOutput?.(stream, chunk) === 'limit')
      running.outputLimited = true;
    if (running.outputLimited) interrupt('output');
  };

  const keepIdle = (stream: OutputStream, bytes: Buffer): void => {
    if (bytes.length === 0 || idleBytes[stream] >= MAX_IDLE_BYTES) return;
    const kept = bytes.subarray(0, MAX_IDLE_BYTES - idleBytes[stream]);
    idle[stream].push(Buffer.from(kept));
    idleBytes[stream] += kept.length;
  };

  const route = (stream: OutputStream, chunk: Buffer): undefined => {
    const split = splitters[stream].push(chunk);
    deliver(stream, split.cell);
    if (split.found && cell) {
      cell.fenced[stream] = true;
      cell.onFenced();
    }
    keepIdle(stream, split.rest);
    return undefined;
  };

  function interrupt(reason: InterruptReason): void {
    const running = cell;
    if (!running || running.reason) return;
    running.reason = reason;
    void sandbox.signalProgram('SIGINT');
    running.graceTimer = setTimeout(
      () => kill(`the cell did not stop within ${grace} ms of its interrupt`),
      grace,
    );
  }

  const reader = createFrameReader();
  sandbox.control()?.on('data', (chunk: Buffer) => {
    if (endedBy) return;
    let messages: unknown[];
    try {
      messages = reader.push(chunk);
    } catch (error) {
      kill(error instanceof Error ? error.message : String(error));
      return;
    }
    for (const message of messages) {
      const id = (message as { id?: unknown } | null)?.id;
      const waiting = typeof id === 'string' ? pending.get(id) : undefined;
      if (waiting && typeof id === 'string') {
        pending.delete(id);
        waiting.resolve(message);
      }
    }
  });

  const going = sandbox
    .go({
      limits: {
        ...options.limits,
        outputBytes: Number.MAX_SAFE_INTEGER,
        wallTimeMs: Math.min(options.limits.wallTimeMs, MAX_TIMER_MS),
      },
      stdin: input,
      onOutput: route,
      outputGate: () => cell?.options.outputGate?.() ?? null,
      signal: closing.signal,
    })
    .then(
      (report) => report,
      (error: unknown): SandboxRunReport => {
        endedBy ??= `runbox could not keep the kernel: ${error instanceof Error ? error.message : String(error)}`;
        const now = Date.now();
        return {
          exitCode: null,
          signal: null,
          timedOut: false,
          memoryLimitExceeded: false,
          outputLimitExceeded: false,
          cancelled: false,
          setupFailed: true,
          setupError: endedBy,
          startedAt: now,
          finishedAt: now,
          durationMs: 0,
          usage: ZERO_USAGE,
          stdoutBytes: 0,
          stderrBytes: 0,
          cgroupPaths: [],
        };
      },
    );
  // The workspace goes with the kernel, however it ended (a kernel killed after an interrupt that
  // did not take is not closed by anyone).
  const released = going.then(() => workspace.release());
  const ended = going.then((report) => {
    kernelReport = report;
    input.end();
    if (!endedBy) {
      if (report.memoryLimitExceeded)
        endedBy = `the session ran out of memory (its limit is ${Math.round(options.limits.memoryBytes / 2 ** 20)} MiB)`;
      else if (report.timedOut) endedBy = 'the session reached its maximum lifetime';
      else endedBy = `the kernel exited (status ${report.exitCode ?? report.signal ?? '?'})`;
    }
    for (const waiting of pending.values()) waiting.reject(new SessionKernelEndedError(endedBy));
    pending.clear();
    options.onExit?.(endedBy, report);
    return report;
  });

  function request(
    op: string,
    payload: Record<string, unknown>,
    timeoutMs?: number,
  ): Promise<unknown> {
    if (endedBy) return Promise.reject(new SessionKernelEndedError(endedBy));
    const id = String(++requestCounter);
    return new Promise<unknown>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          pending.delete(id);
          kill(`it did not answer "${op}" within ${timeoutMs} ms`);
          reject(new SessionKernelEndedError(`it did not answer "${op}" within ${timeoutMs} ms`));
        }, timeoutMs);
      }
      pending.set(id, {
        resolve(message) {
          clearTimeout(timer);
          resolve(message);
        },
        reject(error) {
          clearTimeout(timer);
          reject(error);
        },
      });
      input.write(encodeFrame({ ...payload, op, id }));
    });
  }

  /** A reply checked against its schema; one that does not fit ends the kernel. */
  function checked<T>(schema: z.ZodType<T>, message: unknown, op: string): T {
    const parsed = schema.safeParse(message);
    if (parsed.success) return parsed.data;
    kill(`its answer to "${op}" is not what runbox asked for`);
    throw new SessionKernelEndedError(`its answer to "${op}" is not what runbox asked for`);
  }

  function assertIdle(what: string): void {
    if (endedBy) throw new SessionKernelEndedError(endedBy);
    if (cell) throw new SessionBusyError(what);
  }

  async function runCell(cellOptions: CellOptions): Promise<CellOutcome> {
    assertIdle('another cell');
    const fence = Buffer.from(`RBX${randomBytes(12).toString('hex')}`, 'ascii');
    let fencesSeen = (): void => {};
    const fencesDone = new Promise<void>((resolve) => {
      fencesSeen = resolve;
    });
    const running: RunningCell = {
      options: cellOptions,
      reason: null,
      graceTimer: null,
      outputLimited: false,
      budget: cellOptions.outputBytes,
      bytes: { stdout: 0, stderr: 0 },
      fenced: { stdout: false, stderr: false },
      onFenced() {
        if (running.fenced.stdout && running.fenced.stderr) fencesSeen();
      },
    };
    cell = running;
    await sandbox.resetUsage().catch(() => {});
    splitters.stdout.arm(fence);
    splitters.stderr.arm(fence);
    // What something still running printed since the last cell comes first.
    for (const stream of ['stdout', 'stderr'] as const) {
      for (const chunk of idle[stream].splice(0)) deliver(stream, chunk);
      idleBytes[stream] = 0;
    }

    const startedAt = Date.now();
    const timer = setTimeout(
      () => interrupt('timeout'),
      Math.min(cellOptions.timeoutMs, MAX_TIMER_MS),
    );
    const onAbort = (): void => interrupt('cancel');
    if (cellOptions.signal?.aborted) onAbort();
    else cellOptions.signal?.addEventListener('abort', onAbort, { once: true });
    const onUsage = cellOptions.onUsage;
    const usageTimer = onUsage
      ? setInterval(() => {
          sandbox.usage().then(onUsage, () => {});
        }, cellOptions.usageIntervalMs ?? 1_000)
      : null;

    let reply: CellReply | null = null;
    try {
      const answered = request('cell', {
        code: cellOptions.code,
        fence: fence.toString('ascii'),
        resultPath: SANDBOX_RESULT_PATH,
      }).then((message) => checked(cellReplySchema, message, 'cell'));
      reply = await Promise.race([answered, ended.then(() => null)]);
      if (reply) {
        // A stream the kernel could not fence (the cell closed it) is not waited for.
        if (!reply.fenced[0]) running.fenced.stdout = true;
        if (!reply.fenced[1]) running.fenced.stderr = true;
        running.onFenced();
        await Promise.race([fencesDone, ended, sleep(FENCE_WAIT_MS)]);
      }
    } catch {
      reply = null;
    } finally {
      clearTimeout(timer);
      if (usageTimer) clearInterval(usageTimer);
      cellOptions.signal?.removeEventListener('abort', onAbort);
    }
    const finishedAt = Date.now();
    if (!reply) await ended;
    if (running.graceTimer) clearTimeout(running.graceTimer);
    // Bytes held as the possible start of a fence that never came are the cell's.
    for (const stream of ['stdout', 'stderr'] as const) deliver(stream, splitters[stream].disarm());
    cell = null;

    const died: SandboxRunReport | null = reply ? null : kernelReport;
    const usage = died ? died.usage : await sandbox.usage().catch((): CgroupUsage => ZERO_USAGE);
    const report: SandboxRunReport = {
      exitCode: reply ? reply.exitCode : (died?.exitCode ?? null),
      signal: reply ? (reply.status === 'interrupted' ? 'SIGINT' : null) : (died?.signal ?? null),
      timedOut: running.reason === 'timeout' || (!reply && Boolean(died?.timedOut)),
      memoryLimitExceeded: !reply && Boolean(died?.memoryLimitExceeded),
      outputLimitExceeded: running.outputLimited,
      cancelled: running.reason === 'cancel',
      setupFailed: false,
      setupError: null,
      startedAt,
      finishedAt,
      durationMs: finishedAt - startedAt,
      usage,
      stdoutBytes: running.bytes.stdout,
      stderrBytes: running.bytes.stderr,
      cgroupPaths: [],
    };
    return {
      report,
      snapshot: reply?.snapshot ?? null,
      kernelEnded: reply ? null : endedBy,
    };
  }

  let closed: Promise<void> | null = null;
  return {
    language: options.language,
    workspaceDir: workspace.dir,
    startedAt: Date.now(),
    alive: () => endedBy === null,
    busy: () => cell !== null,
    runCell,
    async variables() {
      assertIdle('reading its variables');
      const message = await request('variables', {}, REQUEST_TIMEOUT_MS);
      return checked(variablesReplySchema, message, 'variables').variables;
    },
    async setVariable(name, value) {
      assertIdle('setting a variable');
      const message = await request('set', { name, value }, REQUEST_TIMEOUT_MS);
      const reply = checked(setReplySchema, message, 'set');
      if (reply.error !== undefined) throw new InvalidVariableError(reply.error);
    },
    async restore(snapshot) {
      assertIdle('restoring variables');
      const message = await request(
        'restore',
        { values: snapshot.values, modules: snapshot.modules },
        REQUEST_TIMEOUT_MS * 3,
      );
      return checked(restoreReplySchema, message, 'restore');
    },
    async usage() {
      if (endedBy) return null;
      return sandbox.usage().catch(() => null);
    },
    close() {
      closed ??= (async () => {
        if (!endedBy) {
          endedBy = 'the session was closed';
          if (cell) {
            closing.abort();
          } else {
            // An idle kernel ends by itself at the end of its input: tini, the namespace's init,
            // then takes every process of the session with it and the monitor reaps it. A kill
            // is kept for a kernel that does not (a thread of its cells holding it up).
            input.end();
            const exited = await Promise.race([
              ended.then(() => true),
              sleep(CLOSE_GRACE_MS).then(() => false),
            ]);
            if (!exited) closing.abort();
          }
        }
        await ended;
        await released;
      })();
      return closed;
    },
  };
}
