import {
  baseSandboxEnv,
  createSessionKernels,
  EnvironmentRefusedError,
  withEnvironment,
  type EnvironmentStore,
  type KernelEnvironment,
  type SandboxHost,
  type SessionKernels,
  type SessionSpec,
} from '@runbox/executor';
import type { Logger } from '../logger.ts';
import type { Store } from '../store/index.ts';
import type { SessionConfig } from './session-config.ts';

/**
 * What this process keeps of its sessions besides the store: their kernels (the engine's third
 * source of sandboxes) and, per session, the cells waiting or running and the end of the last
 * one, which the next cell waits for (cells run one at a time, in order).
 */
export interface SessionRuntime {
  /** Null when sessions are unavailable (workers on Redis run runs elsewhere). */
  readonly kernels: SessionKernels | null;
  /** Where sessions' environments are checked and installed; null: none can have one. */
  readonly environments: EnvironmentStore | null;
  readonly config: SessionConfig;
  /** Cells of the session queued (waiting their turn) or running. */
  cellsOf(sessionId: string): ReadonlySet<string>;
  /**
   * A cell joins its session's line: returns what it must wait for (the end of the cell before
   * it). `cellEnded` with its id lets the next one go.
   */
  joinLine(sessionId: string, runId: string): Promise<void>;
  /** The cell ended (or was never queued): the next cell of its session may start. */
  cellEnded(sessionId: string, runId: string): void;
  /** Ends every kernel; the store's sessions become hibernated. */
  stop(): Promise<void>;
}

export function createSessionRuntime(deps: {
  host: SandboxHost;
  store: Store;
  config: SessionConfig;
  log: Logger;
  /** False with workers on Redis: no kernel runs in this process. */
  enabled: boolean;
  environments?: EnvironmentStore | null;
}): SessionRuntime {
  const { store, config, log } = deps;
  const lines = new Map<string, Set<string>>();
  const tails = new Map<string, Promise<void>>();
  const enders = new Map<string, () => void>();

  /** The session as a kernel starts it: open, within its lifetime, the time left as its wall time. */
  function spec(sessionId: string): SessionSpec | null {
    const session = store.sessions.get(sessionId);
    if (!session || session.state === 'closed') return null;
    const left = session.createdAt + session.maxLifetimeMs - Date.now();
    if (left <= 0) return null;
    return {
      id: session.id,
      language: session.language,
      limits: { ...session.limits, wallTimeMs: Math.max(1_000, left) },
    };
  }

  const environments = deps.environments ?? null;

  /** A session's named environment for its kernel: from the cache, or installed now. */
  async function environmentOf(sessionId: string): Promise<KernelEnvironment | null> {
    const name = store.sessions.get(sessionId)?.environment ?? null;
    if (name === null) return null;
    if (!environments) throw new EnvironmentRefusedError('this server installs no environments');
    const ready = await environments.ensure(
      { environment: name },
      {
        runId: `session-${sessionId}`,
        // The install's own words go to the log: a session has no run to show them in.
        onOutput: (_stream, chunk) =>
          log.debug({ sessionId, output: chunk.toString('utf8') }, 'session environment install'),
      },
    );
    return {
      mounts: ready.mounts,
      env: withEnvironment(baseSandboxEnv(), ready),
      release: ready.release,
    };
  }

  const kernels = deps.enabled
    ? createSessionKernels(deps.host, {
        interruptGraceMs: config.interruptGraceMs,
        snapshotMaxBytes: config.snapshotMaxBytes,
        hooks: {
          spec,
          snapshot: (sessionId) => store.sessions.get(sessionId)?.snapshot ?? null,
          onSnapshot: (sessionId, snapshot) =>
            store.sessions.saveSnapshot(sessionId, snapshot, Date.now()),
          onNotice(sessionId, notice) {
            store.sessions.update(sessionId, { notice, state: 'active' });
            if (notice.kind !== 'started')
              log.info(
                { sessionId, kind: notice.kind, lost: notice.lost.length },
                'session kernel started again',
              );
          },
          onKernelExit(sessionId, why) {
            log.info({ sessionId, why }, 'session kernel ended');
          },
          environment: environmentOf,
        },
      })
    : null;

  return {
    kernels,
    environments,
    config,
    cellsOf: (sessionId) => lines.get(sessionId) ?? new Set(),
    joinLine(sessionId, runId) {
      const line = lines.get(sessionId) ?? new Set<string>();
      lines.set(sessionId, line);
      line.add(runId);
      const before = tails.get(sessionId) ?? Promise.resolve();
      const done = new Promise<void>((resolve) => enders.set(runId, resolve));
      tails.set(sessionId, done);
      return before;
    },
    cellEnded(sessionId, runId) {
      enders.get(runId)?.();
      enders.delete(runId);
      const line = lines.get(sessionId);
      line?.delete(runId);
      if (line?.size === 0) {
        lines.delete(sessionId);
        tails.delete(sessionId);
      }
      const session = store.sessions.get(sessionId);
      if (session && session.state !== 'closed')
        store.sessions.update(sessionId, { lastActiveAt: Date.now() });
    },
    async stop() {
      await kernels?.close();
      store.sessions.hibernateAll();
    },
  };
}
