import {
  createSessionKernels,
  kernelEnvironment,
  localSessionControl,
  type EnvironmentStore,
  type SandboxHost,
  type SessionControl,
  type SessionKernels,
  type SessionKernelsHooks,
  type SessionSpec,
} from '@runbox/executor';
import type { Logger } from '../logger.ts';
import type { Store } from '../store/index.ts';
import type { SessionConfig } from './session-config.ts';

/**
 * What this process keeps of its sessions besides the store: what runs their kernels (its own
 * kernels, or the sessions' workers) and, per session, the cells waiting or running and the end
 * of the last one, which the next cell waits for (cells run one at a time, in order).
 */
export interface SessionRuntime {
  /** Where the API's asks of a session's kernel go: this process's kernels, or its worker. */
  readonly kernels: SessionControl;
  /** This process's kernels, where its engine runs cells; null with workers on Redis. */
  readonly local: SessionKernels | null;
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
  /**
   * This process's kernels end and the store's sessions become hibernated; kernels on workers
   * live on (their sessions stay as they are for the next API to reach).
   */
  stop(): Promise<void>;
}

/**
 * How a kernel, here or on a worker, learns its session from the store and reports back to it:
 * the spec it starts with, the snapshot it wakes with, the snapshots, notices and ends it tells.
 */
export function sessionStoreHooks(deps: {
  store: Store;
  config: SessionConfig;
  log: Logger;
  environments: EnvironmentStore | null;
}): SessionKernelsHooks {
  const { store, config, log, environments } = deps;
  return {
    /** The session as a kernel starts it: open, within its lifetime, the time left as its wall time. */
    spec(sessionId): SessionSpec | null {
      const session = store.sessions.get(sessionId);
      if (!session || session.state === 'closed') return null;
      const left = session.createdAt + session.maxLifetimeMs - Date.now();
      if (left <= 0) return null;
      return {
        id: session.id,
        language: session.language,
        limits: { ...session.limits, wallTimeMs: Math.max(1_000, left) },
        environment: session.environment,
        interruptGraceMs: config.interruptGraceMs,
        snapshotMaxBytes: config.snapshotMaxBytes,
      };
    },
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
    /** A session's named environment for its kernel: from the cache, or installed now. */
    async environment(sessionId) {
      const name = store.sessions.get(sessionId)?.environment ?? null;
      if (name === null) return null;
      return kernelEnvironment(environments, sessionId, name, (chunk) =>
        log.debug({ sessionId, output: chunk.toString('utf8') }, 'session environment install'),
      );
    },
  };
}

export function createSessionRuntime(deps: {
  host: SandboxHost;
  store: Store;
  config: SessionConfig;
  /** How this process's kernels learn their sessions and report back (sessionStoreHooks). */
  hooks: SessionKernelsHooks;
  /** The sessions' workers (the redis driver's); null: kernels run in this process. */
  remote: SessionControl | null;
  environments?: EnvironmentStore | null;
}): SessionRuntime {
  const { store, config } = deps;
  const lines = new Map<string, Set<string>>();
  const tails = new Map<string, Promise<void>>();
  const enders = new Map<string, () => void>();
  const environments = deps.environments ?? null;

  let local: SessionKernels | null = null;
  let kernels: SessionControl;
  if (deps.remote) kernels = deps.remote;
  else {
    local = createSessionKernels(deps.host, {
      interruptGraceMs: config.interruptGraceMs,
      snapshotMaxBytes: config.snapshotMaxBytes,
      hooks: deps.hooks,
    });
    kernels = localSessionControl(local);
  }

  return {
    kernels,
    local,
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
      await kernels.close();
      if (local) store.sessions.hibernateAll();
    },
  };
}
