/**
 * Tells a session's cells apart in the kernel's stdout and stderr, which stay open from cell to
 * cell. When a cell ends, the kernel writes the cell's fence (`\0<fence>\0`, a string the host
 * drew for that cell) on each stream, after everything the cell printed: bytes before it are the
 * cell's, bytes after it come from something still running (a thread, a timer) and belong to no
 * cell until the next one starts. A fence split between two reads is found all the same: the
 * bytes that could be its beginning are held back until the next read says.
 */
export interface FenceSplitter {
  /** Starts looking for this fence (the running cell's). */
  arm(fence: Buffer): void;
  /** True while armed and the fence has not come. */
  armed(): boolean;
  /**
   * `cell`: bytes of the armed cell; `rest`: bytes after its fence, or everything while unarmed;
   * `found`: the fence came in this chunk.
   */
  push(chunk: Buffer): { cell: Buffer; rest: Buffer; found: boolean };
  /** Gives up on the fence (the kernel ended): the held bytes are the cell's. */
  disarm(): Buffer;
}

const EMPTY = Buffer.alloc(0);

/** How many bytes at the end of `data` are the start of `fence` (fewer than all of it). */
function partialFenceAtEnd(data: Buffer, fence: Buffer): number {
  const from = Math.max(0, data.length - fence.length + 1);
  for (let start = from; start < data.length; start++) {
    if (data[start] !== fence[0]) continue;
    const tail = data.subarray(start);
    if (fence.subarray(0, tail.length).equals(tail)) return tail.length;
  }
  return 0;
}

export function createFenceSplitter(): FenceSplitter {
  let fence: Buffer | null = null;
  let held: Buffer = EMPTY;
  return {
    arm(next) {
      fence = Buffer.concat([Buffer.from([0]), next, Buffer.from([0])]);
      held = EMPTY;
    },
    armed: () => fence !== null,
    push(chunk) {
      if (!fence) return { cell: EMPTY, rest: chunk, found: false };
      const data = held.length > 0 ? Buffer.concat([held, chunk]) : chunk;
      held = EMPTY;
      const at = data.indexOf(fence);
      if (at >= 0) {
        const rest = data.subarray(at + fence.length);
        fence = null;
        return { cell: data.subarray(0, at), rest, found: true };
      }
      const keep = partialFenceAtEnd(data, fence);
      held = keep > 0 ? Buffer.from(data.subarray(data.length - keep)) : EMPTY;
      return { cell: data.subarray(0, data.length - keep), rest: EMPTY, found: false };
    },
    disarm() {
      const kept = held;
      fence = null;
      held = EMPTY;
      return kept;
    },
  };
}
