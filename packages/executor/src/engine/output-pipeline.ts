import type { LineFilter } from '../output/line-filter.ts';
import { createLineSplitter, type LineSplitter, type SplitLine } from '../output/line-splitter.ts';
import { createPiiFilter, createPiiTokens } from '../output/pii-filter.ts';
import { createRedactor } from '../output/redact.ts';
import type { OutputStreamName, RunEventInput } from './run-events.ts';

export interface OutputPipelineOptions {
  /** Longest line in bytes; longer ones are cut into pieces. */
  maxLineBytes: number;
  /** Lines (pieces included) before the run ends as output_limit. */
  maxLines: number;
  /** How long a line without a newline is held before it is shown anyway. */
  partialFlushMs: number;
  /** Extra secret patterns, besides the built-in kinds. */
  redactPatterns: readonly RegExp[];
  /** Replace e-mail addresses, phone, card and IBAN numbers with per-run tokens (`<EMAIL_1>`).
   * Default false. */
  pii?: boolean;
  /**
   * A terminal's output (a tty run): what the filters hold back of a partial line is shown after
   * this long without more output on its stream, as a terminal's echo must be (the last key
   * typed would otherwise wait for the next one). A secret written in two pieces that far apart
   * is then not redacted whole. Default: held until more text or the line's end.
   */
  releaseHeldMs?: number | undefined;
  emit(event: RunEventInput): void;
}

export interface OutputPipeline {
  /** Raw bytes of one stream; returns 'limit' once the line cap is passed. */
  push(stream: OutputStreamName, chunk: Buffer): void | 'limit';
  /** Flushes what is held and stops the timers; call once when the process has ended. */
  finish(): void;
  lines(): number;
  /** Bytes received but never turned into events because a cap was hit. */
  droppedAfterLimit(): number;
  lineLimitHit(): boolean;
}

interface StreamState {
  splitter: LineSplitter;
  /** Secret redaction, then (opt-in) PII tokens; each may hold back the end of a partial line. */
  filters: LineFilter[];
  /** The last piece shown on this stream was partial: the next one continues its line. */
  continuing: boolean;
  timer: NodeJS.Timeout | null;
  /** The `releaseHeldMs` timer. */
  release: NodeJS.Timeout | null;
}

/**
 * Raw bytes → lines → redacted output events, per stream (stdout and stderr are split apart; the
 * engine's one sequence number orders both). A line without a newline is shown after
 * `partialFlushMs`, so a progress bar without newlines still moves; but the end of it that could
 * still be the beginning of a secret (or, with `pii`, of an e-mail address or number) waits for
 * more text, so a token printed in two writes is redacted whole. Such a held end joins the next
 * piece, which can then be longer than `maxLineBytes` by up to the redactor's `maxMatchLength`.
 */
export function createOutputPipeline(options: OutputPipelineOptions): OutputPipeline {
  const streams = new Map<OutputStreamName, StreamState>();
  const redactor = createRedactor(options.redactPatterns);
  const piiTokens = options.pii === true ? createPiiTokens() : null;
  let lineCount = 0;
  let limitHit = false;
  let dropped = 0;

  function state(stream: OutputStreamName): StreamState {
    let entry = streams.get(stream);
    if (!entry) {
      entry = {
        splitter: createLineSplitter({
          maxLineBytes: options.maxLineBytes,
          partialFlushMs: options.partialFlushMs,
        }),
        filters: [redactor.lineFilter(), ...(piiTokens ? [createPiiFilter(piiTokens)] : [])],
        continuing: false,
        timer: null,
        release: null,
      };
      streams.set(stream, entry);
    }
    return entry;
  }

  /**
   * Shows one piece of a line: `more` when the line goes on, `line` when a newline ended it,
   * `stream` when the stream ended without one (everything held is decided then).
   */
  function emitPiece(stream: OutputStreamName, text: string, ending: 'more' | 'line' | 'stream') {
    const entry = state(stream);
    const partial = ending !== 'line';
    let shown = text;
    for (const filter of entry.filters) shown = filter.write(shown, ending !== 'more');
    // A piece held back whole shows nothing yet; a newline always shows (maybe an empty line).
    if (shown === '' && partial) return;
    if (limitHit) return;
    if (lineCount >= options.maxLines) {
      limitHit = true;
      options.emit({
        type: 'truncated',
        reason: 'lines',
        limit: options.maxLines,
        droppedBytes: 0,
      });
      return;
    }
    lineCount++;
    options.emit({ type: 'output', stream, text: shown, partial, continuation: entry.continuing });
    entry.continuing = partial;
  }

  function emitLines(stream: OutputStreamName, lines: readonly SplitLine[]): void {
    for (const line of lines) {
      if (limitHit) return;
      emitPiece(stream, line.text, line.partial ? 'more' : 'line');
    }
  }

  /** Shows what the filters hold of the partial line once the stream is quiet (tty runs). */
  function scheduleRelease(stream: OutputStreamName): void {
    const releaseMs = options.releaseHeldMs;
    if (releaseMs === undefined) return;
    const entry = state(stream);
    if (entry.release) clearTimeout(entry.release);
    entry.release = setTimeout(() => {
      entry.release = null;
      if (!limitHit) emitPiece(stream, '', 'stream');
    }, releaseMs);
  }

  function schedule(stream: OutputStreamName): void {
    const entry = state(stream);
    if (entry.timer) clearTimeout(entry.timer);
    entry.timer = null;
    const wait = entry.splitter.msUntilFlush();
    if (wait === null) return;
    const timer = setTimeout(() => {
      // After a stalled event loop the deadline passes while the rest of the line already waits
      // in the pipe; setImmediate lets pending reads in first, so the line is not cut in two.
      setImmediate(() => {
        if (entry.timer !== timer) return; // a push or the end replaced this timer meanwhile
        entry.timer = null;
        emitLines(stream, entry.splitter.flushDue());
        schedule(stream);
        scheduleRelease(stream);
      });
    }, wait);
    entry.timer = timer;
  }

  return {
    push(stream, chunk) {
      if (limitHit) {
        dropped += chunk.length;
        return 'limit';
      }
      emitLines(stream, state(stream).splitter.push(chunk));
      schedule(stream);
      scheduleRelease(stream);
      return limitHit ? 'limit' : undefined;
    },
    finish() {
      for (const [stream, entry] of streams) {
        if (entry.timer) clearTimeout(entry.timer);
        entry.timer = null;
        if (entry.release) clearTimeout(entry.release);
        entry.release = null;
        // What is left has no newline (the splitter holds at most one piece); with it, whatever the
        // filters still hold is decided now.
        const [rest] = entry.splitter.end();
        if (!limitHit) emitPiece(stream, rest?.text ?? '', 'stream');
      }
    },
    lines: () => lineCount,
    droppedAfterLimit: () => dropped,
    lineLimitHit: () => limitHit,
  };
}
