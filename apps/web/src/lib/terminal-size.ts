/** A terminal's size in character cells, as runs.create's `tty` and runs.resize take it. */
export interface TerminalSize {
  cols: number;
  rows: number;
}

/** What the server accepts (runs.create `tty`, runs.resize). */
export const TERMINAL_LIMITS = { cols: { min: 10, max: 1000 }, rows: { min: 2, max: 1000 } };

/** The size a new tty run starts with; its page fits the terminal to the window at once. */
export const DEFAULT_TERMINAL_SIZE: TerminalSize = { cols: 100, rows: 30 };

function clamp(value: number, range: { min: number; max: number }): number {
  if (!Number.isFinite(value)) return range.min;
  return Math.min(range.max, Math.max(range.min, Math.floor(value)));
}

/** A size brought inside what the server accepts (a tiny window still gets a usable terminal). */
export function clampTerminalSize(size: TerminalSize): TerminalSize {
  return {
    cols: clamp(size.cols, TERMINAL_LIMITS.cols),
    rows: clamp(size.rows, TERMINAL_LIMITS.rows),
  };
}

/**
 * Sends a terminal's size once it has stopped changing for `delayMs` (dragging a window edge
 * gives dozens of sizes a second; the program needs the last one), and only when it differs from
 * the size last sent.
 */
export class ResizeDebouncer {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private last: TerminalSize | null;
  private readonly delayMs: number;
  private readonly send: (size: TerminalSize) => void;

  constructor(
    send: (size: TerminalSize) => void,
    options: { delayMs: number; initial?: TerminalSize },
  ) {
    this.send = send;
    this.delayMs = options.delayMs;
    this.last = options.initial ?? null;
  }

  request(size: TerminalSize): void {
    const wanted = clampTerminalSize(size);
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.last && this.last.cols === wanted.cols && this.last.rows === wanted.rows) return;
      this.last = wanted;
      this.send(wanted);
    }, this.delayMs);
  }

  /** Stops a send still waiting (the terminal is gone or the run ended). */
  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
