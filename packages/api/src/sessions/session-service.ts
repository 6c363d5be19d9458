import { randomUUID } from 'node:crypto';
import {
  InvalidVariableError,
  resolveLimits,
  SessionBusyError,
  SessionGoneError,
  SessionKernelEndedError,
  UnsafeSandboxError,
  EnvironmentRefusedError,
  InstallFailedError,
  type CellRequest,
  type Executor,
  type KernelSnapshot,
  type VariableView,
} from '@runbox/executor';
import { BadInputError, NotFoundError } from '../errors/api-errors.ts';
import type { Identity } from '../identity.ts';
import { toRunView } from '../run-service.ts';
import type { Services } from '../services.ts';
import type { RequeueEntry, StoredRun, StoredSession } from '../store/index.ts';
import { SessionLimitError } from './session-api-errors.ts';
import type { SessionRuntime } from './session-runtime.ts';
import type {
  CreateSessionInput,
  RunCellInput,
  SessionDetail,
  SessionView,
  SetVariableInput,
  VariablesView,
} from './session-views.ts';

/** Sessions as the API offers them: made, run, interrupted, restarted, closed, hibernated. */

type Owner = Identity & { owner: string };

const LIST_CELLS = 100;
const DETAIL_CELLS = 500;
const REPR_MAX = 120;

function assertSandboxHolds(services: Services): void {
  if (!services.selfTest.ok && !services.config.executor.allowUnsafeSandbox)
    throw new UnsafeSandboxError(services.selfTest);
}

/** A session the caller may see: its own, or any for an admin. Anyone else gets NOT_FOUND. */
export function visibleSession(services: Services, identity: Identity, id: string): StoredSession {
  const session = services.store.sessions.get(id);
  if (!session || (!identity.isAdmin && session.owner !== identity.owner))
    throw new NotFoundError('session', id);
  return session;
}

/** A visible session that is still open (a closed one takes nothing more). */
function openSession(services: Services, identity: Identity, id: string): StoredSession {
  const session = visibleSession(services, identity, id);
  if (session.state === 'closed') throw new SessionGoneError(id);
  return session;
}

async function sessionView(
  services: Services,
  session: StoredSession,
  withOwner: boolean,
): Promise<Omit<SessionView, 'cells'>> {
  const runtime = services.sessions;
  const kernel = session.state === 'closed' ? null : await runtime.kernels.status(session.id);
  const busy = runtime.cellsOf(session.id).size > 0;
  return {
    id: session.id,
    ...(withOwner ? { owner: session.owner } : {}),
    language: session.language,
    state: session.state,
    kernel: kernel ? 'running' : 'stopped',
    busy,
    limits: { ...session.limits },
    environment: session.environment,
    idleTtlMs: session.idleTtlMs,
    maxLifetimeMs: session.maxLifetimeMs,
    createdAt: session.createdAt,
    lastActiveAt: session.lastActiveAt,
    hibernatesAt:
      session.state === 'active' && !busy ? session.lastActiveAt + session.idleTtlMs : null,
    expiresAt: session.createdAt + session.maxLifetimeMs,
    closedAt: session.closedAt,
    closeReason: session.closeReason,
    snapshotAt: session.snapshotAt,
    keptVariables: session.snapshot
      ? [...Object.keys(session.snapshot.values), ...Object.keys(session.snapshot.modules)]
      : [],
    lostVariables: session.snapshot?.lost ?? [],
    notice: session.notice,
    memoryBytes: kernel?.memoryBytes ?? null,
  };
}

/** The session with a summary of its newest cells (lists). */
export async function toSessionView(
  services: Services,
  session: StoredSession,
  withOwner: boolean,
): Promise<SessionView> {
  return {
    ...(await sessionView(services, session, withOwner)),
    cells: services.store.sessions.cells(session.id, LIST_CELLS).map((run) => ({
      id: run.id,
      state: run.state,
      queuedAt: run.queuedAt,
      finishedAt: run.finishedAt,
    })),
  };
}

/** The session with its cells in full (get). */
export async function toSessionDetail(
  services: Services,
  session: StoredSession,
  withOwner: boolean,
): Promise<SessionDetail> {
  const snapshot = services.executor.queue();
  return {
    ...(await sessionView(services, session, withOwner)),
    cells: services.store.sessions
      .cells(session.id, DETAIL_CELLS)
      .map((run) => toRunView(services, run, withOwner, snapshot)),
  };
}

export async function createSession(
  services: Services,
  identity: Owner,
  input: CreateSessionInput,
): Promise<StoredSession> {
  const runtime = services.sessions;
  assertSandboxHolds(services);
  const { config } = runtime;
  const limits = resolveLimits(input.limits ?? {}, { maximums: services.config.maximums });
  const idleTtlMs = input.idleTtlMs ?? config.defaultIdleTtlMs;
  if (idleTtlMs > config.maxIdleTtlMs)
    throw new BadInputError('idleTtlMs', `at most ${config.maxIdleTtlMs} ms on this server`);
  const maxLifetimeMs = input.maxLifetimeMs ?? config.maxLifetimeMs;
  if (maxLifetimeMs > config.maxLifetimeMs)
    throw new BadInputError('maxLifetimeMs', `at most ${config.maxLifetimeMs} ms on this server`);
  // Refused before anything is made: an unknown name, `project` (a session has no project), or
  // one this server cannot install (no registry allowed for it).
  if (input.environment !== undefined) {
    if (!runtime.environments)
      throw new EnvironmentRefusedError('this server installs no environments');
    await runtime.environments.check({ environment: input.environment });
  }
  const open = ['active', 'hibernated'] as const;
  // Counted and inserted with no await between: two creates at once cannot both slip under.
  if (
    !identity.isAdmin &&
    services.store.sessions.count({ owner: identity.owner, states: open }) >= config.perOwner
  )
    throw new SessionLimitError(
      'sessionsPerOwner',
      `you have ${config.perOwner} open sessions, the most this server allows: close one first`,
    );
  if (services.store.sessions.count({ states: open }) >= config.inAll)
    throw new SessionLimitError(
      'sessionsInAll',
      `this server has ${config.inAll} open sessions, the most it allows: try again later`,
    );
  const session = services.store.sessions.insert({
    id: randomUUID(),
    owner: identity.owner,
    language: input.language,
    limits,
    idleTtlMs,
    maxLifetimeMs,
    createdAt: Date.now(),
    environment: input.environment ?? null,
  });
  try {
    await runtime.kernels.start(session.id, { restore: false });
  } catch (error) {
    closeRow(services, session.id, 'its kernel did not start');
    // An environment refused or an install that failed is the request's, and says so itself.
    if (error instanceof EnvironmentRefusedError || error instanceof InstallFailedError)
      throw error;
    throw error instanceof SessionKernelEndedError
      ? error
      : new SessionKernelEndedError(error instanceof Error ? error.message : String(error));
  }
  return services.store.sessions.get(session.id) ?? session;
}

/**
 * Queues a cell: a run of kind `cell` with its own id, checked as a snippet is (size, secrets,
 * syntax) and counted by the owner's rate limits, that waits for the session's cell before it.
 */
export async function runCell(
  services: Services,
  identity: Identity,
  input: RunCellInput,
): Promise<StoredRun> {
  const runtime = services.sessions;
  assertSandboxHolds(services);
  const session = openSession(services, identity, input.sessionId);
  if (Date.now() > session.createdAt + session.maxLifetimeMs) {
    await closeSession(services, session.id, 'it reached its maximum lifetime');
    throw new SessionGoneError(session.id);
  }
  if (runtime.cellsOf(session.id).size > runtime.config.maxWaitingCells)
    throw new SessionLimitError(
      'cellsWaiting',
      `${runtime.config.maxWaitingCells} cells already wait in this session: wait for them, or interrupt it`,
    );
  const release = identity.isAdmin ? () => {} : services.rateLimiter.admit(session.owner);
  // In line before the checks (which may answer out of order): cells run in the order sent.
  const id = randomUUID();
  const after = runtime.joinLine(session.id, id);
  let queued = false;
  try {
    const request: CellRequest = {
      kind: 'cell',
      sessionId: session.id,
      language: session.language,
      code: input.code,
      limits: {
        ...session.limits,
        wallTimeMs: input.timeoutMs ?? session.limits.wallTimeMs,
      },
    };
    const checked = await services.executor.check(request);
    services.executor.submitChecked(checked, {
      id,
      meta: { owner: session.owner, sessionId: session.id },
      after,
      beforeQueue: (record) => {
        services.store.insertRun({ ...record, owner: session.owner });
        release();
      },
    });
    queued = true;
    services.store.sessions.update(session.id, { lastActiveAt: Date.now() });
    const run = services.store.getRun(id);
    if (!run) throw new Error(`cell ${id} was queued but is not in the store`);
    return run;
  } finally {
    // A cell refused before it was queued lets the next one go.
    if (!queued) runtime.cellEnded(session.id, id);
    release();
  }
}

/** The session's cells queued or running, by their engine state. */
function cellsByState(
  services: Services,
  sessionId: string,
): { running: string[]; waiting: string[] } {
  const running: string[] = [];
  const waiting: string[] = [];
  for (const id of services.sessions.cellsOf(sessionId)) {
    let state;
    try {
      state = services.executor.get(id).state;
    } catch {
      continue;
    }
    if (state === 'running') running.push(id);
    else if (state === 'queued') waiting.push(id);
  }
  return { running, waiting };
}

function cancel(services: Services, ids: readonly string[]): void {
  for (const id of ids) {
    try {
      services.executor.cancel(id);
    } catch {
      // ended meanwhile
    }
  }
}

/** SIGINT to the running cell (it ends cancelled); the session and the cells after it go on. */
export function interruptSession(
  services: Services,
  identity: Identity,
  id: string,
): StoredSession {
  const session = openSession(services, identity, id);
  cancel(services, cellsByState(services, session.id).running);
  return session;
}

/** A new kernel with nothing in it: every cell waiting or running is cancelled, the snapshot goes. */
export async function restartSession(
  services: Services,
  identity: Identity,
  id: string,
): Promise<StoredSession> {
  const runtime = services.sessions;
  const session = openSession(services, identity, id);
  const cells = cellsByState(services, session.id);
  cancel(services, [...cells.waiting, ...cells.running]);
  services.store.sessions.saveSnapshot(session.id, null, Date.now());
  await runtime.kernels.stop(session.id);
  await runtime.kernels.start(session.id, { restore: false });
  services.store.sessions.update(session.id, {
    state: 'active',
    lastActiveAt: Date.now(),
    notice: {
      kind: 'restarted',
      at: Date.now(),
      reason: 'restarted on request',
      restored: [],
      lost: [],
    },
  });
  return services.store.sessions.get(session.id) ?? session;
}

function closeRow(services: Services, id: string, reason: string): void {
  services.store.sessions.update(id, {
    state: 'closed',
    closedAt: Date.now(),
    closeReason: reason,
  });
  services.store.sessions.saveSnapshot(id, null, Date.now());
}

/** Closes a session for good: its cells cancelled, its kernel ended, its snapshot dropped. */
export async function closeSession(services: Services, id: string, reason: string): Promise<void> {
  const session = services.store.sessions.get(id);
  if (!session || session.state === 'closed') return;
  // Closed first: no cell can start a kernel for it any more.
  closeRow(services, id, reason);
  const cells = cellsByState(services, id);
  cancel(services, [...cells.waiting, ...cells.running]);
  await services.sessions.kernels.stop(id);
}

export async function closeVisibleSession(
  services: Services,
  identity: Identity,
  id: string,
): Promise<StoredSession> {
  const session = visibleSession(services, identity, id);
  await closeSession(
    services,
    session.id,
    identity.isAdmin && identity.owner !== session.owner
      ? 'closed by the admin'
      : 'closed by its owner',
  );
  return services.store.sessions.get(session.id) ?? session;
}

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value === 'object' ? 'object' : typeof value;
}

function clip(text: string): string {
  return text.length <= REPR_MAX ? text : `${text.slice(0, REPR_MAX)}...`;
}

function snapshotVariables(snapshot: KernelSnapshot | null): VariableView[] {
  if (!snapshot) return [];
  const values = Object.entries(snapshot.values).map(([name, value]) => ({
    name,
    type: jsonType(value),
    repr: clip(JSON.stringify(value) ?? 'null'),
  }));
  const modules = Object.entries(snapshot.modules).map(([name, module]) => ({
    name,
    type: 'module',
    repr: `<module '${module}'>`,
  }));
  return [...values, ...modules].sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * The session's variables: from its kernel when one runs (and is idle), else from its last
 * snapshot, without waking it.
 */
export async function sessionVariables(
  services: Services,
  identity: Identity,
  id: string,
): Promise<VariablesView> {
  const runtime = services.sessions;
  const session = visibleSession(services, identity, id);
  const lost = session.snapshot?.lost ?? [];
  if (runtime.cellsOf(session.id).size > 0) throw new SessionBusyError('reading its variables');
  // The kernel says itself when it is busy (a variable being set, say).
  const variables = await runtime.kernels.variables(session.id);
  if (!variables)
    return { source: 'snapshot', variables: snapshotVariables(session.snapshot), lost };
  return { source: 'kernel', variables, lost };
}

/** Binds a name to a JSON value in the session (waking it if it hibernates); kept in its snapshot. */
export async function setSessionVariable(
  services: Services,
  identity: Identity,
  input: SetVariableInput,
): Promise<void> {
  const runtime = services.sessions;
  const session = openSession(services, identity, input.id);
  if (session.language === 'python' && input.name.includes('$'))
    throw new InvalidVariableError(`${JSON.stringify(input.name)} is not a Python name`);
  if (input.name.startsWith('__'))
    throw new InvalidVariableError(
      `${JSON.stringify(input.name)} is a name runbox keeps for itself`,
    );
  const size = JSON.stringify(input.value).length;
  if (size > runtime.config.snapshotMaxBytes)
    throw new InvalidVariableError(
      `the value is ${size} bytes of JSON; a session keeps at most ${runtime.config.snapshotMaxBytes}`,
    );
  if (runtime.cellsOf(session.id).size > 0) throw new SessionBusyError('setting a variable');
  await runtime.kernels.setVariable(session.id, input.name, input.value);
  const current = services.store.sessions.get(session.id)?.snapshot;
  const snapshot: KernelSnapshot = {
    values: { ...current?.values, [input.name]: input.value },
    modules: Object.fromEntries(
      Object.entries(current?.modules ?? {}).filter(([name]) => name !== input.name),
    ),
    lost: (current?.lost ?? []).filter((entry) => entry.name !== input.name),
  };
  services.store.sessions.saveSnapshot(session.id, snapshot, Date.now());
  services.store.sessions.update(session.id, { lastActiveAt: Date.now(), state: 'active' });
}

/**
 * Hibernates sessions idle past their TTL (their kernel stops; the snapshot stays) and closes
 * those past their lifetime. Run every RUNBOX_SESSION_SWEEP_MS.
 */
export async function sweepSessions(services: Services, now = Date.now()): Promise<void> {
  const runtime = services.sessions;
  const open = services.store.sessions.list({ states: ['active', 'hibernated'], limit: 100_000 });
  for (const session of open) {
    if (now > session.createdAt + session.maxLifetimeMs) {
      await closeSession(services, session.id, 'it reached its maximum lifetime');
    } else if (
      session.state === 'active' &&
      runtime.cellsOf(session.id).size === 0 &&
      now - session.lastActiveAt > session.idleTtlMs
    ) {
      await runtime.kernels.stop(session.id);
      // A cell may have come while the kernel stopped: it starts a new one, and stays active.
      if (runtime.cellsOf(session.id).size === 0)
        services.store.sessions.update(session.id, { state: 'hibernated' });
    }
  }
}

/** A cell that was queued when the server stopped, queued again behind its session's others. */
export async function requeueCell(
  executor: Executor,
  runtime: SessionRuntime,
  entry: RequeueEntry & { request: CellRequest },
): Promise<void> {
  const after = runtime.joinLine(entry.request.sessionId, entry.id);
  try {
    await executor.submit(entry.request, {
      id: entry.id,
      meta: { owner: entry.owner, sessionId: entry.request.sessionId },
      priority: entry.priority,
      queuedAt: entry.queuedAt,
      lastSeq: entry.lastSeq,
      after,
    });
  } catch (error) {
    runtime.cellEnded(entry.request.sessionId, entry.id);
    throw error;
  }
}
