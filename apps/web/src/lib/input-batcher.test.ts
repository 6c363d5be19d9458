import { describe, expect, it } from 'vitest';
import { InputBatcher, takeChunk } from './input-batcher';

/** A send the test completes by hand, so what is in flight is known at each step. */
function manualSend() {
  const calls: { data: string; resolve: () => void; reject: (error: Error) => void }[] = [];
  const send = (data: string) =>
    new Promise<void>((resolve, reject) => calls.push({ data, resolve, reject }));
  return { calls, send };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('InputBatcher', () => {
  it('sends the first key at once and what is typed meanwhile as one batch, in order', async () => {
    const { calls, send } = manualSend();
    const errors: unknown[] = [];
    const batcher = new InputBatcher({ send, onError: (e) => errors.push(e) });
    batcher.push('A');
    expect(calls.map((c) => c.data)).toEqual(['A']);
    batcher.push('d');
    batcher.push('a');
    batcher.push('\r');
    expect(calls).toHaveLength(1);
    calls[0]!.resolve();
    await tick();
    expect(calls.map((c) => c.data)).toEqual(['A', 'da\r']);
    calls[1]!.resolve();
    await batcher.idle();
    expect(errors).toEqual([]);
  });

  it('reports a refused batch and still sends the next', async () => {
    const { calls, send } = manualSend();
    const errors: unknown[] = [];
    const batcher = new InputBatcher({ send, onError: (e) => errors.push(e) });
    batcher.push('x');
    batcher.push('y');
    calls[0]!.reject(new Error('run "r" has its input closed'));
    await tick();
    expect(errors).toEqual([new Error('run "r" has its input closed')]);
    expect(calls.map((c) => c.data)).toEqual(['x', 'y']);
    calls[1]!.resolve();
    await batcher.idle();
  });

  it('cuts a long paste into chunks the server takes', async () => {
    const sent: string[] = [];
    const batcher = new InputBatcher({
      send: async (data) => void sent.push(data),
      onError: () => {},
      maxChunk: 4,
    });
    batcher.push('abcdefghij');
    await batcher.idle();
    expect(sent).toEqual(['abcd', 'efgh', 'ij']);
  });

  it('forgets what has not gone out when cleared', async () => {
    const { calls, send } = manualSend();
    const batcher = new InputBatcher({ send, onError: () => {} });
    batcher.push('a');
    batcher.push('b');
    batcher.clear();
    calls[0]!.resolve();
    await batcher.idle();
    expect(calls.map((c) => c.data)).toEqual(['a']);
  });
});

describe('takeChunk', () => {
  it('never splits a surrogate pair', () => {
    expect(takeChunk('ab😀c', 3)).toEqual(['ab', '😀c']);
    expect(takeChunk('ab', 3)).toEqual(['ab', '']);
  });
});
