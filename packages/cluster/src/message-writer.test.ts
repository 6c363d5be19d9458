import type { RunEventInput } from '@runbox/executor';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRedis, type TestRedis } from '../test/support/redis-server.ts';
import { createMessageWriter, type MessageWriter } from './message-writer.ts';
import { connectRedis } from './redis-connection.ts';
import { decodeMessage, type RunMessage } from './run-messages.ts';

let server: TestRedis;
let redis: Redis;
let streams = 0;

beforeAll(async () => {
  server = await startTestRedis();
  redis = connectRedis(server.url, 'message-writer-test');
});

afterAll(async () => {
  await redis.quit();
  await server.stop();
});

/** A writer on a stream of its own, and the errors it reported. */
function writerOn(maxLength = 10_000): {
  writer: MessageWriter;
  stream: string;
  errors: unknown[];
} {
  const stream = `test:messages:${++streams}`;
  const errors: unknown[] = [];
  const writer = createMessageWriter(redis, {
    stream,
    worker: 'w1',
    maxLength,
    onError: (error) => errors.push(error),
  });
  return { writer, stream, errors };
}

/** Every message in the stream, in order, read back as the API reads it. */
async function messagesIn(stream: string): Promise<RunMessage[]> {
  const entries = await redis.xrange(stream, '-', '+');
  return entries.map(([id, fields]) => {
    expect(fields[0]).toBe('m');
    const message = decodeMessage(fields[1] ?? '');
    if (!message) throw new Error(`entry ${id} is no runbox message`);
    return message;
  });
}

function line(text: string): RunEventInput {
  return { type: 'output', stream: 'stdout', text, partial: false, continuation: false };
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('createMessageWriter', () => {
  it('joins the events of one run in one turn into one events message', async () => {
    const { writer, stream, errors } = writerOn();
    writer.event('run-a', line('one\n'));
    writer.event('run-a', line('two\n'));
    writer.event('run-a', { type: 'usage', cpuMs: 5, memoryBytes: 1024 });
    await writer.flush();
    expect(await messagesIn(stream)).toEqual([
      {
        kind: 'events',
        runId: 'run-a',
        worker: 'w1',
        events: [line('one\n'), line('two\n'), { type: 'usage', cpuMs: 5, memoryBytes: 1024 }],
      },
    ]);
    expect(errors).toEqual([]);
  });

  it('writes events of later turns as later messages', async () => {
    const { writer, stream } = writerOn();
    writer.event('run-a', line('one\n'));
    await nextTurn();
    writer.event('run-a', line('two\n'));
    await writer.flush();
    const messages = await messagesIn(stream);
    expect(messages.map((message) => message.kind === 'events' && message.events)).toEqual([
      [line('one\n')],
      [line('two\n')],
    ]);
  });

  it('keeps the order of the messages of several runs, within a turn and across turns', async () => {
    const { writer, stream, errors } = writerOn();
    const written: string[] = [];
    for (let turn = 0; turn < 20; turn++) {
      for (const runId of ['run-a', 'run-b', 'run-c']) {
        if (turn === 0) writer.send({ kind: 'started', runId, worker: 'w1' });
        const text = `${runId} ${turn}\n`;
        writer.event(runId, line(text));
        written.push(text);
      }
      if (turn % 3 === 0) await nextTurn();
    }
    writer.send({ kind: 'rejected', runId: 'run-d', worker: 'w1', reason: 'not a valid run' });
    await writer.flush();

    const messages = await messagesIn(stream);
    const read = messages.flatMap((message) =>
      message.kind === 'events'
        ? message.events.flatMap((event) => (event.type === 'output' ? [event.text] : []))
        : [],
    );
    expect(read).toEqual(written);
    // A run's started comes before its events; the rejection, sent last, comes last.
    for (const runId of ['run-a', 'run-b', 'run-c']) {
      const started = messages.findIndex((m) => m.kind === 'started' && m.runId === runId);
      const firstEvents = messages.findIndex((m) => m.kind === 'events' && m.runId === runId);
      expect(started).toBeGreaterThanOrEqual(0);
      expect(started).toBeLessThan(firstEvents);
    }
    expect(messages.at(-1)).toEqual({
      kind: 'rejected',
      runId: 'run-d',
      worker: 'w1',
      reason: 'not a valid run',
    });
    // Events of different runs are never joined into one message.
    for (const message of messages)
      if (message.kind === 'events')
        for (const event of message.events)
          if (event.type === 'output') expect(event.text.startsWith(message.runId)).toBe(true);
    expect(errors).toEqual([]);
  });

  it('resolves flush() only when the messages are in the stream', async () => {
    const { writer, stream } = writerOn();
    writer.send({ kind: 'started', runId: 'run-a', worker: 'w1' });
    for (let i = 0; i < 50; i++) writer.event('run-a', line(`${i}\n`));
    expect(await redis.xlen(stream)).toBe(0);
    await writer.flush();
    const entries = await redis.xrange(stream, '-', '+');
    expect(entries).toHaveLength(2);
    const messages = await messagesIn(stream);
    expect(messages[1]?.kind === 'events' && messages[1].events).toHaveLength(50);
  });

  it('resolves flush() with nothing queued', async () => {
    const { writer, stream } = writerOn();
    await writer.flush();
    expect(await redis.xlen(stream)).toBe(0);
  });

  it('counts queued events in backlog(), and none after flush()', async () => {
    const { writer } = writerOn();
    expect(writer.backlog()).toBe(0);
    writer.event('run-a', line('one\n'));
    writer.event('run-a', line('two\n'));
    writer.event('run-b', line('three\n'));
    writer.send({ kind: 'started', runId: 'run-c', worker: 'w1' });
    writer.send({
      kind: 'events',
      runId: 'run-c',
      worker: 'w1',
      events: [line('4\n'), line('5\n')],
    });
    expect(writer.backlog()).toBe(6);
    // Being written still counts: it is not in the stream yet.
    await nextTurn();
    expect(writer.backlog()).toBeGreaterThan(0);
    await writer.flush();
    expect(writer.backlog()).toBe(0);
  });

  it('reports a failed write to onError, and its events leave the backlog', async () => {
    const { writer, stream, errors } = writerOn();
    // XADD to a key of another type fails with WRONGTYPE.
    await redis.set(stream, 'not a stream');
    writer.event('run-a', line('lost\n'));
    await writer.flush();
    expect(errors).toHaveLength(1);
    expect(String(errors[0])).toMatch(/WRONGTYPE/);
    expect(writer.backlog()).toBe(0);
    // The writer goes on with what comes next.
    await redis.del(stream);
    writer.event('run-a', line('kept\n'));
    await writer.flush();
    expect(await messagesIn(stream)).toHaveLength(1);
    expect(errors).toHaveLength(1);
  });

  it('keeps the stream near its cap', async () => {
    const { writer, stream } = writerOn(10);
    for (let i = 0; i < 1_000; i++) {
      writer.send({ kind: 'started', runId: `run-${i}`, worker: 'w1' });
      if (i % 100 === 99) await nextTurn();
    }
    await writer.flush();
    // `MAXLEN ~` trims whole nodes of the stream (100 entries each by default): near, not exact.
    expect(await redis.xlen(stream)).toBeLessThan(300);
    const last = await redis.xrevrange(stream, '+', '-', 'COUNT', 1);
    expect(decodeMessage(last[0]?.[1][1] ?? '')).toMatchObject({ runId: 'run-999' });
  });
});
