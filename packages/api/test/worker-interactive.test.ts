import type { RunEvent } from '@runbox/executor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeClient, newOwnerCookie, type TestClient } from './support/clients.ts';
import { startApiWithWorkers, type ApiWithWorkers } from './support/api-with-workers.ts';
import { storedEnd } from './support/runs.ts';
import { fullOutput, outputLines, watch } from './support/subscriptions.ts';

/**
 * Interactive and terminal runs on the worker path: what the client sends to the API (stdin, its
 * end, a signal, a resize) reaches the program in a worker process through the run's Redis
 * stream, in order, also when it was sent before a worker took the run.
 */

let deployed: ApiWithWorkers;
let owner: TestClient;

beforeAll(async () => {
  deployed = await startApiWithWorkers({ label: 'interactive', workers: [{ name: 'typing' }] });
  owner = makeClient(deployed.server.url, { cookie: await newOwnerCookie(deployed.server.url) });
}, 60_000);

afterAll(async () => {
  await owner?.close();
  await deployed?.stop();
});

const shows = (text: string) => (events: readonly RunEvent[]) =>
  events.some((event) => event.type === 'output' && event.text.includes(text));

describe('interactive runs on a worker', () => {
  it('gives the program what the client sends, in order, from right after its create', async () => {
    const run = await owner.trpc.runs.create.mutate({
      kind: 'snippet',
      language: 'python',
      code: 'import sys\nfor line in sys.stdin:\n    print("got", line.strip(), flush=True)\nprint("end of input")',
      interactive: true,
    });
    await owner.trpc.runs.sendInput.mutate({ id: run.id, data: 'one\n' });
    await watch(owner.trpc, run.id, shows('got one')).done;
    await owner.trpc.runs.sendInput.mutate({ id: run.id, data: 'two\nthree\n' });
    await owner.trpc.runs.closeInput.mutate({ id: run.id });
    const ended = await storedEnd(owner.trpc, run.id);
    expect(ended.state).toBe('completed');
    expect(outputLines(await fullOutput(owner.trpc, run.id))).toEqual([
      'got one',
      'got two',
      'got three',
      'end of input',
    ]);
  });

  it('runs a terminal on the worker: its size, a resize, typed input and SIGINT', async () => {
    const run = await owner.trpc.runs.create.mutate({
      kind: 'snippet',
      language: 'python',
      code: [
        'import os, signal, time',
        'print("size", *os.get_terminal_size(1), flush=True)',
        'signal.signal(signal.SIGWINCH, lambda *_: print("now", *os.get_terminal_size(1), flush=True))',
        'print("hi", input("name? "), flush=True)',
        'try:',
        '    time.sleep(60)',
        'except KeyboardInterrupt:',
        '    print("interrupted")',
      ].join('\n'),
      tty: { cols: 70, rows: 20 },
    });
    await watch(owner.trpc, run.id, shows('name?')).done;
    expect((await owner.trpc.runs.resize.mutate({ id: run.id, cols: 90, rows: 25 })).applied).toBe(
      true,
    );
    await watch(owner.trpc, run.id, shows('now 90 25')).done;
    await owner.trpc.runs.sendInput.mutate({ id: run.id, data: 'Lin\r' });
    await watch(owner.trpc, run.id, shows('hi Lin')).done;
    expect((await owner.trpc.runs.signal.mutate({ id: run.id, signal: 'SIGINT' })).delivered).toBe(
      true,
    );
    const ended = await storedEnd(owner.trpc, run.id);
    expect(ended.state).toBe('completed');
    const text = outputLines(await fullOutput(owner.trpc, run.id)).join('\n');
    expect(text).toContain('size 70 20');
    expect(text).toContain('interrupted');
  });
});
