import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunEvent } from '@runbox/executor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunView } from '../src/schemas/run-views.ts';
import {
  adminClient,
  codeOf,
  makeClient,
  newOwnerCookie,
  ownerClient,
  rejectionOf,
  runboxDetailsOf,
  type Client,
  type TestClient,
} from './support/clients.ts';
import { eventually, processesOfUid, storedEnd } from './support/runs.ts';
import { removeCgroupGroup, startTestServer, type TestServer } from './support/server.ts';
import { startServerProcess, type ServerProcess } from './support/subprocess.ts';
import { fullOutput, outputLines, watch } from './support/subscriptions.ts';
import { claimTestUid, releaseTestUid } from '../../executor/test/support/test-uid.ts';

/**
 * Sessions and interactive runs through a real server: owners kept apart, hibernation and
 * wake-up, a server restart in the middle of a session, a program fed from the client.
 */

let server: TestServer;
let ownerA: TestClient;
let ownerB: TestClient;
let admin: TestClient;

beforeAll(async () => {
  server = await startTestServer('sessions', {
    RUNBOX_SESSION_SWEEP_MS: '100',
    RUNBOX_SESSIONS_PER_OWNER: '2',
  });
  ownerA = await ownerClient(server.url);
  ownerB = await ownerClient(server.url);
  admin = adminClient(server.url);
});
afterAll(async () => {
  for (const client of [ownerA, ownerB, admin]) await client?.close();
  await server?.stop();
});

/** Runs a cell and waits for its stored end. */
async function cell(client: Client, sessionId: string, code: string): Promise<RunView> {
  const run = await client.sessions.run.mutate({ sessionId, code });
  await fullOutput(client, run.id);
  return storedEnd(client, run.id);
}

async function expectNotFound(call: Promise<unknown>): Promise<void> {
  const error = await rejectionOf(call);
  expect(codeOf(error)).toBe('NOT_FOUND');
}

describe('sessions', () => {
  it('keeps variables from cell to cell; cells are runs of kind cell in the history', async () => {
    const session = await ownerA.trpc.sessions.create.mutate({ language: 'python' });
    expect(session).toMatchObject({ state: 'active', kernel: 'running', busy: false });
    await cell(ownerA.trpc, session.id, 'x = 20');
    const second = await cell(ownerA.trpc, session.id, 'x += 22\nprint("x is", x)\nx');
    expect(second).toMatchObject({
      kind: 'cell',
      sessionId: session.id,
      state: 'completed',
      value: 42,
    });
    expect(outputLines(await fullOutput(ownerA.trpc, second.id))).toEqual(['x is 42']);
    const history = await ownerA.trpc.runs.list.query({});
    expect(history.runs.map((run) => run.id)).toContain(second.id);
    const detail = await ownerA.trpc.sessions.get.query({ id: session.id });
    expect(detail.cells.map((run) => run.code)).toEqual(['x = 20', 'x += 22\nprint("x is", x)\nx']);
    expect(detail.keptVariables).toEqual(['x']);
    const variables = await ownerA.trpc.sessions.variables.query({ id: session.id });
    expect(variables).toEqual({
      source: 'kernel',
      variables: [{ name: 'x', type: 'int', repr: '42' }],
      lost: [],
    });
    await ownerA.trpc.sessions.setVariable.mutate({ id: session.id, name: 'y', value: { a: [1] } });
    expect((await cell(ownerA.trpc, session.id, 'y["a"][0] + x')).value).toBe(43);
    await ownerA.trpc.sessions.close.mutate({ id: session.id });
  });

  it("keeps owners apart: another owner's session does not exist for them", async () => {
    const session = await ownerA.trpc.sessions.create.mutate({ language: 'javascript' });
    const run = await cell(ownerA.trpc, session.id, 'var secret = "A only"');
    const id = session.id;
    await expectNotFound(ownerB.trpc.sessions.get.query({ id }));
    await expectNotFound(ownerB.trpc.sessions.run.mutate({ sessionId: id, code: 'secret' }));
    await expectNotFound(ownerB.trpc.sessions.variables.query({ id }));
    await expectNotFound(
      ownerB.trpc.sessions.setVariable.mutate({ id, name: 'secret', value: 'B was here' }),
    );
    await expectNotFound(ownerB.trpc.sessions.interrupt.mutate({ id }));
    await expectNotFound(ownerB.trpc.sessions.restart.mutate({ id }));
    await expectNotFound(ownerB.trpc.sessions.close.mutate({ id }));
    await expectNotFound(ownerB.trpc.runs.get.query({ id: run.id }));
    expect((await ownerB.trpc.sessions.list.query({})).sessions).toEqual([]);
    // Nothing B tried reached the session.
    expect((await cell(ownerA.trpc, id, 'secret')).value).toBe('A only');
    const listed = await admin.trpc.sessions.adminList.query({});
    expect(listed.sessions.find((entry) => entry.id === id)).toMatchObject({
      owner: expect.any(String),
      language: 'javascript',
    });
    await admin.trpc.sessions.adminClose.mutate({ id });
    const closed = await ownerA.trpc.sessions.get.query({ id });
    expect(closed).toMatchObject({ state: 'closed', closeReason: 'closed by the admin' });
    const refused = await rejectionOf(
      ownerA.trpc.sessions.run.mutate({ sessionId: id, code: '1' }),
    );
    expect(runboxDetailsOf(refused)?.code).toBe('SESSION_GONE');
  });

  it('refuses more open sessions than an owner may have', async () => {
    const owner = await ownerClient(server.url);
    try {
      const first = await owner.trpc.sessions.create.mutate({ language: 'python' });
      const second = await owner.trpc.sessions.create.mutate({ language: 'python' });
      const error = await rejectionOf(owner.trpc.sessions.create.mutate({ language: 'python' }));
      expect(codeOf(error)).toBe('TOO_MANY_REQUESTS');
      expect(runboxDetailsOf(error)).toMatchObject({
        code: 'SESSION_LIMIT',
        limit: 'sessionsPerOwner',
      });
      await owner.trpc.sessions.close.mutate({ id: first.id });
      await owner.trpc.sessions.close.mutate({ id: second.id });
    } finally {
      await owner.close();
    }
  });

  it('hibernates when idle and wakes with its JSON-safe variables, naming the rest', async () => {
    const session = await ownerA.trpc.sessions.create.mutate({
      language: 'python',
      idleTtlMs: 1_000,
    });
    await cell(
      ownerA.trpc,
      session.id,
      'import json\nscores = {"ann": [1, 2]}\nname = "run"\nsquare = lambda n: n * n\npair = (1, 2)',
    );
    const asleep = await eventually(async () => {
      const view = await ownerA.trpc.sessions.get.query({ id: session.id });
      return view.state === 'hibernated' ? view : undefined;
    }, 'the session to hibernate');
    expect(asleep.kernel).toBe('stopped');
    expect(asleep.lostVariables.map((entry) => entry.name).sort()).toEqual(['pair', 'square']);
    // Read from the snapshot: nothing is woken to answer.
    const variables = await ownerA.trpc.sessions.variables.query({ id: session.id });
    expect(variables.source).toBe('snapshot');
    expect(variables.variables.map((variable) => variable.name)).toEqual([
      'json',
      'name',
      'scores',
    ]);
    expect((await ownerA.trpc.sessions.get.query({ id: session.id })).kernel).toBe('stopped');

    const woken = await cell(ownerA.trpc, session.id, 'json.dumps(scores) + name');
    expect(woken).toMatchObject({ state: 'completed', value: '{"ann": [1, 2]}run' });
    const notice = woken.warnings.find((warning) => warning.rule === 'woke');
    expect(notice?.message).toContain('could not keep');
    expect(notice?.message).toContain('square (function');
    expect(notice?.message).toContain('pair (tuple');
    const view = await ownerA.trpc.sessions.get.query({ id: session.id });
    expect(view.notice).toMatchObject({ kind: 'woke' });
    expect(view.notice?.lost.map((entry) => entry.name).sort()).toEqual(['pair', 'square']);
    expect((await cell(ownerA.trpc, session.id, 'square')).state).toBe('failed');
    await ownerA.trpc.sessions.close.mutate({ id: session.id });
  });

  it('interrupts a running cell and keeps the state; restart clears it', async () => {
    const session = await ownerA.trpc.sessions.create.mutate({ language: 'python' });
    await cell(ownerA.trpc, session.id, 'kept = 7');
    const loop = await ownerA.trpc.sessions.run.mutate({
      sessionId: session.id,
      code: 'print("looping", flush=True)\nwhile True:\n    pass',
    });
    await watch(ownerA.trpc, loop.id, (events) =>
      events.some((event) => event.type === 'output' && event.text === 'looping'),
    ).done;
    await ownerA.trpc.sessions.interrupt.mutate({ id: session.id });
    expect((await storedEnd(ownerA.trpc, loop.id)).state).toBe('cancelled');
    expect((await cell(ownerA.trpc, session.id, 'kept')).value).toBe(7);
    await ownerA.trpc.sessions.restart.mutate({ id: session.id });
    const after = await cell(ownerA.trpc, session.id, 'kept');
    expect(after.state).toBe('failed');
    await ownerA.trpc.sessions.close.mutate({ id: session.id });
  });

  it('leaves no process behind once its sessions are closed', async () => {
    const session = await ownerA.trpc.sessions.create.mutate({ language: 'python' });
    await cell(ownerA.trpc, session.id, 'import os\nos.system("setsid sleep 300 &")');
    expect(processesOfUid(server.sandboxUid).length).toBeGreaterThan(0);
    await ownerA.trpc.sessions.close.mutate({ id: session.id });
    const open = await admin.trpc.sessions.adminList.query({});
    for (const entry of open.sessions)
      await admin.trpc.sessions.adminClose.mutate({ id: entry.id });
    expect(processesOfUid(server.sandboxUid)).toEqual([]);
  });
});

describe('interactive runs', () => {
  it('gives a program that asks for two lines what the client sends, when it asks', async () => {
    const run = await ownerA.trpc.runs.create.mutate({
      kind: 'snippet',
      language: 'python',
      code: 'first = input("first? ")\nsecond = input("second? ")\nprint(f"got {first} and {second}")',
      interactive: true,
    });
    expect(run.interactive).toBe(true);
    const asked = (prompt: string) => (events: readonly RunEvent[]) =>
      events.some((event) => event.type === 'output' && event.text.includes(prompt));
    await watch(ownerA.trpc, run.id, asked('first?')).done;
    await ownerA.trpc.runs.sendInput.mutate({ id: run.id, data: 'tea\n' });
    await watch(ownerA.trpc, run.id, asked('second?')).done;
    await ownerA.trpc.runs.sendInput.mutate({ id: run.id, data: 'cake\n' });
    const ended = await storedEnd(ownerA.trpc, run.id);
    expect(ended.state).toBe('completed');
    expect(outputLines(await fullOutput(ownerA.trpc, run.id)).join('')).toContain(
      'got tea and cake',
    );
    const late = await rejectionOf(ownerA.trpc.runs.sendInput.mutate({ id: run.id, data: 'x' }));
    expect(runboxDetailsOf(late)?.code).toBe('RUN_NOT_INTERACTIVE');
  });

  it('sends SIGINT to a running program; input to a run that is not interactive is refused', async () => {
    const run = await ownerA.trpc.runs.create.mutate({
      kind: 'snippet',
      language: 'python',
      code: 'import time\nprint("ready", flush=True)\ntry:\n    time.sleep(60)\nexcept KeyboardInterrupt:\n    print("got SIGINT")',
      interactive: true,
    });
    await watch(ownerA.trpc, run.id, (events) =>
      events.some((event) => event.type === 'output' && event.text === 'ready'),
    ).done;
    await expect(ownerA.trpc.runs.signal.mutate({ id: run.id, signal: 'SIGINT' })).resolves.toEqual(
      { delivered: true },
    );
    const ended = await storedEnd(ownerA.trpc, run.id);
    expect(ended.state).toBe('completed');
    expect(outputLines(await fullOutput(ownerA.trpc, run.id))).toEqual(['ready', 'got SIGINT']);

    const plain = await ownerA.trpc.runs.create.mutate({
      kind: 'snippet',
      language: 'python',
      code: 'import time\ntime.sleep(5)',
    });
    const refused = await rejectionOf(
      ownerA.trpc.runs.sendInput.mutate({ id: plain.id, data: 'x' }),
    );
    expect(codeOf(refused)).toBe('PRECONDITION_FAILED');
    await ownerA.trpc.runs.cancel.mutate({ id: plain.id });
    await expectNotFound(ownerB.trpc.runs.signal.mutate({ id: run.id, signal: 'SIGTERM' }));
  });

  it('runs a program on a terminal of the client size, resized and typed into', async () => {
    const run = await ownerA.trpc.runs.create.mutate({
      kind: 'snippet',
      language: 'python',
      code: [
        'import os, signal',
        'print("size", *os.get_terminal_size(1), os.isatty(0))',
        'signal.signal(signal.SIGWINCH, lambda *_: print("now", *os.get_terminal_size(1), flush=True))',
        'print("hi", input("name? "))',
      ].join('\n'),
      tty: { cols: 77, rows: 21 },
    });
    expect(run).toMatchObject({ interactive: true, tty: { cols: 77, rows: 21 } });
    const shows = (text: string) => (events: readonly RunEvent[]) =>
      events.some((event) => event.type === 'output' && event.text.includes(text));
    await watch(ownerA.trpc, run.id, shows('name?')).done;
    const resized = await ownerA.trpc.runs.resize.mutate({ id: run.id, cols: 100, rows: 30 });
    expect(resized.applied).toBe(true);
    await watch(ownerA.trpc, run.id, shows('now 100 30')).done;
    await ownerA.trpc.runs.sendInput.mutate({ id: run.id, data: 'Grace\r' });
    const ended = await storedEnd(ownerA.trpc, run.id);
    expect(ended.state).toBe('completed');
    const text = outputLines(await fullOutput(ownerA.trpc, run.id)).join('');
    expect(text).toContain('size 77 21 True');
    expect(text).toContain('hi Grace');
    // Another owner cannot touch it; a run without a terminal cannot be resized.
    await expectNotFound(ownerB.trpc.runs.resize.mutate({ id: run.id, cols: 80, rows: 24 }));
    const plain = await ownerA.trpc.runs.create.mutate({
      kind: 'snippet',
      language: 'bash',
      code: 'sleep 5',
    });
    const refused = await rejectionOf(
      ownerA.trpc.runs.resize.mutate({ id: plain.id, cols: 80, rows: 24 }),
    );
    expect(runboxDetailsOf(refused)?.code).toBe('RUN_NOT_INTERACTIVE');
    await ownerA.trpc.runs.cancel.mutate({ id: plain.id });
  });
});

describe('a server restart in the middle of a session', () => {
  const SANDBOX_UID = claimTestUid(64_900, 100);
  const dirs: string[] = [];
  const group = `runbox-api-test-session-restart-${randomBytes(3).toString('hex')}`;
  let current: ServerProcess | null = null;
  afterAll(async () => {
    if (current && current.child.exitCode === null && current.child.signalCode === null)
      await current.kill();
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
    await removeCgroupGroup(group);
    releaseTestUid(SANDBOX_UID);
  });

  it(
    'wakes the session from its snapshot after the server was killed',
    { timeout: 90_000 },
    async () => {
      const dataDir = await mkdtemp(join(tmpdir(), 'runbox-api-session-restart-data-'));
      const sandboxDir = await mkdtemp(join(tmpdir(), 'runbox-api-session-restart-sandbox-'));
      dirs.push(dataDir, sandboxDir);
      const options = { dataDir, sandboxDir, sandboxUid: SANDBOX_UID, cgroupGroup: group };
      current = await startServerProcess(options);
      const cookie = await newOwnerCookie(current.url);
      let client = makeClient(current.url, { cookie });
      const session = await client.trpc.sessions.create.mutate({ language: 'javascript' });
      await cell(client.trpc, session.id, 'const total = 40\nlet add = (a) => a + 1');
      await client.close();
      // No goodbye: the kernel dies with the server.
      await current.kill();
      current = await startServerProcess(options);
      client = makeClient(current.url, { cookie });
      try {
        const view = await client.trpc.sessions.get.query({ id: session.id });
        expect(view).toMatchObject({ state: 'hibernated', kernel: 'stopped' });
        const woken = await cell(client.trpc, session.id, 'total + 2');
        expect(woken).toMatchObject({ state: 'completed', value: 42 });
        expect(woken.warnings.find((warning) => warning.rule === 'woke')?.message).toContain(
          'add (function',
        );
      } finally {
        await client.close();
        await current.terminate();
      }
      expect(processesOfUid(SANDBOX_UID)).toEqual([]);
    },
  );
});
