import { randomUUID } from 'node:crypto';
import {
  isEndState,
  pageEvents,
  UnsafeSandboxError,
  type QueueSnapshot,
  type RunEvent,
} from '@runbox/executor';
import { callbackForNewRun } from './callbacks/index.ts';
import { NotFoundError } from './errors/api-errors.ts';
import type { Identity } from './identity.ts';
import type { CreateRunInput, RunView } from './schemas/run-views.ts';
import type { OwnerUsage } from './rate-limiter.ts';
import type { Services } from './services.ts';
import type { StoredRun } from './store/index.ts';

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
  return {
    id: run.id,
    ...(withOwner ? { owner: run.owner } : {}),
    kind: run.kind,
    language: snippet?.language ?? null,
    toolId: run.toolId,
    projectId: run.projectId,
    exampleId: run.exampleId,
    code: snippet?.code ?? null,
    stdin: snippet?.stdin ?? null,
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
  // A host whose sandbox failed its self-test runs no untrusted code (unless the operator opted
  // out). With workers elsewhere each worker proves its own, and takes no job while it fails.
  if (
    !services.config.cluster &&
    !services.selfTest.ok &&
    !services.config.executor.allowUnsafeSandbox
  ) {
    throw new UnsafeSandboxError(services.selfTest);
  }
  const release = identity.isAdmin ? () => {} : services.rateLimiter.admit(identity.owner);
  try {
    return await submitRun(services, identity, input, release);
  } finally {
    release();
  }
}

async function submitRun(
  services: Services,
  identity: Identity & { owner: string },
  input: CreateRunInput,
  stored: () => void,
): Promise<StoredRun> {
  const id = randomUUID();
  let projectId: string | null = null;
  let exampleId: string | null = null;
  let request: unknown;
  // Refused before anything is queued; stored with the run, never part of the engine's request.
  const callback = callbackForNewRun(
    services.config.callbacks,
    services.callbacks.policy,
    identity,
    input.callbackUrl,
  );
  if (input.kind === 'snippet') {
    const { callbackUrl: _callbackUrl, ...snippet } = input;
    request = snippet;
  } else {
    let projectDir: string;
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
    request = {
      kind: 'tool',
      toolId: input.toolId,
      projectDir,
      ...(input.entry !== undefined ? { entry: input.entry } : {}),
      ...(limits !== undefined ? { limits } : {}),
      ...(input.outputFilters !== undefined ? { outputFilters: input.outputFilters } : {}),
    };
  }
  await services.executor.submit(request, {
    id,
    meta: { owner: identity.owner },
    // Stored before its first event, so every event has its row.
    beforeQueue: (record) => {
      services.store.insertRun({
        ...record,
        owner: identity.owner,
        projectId,
        exampleId,
        callback,
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
