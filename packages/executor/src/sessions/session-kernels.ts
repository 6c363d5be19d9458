import type { RunWarning } from '../engine/run-events.ts';
import type { SandboxSource } from '../run-path/sandbox-source.ts';
import type { CgroupUsage } from '../sandbox/cgroup.ts';
import type { ReadOnlyMount } from '../sandbox/sandbox-command.ts';
import type { SandboxLimits } from '../sandbox/limits.ts';
import type { SandboxHost } from '../sandbox/sandbox-host.ts';
import type { KernelSnapshot, LostVariable, VariableView } from './kernel-messages.ts';
import { SessionGoneError } from './session-errors.ts';
import { startSessionKernel, type SessionKernel } from './session-kernel.ts';
import type { SessionLanguage } from './session-languages.ts';

/** What a session's kernel is started with, as the session's owner (the API's store) has it. */
export interface SessionSpec {
  id: string;
  language: SessionLanguage;
  /** The session's limits; `wallTimeMs` is what is left of its lifetime. */
  limits: SandboxLimits;
  /**
   * The name of its dependency environment, for a kernel started on a worker (which installs its
   * own); this process's kernels get theirs from `hooks.environment`.
   */
  environment?: string | null | undefined;
  /** Overrides SessionKernelsOptions' for this session's kernels (a worker gets them from the API). */
  interruptGraceMs?: number | undefined;
  snapshotMaxBytes?: number | undefined;
}

/** How a kernel came to be: the session's first, one woken with its snapshot, or a restart. */
export interface SessionNotice {
  kind: 'started' | 'woke' | 'restarted';
  at: number;
  /** Why the kernel before this one ended, for a restart (it ran out of memory, say). */
  reason: string | null;
  /** Variables the snapshot gave back. */
  restored: string[];
  /** Variables it could not give back, with their type and why. */
  lost: LostVariable[];
}

export interface SessionKernelsHooks {
  /** The session, or null when it is closed or unknown (its cells then end `failed`). */
  spec(sessionId: string): SessionSpec | null;
  /** The session's last snapshot, or null (a restart cleared it, or it has none yet). */
  snapshot(sessionId: string): KernelSnapshot | null;
  /** A cell ended with its kernel alive: the variables it left. */
  onSnapshot(sessionId: string, snapshot: KernelSnapshot): void;
  /** A kernel started for the session (and restored what it could). */
  onNotice?(sessionId: string, notice: SessionNotice): void;
  /** A kernel of the session ended, however: for the log and the session's state. */
  onKernelExit?(sessionId: string, why: string): void;
  /**
   * The session's dependency environment, made ready before its kernel starts (installed then
   * when it is not cached): its binds, the variables that find it, and `release` for when the
   * kernel ends. Null for a session without one. A refusal or a failed install is thrown.
   */
  environment?(sessionId: string): Promise<KernelEnvironment | null>;
}

/** A session's environment as its kernel gets it (environments/environment-store.ts). */
export interface KernelEnvironment {
  mounts: readonly ReadOnlyMount[];
  env: Readonly<Record<string, string>>;
  release(): void;
}

export interface SessionKernelsOptions {
  hooks: SessionKernelsHooks;
  /** A cell still running this long after its interrupt has its kernel killed. @default 2000 */
  interruptGraceMs?: number | undefined;
  /** The byte budget of a snapshot, given to the kernels. @default 1 MiB */
  snapshotMaxBytes?: number | undefined;
}

/** A cell as the engine runs it: its session and its code. */
export interface CellWork {
  sessionId: string;
  code: string;
}

/**
 * The live kernels of this process's sessions, one per session at most, and the third source of
 * sandboxes behind the run path: a cell claims its session's kernel (started, or woken from the
 * session's snapshot, on demand), runs in it, and releases nothing (the kernel lives on).
 */
export interface SessionKernels {
  /** Where a cell runs: its session's kernel. `warn` takes what the cell is to be told. */
  cellSource(cell: CellWork, warn: (warning: RunWarning) => void): SandboxSource;
  /**
   * Makes sure the session has a kernel, started with its snapshot restored when `restore` (and
   * the session has one). Returns how it came to be, or null when one was running already.
   */
  start(sessionId: string, options: { restore: boolean }): Promise<SessionNotice | null>;
  /**
   * Ends the session's kernel on purpose (hibernation, close, restart): a cell running in it ends
   * cancelled, and the next kernel is said to wake, not to restart.
   */
  stop(sessionId: string): Promise<void>;
  /** The running kernel of the session, or null. */
  kernel(sessionId: string): SessionKernel | null;
  /** Variables of a running kernel; null when the session has none running. */
  variables(sessionId: string): Promise<VariableView[] | null>;
  /** Sets a variable, starting (and restoring) the kernel first when none runs. */
  setVariable(sessionId: string, name: string, value: unknown): Promise<void>;
  usage(sessionId: string): Promise<CgroupUsage | null>;
  /**
   * The session's kernel ended elsewhere (its worker stopped answering): the next kernel started
   * here for it is a restart that says `why`, not a wake.
   */
  noteEnded(sessionId: string, why: string): void;
  /** Sessions with a kernel running. */
  running(): string[];
  /** Ends every kernel. */
  close(): Promise<void>;
}

function describeLost(lost: readonly LostVariable[]): string {
  return lost.map((entry) => `${entry.name} (${entry.type}: ${entry.reason})`).join(', ');
}

/** The words a cell gets when its session's kernel was started again for it. */
export function noticeMessage(notice: SessionNotice): string {
  const head =
    notice.kind === 'woke'
      ? 'the session woke from hibernation'
      : `the session started again after its kernel ended (${notice.reason ?? 'unknown'})`;
  const restored =
    notice.restored.length > 0 ? `restored ${notice.restored.join(', ')}` : 'no variable restored';
  const lost =
    notice.lost.length > 0 ? `; could not keep ${describeLost(notice.lost)}` : '; nothing lost';
  return `${head}: ${restored}${lost}`;
}

export function createSessionKernels(
  host: SandboxHost,
  options: SessionKernelsOptions,
): SessionKernels {
  const { hooks } = options;
  const kernels = new Map<string, SessionKernel>();
  const starting = new Map<string, Promise<{ kernel: SessionKernel; notice: SessionNotice }>>();
  /** Why the session's last kernel here ended, when it was not ended on purpose. */
  const crashed = new Map<string, string>();
  const stoppedOnPurpose = new WeakSet<SessionKernel>();
  let counter = 0;
  let closed = false;

  async function launch(
    sessionId: string,
    restore: boolean,
  ): Promise<{ kernel: SessionKernel; notice: SessionNotice }> {
    if (closed) throw new SessionGoneError(sessionId);
    const spec = hooks.spec(sessionId);
    if (!spec) throw new SessionGoneError(sessionId);
    counter += 1;
    const interruptGraceMs = spec.interruptGraceMs ?? options.interruptGraceMs;
    const snapshotMaxBytes = spec.snapshotMaxBytes ?? options.snapshotMaxBytes;
    // Set once started; the kernel can only end (and call onExit) after that.
    const self: { kernel: SessionKernel | null } = { kernel: null };
    const environment = (await hooks.environment?.(sessionId)) ?? null;
    let kernel: SessionKernel;
    try {
      kernel = await startSessionKernel(host, {
        cgroupName: `session-${counter}-${sessionId}`.slice(0, 64).replace(/[^A-Za-z0-9_-]/g, '_'),
        language: spec.language,
        limits: spec.limits,
        env: {
          ...environment?.env,
          ...(snapshotMaxBytes !== undefined
            ? { RUNBOX_SESSION_SNAPSHOT_MAX_BYTES: String(snapshotMaxBytes) }
            : {}),
        },
        mounts: environment?.mounts,
        interruptGraceMs,
        onExit(why) {
          environment?.release();
          const ended = self.kernel;
          if (ended && kernels.get(sessionId) === ended) kernels.delete(sessionId);
          if (!ended || !stoppedOnPurpose.has(ended)) crashed.set(sessionId, why);
          hooks.onKernelExit?.(sessionId, why);
        },
      });
    } catch (error) {
      environment?.release();
      throw error;
    }
    self.kernel = kernel;
    kernels.set(sessionId, kernel);
    const reason = crashed.get(sessionId) ?? null;
    crashed.delete(sessionId);
    const snapshot = restore ? hooks.snapshot(sessionId) : null;
    const notice: SessionNotice = {
      kind: reason !== null ? 'restarted' : snapshot ? 'woke' : 'started',
      at: Date.now(),
      reason,
      restored: [],
      lost: snapshot?.lost ?? [],
    };
    if (snapshot) {
      const outcome = await kernel.restore(snapshot);
      notice.restored = outcome.restored;
      notice.lost = [...snapshot.lost, ...outcome.failed];
    }
    hooks.onNotice?.(sessionId, notice);
    return { kernel, notice };
  }

  function ensure(
    sessionId: string,
    restore: boolean,
  ): Promise<{ kernel: SessionKernel; notice: SessionNotice | null }> {
    const live = kernels.get(sessionId);
    if (live?.alive()) return Promise.resolve({ kernel: live, notice: null });
    let pending = starting.get(sessionId);
    if (!pending) {
      pending = launch(sessionId, restore).finally(() => starting.delete(sessionId));
      starting.set(sessionId, pending);
    }
    return pending;
  }

  async function stop(sessionId: string): Promise<void> {
    await starting.get(sessionId)?.catch(() => {});
    const kernel = kernels.get(sessionId);
    crashed.delete(sessionId);
    if (!kernel) return;
    stoppedOnPurpose.add(kernel);
    kernels.delete(sessionId);
    await kernel.close();
  }

  return {
    cellSource(cell, warn) {
      return {
        async claim(_runId, limits) {
          const { kernel, notice } = await ensure(cell.sessionId, true);
          if (notice && notice.kind !== 'started')
            warn({ check: 'session', rule: notice.kind, message: noticeMessage(notice) });
          return {
            workspaceDir: kernel.workspaceDir,
            async start(startOptions) {
              const outcome = await kernel.runCell({
                code: cell.code,
                timeoutMs: limits.wallTimeMs,
                outputBytes: limits.outputBytes,
                onOutput: startOptions.onOutput,
                outputGate: startOptions.outputGate,
                onUsage: startOptions.onUsage,
                usageIntervalMs: startOptions.usageIntervalMs,
                signal: startOptions.signal,
              });
              if (outcome.snapshot) hooks.onSnapshot(cell.sessionId, outcome.snapshot);
              if (outcome.kernelEnded !== null)
                warn({
                  check: 'session',
                  rule: 'kernel-ended',
                  message: `${outcome.kernelEnded}: the session's kernel ended with this cell; the next cell starts it again with the variables of the last snapshot`,
                });
              return outcome.report;
            },
            // The kernel and its workspace live on after the cell.
            release: () => Promise.resolve(),
          };
        },
      };
    },
    async start(sessionId, startOptions) {
      const { notice } = await ensure(sessionId, startOptions.restore);
      return notice;
    },
    stop,
    kernel: (sessionId) => {
      const kernel = kernels.get(sessionId);
      return kernel?.alive() ? kernel : null;
    },
    async variables(sessionId) {
      const kernel = kernels.get(sessionId);
      return kernel?.alive() ? kernel.variables() : null;
    },
    async setVariable(sessionId, name, value) {
      const { kernel } = await ensure(sessionId, true);
      await kernel.setVariable(name, value);
    },
    async usage(sessionId) {
      return (await kernels.get(sessionId)?.usage()) ?? null;
    },
    noteEnded(sessionId, why) {
      if (!kernels.get(sessionId)?.alive()) crashed.set(sessionId, why);
    },
    running: () => [...kernels.keys()],
    async close() {
      closed = true;
      await Promise.allSettled([...starting.values()]);
      await Promise.allSettled([...kernels.keys()].map((id) => stop(id)));
    },
  };
}
