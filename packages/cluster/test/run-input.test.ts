import { PassThrough, Writable } from 'node:stream';
import type { ProgramControl, ProgramSignal } from '@runbox/executor';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { receiveRunInput, sendRunInput } from '../src/run-input.ts';
import { startTestRedis, type TestRedis } from './support/redis-server.ts';

/**
 * An interactive run's input between the API and a worker, through a real Redis: everything
 * arrives in order; a program that does not read holds the input back in Redis and then in the
 * API's own stdin (which refuses past 1 MiB), not in the worker's memory; a signal still gets
 * through while input waits.
 */

let server: TestRedis;
let api: Redis;
let worker: Redis;

beforeAll(async () => {
  server = await startTestRedis();
  api = new Redis(server.url);
  worker = new Redis(server.url);
});
afterAll(async () => {
  api?.disconnect();
  worker?.disconnect();
  await server?.stop();
});

describe('run input across processes', () => {
  it('delivers stdin and its end in order', async () => {
    const key = 'runbox:run-input:ordered';
    const stdin = new PassThrough();
    const sender = sendRunInput(api, key, stdin);
    const receiver = receiveRunInput(worker, key);
    for (const line of ['one\n', 'two\n', 'three\n']) stdin.write(line);
    stdin.end();
    let got = '';
    for await (const chunk of receiver.stdin) got += String(chunk);
    expect(got).toBe('one\ntwo\nthree\n');
    await sender.stop();
    await receiver.stop();
    expect(await api.exists(key, `${key}:control`)).toBe(0);
  });

  it('holds what a program does not read in Redis and the API, and lets a signal through', async () => {
    const key = 'runbox:run-input:stuck';
    const apiStdin = new PassThrough({ highWaterMark: 1024 * 1024 });
    const sender = sendRunInput(api, key, apiStdin);
    const receiver = receiveRunInput(worker, key);
    const signals: ProgramSignal[] = [];
    const program: ProgramControl = {
      signal: (name) => {
        signals.push(name);
        return Promise.resolve(true);
      },
      control: () => true,
    };
    receiver.onProgram(program);
    // A program that never reads: a sink that never finishes a write.
    receiver.stdin.pipe(new Writable({ highWaterMark: 64 * 1024, write() {} }));
    const chunk = Buffer.alloc(64 * 1024, 120);
    let sent = 0;
    const deadline = Date.now() + 4_000;
    while (Date.now() < deadline) {
      // As Executor.sendInput: nothing more while 1 MiB waits unread in the API's stdin.
      if (apiStdin.writableLength + apiStdin.readableLength >= 1024 * 1024) {
        await new Promise((resolve) => setTimeout(resolve, 5));
        continue;
      }
      apiStdin.write(chunk);
      sent += chunk.length;
    }
    const heldByWorker = receiver.stdin.writableLength + receiver.stdin.readableLength;
    expect(heldByWorker).toBeLessThanOrEqual(1024 * 1024);
    // What the client could send stopped: about 64 entries in Redis and 1 MiB in the API.
    expect(sent).toBeLessThan(16 * 1024 * 1024);
    await sender.program().signal('SIGINT');
    for (let waited = 0; signals.length === 0 && waited < 3_000; waited += 20)
      await new Promise((resolve) => setTimeout(resolve, 20));
    expect(signals).toEqual(['SIGINT']);
    await sender.stop();
    await receiver.stop();
  }, 30_000);
});
