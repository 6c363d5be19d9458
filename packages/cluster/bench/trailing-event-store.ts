import type { ExecutorHooks, RunEvent } from '@runbox/executor';

/**
 * What the API's store is to the engine, for one subscriber per run: `onEvent` keeps each event
 * until the subscriber says it has it (`taken`), and `readEvents` gives back those it fell too far
 * behind for the engine's in-memory log. The API writes every event to SQLite on disk; this keeps
 * only the subscriber's lag, serialized into buffers outside the JavaScript heap, so that the
 * process's heap is what the API itself holds and the store's part is counted apart (`bytes`, and
 * `arrayBuffers` in process.memoryUsage()).
 */
export interface TrailingEventStore {
  hooks: Required<Pick<ExecutorHooks, 'onEvent' | 'readEvents'>>;
  /** The subscriber has every event of `runId` up to `seq`: they may go. */
  taken(runId: string, seq: number): void;
  /** The most events and bytes held at any time (how far behind the subscriber fell). */
  peak: { events: number; bytes: number };
  /** readEvents calls and the events they returned. */
  reads: { calls: number; events: number };
}

/** Events of consecutive seqs, encoded one after another in `bytes`; `ends[i]` ends event i. */
interface Chunk {
  firstSeq: number;
  count: number;
  bytes: Buffer;
  used: number;
  ends: Uint32Array;
}

const CHUNK_EVENTS = 4_096;
const CHUNK_BYTES = 1024 * 1024;

interface Kept {
  chunks: Chunk[];
  /** The subscriber has every event up to this seq. */
  takenSeq: number;
  lastSeq: number;
}

export function trailingEventStore(): TrailingEventStore {
  const runs = new Map<string, Kept>();
  const reads = { calls: 0, events: 0 };
  const peak = { events: 0, bytes: 0 };
  let heldBytes = 0;

  function heldEvents(): number {
    let sum = 0;
    for (const kept of runs.values()) sum += kept.lastSeq - kept.takenSeq;
    return sum;
  }

  function newChunk(firstSeq: number, size: number): Chunk {
    heldBytes += size;
    return {
      firstSeq,
      count: 0,
      bytes: Buffer.allocUnsafe(size),
      used: 0,
      ends: new Uint32Array(CHUNK_EVENTS),
    };
  }

  function eventAt(chunk: Chunk, index: number): RunEvent {
    const start = index === 0 ? 0 : (chunk.ends[index - 1] ?? 0);
    const end = chunk.ends[index] ?? 0;
    return decode(chunk.bytes, start, end, chunk.firstSeq + index);
  }

  return {
    hooks: {
      onEvent(run, event) {
        let kept = runs.get(run.id);
        if (!kept) runs.set(run.id, (kept = { chunks: [], takenSeq: event.seq - 1, lastSeq: 0 }));
        const length = encodedLength(event);
        let chunk = kept.chunks.at(-1);
        if (!chunk || chunk.count === CHUNK_EVENTS || chunk.used + length > chunk.bytes.length) {
          chunk = newChunk(event.seq, Math.max(CHUNK_BYTES, length));
          kept.chunks.push(chunk);
        }
        chunk.used = encode(event, chunk.bytes, chunk.used);
        chunk.ends[chunk.count++] = chunk.used;
        kept.lastSeq = event.seq;
        peak.events = Math.max(peak.events, heldEvents());
        peak.bytes = Math.max(peak.bytes, heldBytes);
      },
      async readEvents(runId, afterSeq, limit) {
        reads.calls++;
        const kept = runs.get(runId);
        const page: RunEvent[] = [];
        if (!kept) return page;
        if (afterSeq < kept.takenSeq)
          throw new Error(`run ${runId}: seq ${afterSeq + 1} was asked for after it was taken`);
        for (const chunk of kept.chunks) {
          for (let index = afterSeq + 1 - chunk.firstSeq; index < chunk.count; index++) {
            if (page.length === limit) break;
            if (index >= 0) page.push(eventAt(chunk, index));
          }
          if (page.length === limit) break;
          afterSeq = Math.max(afterSeq, chunk.firstSeq + chunk.count - 1);
        }
        reads.events += page.length;
        return page;
      },
    },
    taken(runId, seq) {
      const kept = runs.get(runId);
      if (!kept) return;
      kept.takenSeq = Math.max(kept.takenSeq, seq);
      // A chunk goes once every event in it was taken.
      while (kept.chunks.length > 0) {
        const first = kept.chunks[0];
        if (
          !first ||
          first.firstSeq + first.count - 1 > kept.takenSeq ||
          first === kept.chunks.at(-1)
        )
          break;
        kept.chunks.shift();
        heldBytes -= first.bytes.length;
      }
    },
    peak,
    reads,
  };
}

// The encoding: output events (nearly all of them) as a flags byte, `at` and the text, since
// JSON.stringify and JSON.parse of every event cost more than the engine's own work per line and
// would slow both modes down; every other event as a 0 byte and its JSON. The seq is the position.
const OUTPUT = 1;
const STDERR = 2;
const PARTIAL = 4;
const CONTINUATION = 8;
const HEADER = 9;

function encodedLength(event: RunEvent): number {
  return event.type === 'output'
    ? HEADER + Buffer.byteLength(event.text)
    : 1 + Buffer.byteLength(JSON.stringify(event));
}

/** Writes `event` at `offset`; returns where it ends. */
function encode(event: RunEvent, bytes: Buffer, offset: number): number {
  if (event.type !== 'output') {
    bytes[offset] = 0;
    return offset + 1 + bytes.write(JSON.stringify(event), offset + 1);
  }
  bytes[offset] =
    OUTPUT |
    (event.stream === 'stderr' ? STDERR : 0) |
    (event.partial ? PARTIAL : 0) |
    (event.continuation ? CONTINUATION : 0);
  bytes.writeDoubleLE(event.at, offset + 1);
  return offset + HEADER + bytes.write(event.text, offset + HEADER);
}

function decode(bytes: Buffer, start: number, end: number, seq: number): RunEvent {
  const flags = bytes[start] ?? 0;
  if ((flags & OUTPUT) === 0) return JSON.parse(bytes.toString('utf8', start + 1, end)) as RunEvent;
  return {
    seq,
    at: bytes.readDoubleLE(start + 1),
    type: 'output',
    stream: flags & STDERR ? 'stderr' : 'stdout',
    text: bytes.toString('utf8', start + HEADER, end),
    partial: (flags & PARTIAL) !== 0,
    continuation: (flags & CONTINUATION) !== 0,
  };
}
