// @ts-check

/** @import { RunEvent } from './run-types.mjs' */

/**
 * Prints a run's events as they come: stdout to stdout, stderr to stderr, each piece as it
 * arrives (a piece of a line printed before its newline is written without one, so the pieces
 * join back into the line). The CLI's own notes (queue position, cut output, the end state) go
 * to stderr prefixed `runbox-cli:`; on a terminal the queue position is one line rewritten in
 * place and erased when the run starts.
 */

/**
 * @typedef {{
 *   write(text: string): unknown;
 *   isTTY?: boolean;
 * }} TextSink
 */

export class LivePrinter {
  #stdout;
  #stderr;
  #quiet;
  #positionsOffTerminal;
  /** A status line is on the terminal, to be erased before anything else is written. */
  #statusShown = false;
  /** @type {string | null} */
  #lastStatus = null;
  /** Whether each stream's last piece ended its line. */
  #atLineStart = { stdout: true, stderr: true };

  /**
   * @param {{
   *   stdout: TextSink;
   *   stderr: TextSink;
   *   quiet: boolean;
   *   positionsOffTerminal?: boolean;
   * }} options `positionsOffTerminal: false`: the queue position only on a terminal, where the
   *   line is erased (`logs --follow` replays an ended run's old positions too)
   */
  constructor(options) {
    this.#stdout = options.stdout;
    this.#stderr = options.stderr;
    this.#quiet = options.quiet;
    this.#positionsOffTerminal = options.positionsOffTerminal ?? true;
  }

  /** @param {RunEvent} event */
  onEvent(event) {
    switch (event.type) {
      case 'position': {
        if (!this.#positionsOffTerminal && !this.#stderr.isTTY) return;
        const wait =
          event.estimatedWaitMs > 0 ? `, about ${formatDuration(event.estimatedWaitMs)}` : '';
        this.status(`queued: position ${event.position}${wait}`);
        return;
      }
      case 'state':
        if (event.state !== 'queued') this.#clearStatus();
        return;
      case 'output': {
        this.#clearStatus();
        const sink = event.stream === 'stdout' ? this.#stdout : this.#stderr;
        sink.write(event.partial ? event.text : `${event.text}\n`);
        this.#atLineStart[event.stream] = !event.partial;
        return;
      }
      case 'truncated':
        this.note(
          `output cut at its ${event.reason} limit (${event.limit}); ${event.droppedBytes} bytes dropped`,
        );
        return;
      default:
        return;
    }
  }

  /**
   * A status that the next one replaces: rewritten in place on a terminal, else a line of its
   * own when it changes. Nothing with --quiet.
   * @param {string} text
   */
  status(text) {
    if (this.#quiet || text === this.#lastStatus) return;
    this.#lastStatus = text;
    if (this.#stderr.isTTY) {
      this.#stderr.write(
        `${this.#statusShown ? '\r\u001b[K' : this.#lineBreak()}runbox-cli: ${text}`,
      );
      this.#statusShown = true;
    } else {
      this.#stderr.write(`${this.#lineBreak()}runbox-cli: ${text}\n`);
    }
  }

  /**
   * A line of the CLI's own on stderr (after the program's unfinished line, if any). Nothing
   * with --quiet.
   * @param {string} text
   */
  note(text) {
    if (this.#quiet) return;
    this.#clearStatus();
    this.#stderr.write(`${this.#lineBreak()}runbox-cli: ${text}\n`);
  }

  #clearStatus() {
    if (!this.#statusShown) return;
    this.#stderr.write('\r\u001b[K');
    this.#statusShown = false;
  }

  /** A newline when the program left a line unfinished where this note would land. */
  #lineBreak() {
    const stdoutShares = this.#stdout.isTTY === true && this.#stderr.isTTY === true;
    const unfinished = !this.#atLineStart.stderr || (stdoutShares && !this.#atLineStart.stdout);
    if (!unfinished) return '';
    this.#atLineStart = { stdout: true, stderr: true };
    return '\n';
  }
}

/**
 * "850 ms", "4.2 s", "3 min 5 s".
 * @param {number} ms
 */
export function formatDuration(ms) {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}
