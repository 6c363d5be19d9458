import { parseAnsi, PLAIN, type AnsiSegment, type AnsiStyle } from './ansi';

export type StreamName = 'stdout' | 'stderr';

export interface LogLine {
  stream: StreamName;
  /** Text without escapes: for search, copy and download. */
  text: string;
  segments: AnsiSegment[] | null;
  startStyle: AnsiStyle;
  /** Raw text of a line still open (flushed partial), so a continuation can be re-read whole. */
  raw: string | null;
}

export interface OutputEvent {
  seq: number;
  type: 'output';
  stream: StreamName;
  text: string;
  partial: boolean;
  continuation: boolean;
}

export interface TruncatedEvent {
  seq: number;
  type: 'truncated';
  reason: 'bytes' | 'lines';
  limit: number;
  droppedBytes: number;
}

/**
 * The log of one run, kept outside React so a million lines cost one array, not a million
 * states. Events are keyed by their sequence number: the server sends them in order, and a
 * resumed subscription (lastEventId) starts after the last one seen, so anything at or below
 * the highest seq already applied is a duplicate and is dropped.
 */
export class LogStore {
  readonly lines: LogLine[] = [];
  truncated: TruncatedEvent | null = null;
  private lastSeq = 0;
  private readonly open: Record<StreamName, number | null> = { stdout: null, stderr: null };
  private readonly style: Record<StreamName, AnsiStyle> = { stdout: PLAIN, stderr: PLAIN };
  private readonly listeners = new Set<() => void>();
  private scheduled = false;
  version = 0;

  /** Applies an event; false when it was already applied. */
  apply(event: { seq: number; type: string }): boolean {
    if (event.seq <= this.lastSeq) return false;
    this.lastSeq = event.seq;
    if (event.type === 'output') this.output(event as OutputEvent);
    else if (event.type === 'truncated') this.truncated = event as TruncatedEvent;
    else return true;
    this.changed();
    return true;
  }

  /** Applies a batch from the server (events in seq order); anything already applied is dropped. */
  applyAll(events: readonly { seq: number; type: string }[]): void {
    for (const event of events) this.apply(event);
  }

  get seq(): number {
    return this.lastSeq;
  }

  private output(event: OutputEvent): void {
    const pieces = event.text.replace(/\r?\n$/, '').split('\n');
    pieces.forEach((piece, index) => {
      const first = index === 0;
      const last = index === pieces.length - 1;
      const continues = first && event.continuation;
      const stillOpen = last && event.partial;
      this.addPiece(event.stream, piece.replace(/\r$/, ''), continues, stillOpen);
    });
  }

  private addPiece(
    stream: StreamName,
    text: string,
    continuation: boolean,
    partial: boolean,
  ): void {
    const openIndex = this.open[stream];
    let line: LogLine;
    if (continuation && openIndex !== null && this.lines[openIndex]) {
      const previous = this.lines[openIndex];
      const raw = (previous.raw ?? previous.text) + text;
      const parsed = parseAnsi(raw, previous.startStyle);
      line = { ...previous, text: parsed.text, segments: parsed.segments, raw };
      this.lines[openIndex] = line;
      this.style[stream] = parsed.endStyle;
    } else {
      const startStyle = this.style[stream];
      const parsed = parseAnsi(text, startStyle);
      line = { stream, text: parsed.text, segments: parsed.segments, startStyle, raw: text };
      this.lines.push(line);
      this.open[stream] = this.lines.length - 1;
      this.style[stream] = parsed.endStyle;
    }
    if (!partial) {
      line.raw = null;
      this.open[stream] = null;
    }
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getVersion = (): number => this.version;

  /** Listeners hear about changes at most once a frame (less often for a long log). */
  private changed(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    const run = () => {
      this.scheduled = false;
      this.version++;
      for (const listener of this.listeners) listener();
    };
    // Small logs repaint every frame; big ones a few times a second, since each repaint costs
    // the virtualiser time in proportion to the line count.
    if (this.lines.length < 5_000 && typeof requestAnimationFrame === 'function')
      requestAnimationFrame(run);
    else setTimeout(run, this.lines.length < 100_000 ? 100 : 250);
  }

  toText(): string {
    return this.lines
      .map((l) => (l.stream === 'stderr' ? `[stderr] ${l.text}` : l.text))
      .join('\n');
  }
}
