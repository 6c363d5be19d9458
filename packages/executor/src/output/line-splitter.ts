/**
 * Splits one output stream (stdout or stderr, one splitter each) into lines of text. The caller
 * gives every returned line a sequence number shared by both streams.
 *
 * Choices, so the UI can rely on them:
 * - A line ends at `\n`; `\r\n` is one line end, even when the two bytes come in different chunks.
 *   A lone `\r` (progress bars) stays in the text; the UI decides how to show it. NUL and other
 *   control characters stay in the text too.
 * - Bytes are decoded as UTF-8 only at line ends, cuts and flushes, never in the middle of a
 *   character, so a character split across two chunks comes out whole. Invalid bytes become U+FFFD.
 * - A line that has no newline yet is held. It is emitted with `partial: true` when the caller
 *   flushes it (`flushDue` once `msUntilFlush` says so, or `flushPartial`), when it reaches the
 *   maximum length, or when the stream ends. The flush deadline counts from the first held byte,
 *   so a slowly printed progress line still shows up every deadline.
 * - After a partial piece, the next piece of the same line carries only the new text and
 *   `continuation: true`; the UI joins it onto the previous line of that stream. Emitted lines are
 *   never rewritten, so sequence numbers and stored events stay append-only. A newline right after
 *   a partial piece gives an empty continuation with `partial: false`: the line is complete.
 * - A partial flush holds back a trailing `\r` (it may be the start of `\r\n`) and the first bytes
 *   of an unfinished character.
 * - Memory stays bounded by the maximum line length, whatever the input: 100 MB without a newline
 *   comes out as pieces of at most `maxLineBytes` bytes.
 */

export const DEFAULT_MAX_LINE_BYTES = 16 * 1024;
export const DEFAULT_PARTIAL_FLUSH_MS = 100;
const MIN_MAX_LINE_BYTES = 4;

export interface SplitLine {
  /** The line's text without its line end. */
  readonly text: string;
  /** True when no newline ended this piece: flushed at the deadline, cut at the maximum length, or
   * the stream ended without a final newline. */
  readonly partial: boolean;
  /** True when this piece continues the previous piece of the same stream, which was partial. */
  readonly continuation: boolean;
}

export interface LineSplitterOptions {
  /** Longest line, in UTF-8 bytes without the line end; longer lines are cut into pieces
   * (at a character boundary, so a piece may be up to 3 bytes shorter). Default 16 KiB, at least 4. */
  maxLineBytes?: number;
  /** How long a line without a newline is held before `flushDue` emits it. Default 100 ms. */
  partialFlushMs?: number;
  /** Monotonic clock in ms for the flush deadline. Default `performance.now`. Tests pass a fake. */
  now?: () => number;
}

export interface LineSplitterTotals {
  /** Bytes pushed in. */
  readonly bytes: number;
  /** Lines emitted, counting each partial piece and continuation. */
  readonly lines: number;
}

export interface LineSplitter {
  /** Takes the next chunk of the stream; returns the lines it completed or cut. */
  push(chunk: Uint8Array): SplitLine[];
  /** Ms until the held partial line is due for a flush; 0 when due now; null when nothing can be
   * flushed. The caller owns the timer: after each push, set one for this long and call `flushDue`. */
  msUntilFlush(): number | null;
  /** Emits the held partial line if its deadline has passed, else nothing. */
  flushDue(): SplitLine[];
  /** Emits the held partial line now, whatever the deadline. */
  flushPartial(): SplitLine[];
  /** Ends the stream: emits whatever is held (an unfinished character becomes U+FFFD). */
  end(): SplitLine[];
  totals(): LineSplitterTotals;
}

/** An option of createLineSplitter outside what it accepts. */
export class LineSplitterOptionError extends Error {
  readonly code = 'INVALID_LINE_SPLITTER_OPTION';
  readonly option: keyof LineSplitterOptions;
  readonly value: unknown;
  readonly expected: string;
  constructor(options: { option: keyof LineSplitterOptions; value: unknown; expected: string }) {
    super(
      `line splitter option ${options.option} must be ${options.expected}, got ${String(options.value)}`,
    );
    this.name = 'LineSplitterOptionError';
    this.option = options.option;
    this.value = options.value;
    this.expected = options.expected;
  }
}

/** A chunk pushed after `end()`: a bug in the caller, not in the run. */
export class LineSplitterEndedError extends Error {
  readonly code = 'LINE_SPLITTER_ENDED';
  constructor() {
    super('line splitter received a chunk after end()');
    this.name = 'LineSplitterEndedError';
  }
}

const LF = 0x0a;
const CR = 0x0d;

function isContinuationByte(byte: number): boolean {
  return (byte & 0xc0) === 0x80;
}

function sequenceLength(leadByte: number): number {
  if (leadByte >= 0xf8) return 1; // invalid lead: decodes to U+FFFD on its own
  if (leadByte >= 0xf0) return 4;
  if (leadByte >= 0xe0) return 3;
  if (leadByte >= 0xc0) return 2;
  return 1;
}

export function createLineSplitter(options: LineSplitterOptions = {}): LineSplitter {
  const maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const partialFlushMs = options.partialFlushMs ?? DEFAULT_PARTIAL_FLUSH_MS;
  if (!Number.isSafeInteger(maxLineBytes) || maxLineBytes < MIN_MAX_LINE_BYTES) {
    throw new LineSplitterOptionError({
      option: 'maxLineBytes',
      value: maxLineBytes,
      expected: `an integer >= ${MIN_MAX_LINE_BYTES}`,
    });
  }
  if (!Number.isFinite(partialFlushMs) || partialFlushMs < 0) {
    throw new LineSplitterOptionError({
      option: 'partialFlushMs',
      value: partialFlushMs,
      expected: 'a finite number >= 0',
    });
  }
  const now = options.now ?? (() => performance.now());
  // Each decode gets whole characters only, so the decoder never needs stream state.
  const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  // One full line, a held \r after it, and a few bytes of slack so every append makes progress.
  const pending = new Uint8Array(maxLineBytes + 4);
  let pendingLength = 0;
  let heldSince: number | null = null;
  let continuing = false;
  let ended = false;
  let bytes = 0;
  let lines = 0;

  function emit(out: SplitLine[], text: string, partial: boolean): void {
    out.push({ text, partial, continuation: continuing });
    lines += 1;
    continuing = partial;
  }

  /** Emits the first `length` pending bytes as a partial piece and keeps the rest. */
  function emitPiece(out: SplitLine[], length: number): void {
    emit(out, decoder.decode(pending.subarray(0, length)), true);
    pending.copyWithin(0, length, pendingLength);
    pendingLength -= length;
    heldSince = pendingLength > 0 ? now() : null;
  }

  function emitCompleteLine(out: SplitLine[]): void {
    let length = pendingLength;
    if (length > 0 && pending[length - 1] === CR) length -= 1;
    emit(out, decoder.decode(pending.subarray(0, length)), false);
    pendingLength = 0;
    heldSince = null;
  }

  /** The longest prefix of the first `limit` pending bytes that ends on a character boundary. */
  function wholeCharacters(limit: number): number {
    for (let index = limit - 1; index >= 0 && index >= limit - 4; index -= 1) {
      const byte = pending[index] ?? 0;
      if (isContinuationByte(byte)) continue;
      return index + sequenceLength(byte) > limit ? index : limit;
    }
    return limit; // only continuation bytes: invalid, nothing to wait for
  }

  function cutOverlongLine(out: SplitLine[]): void {
    while (pendingLength > maxLineBytes) {
      // A line of exactly the maximum length may be followed by the \r of its \r\n.
      if (pendingLength === maxLineBytes + 1 && pending[maxLineBytes] === CR) return;
      emitPiece(out, wholeCharacters(maxLineBytes) || maxLineBytes);
    }
  }

  function append(chunk: Uint8Array, from: number, to: number, out: SplitLine[]): void {
    let position = from;
    while (position < to) {
      const take = Math.min(pending.length - pendingLength, to - position);
      if (pendingLength === 0) heldSince = now();
      pending.set(chunk.subarray(position, position + take), pendingLength);
      pendingLength += take;
      position += take;
      cutOverlongLine(out);
    }
  }

  function flushableLength(): number {
    let limit = pendingLength;
    if (limit > 0 && pending[limit - 1] === CR) limit -= 1;
    return wholeCharacters(limit);
  }

  function msUntilFlush(): number | null {
    if (heldSince === null || flushableLength() === 0) return null;
    return Math.max(0, heldSince + partialFlushMs - now());
  }

  function flushPartial(): SplitLine[] {
    const out: SplitLine[] = [];
    const length = flushableLength();
    if (length > 0) emitPiece(out, length);
    return out;
  }

  return {
    push(chunk) {
      if (ended) throw new LineSplitterEndedError();
      bytes += chunk.length;
      const out: SplitLine[] = [];
      let position = 0;
      while (position < chunk.length) {
        const newline = chunk.indexOf(LF, position);
        append(chunk, position, newline === -1 ? chunk.length : newline, out);
        if (newline === -1) break;
        emitCompleteLine(out);
        position = newline + 1;
      }
      return out;
    },
    msUntilFlush,
    flushDue() {
      return msUntilFlush() === 0 ? flushPartial() : [];
    },
    flushPartial,
    end() {
      if (ended) return [];
      ended = true;
      const out: SplitLine[] = [];
      if (pendingLength > 0) emitPiece(out, pendingLength);
      return out;
    },
    totals() {
      return { bytes, lines };
    },
  };
}
