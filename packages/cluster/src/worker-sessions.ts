import {
  createSessionKernels,
  kernelEnvironment,
  resolveLimits,
  type EnvironmentStore,
  type KernelSnapshot,
  type SandboxHost,
  type SandboxLimits,
  type SessionKernels,
  type SessionSpec,
  SessionsUnavailableError,
} from '@runbox/executor';
import type { Redis } from 'ioredis';
import type { ClusterKeys } from './cluster-keys.ts';
import type { RunJob } from './job-data.ts';
import { startStreamReader, type MessageRelay } from './message-relay.ts';
import { parseJsonAs } from './json-entry.ts';
import type { MessageWriter } from './message-writer.ts';
import { readPlacement } from './session-placement.ts';
import {
  replyError,
  sessionCommandSchema,
  userFacingError,
  type SessionCommand,
  type SessionSpecWire,
} from './session-commands.ts';

export interface WorkerSessionsOptions {
  /** For the placement reads and the stream's trimming. */
  redis: Redis;
  /** A connection of its own: the command stream is read with a blocking read. */
  reader: Redis;
  keys: ClusterKeys;
  name: string;
  /** This worker process's instance (its command stream, and what a placement names). */
  instance: string;
  host: SandboxHost;
  environments: EnvironmentStore | null;
  /** The largest limits a session's kernel gets here; a command asking more is refused. */
  maximums?: SandboxLimits | undefined;
  writer: MessageWriter;
  /** Runs a cell's job through this worker's run path, in these kernels. */
  runCell(job: RunJob): Promise<void>;
  /** How often this worker checks that its kernels' sessions still live here. */
  checkMs: number;
  log: {
    info(message: string): void;
    warn(message: string): void;
    error(error: unknown, message: string): void;
  };
}

export interface WorkerSessions {
  /** This worker's kernels: where its cells run. */
  readonly kernels: SessionKernels;
  /** Its running kernels and their memory, for its lease. */
  summary(): { id: string; memoryBytes: number | null }[];
  /** Ends every kernel: this worker was cut off, and the API counts them lost. */
  dropAll(why: string): Promise<void>;
  /** Stops reading commands, ends every kernel, removes the command stream. */
  close(): Promise<void>;
}

/**
 * The sessions that live on this worker (with workers on Redis): one kernel per session, started,
 * asked and stopped by the API's commands on this process's own stream, and the session's cells
 * run here through the run path. A worker trusts nothing it reads from Redis: each command is
 * parsed (session-commands.ts), and obeyed only while the session's placement names this
 * process: a command that waited while the session moved on is dropped. What the kernels tell
 * (snapshots, notices, ends) goes to the message stream, in order with the cells' ends.
 */
export function createWorkerSessions(options: WorkerSessionsOptions): WorkerSessions {
  const { keys, log, writer } = options;
  const specs = new Map<string, SessionSpec>();
  const snapshots = new Map<string, KernelSnapshot | null>();
  const memory = new Map<string, number | null>();
  const inFlight = new Set<Promise<void>>();
  /** Cells this process took (the newest 10,000): one sent twice (moved, then back) runs once. */
  const taken = new Set<string>();
  const worker = options.name;

  const kernels = createSessionKernels(options.host, {
    hooks: {
      spec: (sessionId) => specs.get(sessionId) ?? null,
      snapshot: (sessionId) => snapshots.get(sessionId) ?? null,
      onSnapshot(sessionId, snapshot) {
        snapshots.set(sessionId, snapshot);
        writer.send({ kind: 'session', worker, sessionId, event: 'snapshot', snapshot });
      },
      onNotice(sessionId, notice) {
        writer.send({ kind: 'session', worker, sessionId, event: 'notice', notice });
      },
      onKernelExit(sessionId, why) {
        memory.delete(sessionId);
        writer.send({ kind: 'session', worker, sessionId, event: 'exit', why });
      },
      async environment(sessionId) {
        const name = specs.get(sessionId)?.environment ?? null;
        if (name === null) return null;
        return kernelEnvironment(options.environments, sessionId, name, (chunk) =>
          log.info(`session ${sessionId} environment: ${chunk.toString('utf8').trimEnd()}`),
        );
      },
    },
  });

  function forget(sessionId: string): void {
    specs.delete(sessionId);
    snapshots.delete(sessionId);
    memory.delete(sessionId);
  }

  function specOf(wire: SessionSpecWire): SessionSpec {
    // A session's wall time is what is left of its lifetime, not a run's: the rest are held to
    // this worker's maximums.
    const { wallTimeMs, ...limits } = wire.limits;
    return {
      id: wire.id,
      language: wire.language,
      limits: {
        ...resolveLimits(limits, options.maximums ? { maximums: options.maximums } : {}),
        wallTimeMs,
      },
      environment: wire.environment,
      interruptGraceMs: wire.interruptGraceMs,
      snapshotMaxBytes: wire.snapshotMaxBytes,
    };
  }

  /** What a command that may start a kernel brings: the session as it is now, its snapshot. */
  function learn(command: Extract<SessionCommand, { spec: unknown }>): void {
    if (command.spec === null || command.spec.id !== command.sessionId) {
      // Closed (or not this session's): a kernel for it must not start.
      specs.delete(command.sessionId);
      return;
    }
    specs.set(command.sessionId, specOf(command.spec));
    snapshots.set(command.sessionId, command.snapshot);
    if (command.endedElsewhere !== null)
      kernels.noteEnded(command.sessionId, command.endedElsewhere);
  }

  function reply(requestId: string, outcome: { value: unknown } | { error: unknown }): void {
    if ('value' in outcome)
      writer.send({ kind: 'reply', worker, requestId, ok: true, value: outcome.value });
    else
      writer.send({
        kind: 'reply',
        worker,
        requestId,
        ok: false,
        error: replyError(outcome.error),
      });
  }

  async function placedHere(sessionId: string): Promise<boolean> {
    const placement = await readPlacement(options.redis, keys, sessionId);
    return placement?.instance === options.instance;
  }

  async function obey(command: SessionCommand): Promise<void> {
    if (command.op === 'stop') {
      // Stopping is never wrong: a stale stop finds no kernel.
      await kernels.stop(command.sessionId);
      forget(command.sessionId);
      reply(command.requestId, { value: null });
      return;
    }
    if (!(await placedHere(command.sessionId))) {
      log.warn(`a ${command.op} of session ${command.sessionId} dropped: it lives elsewhere now`);
      if (command.op !== 'cell')
        reply(command.requestId, {
          error: new SessionsUnavailableError('the session moved to another worker'),
        });
      return;
    }
    switch (command.op) {
      case 'start':
        learn(command);
        await kernels.start(command.sessionId, { restore: command.restore });
        reply(command.requestId, { value: null });
        return;
      case 'variables':
        reply(command.requestId, { value: await kernels.variables(command.sessionId) });
        return;
      case 'set':
        learn(command);
        await kernels.setVariable(command.sessionId, command.name, command.value);
        reply(command.requestId, { value: null });
        return;
      case 'cell':
        if (
          command.job.request.kind !== 'cell' ||
          command.job.request.sessionId !== command.sessionId
        ) {
          log.warn(
            `a cell command for session ${command.sessionId} dropped: its job is no cell of it`,
          );
          return;
        }
        if (taken.has(command.job.runId)) return;
        taken.add(command.job.runId);
        if (taken.size > 10_000) taken.delete(taken.values().next().value ?? '');
        learn(command);
        await options.runCell(command.job);
        return;
    }
  }

  function handle(command: SessionCommand): void {
    const done = obey(command)
      .catch((error: unknown) => {
        if (command.op !== 'cell') reply(command.requestId, { error });
        // A cell that failed before it started would wait at the API for ever: it is refused.
        else
          writer.send({
            kind: 'rejected',
            runId: command.job.runId,
            worker,
            reason: replyError(error).message,
          });
        if (command.op === 'cell' || !userFacingError(error))
          log.error(error, `session ${command.sessionId}: a ${command.op} failed`);
      })
      .finally(() => inFlight.delete(done));
    inFlight.add(done);
  }

  const stream = keys.sessionCommands(options.instance);
  const reader: MessageRelay = startStreamReader(options.reader, {
    stream,
    afterId: '0-0',
    decode: (text) => parseJsonAs(sessionCommandSchema, text),
    onMessage(command, id) {
      options.redis.xdel(stream, id).catch(() => 0);
      handle(command);
    },
    onSkipped(id) {
      options.redis.xdel(stream, id).catch(() => 0);
      log.warn(`session command ${id} is not a valid command: dropped`);
    },
    onError: (error) => log.error(error, 'reading the session commands failed'),
  });

  // A kernel lives here only while its session's placement names this process: a session the API
  // moved on (this worker was cut off), or that Redis forgot, ends here.
  let checking = false;
  const timer = setInterval(() => {
    if (checking) return;
    checking = true;
    void (async () => {
      for (const sessionId of kernels.running()) {
        if (!(await placedHere(sessionId).catch(() => true))) {
          log.info(`session ${sessionId} lives elsewhere now: its kernel here ends`);
          await kernels.stop(sessionId);
          forget(sessionId);
          continue;
        }
        memory.set(sessionId, (await kernels.usage(sessionId))?.currentMemoryBytes ?? null);
      }
    })().finally(() => {
      checking = false;
    });
  }, options.checkMs);
  timer.unref();

  return {
    kernels,
    summary: () => kernels.running().map((id) => ({ id, memoryBytes: memory.get(id) ?? null })),
    async dropAll(why) {
      for (const sessionId of kernels.running()) {
        await kernels.stop(sessionId);
        kernels.noteEnded(sessionId, why);
      }
    },
    async close() {
      clearInterval(timer);
      await reader.stop();
      await Promise.allSettled([...inFlight]);
      await kernels.close();
      await options.redis.del(stream).catch(() => 0);
    },
  };
}
