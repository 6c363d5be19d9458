import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestRedis, type TestRedis } from '../test/support/redis-server.ts';
import { compareStreamIds, startMessageRelay, type MessageRelay } from './message-relay.ts';
import { connectRedis } from './redis-connection.ts';
import { encodeMessage, type RunMessage } from './run-messages.ts';

let server: TestRedis;
let redis: Redis;
let streams = 0;
const relays: MessageRelay[] = [];

beforeAll(async () => {
  server = await startTestRedis();
  redis = connectRedis(server.url, 'message-relay-test');
});

afterEach(async () => {
  await Promise.all(relays.splice(0).map((relay) => relay.stop()));
});

afterAll(async () => {
  await redis.quit();
  await server.stop();
});

function started(runId: string): RunMessage {
  return { kind: 'started', runId, worker: 'w1' };
}

/** Appends messages as a worker's writer does; their stream ids, in order. */
async function append(stream: string, messages: RunMessage[]): Promise<string[]> {
  const ids: string[] = [];
  for (const message of messages) {
    const id = await redis.xadd(stream, '*', 'm', encodeMessage(message));
    if (id === null) throw new Error('XADD gave no id');
    ids.push(id);
  }
  return ids;
}

interface Heard {
  messages: { message: RunMessage; id: string }[];
  skipped: string[];
  batches: string[];
  errors: unknown[];
}

/** A relay on a connection of its own (it blocks its connection, and stop() closes it). */
function relayOn(
  stream: string,
  afterId: string,
  extra: { count?: number; onBatch?: (lastId: string) => Promise<void> } = {},
): { relay: MessageRelay; heard: Heard } {
  const heard: Heard = { messages: [], skipped: [], batches: [], errors: [] };
  const relay = startMessageRelay(connectRedis(server.url, 'relay'), {
    stream,
    afterId,
    onMessage: (message, id) => heard.messages.push({ message, id }),
    onSkipped: (id) => heard.skipped.push(id),
    onError: (error) => heard.errors.push(error),
    onBatch: async (lastId) => {
      heard.batches.push(lastId);
      await extra.onBatch?.(lastId);
    },
    ...(extra.count === undefined ? {} : { count: extra.count }),
  });
  relays.push(relay);
  return { relay, heard };
}

async function waitFor(check: () => boolean, what: string, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const newStream = (): string => `test:messages:${++streams}`;

describe('startMessageRelay', () => {
  it('hands on every message in order from the start of the stream', async () => {
    const stream = newStream();
    const sent = [started('a'), started('b'), started('c')];
    const ids = await append(stream, sent);
    const { relay, heard } = relayOn(stream, '0');
    await waitFor(() => heard.messages.length === 3, 'three messages');
    expect(heard.messages).toEqual(sent.map((message, i) => ({ message, id: ids[i] })));
    expect(relay.lastId()).toBe(ids[2]);
    expect(heard.errors).toEqual([]);
  });

  it('hands on only what comes after afterId, and what is added while it waits', async () => {
    const stream = newStream();
    const ids = await append(stream, [started('a'), started('b'), started('c')]);
    const { heard } = relayOn(stream, ids[1] ?? '');
    await waitFor(() => heard.messages.length === 1, 'the message after afterId');
    expect(heard.messages.map(({ message }) => message)).toEqual([started('c')]);
    const later = await append(stream, [started('d'), started('e')]);
    await waitFor(() => heard.messages.length === 3, 'the messages added later');
    expect(heard.messages.map(({ id }) => id)).toEqual([ids[2], ...later]);
  });

  it('starts with lastId() = afterId', () => {
    const { relay } = relayOn(newStream(), '0');
    expect(relay.lastId()).toBe('0');
  });

  it('skips an entry that is no runbox message, reporting its id, and goes on', async () => {
    const stream = newStream();
    const [first] = await append(stream, [started('a')]);
    const foreign = await redis.xadd(stream, '*', 'hello', 'world');
    const notJson = await redis.xadd(stream, '*', 'm', '{not json');
    const wrongShape = await redis.xadd(stream, '*', 'm', JSON.stringify({ kind: 'started' }));
    const [last] = await append(stream, [started('b')]);
    const { heard } = relayOn(stream, '0');
    await waitFor(() => heard.messages.length === 2, 'the two runbox messages');
    expect(heard.skipped).toEqual([foreign, notJson, wrongShape]);
    expect(heard.messages.map(({ id }) => id)).toEqual([first, last]);
  });

  it('calls onBatch with the last id of each read, and reads on only once it settled', async () => {
    const stream = newStream();
    const ids = await append(stream, ['a', 'b', 'c', 'd', 'e'].map(started));
    let release = (): void => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const { heard } = relayOn(stream, '0', {
      count: 2,
      onBatch: (lastId) => (lastId === ids[1] ? held : Promise.resolve()),
    });
    await waitFor(() => heard.batches.length === 1, 'the first batch');
    // The first onBatch has not settled: nothing more is read.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(heard.messages).toHaveLength(2);
    expect(heard.batches).toEqual([ids[1]]);
    release();
    await waitFor(() => heard.batches.length === 3, 'all batches');
    expect(heard.batches).toEqual([ids[1], ids[3], ids[4]]);
    expect(heard.messages.map(({ id }) => id)).toEqual(ids);
  });

  it('reports an onBatch that fails to onError and reads on', async () => {
    const stream = newStream();
    const ids = await append(stream, [started('a'), started('b')]);
    const { heard } = relayOn(stream, '0', {
      count: 1,
      onBatch: (lastId) =>
        lastId === ids[0] ? Promise.reject(new Error('cursor not stored')) : Promise.resolve(),
    });
    await waitFor(() => heard.messages.length === 2, 'both messages');
    expect(String(heard.errors[0])).toMatch(/cursor not stored/);
  });

  it('stops: stop() resolves, and nothing is handed on after it', async () => {
    const stream = newStream();
    await append(stream, [started('a')]);
    const { relay, heard } = relayOn(stream, '0');
    await waitFor(() => heard.messages.length === 1, 'the first message');
    // It is blocked in XREAD now; stop() must end that too.
    await relay.stop();
    await append(stream, [started('b')]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(heard.messages).toHaveLength(1);
    expect(heard.errors).toEqual([]);
  });
});

describe('compareStreamIds', () => {
  it('orders ids by time, then by sequence, as numbers', () => {
    expect(compareStreamIds('1-2', '1-10')).toBeLessThan(0);
    expect(compareStreamIds('1-10', '2-0')).toBeLessThan(0);
    expect(compareStreamIds('1-2', '2-0')).toBeLessThan(0);
    expect(compareStreamIds('2-0', '1-10')).toBeGreaterThan(0);
    expect(compareStreamIds('1-10', '1-2')).toBeGreaterThan(0);
    expect(compareStreamIds('1-10', '1-10')).toBe(0);
    expect(compareStreamIds('9-0', '10-0')).toBeLessThan(0);
  });

  it('sorts a list of ids', () => {
    expect(['2-0', '1-10', '0', '1-2', '1700000000000-0'].sort(compareStreamIds)).toEqual([
      '0',
      '1-2',
      '1-10',
      '2-0',
      '1700000000000-0',
    ]);
  });
});
