import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunEvent } from '@runbox/executor';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeClient, newOwnerCookie, type TestClient } from './support/clients.ts';
import { endOf, eventually, oneToN, processesOfUid, seqsOf, storedEnd } from './support/runs.ts';
import {
  startServerProcess,
  storedLastSeq,
  type ServerProcess,
  type ServerProcessOptions,
} from './support/subprocess.ts';
import { removeCgroupGroup } from './support/server.ts';
import { collectOutput, fullOutput, outputLines } from './support/subscriptions.ts';
import { claimTestUid } from '../../executor/test/support/test-uid.ts';

/**
 * The server as a real process: stopped with SIGTERM, or killed with SIGKILL in the middle of a
 * run, then started again on the same data directory.
 */

// Executor tests take sandbox uids 64100..64899 and in-process API servers 64901..64990.
const SANDBOX_UID = claimTestUid(64_900, 100);

const tempDirs: string[] = [];
const groups: string[] = [];
let options: ServerProcessOptions;
let current: ServerProcess | null = null;
const clients: TestClient[] = [];

/** A fresh data dir, sandbox dir and cgroup group for the servers of one test. */
async function freshOptions(name: string): Promise<ServerProcessOptions> {
  const dataDir = await mkdtemp(join(tmpdir(), `runbox-api-${name}-data-`));
  const sandboxDir = await mkdtemp(join(tmpdir(), `runbox-api-${name}-sandbox-`));
  const cgroupGroup = `runbox-api-test-${name}-${randomBytes(3).toString('hex')}`;
  tempDirs.push(dataDir, sandboxDir);
  groups.push(cgroupGroup);
  return { dataDir, sandboxDir, sandboxUid: SANDBOX_UID, cgroupGroup };
}

afterEach(async () => {
  for (const client of clients.splice(0)) await client.close();
  if (current && current.child.exitCode === null && current.child.signalCode === null)
    await current.kill();
  current = null;
});
afterAll(async () => {
  for (const dir of tempDirs) await rm(dir, { recursive: true, force: true });
  for (const group of groups) await removeCgroupGroup(group);
});

async function start(env: Record<string, string> = {}): Promise<ServerProcess> {
  current = await startServerProcess({ ...options, env });
  return current;
}

function client(server: ServerProcess, cookie: string): TestClient {
  const made = makeClient(server.url, { cookie });
  clients.push(made);
  return made;
}

describe('restart between runs (SIGTERM)', () => {
  beforeAll(async () => {
    options = await freshOptions('restart');
  });

  it('keeps the history and every event of every run', async () => {
    const first = await start();
    const cookie = await newOwnerCookie(first.url);
    const before = client(first, cookie);
    const ids: string[] = [];
    const logs = new Map<string, RunEvent[]>();
    for (const code of [
      'for i in range(5):\n    print("py", i)\n',
      'import sys\nprint("to stderr", file=sys.stderr)\nraise SystemExit(2)\n',
    ]) {
      const run = await before.trpc.runs.create.mutate({
        kind: 'snippet',
        language: 'python',
        code,
      });
      ids.push(run.id);
      logs.set(run.id, await fullOutput(before.trpc, run.id));
    }
    const viewsBefore = await Promise.all(ids.map((id) => storedEnd(before.trpc, id)));
    const listBefore = await before.trpc.runs.list.query({});
    expect(listBefore.runs.map((run) => run.id).sort()).toEqual([...ids].sort());

    expect(await first.terminate()).toEqual({ code: 0, signal: null });

    const second = await start();
    expect(second.url).not.toBe('');
    const after = client(second, cookie);
    const listAfter = await after.trpc.runs.list.query({});
    expect(listAfter).toEqual(listBefore);
    for (const [index, id] of ids.entries()) {
      expect(await after.trpc.runs.get.query({ id })).toEqual(viewsBefore[index]);
      const events = await fullOutput(after.trpc, id);
      expect(events).toEqual(logs.get(id));
      expect(seqsOf(events)).toEqual(oneToN(events.length));
    }
    expect(endOf(logs.get(ids[0] ?? '') ?? []).state).toBe('completed');
    expect(endOf(logs.get(ids[1] ?? '') ?? []).state).toBe('failed');
    expect(outputLines(logs.get(ids[0] ?? '') ?? [])).toEqual([
      'py 0',
      'py 1',
      'py 2',
      'py 3',
      'py 4',
    ]);

    // The restarted server takes new runs, numbered from 1 again.
    const fresh = await after.trpc.runs.create.mutate({
      kind: 'snippet',
      language: 'bash',
      code: 'echo again\n',
    });
    const events = await fullOutput(after.trpc, fresh.id);
    expect(outputLines(events)).toEqual(['again']);
    expect(seqsOf(events)).toEqual(oneToN(events.length));
    expect(await second.terminate()).toEqual({ code: 0, signal: null });
  });
});

describe('SIGKILL in the middle of a run', () => {
  beforeAll(async () => {
    options = await freshOptions('crash');
  });

  it('ends the running run as interrupted with its output, kills its processes, runs the queued one', async () => {
    const first = await start({ RUNBOX_CONCURRENCY: '1' });
    const cookie = await newOwnerCookie(first.url);
    const before = client(first, cookie);
    const sleeper = await before.trpc.runs.create.mutate({
      kind: 'snippet',
      language: 'bash',
      code: 'echo "line 1"\necho "line 2"\necho "line 3" >&2\nsleep 30\n',
    });
    const waiter = await before.trpc.runs.create.mutate({
      kind: 'snippet',
      language: 'python',
      code: 'print("after the restart")\n',
    });
    expect(waiter.state).toBe('queued');

    const live = collectOutput(before.trpc, sleeper.id);
    const seen = await eventually(() => {
      const lines = live.items.filter((item) => item.event.type === 'output');
      return lines.length === 3 ? live.items.map((item) => item.event) : undefined;
    }, 'three lines of output');
    live.stop();
    const lastSeen = seen.at(-1)?.seq ?? 0;
    // The kill comes once those events are on disk (the store writes in batches).
    await eventually(
      () => (storedLastSeq(options.dataDir, sleeper.id) >= lastSeen ? true : undefined),
      'the events to be stored',
    );
    expect(processesOfUid(SANDBOX_UID).length).toBeGreaterThan(0);

    await first.kill();

    const second = await start({ RUNBOX_CONCURRENCY: '1' });
    // Whatever the crash left of the sandbox is gone once the server is back.
    expect(processesOfUid(SANDBOX_UID)).toEqual([]);
    const after = client(second, cookie);

    const interrupted = await after.trpc.runs.get.query({ id: sleeper.id });
    expect(interrupted).toMatchObject({ state: 'interrupted', outputLines: 3 });
    expect(interrupted.error).toMatch(/runbox stopped while this run was running/);
    const events = await fullOutput(after.trpc, sleeper.id);
    expect(seqsOf(events)).toEqual(oneToN(events.length));
    expect(
      events.flatMap((event) => (event.type === 'output' ? [`${event.stream}:${event.text}`] : [])),
    ).toEqual(['stdout:line 1', 'stdout:line 2', 'stderr:line 3']);
    // Everything seen before the crash is there, unchanged, followed by the interruption.
    expect(events.slice(0, seen.length)).toEqual(seen);
    const tail = events.slice(-2);
    expect(tail[0]).toMatchObject({ type: 'state', state: 'interrupted' });
    expect(endOf(events)).toMatchObject({ state: 'interrupted', outputLines: 3 });

    // The queued run is queued again, runs and completes, its events numbered on from before.
    const resumed = await fullOutput(after.trpc, waiter.id);
    expect(seqsOf(resumed)).toEqual(oneToN(resumed.length));
    expect(outputLines(resumed)).toEqual(['after the restart']);
    expect(endOf(resumed).state).toBe('completed');
    expect((await storedEnd(after.trpc, waiter.id)).state).toBe('completed');
    const list = await after.trpc.runs.list.query({});
    expect(Object.fromEntries(list.runs.map((run) => [run.id, run.state]))).toEqual({
      [sleeper.id]: 'interrupted',
      [waiter.id]: 'completed',
    });

    expect(processesOfUid(SANDBOX_UID)).toEqual([]);
    expect(await second.terminate()).toEqual({ code: 0, signal: null });
  });
});
