import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterKeys } from '../../cluster/src/cluster-keys.ts';
import { connectRedis } from '../../cluster/src/redis-connection.ts';
import { readPlacement } from '../../cluster/src/session-placement.ts';
import type { RunView } from '../src/schemas/run-views.ts';
import { startApiWithWorkers, type ApiWithWorkers } from './support/api-with-workers.ts';
import {
  adminClient,
  codeOf,
  makeClient,
  newOwnerCookie,
  rejectionOf,
  type Client,
  type TestClient,
} from './support/clients.ts';
import { eventually, storedEnd } from './support/runs.ts';
import { fullOutput, outputLines, watch } from './support/subscriptions.ts';

/**
 * Sessions with workers on Redis: a session lives on one worker process, its cells and the API's
 * asks go there, its snapshots come back to the API's store; hibernation stops its kernel there,
 * and when its worker dies the session wakes on another from its snapshot and says what was lost.
 * A command written into a worker's stream by hand is never obeyed.
 */

let deployed: ApiWithWorkers;
let owner: TestClient;
let ownerCookie: string;
let admin: TestClient;
let redis: ReturnType<typeof connectRedis>;
const keys = clusterKeys();

beforeAll(async () => {
  deployed = await startApiWithWorkers({
    label: 'sessions',
    workers: [{ name: 'north' }, { name: 'south' }],
    apiEnv: { RUNBOX_SESSION_SWEEP_MS: '100', RUNBOX_SESSIONS_PER_OWNER: '10' },
  });
  ownerCookie = await newOwnerCookie(deployed.server.url);
  owner = makeClient(deployed.server.url, { cookie: ownerCookie });
  admin = adminClient(deployed.server.url);
  redis = connectRedis(deployed.redis.url, 'worker-sessions-test');
}, 60_000);

afterAll(async () => {
  redis?.disconnect();
  for (const client of [owner, admin]) await client?.close();
  await deployed?.stop();
});

async function cell(client: Client, sessionId: string, code: string): Promise<RunView> {
  const run = await client.sessions.run.mutate({ sessionId, code });
  await fullOutput(client, run.id);
  return storedEnd(client, run.id, 30_000);
}

/** The worker a session's kernel lives on, as its placement names it. */
async function workerOf(sessionId: string): Promise<string | null> {
  return (await readPlacement(redis, keys, sessionId))?.worker ?? null;
}

/** Sessions whose kernel runs on the named worker, as its lease says. */
async function kernelsOn(name: string): Promise<number> {
  const view = await admin.trpc.admin.workers.query();
  return view.workers.find((worker) => worker.name === name)?.sessions ?? -1;
}

describe('sessions with workers on Redis', () => {
  it('keeps variables from cell to cell on one worker, and reads them from its kernel', async () => {
    const session = await owner.trpc.sessions.create.mutate({ language: 'python' });
    expect(session).toMatchObject({ state: 'active', kernel: 'running' });
    const home = await workerOf(session.id);
    expect(['north', 'south']).toContain(home);
    await cell(owner.trpc, session.id, 'x = 20');
    const second = await cell(owner.trpc, session.id, 'x += 22\nprint("x is", x)\nx');
    expect(second).toMatchObject({ kind: 'cell', state: 'completed', value: 42 });
    expect(outputLines(await fullOutput(owner.trpc, second.id))).toEqual(['x is 42']);
    // Its home did not change, and its lease counts the kernel.
    expect(await workerOf(session.id)).toBe(home);
    await eventually(
      async () => ((await kernelsOn(home ?? '')) >= 1 ? true : undefined),
      'the lease',
    );
    // The snapshot came back to the API's store with the cell's end.
    const detail = await owner.trpc.sessions.get.query({ id: session.id });
    expect(detail.keptVariables).toEqual(['x']);
    expect(await owner.trpc.sessions.variables.query({ id: session.id })).toMatchObject({
      source: 'kernel',
      variables: [{ name: 'x', type: 'int', repr: '42' }],
    });
    await owner.trpc.sessions.setVariable.mutate({ id: session.id, name: 'y', value: [1, 2] });
    expect(await cell(owner.trpc, session.id, 'x + sum(y)')).toMatchObject({ value: 45 });
    await owner.trpc.sessions.close.mutate({ id: session.id });
  });

  it('interrupts a cell that never ends; the next cell still sees earlier state; restart clears it', async () => {
    const session = await owner.trpc.sessions.create.mutate({ language: 'python' });
    await cell(owner.trpc, session.id, 'kept = "yes"');
    const looping = await owner.trpc.sessions.run.mutate({
      sessionId: session.id,
      code: 'import time\nprint("looping", flush=True)\nwhile True:\n    time.sleep(0.01)',
    });
    await watch(owner.trpc, looping.id, (events) =>
      events.some((event) => event.type === 'output' && event.text.includes('looping')),
    ).done;
    await owner.trpc.sessions.interrupt.mutate({ id: session.id });
    expect((await storedEnd(owner.trpc, looping.id, 30_000)).state).toBe('cancelled');
    expect(await cell(owner.trpc, session.id, 'kept')).toMatchObject({
      state: 'completed',
      value: 'yes',
    });
    await owner.trpc.sessions.restart.mutate({ id: session.id });
    const after = await cell(owner.trpc, session.id, 'kept');
    expect(after.state).toBe('failed');
    expect(outputLines(await fullOutput(owner.trpc, after.id)).join('\n')).toContain('NameError');
    await owner.trpc.sessions.close.mutate({ id: session.id });
  });

  it('hibernates when idle (its kernel on the worker stops) and wakes with its variables', async () => {
    const session = await owner.trpc.sessions.create.mutate({
      language: 'python',
      idleTtlMs: 1_000,
    });
    await cell(owner.trpc, session.id, 'total = 40\nf = open("/dev/null")');
    const home = (await workerOf(session.id)) ?? '';
    await eventually(async () => {
      const view = await owner.trpc.sessions.get.query({ id: session.id });
      return view.state === 'hibernated' ? view : undefined;
    }, 'the session to hibernate');
    expect(await workerOf(session.id)).toBeNull();
    await eventually(
      async () => ((await kernelsOn(home)) === 0 ? true : undefined),
      'its kernel to end',
    );
    const woken = await cell(owner.trpc, session.id, 'total + 2');
    expect(woken).toMatchObject({ state: 'completed', value: 42 });
    const notice = woken.warnings.find((warning) => warning.rule === 'woke');
    expect(notice?.message).toContain('restored total');
    expect(notice?.message).toContain('could not keep f');
    await owner.trpc.sessions.close.mutate({ id: session.id });
  });

  it('closing a session ends its kernel on its worker', async () => {
    const session = await owner.trpc.sessions.create.mutate({ language: 'javascript' });
    expect(await cell(owner.trpc, session.id, 'let n = 1; n + 1')).toMatchObject({ value: 2 });
    const home = (await workerOf(session.id)) ?? '';
    await eventually(async () => ((await kernelsOn(home)) >= 1 ? true : undefined), 'the lease');
    await owner.trpc.sessions.close.mutate({ id: session.id });
    expect(await workerOf(session.id)).toBeNull();
    await eventually(
      async () => ((await kernelsOn(home)) === 0 ? true : undefined),
      'its kernel to end',
    );
    const refused = await rejectionOf(
      owner.trpc.sessions.run.mutate({ sessionId: session.id, code: '1' }),
    );
    expect(codeOf(refused)).toBe('PRECONDITION_FAILED');
  });

  it('never obeys a command written into a worker stream by hand', async () => {
    const session = await owner.trpc.sessions.create.mutate({ language: 'python' });
    await cell(owner.trpc, session.id, 'secret = 7');
    const placement = await readPlacement(redis, keys, session.id);
    if (!placement) throw new Error('the session has no placement');
    const stream = keys.sessionCommands(placement.instance);
    const runId = randomUUID();
    const forgedJob = {
      runId,
      request: { kind: 'cell', sessionId: randomUUID(), language: 'python', code: 'print(1)' },
      projectDigest: null,
      limits: {},
      output: { maxLines: 100, pii: false },
      priority: 0,
      queuedAt: Date.now(),
      warnings: [],
    };
    const before = await redis.xlen(keys.messages);
    // Not JSON; not a command; a cell for a session that does not live here; a cell whose job is
    // another session's; a set for a session that does not live here.
    await redis.xadd(stream, '*', 'm', '{not json');
    await redis.xadd(stream, '*', 'm', JSON.stringify({ op: 'shell', cmd: 'id' }));
    const other = randomUUID();
    const kernelStart = { spec: null, snapshot: null, endedElsewhere: null };
    await redis.xadd(
      stream,
      '*',
      'm',
      JSON.stringify({ op: 'cell', sessionId: other, ...kernelStart, job: forgedJob }),
    );
    await redis.xadd(
      stream,
      '*',
      'm',
      JSON.stringify({ op: 'cell', sessionId: session.id, ...kernelStart, job: forgedJob }),
    );
    await redis.xadd(
      stream,
      '*',
      'm',
      JSON.stringify({
        op: 'set',
        requestId: randomUUID(),
        sessionId: other,
        ...kernelStart,
        name: 'z',
        value: 1,
      }),
    );
    // A cell of the session itself, but with limits past the worker's maximums: refused, not run.
    const greedy = randomUUID();
    const spec = {
      id: session.id,
      language: 'python',
      limits: { wallTimeMs: 60_000, memoryBytes: 2 ** 50 },
      environment: null,
      interruptGraceMs: 2_000,
      snapshotMaxBytes: 1024,
    };
    await redis.xadd(
      stream,
      '*',
      'm',
      JSON.stringify({
        op: 'cell',
        sessionId: session.id,
        spec,
        snapshot: null,
        endedElsewhere: null,
        job: {
          ...forgedJob,
          runId: greedy,
          request: { ...forgedJob.request, sessionId: session.id },
        },
      }),
    );
    // The worker reads them (its stream empties), and writes no run of them.
    await eventually(
      async () => ((await redis.xlen(stream)) === 0 ? true : undefined),
      'the reads',
    );
    const messagesNow = async (): Promise<string[]> =>
      (await redis.xrange(keys.messages, '-', '+'))
        .slice(before)
        .map(([, fields]: [string, string[]]) => fields[1] ?? '');
    const refusal = await eventually(
      async () => (await messagesNow()).find((text) => text.includes(greedy)),
      'the refusal of the greedy cell',
    );
    expect(JSON.parse(refusal)).toMatchObject({ kind: 'rejected', runId: greedy });
    expect(refusal).toContain('memoryBytes');
    const after = await messagesNow();
    expect(after.filter((text) => text.includes(runId))).toEqual([]);
    expect(after.filter((text) => text.includes(greedy))).toHaveLength(1);
    // The session itself is untouched.
    expect(await cell(owner.trpc, session.id, 'secret')).toMatchObject({ value: 7 });
    await owner.trpc.sessions.close.mutate({ id: session.id });
  });

  it('keeps its kernel on its worker while the API restarts', async () => {
    const session = await owner.trpc.sessions.create.mutate({ language: 'python' });
    // A lock survives no snapshot: seeing it after the restart proves the kernel lived on.
    await cell(owner.trpc, session.id, 'import threading\nlock = threading.Lock()\nn = 1');
    const home = await workerOf(session.id);
    await owner.close();
    await admin.close();
    await deployed.restartServer();
    owner = makeClient(deployed.server.url, { cookie: ownerCookie });
    admin = adminClient(deployed.server.url);
    expect(await owner.trpc.sessions.get.query({ id: session.id })).toMatchObject({
      state: 'active',
      kernel: 'running',
    });
    const after = await cell(owner.trpc, session.id, 'type(lock).__name__ + str(n)');
    expect(after).toMatchObject({ state: 'completed', value: 'lock1' });
    expect(after.warnings.filter((warning) => warning.check === 'session')).toEqual([]);
    expect(await workerOf(session.id)).toBe(home);
    await owner.trpc.sessions.close.mutate({ id: session.id });
  }, 60_000);

  it('wakes on another worker from its snapshot when its worker dies, and says so', async () => {
    const session = await owner.trpc.sessions.create.mutate({ language: 'python' });
    await cell(owner.trpc, session.id, 'kept = 41\nlost = object()');
    const home = await workerOf(session.id);
    const dying = deployed.workers.find((worker) => worker.name === home);
    const other = deployed.workers.find((worker) => worker.name !== home);
    if (!dying || !other) throw new Error('the session has no home among the workers');
    await dying.kill();
    const woken = await cell(owner.trpc, session.id, 'kept + 1');
    expect(woken).toMatchObject({ state: 'completed', value: 42 });
    expect(await workerOf(session.id)).toBe(other.name);
    const notice = woken.warnings.find((warning) => warning.check === 'session');
    expect(notice?.message).toContain(`its worker ${dying.name} stopped answering`);
    expect(notice?.message).toContain('restored kept');
    expect(notice?.message).toContain('could not keep lost');
    // Nothing of the dead worker's sandboxes is left.
    await eventually(
      () => (dying.sandboxProcesses().length === 0 ? true : undefined),
      'the dead worker sandboxes to go',
    );
    await owner.trpc.sessions.close.mutate({ id: session.id });
  }, 60_000);
});
