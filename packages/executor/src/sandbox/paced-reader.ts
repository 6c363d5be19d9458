import type { Readable } from 'node:stream';

/** At most this much of a program's output is handled per turn of the event loop. */
export const DEFAULT_SLICE_BYTES = 8 * 1024;

export interface PacedReader {
  /**
   * Settles once the stream has ended (or closed, or failed) and every byte it gave has been
   * handed on. The stream's own 'end' can come earlier: it does not wait for slices still queued.
   */
  done: Promise<void>;
  /** Drops what is still queued and hands nothing on from now; `done` settles. */
  stop(): void;
}

/**
 * Hands a stream's bytes to `onSlice` in slices of at most `sliceBytes`, one slice per turn of
 * the event loop, the stream paused meanwhile.
 *
 * Why: libuv reads a busy pipe up to 32 × 64 KiB in one go, and each byte of output costs the
 * server line splitting, redaction, a stored event and a WebSocket send. Handled at once, a
 * program printing as fast as it can held the event loop for 0.4 s at a time (every other run's
 * output, the timers and the HTTP requests waited). One slice per turn keeps each wait short;
 * the program blocks on its full pipe meanwhile, which is the backpressure it should feel.
 * Slices are cut at byte boundaries; the line splitter downstream joins them.
 */
export function readPaced(
  stream: Readable,
  onSlice: (slice: Buffer) => void,
  sliceBytes: number = DEFAULT_SLICE_BYTES,
  /**
   * Asked after each slice: a promise holds the next slice back until it settles (whoever takes
   * the output downstream is behind; the program blocks on its full pipe meanwhile). A stop ends
   * the wait.
   */
  gate?: () => Promise<void> | null,
): PacedReader {
  const queue: Buffer[] = [];
  let scheduled = false;
  let ended = false;
  let settle!: () => void;
  const done = new Promise<void>((resolve) => {
    settle = resolve;
  });

  const settleIfDone = (): void => {
    if (ended && queue.length === 0 && !scheduled) settle();
  };

  let stopped = false;
  let release = (): void => {};
  const stoppedNow = new Promise<void>((resolve) => {
    release = resolve;
  });

  const deliverOne = (): void => {
    if (stopped) return;
    const chunk = queue.shift();
    if (chunk === undefined) return;
    if (chunk.length > sliceBytes) {
      queue.unshift(chunk.subarray(sliceBytes));
      onSlice(chunk.subarray(0, sliceBytes));
    } else {
      onSlice(chunk);
    }
  };

  /** Delivers one slice; schedules the next, or lets the stream flow again when none is left. */
  const step = (): void => {
    deliverOne();
    const hold = stopped ? null : (gate?.() ?? null);
    if (hold) {
      scheduled = true;
      void Promise.race([hold.catch(() => {}), stoppedNow]).then(() => {
        scheduled = false;
        next();
      });
      return;
    }
    next();
  };

  const next = (): void => {
    if (queue.length > 0) {
      scheduled = true;
      setImmediate(() => {
        scheduled = false;
        step();
      });
    } else {
      if (!stream.destroyed) stream.resume();
      settleIfDone();
    }
  };

  stream.on('data', (chunk: Buffer) => {
    if (stopped) return;
    queue.push(chunk);
    stream.pause();
    // The first slice at once (a short write reaches its reader without a turn's delay), the
    // rest on later turns.
    if (!scheduled) step();
  });
  const onEnd = (): void => {
    ended = true;
    settleIfDone();
  };
  stream.once('end', onEnd);
  stream.once('close', onEnd);
  stream.once('error', onEnd);
  return {
    done,
    stop() {
      stopped = true;
      release();
      queue.length = 0;
      ended = true;
      settleIfDone();
    },
  };
}
