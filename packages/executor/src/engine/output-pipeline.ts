import { createLineSplitter, type LineSplitter, type SplitLine } from '../output/line-splitter.ts';
import { createRedactor, type Redactor } from '../output/redact.ts';
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

/**
 * Raw bytes → lines → redacted output events, per stream (stdout and stderr are split apart; the
 * engine's one sequence number orders both). A line without a newline is shown after
 * `partialFlushMs`, so a progress bar without newlines still moves.
 */
export function createOutputPipeline(options: OutputPipelineOptions): OutputPipeline {
  const streams = new Map<
    OutputStreamName,
    { splitter: LineSplitter; redactor: Redactor; timer: NodeJS.Timeout | null }
  >();
  let lineCount = 0;
  let limitHit = false;
  let dropped = 0;

  function state(stream: OutputStreamName) {
    let entry = streams.get(stream);
    if (!entry) {
      entry = {
        splitter: createLineSplitter({
          maxLineBytes: options.maxLineBytes,
          partialFlushMs: options.partialFlushMs,
        }),
        redactor: createRedactor(options.redactPatterns),
        timer: null,
      };
      streams.set(stream, entry);
    }
    return entry;
  }

  function emitLines(stream: OutputStreamName, lines: readonly SplitLine[]): void {
    const entry = state(stream);
    for (const line of lines) {
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
      options.emit({
        type: 'output',
        stream,
        text: entry.redactor.redactLine(line.text).text,
        partial: line.partial,
        continuation: line.continuation,
      });
    }
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
      return limitHit ? 'limit' : undefined;
    },
    finish() {
      for (const [stream, entry] of streams) {
        if (entry.timer) clearTimeout(entry.timer);
        entry.timer = null;
        emitLines(stream, entry.splitter.end());
      }
    },
    lines: () => lineCount,
    droppedAfterLimit: () => dropped,
    lineLimitHit: () => limitHit,
  };
}
