import type { RunEvent } from '@runbox/executor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeClient, ownerClient, type TestClient } from './support/clients.ts';
import { oneToN, seqsOf, storedEnd } from './support/runs.ts';
import { startTestServer, type TestServer } from './support/server.ts';
import { collectOutput, fullOutput, outputLines } from './support/subscriptions.ts';

/** A run from create to its last line, live over the WebSocket and again afterwards. */

const FIVE_LINES = 'for i in range(5):\n    print("line", i)\n';

let server: TestServer;
let owner: TestClient;

beforeAll(async () => {
  server = await startTestServer('stream');
  owner = await ownerClient(server.url);
});
afterAll(async () => {
  await owner?.close();
  await server?.stop();
});

function endOf(events: readonly RunEvent[]): Extract<RunEvent, { type: 'end' }> {
  const last = events.at(-1);
  if (last?.type !== 'end') throw new Error(`the last event is ${last?.type}, not end`);
  return last;
}

describe('create, stream, finish', () => {
  it('streams tracked events 1..n in order, no gap, ending with end/completed', async () => {
    const created = await owner.trpc.runs.create.mutate({
      kind: 'snippet',
      language: 'python',
      code: FIVE_LINES,
    });
    expect(created).toMatchObject({ kind: 'snippet', language: 'python', code: FIVE_LINES });
    expect(['queued', 'running']).toContain(created.state);

    const tracked = await collectOutput(owner.trpc, created.id).done;
    const events = tracked.map((item) => item.event);
    // Each message's tracked id is the seq of its last event, so a client that reconnects
    // resumes right after what it has.
    for (const item of tracked) {
      const lastOfMessage = tracked.filter((other) => other.message === item.message).at(-1);
      expect(item.id).toBe(String(lastOfMessage?.event.seq));
    }
    expect(seqsOf(events)).toEqual(oneToN(events.length));

    expect(events[0]).toMatchObject({ type: 'state', state: 'queued' });
    const states = events.flatMap((event) => (event.type === 'state' ? [event.state] : []));
    expect(states).toEqual(['queued', 'running', 'completed']);
    const output = events.filter((event) => event.type === 'output');
    expect(output.map((event) => [event.stream, event.text, event.partial])).toEqual([
      ['stdout', 'line 0', false],
      ['stdout', 'line 1', false],
      ['stdout', 'line 2', false],
      ['stdout', 'line 3', false],
      ['stdout', 'line 4', false],
    ]);
    // Output comes between running and completed.
    const running = events.findIndex(
      (event) => event.type === 'state' && event.state === 'running',
    );
    const completed = events.findIndex(
      (event) => event.type === 'state' && event.state === 'completed',
    );
    expect(events.indexOf(output[0] as RunEvent)).toBeGreaterThan(running);
    expect(events.indexOf(output[4] as RunEvent)).toBeLessThan(completed);
    expect(completed).toBe(events.length - 2);

    const end = endOf(events);
    expect(end.result).toMatchObject({
      state: 'completed',
      exitCode: 0,
      signal: null,
      error: null,
      outputLines: 5,
      outputBytes: { stdout: 35, stderr: 0 },
    });

    const stored = await storedEnd(owner.trpc, created.id);
    expect(stored).toMatchObject({
      id: created.id,
      kind: 'snippet',
      language: 'python',
      code: FIVE_LINES,
      state: 'completed',
      exitCode: 0,
      signal: null,
      error: null,
      outputLines: 5,
      queuedAt: end.result.queuedAt,
      startedAt: end.result.startedAt,
      finishedAt: end.result.finishedAt,
      durationMs: end.result.durationMs,
      position: null,
      estimatedWaitMs: null,
    });
    expect(stored.usage).toEqual(end.result.usage);
    // An owner does not see the owner field of its own runs (only the admin does).
    expect(stored).not.toHaveProperty('owner');

    const list = await owner.trpc.runs.list.query({});
    const listed = list.runs.find((run) => run.id === created.id);
    expect(listed).toEqual(stored);
    const completedOnly = await owner.trpc.runs.list.query({ states: ['completed'] });
    expect(completedOnly.runs.map((run) => run.id)).toContain(created.id);
    const failedOnly = await owner.trpc.runs.list.query({ states: ['failed'] });
    expect(failedOnly.runs.map((run) => run.id)).not.toContain(created.id);
  });

  it('runs.get and runs.artifacts agree with the end event as soon as it arrives', async () => {
    // A client that refetches the run when its stream ends must not read it as still running.
    const created = await owner.trpc.runs.create.mutate({
      kind: 'snippet',
      language: 'python',
      code: 'open("made.txt", "w").write("x")\nprint("done")\n',
    });
    const events = await fullOutput(owner.trpc, created.id);
    expect(endOf(events).result.state).toBe('completed');
    const [run, artifacts] = await Promise.all([
      owner.trpc.runs.get.query({ id: created.id }),
      owner.trpc.runs.artifacts.query({ id: created.id }),
    ]);
    expect({ state: run.state, artifacts: artifacts.map((a) => a.path) }).toEqual({
      state: 'completed',
      artifacts: ['made.txt'],
    });
  });

  it('ends a failing run as failed with its exit code and stderr', async () => {
    const created = await owner.trpc.runs.create.mutate({
      kind: 'snippet',
      language: 'bash',
      code: 'echo out\necho err >&2\nexit 3\n',
    });
    const events = await fullOutput(owner.trpc, created.id);
    expect(seqsOf(events)).toEqual(oneToN(events.length));
    const output = events.flatMap((event) =>
      event.type === 'output' ? [`${event.stream}:${event.text}`] : [],
    );
    expect(output.sort()).toEqual(['stderr:err', 'stdout:out']);
    expect(endOf(events).result).toMatchObject({ state: 'failed', exitCode: 3 });
    expect(await storedEnd(owner.trpc, created.id)).toMatchObject({
      state: 'failed',
      exitCode: 3,
    });
  });

  it('onStatus reports the state and ends with the result', async () => {
    const created = await owner.trpc.runs.create.mutate({
      kind: 'snippet',
      language: 'bash',
      code: 'echo hi\n',
    });
    const statuses: { state: string; result: { state: string } | null }[] = [];
    await new Promise<void>((resolve, reject) => {
      const subscription = owner.trpc.runs.onStatus.subscribe(
        { id: created.id },
        {
          onData(status) {
            statuses.push(status);
            if (status.result) {
              subscription.unsubscribe();
              resolve();
            }
          },
          onError: reject,
        },
      );
    });
    const last = statuses.at(-1);
    expect(last?.state).toBe('completed');
    expect(last?.result?.state).toBe('completed');
  });
});

describe('cancel', () => {
  it('a cancel right after create stops the program, whenever it lands', async () => {
    // The cancel lands while the run is being started (workspace, sandbox set-up) or just after.
    // Wherever it lands, the program must not run on to its end.
    const escaped: string[] = [];
    for (let attempt = 0; attempt < 12; attempt++) {
      const run = await owner.trpc.runs.create.mutate({
        kind: 'snippet',
        language: 'bash',
        code: 'echo started\nsleep 2\necho escaped\n',
      });
      await new Promise((resolve) => setTimeout(resolve, attempt));
      await owner.trpc.runs.cancel.mutate({ id: run.id });
      const events = await fullOutput(owner.trpc, run.id);
      const end = endOf(events);
      expect(end.result.state).toBe('cancelled');
      if (outputLines(events).includes('escaped'))
        escaped.push(
          `attempt ${attempt}: the program ran to its end (${end.result.durationMs} ms)`,
        );
    }
    expect(escaped).toEqual([]);
  });
});

describe('a late subscriber', () => {
  it('gets the whole backlog after the run ended, ending with end, and the same again', async () => {
    const created = await owner.trpc.runs.create.mutate({
      kind: 'snippet',
      language: 'python',
      code: FIVE_LINES,
    });
    await storedEnd(owner.trpc, created.id);

    const late = await fullOutput(owner.trpc, created.id);
    expect(seqsOf(late)).toEqual(oneToN(late.length));
    expect(outputLines(late)).toEqual(['line 0', 'line 1', 'line 2', 'line 3', 'line 4']);
    expect(endOf(late).result.state).toBe('completed');

    // A second late subscriber, on another socket, gets exactly the same events.
    const other = makeClient(server.url, { cookie: owner.cookie });
    try {
      expect(await fullOutput(other.trpc, created.id)).toEqual(late);
    } finally {
      await other.close();
    }

    // Resuming after seq k gives exactly the events after k.
    const k = 3;
    const rest = (await collectOutput(owner.trpc, created.id, { lastEventId: String(k) }).done).map(
      (item) => item.event,
    );
    expect(rest).toEqual(late.slice(k));
  });

  it('onStatus of an ended run never shows it going back to queued or running', async () => {
    const created = await owner.trpc.runs.create.mutate({
      kind: 'snippet',
      language: 'bash',
      code: 'echo done\n',
    });
    await storedEnd(owner.trpc, created.id);
    // onStatus of the ended run says completed from its first value to its last: a status
    // widget must not show an ended run going back to queued and running.
    const statuses: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const subscription = owner.trpc.runs.onStatus.subscribe(
        { id: created.id },
        {
          onData(status) {
            statuses.push(status.state);
            if (status.result) {
              subscription.unsubscribe();
              resolve();
            }
          },
          onError: reject,
        },
      );
    });
    expect(statuses.length).toBeGreaterThan(0);
    expect(new Set(statuses)).toEqual(new Set(['completed']));
  });
});

describe('batches on the wire', () => {
  // 30,000 short lines: far more events than one message may carry.
  const MANY_LINES = 'seq 1 30000\n';

  function expectWholeNumbers(events: readonly RunEvent[]): void {
    expect(seqsOf(events)).toEqual(oneToN(events.length));
    expect(outputLines(events)).toEqual(Array.from({ length: 30_000 }, (_, i) => String(i + 1)));
  }

  it('a late subscriber gets a long log in few messages, each within the batch limits', async () => {
    const created = await owner.trpc.runs.create.mutate({
      kind: 'snippet',
      language: 'bash',
      code: MANY_LINES,
    });
    await storedEnd(owner.trpc, created.id);
    const items = await collectOutput(owner.trpc, created.id, { timeoutMs: 60_000 }).done;
    const events = items.map((item) => item.event);
    expectWholeNumbers(events);
    const messages = new Set(items.map((item) => item.message)).size;
    // At most 1000 events a message, so at least 31 messages; one per line would be 30,000+.
    expect(messages).toBeGreaterThanOrEqual(Math.ceil(events.length / 1_000));
    expect(messages).toBeLessThan(events.length / 100);
  });

  it('a live subscriber gets every event once, in order, whatever the batching', async () => {
    const created = await owner.trpc.runs.create.mutate({
      kind: 'snippet',
      language: 'bash',
      code: MANY_LINES,
    });
    const items = await collectOutput(owner.trpc, created.id, { timeoutMs: 60_000 }).done;
    expectWholeNumbers(items.map((item) => item.event));
    // Resuming from the id of any message gives exactly the events after that message.
    const middle = items[Math.floor(items.length / 2)]!;
    const rest = await collectOutput(owner.trpc, created.id, {
      lastEventId: middle.id,
      timeoutMs: 60_000,
    }).done;
    expect(rest[0]?.event.seq).toBe(Number(middle.id) + 1);
    expect(rest.at(-1)?.event.type).toBe('end');
  });
});
