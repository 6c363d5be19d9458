import { randomUUID } from 'node:crypto';
import {
  SessionGoneError,
  SessionsUnavailableError,
  variableViewSchema,
  type SessionControl,
  type KernelSnapshot,
  type SessionKernelsHooks,
  type VariableView,
} from '@runbox/executor';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { ClusterKeys } from './cluster-keys.ts';
import type { RunJob } from './job-data.ts';
import type { SessionMessage } from './run-messages.ts';
import { errorFromReply, type SessionCommand, type SessionSpecWire } from './session-commands.ts';
import {
  readPlacement,
  removePlacement,
  writePlacement,
  type Placement,
} from './session-placement.ts';
import type { WorkerInfo } from './worker-lease.ts';

/**
 * The API's side of sessions with workers on Redis: each session lives on one worker process
 * (its placement, `keys.sessionOn`), chosen when it first needs a kernel (the live worker with the
 * fewest sessions) and kept while that process's lease lives. Requests (start, stop, variables,
 * set) and cells go to that process's command stream; its answers and what its kernels tell come
 * back on the message stream. When the process is gone, its requests fail at once and the
 * session moves to another worker at its next cell, woken there from its snapshot with the words
 * of what happened.
 */
export interface RemoteSessions extends SessionControl {
  /** Sends a cell's job to its session's worker (placing the session first when it has none alive). */
  sendCell(job: RunJob & { request: { kind: 'cell' } }): void;
  /** The cell started, was refused, or was cancelled while it waited: nothing more to send. */
  forget(runId: string): void;
  onMessage(message: SessionMessage): void;
  /** The live workers now (the driver's watchdog): requests to gone ones fail, their cells move. */
  check(workers: readonly WorkerInfo[]): void;
}

export interface RemoteSessionsOptions {
  redis: Redis;
  keys: ClusterKeys;
  /** The sessions as the API's store has them, and where what the kernels tell is kept. */
  hooks: SessionKernelsHooks;
  /** The workers whose lease is alive, read now. */
  workers(): Promise<WorkerInfo[]>;
  /** A request with no answer by then fails. @default 30_000 */
  requestTimeoutMs?: number;
  /** A start (which may install the session's environment) with no answer by then fails. @default 900_000 */
  startTimeoutMs?: number;
  log: { warn(message: string): void; error(error: unknown, message: string): void };
}

interface Pending {
  placement: Placement;
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

interface UnsentCell {
  job: RunJob;
  sessionId: string;
  /** The process it was sent to; null while no worker could take it. */
  instance: string | null;
  sentAt: number;
  sending: boolean;
}

/**
 * A cell sent this long ago to a live process that has not started it is looked at again: if its
 * session's placement no longer names that process (Redis lost it, say), the process dropped it,
 * and it is sent again.
 */
const UNSTARTED_RECHECK_MS = 5_000;

/** A command stream no worker reads any more (its process died) goes after a day. */
const COMMANDS_TTL_MS = 86_400_000;

export function createRemoteSessions(options: RemoteSessionsOptions): RemoteSessions {
  const { redis, keys, hooks, log } = options;
  const requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
  const startTimeoutMs = options.startTimeoutMs ?? 900_000;
  const pending = new Map<string, Pending>();
  const cells = new Map<string, UnsentCell>();
  /** Placements this API made: which worker's word counts for the session. */
  const placedOn = new Map<string, Placement>();
  /** Sessions whose kernel said it ended, until one starts again. */
  const kernelDown = new Set<string>();
  let live: readonly WorkerInfo[] = [];
  let closed = false;

  const isLive = (placement: Placement, workers = live): boolean =>
    workers.some((worker) => worker.instance === placement.instance);
  /** The live workers as the watchdog last saw them; read now before its first look. */
  async function liveNow(): Promise<readonly WorkerInfo[]> {
    if (live.length === 0) live = await options.workers();
    return live;
  }

  function wireSpec(sessionId: string): SessionSpecWire | null {
    const spec = hooks.spec(sessionId);
    if (!spec) return null;
    return {
      id: spec.id,
      language: spec.language,
      limits: { ...spec.limits },
      environment: spec.environment ?? null,
      interruptGraceMs: spec.interruptGraceMs ?? 2_000,
      snapshotMaxBytes: spec.snapshotMaxBytes ?? 1024 * 1024,
    };
  }

  /**
   * The session's placement as Redis has it now. Not cached from a read: a read taken while a
   * stop removed it would hand the next cell to a process that no longer has the session (which
   * drops it).
   */
  function placementOf(sessionId: string): Promise<Placement | null> {
    return readPlacement(redis, keys, sessionId);
  }

  /** The session's live placement, or a new one on the least busy live worker. */
  async function place(
    sessionId: string,
  ): Promise<{ placement: Placement; endedElsewhere: string | null }> {
    if (closed) throw new SessionsUnavailableError('the server is stopping');
    const current = await placementOf(sessionId);
    // A live placement is judged by the watchdog's last look (a lease lapses slower than it looks
    // again); a new one is chosen among the workers read now.
    if (current && isLive(current, await liveNow()))
      return { placement: current, endedElsewhere: null };
    const workers = await options.workers();
    live = workers;
    const candidates = workers
      .filter((worker) => !worker.draining && worker.selfTest === 'ok' && worker.instance !== '')
      .sort(
        (a, b) =>
          a.sessions.length - b.sessions.length ||
          a.running / Math.max(1, a.concurrency) - b.running / Math.max(1, b.concurrency),
      );
    const chosen = candidates[0];
    if (!chosen) throw new SessionsUnavailableError('no worker is alive and taking work');
    const placement: Placement = { worker: chosen.name, instance: chosen.instance };
    await writePlacement(redis, keys, sessionId, placement);
    placedOn.set(sessionId, placement);
    return {
      placement,
      endedElsewhere: current ? `its worker ${current.worker} stopped answering` : null,
    };
  }

  async function send(placement: Placement, command: SessionCommand): Promise<void> {
    const stream = keys.sessionCommands(placement.instance);
    await redis
      .multi()
      .xadd(stream, '*', 'm', JSON.stringify(command))
      .pexpire(stream, COMMANDS_TTL_MS)
      .exec();
  }

  function request(
    placement: Placement,
    command: SessionCommand & { requestId: string },
    timeoutMs: number,
  ): Promise<unknown> {
    return new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        pending.delete(command.requestId);
        reject(
          new SessionsUnavailableError(
            `its worker ${placement.worker} did not answer within ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
      pending.set(command.requestId, { placement, resolve, reject, timer });
      send(placement, command).catch((error: unknown) => {
        clearTimeout(timer);
        pending.delete(command.requestId);
        reject(error instanceof Error ? error : new Error(String(error)));
      });
    });
  }

  /**
   * A request that may start the session's kernel (placing the session first when it has no live
   * worker): it carries the session as the store has it and its snapshot.
   */
  async function kernelRequest(
    sessionId: string,
    command: (
      spec: SessionSpecWire,
      snapshot: KernelSnapshot | null,
    ) =>
      | Omit<Extract<SessionCommand, { op: 'start' }>, 'requestId' | 'sessionId' | 'endedElsewhere'>
      | Omit<Extract<SessionCommand, { op: 'set' }>, 'requestId' | 'sessionId' | 'endedElsewhere'>,
  ): Promise<void> {
    const spec = wireSpec(sessionId);
    if (!spec) throw new SessionGoneError(sessionId);
    const { placement, endedElsewhere } = await place(sessionId);
    await request(
      placement,
      {
        ...command(spec, hooks.snapshot(sessionId)),
        requestId: randomUUID(),
        sessionId,
        endedElsewhere,
      },
      startTimeoutMs,
    );
  }

  async function dispatch(cell: UnsentCell): Promise<void> {
    if (cell.sending) return;
    cell.sending = true;
    try {
      const { placement, endedElsewhere } = await place(cell.sessionId);
      if (!cells.has(cell.job.runId)) return;
      cell.instance = placement.instance;
      cell.sentAt = Date.now();
      await send(placement, {
        op: 'cell',
        sessionId: cell.sessionId,
        spec: wireSpec(cell.sessionId),
        snapshot: hooks.snapshot(cell.sessionId),
        endedElsewhere,
        job: cell.job,
      });
    } catch (error) {
      // It waits, as a run waits for a worker: the next check sends it again.
      cell.instance = null;
      if (!(error instanceof SessionsUnavailableError))
        log.error(error, `redis driver: the cell ${cell.job.runId} could not be sent`);
    } finally {
      cell.sending = false;
    }
  }

  function endRequests(which: (entry: Pending) => boolean, error: () => Error): void {
    for (const [id, entry] of [...pending]) {
      if (!which(entry)) continue;
      pending.delete(id);
      clearTimeout(entry.timer);
      entry.reject(error());
    }
  }

  return {
    sendCell(job) {
      const cell: UnsentCell = {
        job,
        sessionId: job.request.sessionId,
        instance: null,
        sentAt: 0,
        sending: false,
      };
      cells.set(job.runId, cell);
      void dispatch(cell);
    },
    forget(runId) {
      cells.delete(runId);
    },
    onMessage(message) {
      if (message.kind === 'reply') {
        const entry = pending.get(message.requestId);
        if (!entry) return;
        pending.delete(message.requestId);
        clearTimeout(entry.timer);
        if (message.ok) entry.resolve(message.value);
        else entry.reject(errorFromReply(message.error));
        return;
      }
      // A worker the session has left (it was cut off meanwhile) no longer speaks for it.
      const placement = placedOn.get(message.sessionId);
      if (placement && placement.worker !== message.worker) return;
      if (message.event === 'snapshot') hooks.onSnapshot(message.sessionId, message.snapshot);
      else if (message.event === 'notice') {
        kernelDown.delete(message.sessionId);
        hooks.onNotice?.(message.sessionId, message.notice);
      } else {
        kernelDown.add(message.sessionId);
        hooks.onKernelExit?.(message.sessionId, message.why);
      }
    },
    check(workers) {
      live = workers;
      endRequests(
        (entry) => !isLive(entry.placement, workers),
        () => new SessionsUnavailableError('its worker stopped answering'),
      );
      for (const cell of cells.values()) {
        const gone =
          cell.instance === null || !workers.some((worker) => worker.instance === cell.instance);
        if (gone) void dispatch(cell);
        else if (!cell.sending && Date.now() - cell.sentAt > UNSTARTED_RECHECK_MS) {
          cell.sentAt = Date.now();
          void placementOf(cell.sessionId).then(
            (placement) => {
              if (placement?.instance !== cell.instance && cells.has(cell.job.runId))
                void dispatch(cell);
            },
            () => {},
          );
        }
      }
    },

    async start(sessionId, startOptions) {
      await kernelRequest(sessionId, (spec, snapshot) => ({
        op: 'start',
        restore: startOptions.restore,
        spec,
        snapshot: startOptions.restore ? snapshot : null,
      }));
    },
    async stop(sessionId) {
      const placement = await placementOf(sessionId);
      kernelDown.delete(sessionId);
      if (!placement) return;
      // Removed first: whatever comes meanwhile places the session anew.
      await removePlacement(redis, keys, sessionId);
      placedOn.delete(sessionId);
      if (isLive(placement, await liveNow()))
        await request(
          placement,
          { op: 'stop', requestId: randomUUID(), sessionId },
          requestTimeoutMs,
        ).catch((error: unknown) =>
          log.warn(
            `redis driver: session ${sessionId} on ${placement.worker} did not stop: ${error instanceof Error ? error.message : String(error)} (the worker ends it when it sees the session moved)`,
          ),
        );
    },
    async status(sessionId) {
      const placement = await placementOf(sessionId);
      if (!placement || kernelDown.has(sessionId)) return null;
      const worker = (await liveNow()).find(
        (candidate) => candidate.instance === placement.instance,
      );
      if (!worker) return null;
      const kernel = worker.sessions.find((entry) => entry.id === sessionId);
      return { memoryBytes: kernel?.memoryBytes ?? null };
    },
    async variables(sessionId) {
      const placement = await placementOf(sessionId);
      if (!placement || kernelDown.has(sessionId) || !isLive(placement, await liveNow()))
        return null;
      const value = await request(
        placement,
        { op: 'variables', requestId: randomUUID(), sessionId },
        requestTimeoutMs,
      );
      const parsed = z.array(variableViewSchema).nullable().safeParse(value);
      if (!parsed.success) throw new SessionsUnavailableError('its worker answered nonsense');
      return parsed.data satisfies VariableView[] | null;
    },
    async setVariable(sessionId, name, value) {
      await kernelRequest(sessionId, (spec, snapshot) => ({
        op: 'set',
        spec,
        snapshot,
        name,
        value,
      }));
    },
    async close() {
      closed = true;
      cells.clear();
      endRequests(
        () => true,
        () => new SessionsUnavailableError('the server is stopping'),
      );
    },
  };
}
