import { randomUUID } from 'node:crypto';
import {
  isEndState,
  pageEvents,
  QueueFullError,
  snippetEntryName,
  takesInput,
  UnsafeSandboxError,
  type CheckedRun,
  type QueueSnapshot,
  type RunEvent,
  type RunRequest,
  type SnippetRequest,
} from '@runbox/executor';
import { callbackForNewRun } from './callbacks/index.ts';
import { NotFoundError } from './errors/api-errors.ts';
import type { Identity } from './identity.ts';
import type { CreateRunInput, RunView, SnippetInput } from './schemas/run-views.ts';
import type { OwnerUsage } from './rate-limiter.ts';
import type { Services } from './services.ts';
import type { StoredRun } from './store/index.ts';
import type { RunCallback } from './store/outbox.ts';

/** A run the caller may see: its own, or any for an admin. Anyone else gets NOT_FOUND. */
export function visibleRun(services: Services, identity: Identity, runId: string): StoredRun {
  const run = services.store.getRun(runId);
  if (!run || (!identity.isAdmin && run.owner !== identity.owner))
    throw new NotFoundError('run', runId);
  return run;
}

/**
 * The run as the API shows it. A caller that shows many runs passes one queue snapshot for all of
 * them: each snapshot simulates the whole queue for its wait estimates.
 */
export function toRunView(
  services: Services,
  run: StoredRun,
  withOwner: boolean,
  queue?: QueueSnapshot,
): RunView {
  const waiting =
    run.state === 'queued'
      ? (queue ?? services.executor.queue()).waiting.find((entry) => entry.id === run.id)
      : undefined;
  const snippet = run.request?.kind === 'snippet' ? run.request : null;
  // A session's cell: its code and language, and the session it ran in.
  const cell = run.request?.kind === 'cell' ? run.request : null;
  const request = run.request && run.request.kind !== 'cell' ? run.request : null;
  return {
    id: run.id,
    ...(withOwner ? { owner: run.owner } : {}),
    kind: run.kind,
    language: (snippet ?? cell)?.language ?? null,
    toolId: run.toolId,
    projectId: run.projectId,
    exampleId: run.exampleId,
    ...(cell ? { sessionId: cell.sessionId } : {}),
    ...(run.request && takesInput(run.request) ? { interactive: true } : {}),
    ...(snippet?.tty ? { tty: { ...snippet.tty } } : {}),
    code: (snippet ?? cell)?.code ?? null,
    stdin: request?.stdin ?? null,
    ...(request?.args ? { args: [...request.args] } : {}),
    ...(request?.env ? { env: { ...request.env } } : {}),
    ...(request?.environment !== undefined ? { environment: request.environment } : {}),
    state: run.state,
    queuedAt: run.queuedAt,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    exitCode: run.exitCode,
    signal: run.signal,
    durationMs: run.durationMs,
    usage: run.usage,
    warnings: run.warnings,
    error: run.error,
    ...('value' in run ? { value: run.value } : {}),
    outputLines: run.outputLines,
    verdict: run.verdict,
    limits: run.limits ? { ...run.limits } : null,
    position: waiting?.position ?? null,
    estimatedWaitMs: waiting?.estimatedWaitMs ?? null,
  };
}

/** What the rate limits look at for one owner: runs queued or running, runs created lately. */
export function ownerUsage(
  services: Pick<Services, 'executor' | 'store'>,
  owner: string,
  sinceMs: number,
): OwnerUsage {
  const snapshot = services.executor.queue();
  const activeRuns = [...snapshot.waiting, ...snapshot.running].filter(
    (entry) => entry.meta.owner === owner,
  ).length;
  return { activeRuns, createdSince: services.store.runsCreatedSince(owner, sinceMs) };
}

/** A host whose sandbox failed its self-test runs no untrusted code (unless the operator opted out). */
function assertSandboxHolds(services: Services): void {
  // With workers elsewhere each worker proves its own, and takes no job while it fails.
  if (
    !services.config.cluster &&
    !services.selfTest.ok &&
    !services.config.executor.allowUnsafeSandbox
  ) {
    throw new UnsafeSandboxError(services.selfTest);
  }
}

/**
 * Creates a run: rate limits (admins exempt), the project or example resolved to a host directory
 * the run will copy, the engine's own checks (which reject before anything is stored), then the
 * stored row.
 */
export async function createRun(
  services: Services,
  identity: Identity & { owner: string },
  input: CreateRunInput,
): Promise<StoredRun> {
  assertSandboxHolds(services);
  const release = identity.isAdmin ? () => {} : services.rateLimiter.admit(identity.owner);
  try {
    const prepared = prepareRun(services, identity, input);
    const checked = await services.executor.check(prepared.request);
    return queueRun(services, identity, prepared, checked, release);
  } finally {
    release();
  }
}

/**
 * Creates several runs, all or none: every one is admitted by the rate limits (each counts) and
 * passes every check before the first is queued, then they are queued in order in one go. A
 * refusal names the run by its index (`runs.2`).
 */
export async function createRuns(
  services: Services,
  identity: Identity & { owner: string },
  inputs: readonly CreateRunInput[],
): Promise<StoredRun[]> {
  assertSandboxHolds(services);
  const releases: (() => void)[] = [];
  try {
    if (!identity.isAdmin)
      for (const _input of inputs) releases.push(services.rateLimiter.admit(identity.owner));
    const checked: { prepared: PreparedRun; checked: CheckedRun }[] = [];
    for (const [index, input] of inputs.entries()) {
      try {
        const prepared = prepareRun(services, identity, input);
        checked.push({ prepared, checked: await services.executor.check(prepared.request) });
      } catch (error) {
        throw atBatchIndex(error, index);
      }
    }
    const queue = services.executor.queue();
    if (queue.waiting.length + inputs.length > queue.maxQueueLength)
      throw new QueueFullError(queue.waiting.length, queue.maxQueueLength);
    // No await from here on: the runs go into the queue together, in order.
    return checked.map((entry, index) =>
      queueRun(services, identity, entry.prepared, entry.checked, releases[index] ?? (() => {})),
    );
  } finally {
    for (const release of releases) release();
  }
}

/** An error about one run of a batch, saying which: its message and field start with `runs.N`. */
function atBatchIndex(error: unknown, index: number): unknown {
  if (!(error instanceof Error)) return error;
  const where = `runs.${index}`;
  error.message = `${where}: ${error.message}`;
  const field: unknown = (error as { field?: unknown }).field;
  // A field of the error's own (a limit's name) is kept after the index; the error is about this run.
  Object.defineProperty(error, 'field', {
    value: typeof field === 'string' ? `${where}.${field}` : where,
    enumerable: true,
    configurable: true,
    writable: true,
  });
  return error;
}

/** A run ready for the engine's checks: its request, and what the store keeps beside it. */
interface PreparedRun {
  request: RunRequest;
  projectId: string | null;
  exampleId: string | null;
  callback: RunCallback | null;
}

/**
 * A snippet as the engine takes it: `code` is always the entry's content. The API lets the entry
 * come from `files` instead (its schema made sure it is in exactly one of the two places).
 */
function snippetRequest(input: SnippetInput): SnippetRequest {
  const { callbackUrl: _callbackUrl, code, files, ...rest } = input;
  if (code !== undefined) return { ...rest, code, ...(files ? { files } : {}) };
  const entry = snippetEntryName(input.language, input.entry);
  const others = (files ?? []).filter((file) => file.name !== entry);
  return {
    ...rest,
    code: files?.find((file) => file.name === entry)?.content ?? '',
    ...(others.length > 0 ? { files: others } : {}),
  };
}

function prepareRun(
  services: Services,
  identity: Identity & { owner: string },
  input: CreateRunInput,
): PreparedRun {
  // Refused before anything is queued; stored with the run, never part of the engine's request.
  const callback = callbackForNewRun(
    services.config.callbacks,
    services.callbacks.policy,
    identity,
    input.callbackUrl,
  );
  if (input.kind === 'snippet')
    return { request: snippetRequest(input), projectId: null, exampleId: null, callback };
  let projectDir: string;
  let projectId: string | null = null;
  let exampleId: string | null = null;
  let limits = input.limits;
  if (input.exampleId !== undefined) {
    const example = services.examples.find((candidate) => candidate.id === input.exampleId);
    if (!example) throw new NotFoundError('example', input.exampleId);
    projectDir = example.dir;
    exampleId = example.id;
    limits = { ...example.limits, ...input.limits };
  } else {
    const project = services.store.getProject(input.projectId ?? '');
    if (!project || (!identity.isAdmin && project.owner !== identity.owner)) {
      throw new NotFoundError('project', input.projectId ?? '');
    }
    projectDir = project.dir;
    projectId = project.id;
  }
  return {
    request: {
      kind: 'tool',
      toolId: input.toolId,
      projectDir,
      ...(input.entry !== undefined ? { entry: input.entry } : {}),
      ...(input.args !== undefined ? { args: input.args } : {}),
      ...(input.env !== undefined ? { env: input.env } : {}),
      ...(input.stdin !== undefined ? { stdin: input.stdin } : {}),
      ...(input.environment !== undefined ? { environment: input.environment } : {}),
      ...(limits !== undefined ? { limits } : {}),
      ...(input.outputFilters !== undefined ? { outputFilters: input.outputFilters } : {}),
    },
    projectId,
    exampleId,
    callback,
  };
}

/** Queues a checked run, stored before its first event; `stored` is called once it is. */
function queueRun(
  services: Services,
  identity: Identity & { owner: string },
  prepared: PreparedRun,
  checked: CheckedRun,
  stored: () => void,
): StoredRun {
  const id = randomUUID();
  services.executor.submitChecked(checked, {
    id,
    meta: { owner: identity.owner },
    // Stored before its first event, so every event has its row.
    beforeQueue: (record) => {
      services.store.insertRun({
        ...record,
        owner: identity.owner,
        projectId: prepared.projectId,
        exampleId: prepared.exampleId,
        callback: prepared.callback,
      });
      // Counted by the store and the engine from here on, no longer as in flight.
      stored();
    },
  });
  const run = services.store.getRun(id);
  if (!run) throw new Error(`run ${id} was queued but is not in the store`);
  return run;
}

/**
 * The events of a run after `afterSeq`, in batches (what has piled up goes together): from the
 * engine while it holds the run (live, with older events read back from the store), else from
 * the store alone (ended runs, or after a restart).
 */
export async function* runEventBatches(
  services: Services,
  runId: string,
  afterSeq: number,
  signal?: AbortSignal,
): AsyncGenerator<RunEvent[]> {
  let live = true;
  try {
    services.executor.get(runId);
  } catch {
    live = false;
  }
  if (live) {
    yield* services.executor.eventBatches(runId, { afterSeq, signal });
    return;
  }
  // The store alone never grows here: an empty page (a stored run with no end and no engine, or
  // one read to its end) ends the paging.
  yield* pageEvents(
    { read: (after, limit) => services.store.readEvents(runId, after, limit), ended: () => true },
    { afterSeq, signal },
  );
}

/** The `end` event of a run the store has as ended, or null while it has not ended. */
export function storedEndEvent(services: Services, run: StoredRun): RunEvent | null {
  if (!isEndState(run.state)) return null;
  const last = services.store.readEvents(run.id, run.lastSeq - 1, 1)[0];
  return last?.type === 'end' ? last : null;
}
