import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readPaced } from './paced-reader.ts';

/** Holds the thread for `ms`, as handling a slice of output does. */
function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

function collect(stream: PassThrough, sliceBytes: number, workMs = 0) {
  const slices: Buffer[] = [];
  const turns: number[] = [];
  let turn = 0;
  // Counts event-loop turns: a timer fires between slices only if the loop was given back.
  const ticker = setInterval(() => turn++, 0);
  const reader = readPaced(
    stream,
    (slice) => {
      slices.push(slice);
      turns.push(turn);
      busy(workMs);
    },
    sliceBytes,
  );
  const done = reader.done.finally(() => clearInterval(ticker));
  return { slices, turns, done };
}

describe('readPaced', () => {
  it('delivers every byte once, in order, in slices no larger than asked', async () => {
    const stream = new PassThrough();
    const reader = collect(stream, 1000);
    const input = Buffer.from(Array.from({ length: 50_000 }, (_, i) => i % 251));
    stream.write(input.subarray(0, 30_000));
    stream.write(input.subarray(30_000));
    stream.end();
    await reader.done;
    expect(Buffer.concat(reader.slices).equals(input)).toBe(true);
    expect(Math.max(...reader.slices.map((slice) => slice.length))).toBeLessThanOrEqual(1000);
    expect(reader.slices.length).toBe(50);
  });

  it('gives the event loop back between slices: timers run while a big chunk is handled', async () => {
    const stream = new PassThrough({ highWaterMark: 1 << 20 });
    const reader = collect(stream, 4096, 1.5);
    stream.end(Buffer.alloc(256 * 1024, 0x61));
    await reader.done;
    expect(reader.slices.length).toBe(64);
    // Handled at once, every slice would see the same turn; paced, the timer runs in between.
    expect(new Set(reader.turns).size).toBeGreaterThan(10);
  });

  it('is done only after the last slice, though the stream ended before', async () => {
    const stream = new PassThrough({ highWaterMark: 1 << 20 });
    let ended = false;
    let slicesAtEnd = -1;
    stream.once('end', () => {
      ended = true;
    });
    const reader = collect(stream, 1024);
    void reader.done.then(() => {
      slicesAtEnd = reader.slices.length;
    });
    stream.end(Buffer.alloc(32 * 1024));
    await reader.done;
    expect(ended).toBe(true);
    expect(slicesAtEnd).toBe(32);
  });

  it('delivers a short write at once, without waiting for a turn', () => {
    const stream = new PassThrough();
    const seen: string[] = [];
    readPaced(stream, (slice) => seen.push(slice.toString()), 1024);
    stream.write('hello\n');
    // PassThrough emits 'data' synchronously on write while flowing.
    expect(seen).toEqual(['hello\n']);
    stream.destroy();
  });

  it('keeps the stream paused until its slices are handled (backpressure to the writer)', async () => {
    const stream = new PassThrough({ highWaterMark: 16 });
    readPaced(stream, () => {}, 4);
    stream.write(Buffer.alloc(64));
    expect(stream.isPaused()).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(stream.isPaused()).toBe(false);
    stream.destroy();
  });

  it('is done when the stream is destroyed with nothing queued', async () => {
    const stream = new PassThrough();
    const reader = readPaced(stream, () => {});
    stream.destroy();
    await reader.done;
  });
});

describe('readPaced stop', () => {
  it('hands nothing on after stop, and is done', async () => {
    const stream = new PassThrough({ highWaterMark: 1 << 20 });
    const slices: Buffer[] = [];
    const reader = readPaced(stream, (slice) => slices.push(slice), 1024);
    stream.write(Buffer.alloc(10 * 1024));
    expect(slices.length).toBe(1);
    reader.stop();
    stream.write(Buffer.alloc(1024));
    await reader.done;
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(slices.length).toBe(1);
    stream.destroy();
  });
});

describe('readPaced gate', () => {
  it('holds the next slice back while the gate says so, then goes on with every byte', async () => {
    const stream = new PassThrough({ highWaterMark: 1 << 20 });
    const slices: Buffer[] = [];
    let open: () => void = () => {};
    let holding = true;
    const gate = (): Promise<void> | null =>
      holding
        ? new Promise<void>((resolve) => {
            open = resolve;
          })
        : null;
    const reader = readPaced(stream, (slice) => slices.push(slice), 1024, gate);
    stream.end(Buffer.alloc(8 * 1024, 1));
    await new Promise((resolve) => setTimeout(resolve, 20));
    // The first slice went; the gate held the rest.
    expect(slices.length).toBe(1);
    expect(stream.isPaused()).toBe(true);
    holding = false;
    open();
    await reader.done;
    expect(Buffer.concat(slices).length).toBe(8 * 1024);
  });

  it('a stop ends a wait the gate never releases', async () => {
    const stream = new PassThrough({ highWaterMark: 1 << 20 });
    const slices: Buffer[] = [];
    const reader = readPaced(
      stream,
      (slice) => slices.push(slice),
      1024,
      () => new Promise<void>(() => {}),
    );
    stream.write(Buffer.alloc(4 * 1024));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(slices.length).toBe(1);
    reader.stop();
    await reader.done;
    expect(slices.length).toBe(1);
    stream.destroy();
  });
});
