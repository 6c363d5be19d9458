/**
 * What a tty run's terminal shows, built from the run's output events. The server splits the
 * terminal's byte stream into lines at '\n' and drops the '\r' of each '\r\n' (a partial piece
 * holds a trailing '\r' back too), so a whole line is written back with '\r\n' (what the pty sent
 * nearly always: its ONLCR turns '\n' into '\r\n') and a partial piece (a prompt, a progress
 * frame) as it is. Writing '\r\n' here rather than turning on xterm's convertEol keeps a lone
 * '\r' in the text a carriage return, as the program meant it.
 */

interface FeedEvent {
  seq: number;
  type: string;
}

interface OutputFeedEvent extends FeedEvent {
  type: 'output';
  text: string;
  partial: boolean;
}

interface TruncatedFeedEvent extends FeedEvent {
  type: 'truncated';
  reason: 'bytes' | 'lines';
  limit: number;
}

/** The text one event puts on the terminal; null for events that show nothing there. */
export function terminalText(event: FeedEvent): string | null {
  if (event.type === 'output') {
    const output = event as OutputFeedEvent;
    return output.partial ? output.text : `${output.text}\r\n`;
  }
  if (event.type === 'truncated') {
    const cut = event as TruncatedFeedEvent;
    const limit = `${cut.limit.toLocaleString('en')} ${cut.reason === 'lines' ? 'lines' : 'bytes'}`;
    // Dim, on a line of its own, colours reset: it is runbox's note, not the program's output.
    return `\x1b[0m\r\n\x1b[2m[runbox: output cut off at its limit of ${limit}]\x1b[0m\r\n`;
  }
  return null;
}

/**
 * The terminal text of one run, kept outside React: events arrive from the run page's one
 * subscription whether or not a terminal is on the page yet, and a terminal attached later (or
 * again, after a remount) is given everything so far before what follows. Events at or below the
 * highest seq applied are duplicates of a resumed subscription and are dropped.
 */
export class TerminalFeed {
  private readonly chunks: string[] = [];
  private lastSeq = 0;
  private writer: ((data: string) => void) | null = null;
  private dropped = false;

  apply(event: FeedEvent): void {
    if (this.dropped || event.seq <= this.lastSeq) return;
    this.lastSeq = event.seq;
    const text = terminalText(event);
    if (text === null || text === '') return;
    this.chunks.push(text);
    this.writer?.(text);
  }

  applyAll(events: readonly FeedEvent[]): void {
    for (const event of events) this.apply(event);
  }

  /** Writes everything so far to `write`, then each new chunk as it comes; returns the detach. */
  attach(write: (data: string) => void): () => void {
    if (this.chunks.length > 0) write(this.chunks.join(''));
    this.writer = write;
    return () => {
      if (this.writer === write) this.writer = null;
    };
  }

  /** Not a tty run: keeps nothing from now on (its log view has the output). */
  drop(): void {
    this.dropped = true;
    this.chunks.length = 0;
  }

  get seq(): number {
    return this.lastSeq;
  }
}
