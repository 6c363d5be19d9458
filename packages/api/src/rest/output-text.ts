import type { OutputStreamName, RunEvent } from '@runbox/executor';

/** A stream's text as one answer carries it: at most a cap of bytes, and what it had in all. */
export interface StreamText {
  text: string;
  /** UTF-8 bytes of the whole stream, beyond the cap too. */
  bytes: number;
  /** The text stops at the cap (at a character boundary); `bytes` says how much there was. */
  truncated: boolean;
}

/** Text kept up to `maxBytes` UTF-8 bytes, cut at a character boundary; the rest only counted. */
export class CappedText {
  readonly #maxBytes: number;
  readonly #parts: string[] = [];
  #kept = 0;
  #total = 0;
  #full = false;

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  append(text: string): void {
    if (text === '') return;
    const size = Buffer.byteLength(text, 'utf8');
    this.#total += size;
    if (this.#full) return;
    if (this.#kept + size <= this.#maxBytes) {
      this.#parts.push(text);
      this.#kept += size;
      return;
    }
    // What still fits, cut before the first byte of a character that would not fit whole.
    const bytes = Buffer.from(text, 'utf8');
    let end = this.#maxBytes - this.#kept;
    while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
    this.#parts.push(bytes.subarray(0, end).toString('utf8'));
    this.#kept += end;
    this.#full = true;
  }

  result(): StreamText {
    return { text: this.#parts.join(''), bytes: this.#total, truncated: this.#full };
  }
}

type OutputEvent = Extract<RunEvent, { type: 'output' }>;

/**
 * Joins a run's output events back into the text each stream printed. A line comes as one event,
 * or in pieces when it was flushed before its newline (`partial`) or cut at the longest line:
 * every piece but the last has `partial: true`, and the pieces after the first have
 * `continuation: true`. So a piece's text is followed by a newline exactly when it is not partial,
 * and pieces of one stream concatenate in order. (`\r\n` line ends come back as `\n`.)
 */
export class OutputJoiner {
  readonly #streams: Record<OutputStreamName, CappedText>;
  /** Both streams interleaved in the order they were printed, when asked for. */
  readonly #combined: CappedText | null;

  constructor(options: { maxBytes: number; combined?: boolean }) {
    this.#streams = {
      stdout: new CappedText(options.maxBytes),
      stderr: new CappedText(options.maxBytes),
    };
    this.#combined = options.combined ? new CappedText(options.maxBytes) : null;
  }

  add(event: OutputEvent): void {
    const text = event.partial ? event.text : `${event.text}\n`;
    this.#streams[event.stream].append(text);
    this.#combined?.append(text);
  }

  stream(name: OutputStreamName): StreamText {
    return this.#streams[name].result();
  }

  combined(): StreamText | null {
    return this.#combined?.result() ?? null;
  }
}
