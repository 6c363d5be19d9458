/**
 * A filter over the lines of one output stream that arrive in pieces (partial flushes, cuts at the
 * maximum line length): each piece goes in, the part that can be shown now comes out, filtered,
 * and the rest waits for the next piece. What has been shown is final; it never has to be taken
 * back, because only text that cannot be (part of) a match any more is shown.
 *
 * The filter keeps, besides the text it holds, a little of the text it already showed on the same
 * line ("context"), so patterns that look behind a match (`(?<![A-Za-z0-9])`) read the same text as
 * they would on the whole line.
 */

/** A stretch of text to replace on output. */
export interface FilterSpan {
  readonly start: number;
  readonly end: number;
}

/** What a scanner found in a window: the context, the held text and the new piece together. */
export interface WindowScan<S extends FilterSpan> {
  /** Stretches to replace, sorted and disjoint; offsets in the window. */
  readonly spans: readonly S[];
  /** Whole matches (with the text their pattern reads around the replaced part); showing only part
   * of one would leave the rest unrecognisable, so the shown part never ends inside one. */
  readonly unbreakable: readonly FilterSpan[];
  /** The earliest offset from which the window's text could still become part of a match once more
   * text comes; the window's length when none. Ignored when the line ends. */
  readonly openFrom: number;
}

export interface WindowScanner<S extends FilterSpan> {
  /** The most text one match can span: the bound on what the filter holds. */
  readonly maxHold: number;
  /** Scans `window`; `shownUpTo` is where the context ends and the held text begins. */
  scan(window: string, shownUpTo: number, lineEnds: boolean): WindowScan<S>;
  /** The filtered text of `window.slice(from, to)`, spans replaced (cut to the range). Called for
   * each stretch that is shown, in order, so a scanner may keep state (an open private key block). */
  render(window: string, from: number, to: number, scan: WindowScan<S>): string;
}

export interface LineFilter {
  /**
   * Takes the next piece of the current line; `lineEnds` when the line, or the stream, ends with
   * it (the piece may be empty). Returns the filtered text to show now, possibly empty; the rest is
   * held until a later piece decides it.
   */
  write(text: string, lineEnds: boolean): string;
  /** Characters held back now. */
  held(): number;
}

/** Characters of already shown text kept as context for the next scan. */
export const CONTEXT_CHARS = 64;

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

/** Where the shown part of a window may end: before anything still open and outside every match. */
function safeCut<S extends FilterSpan>(
  window: string,
  shownUpTo: number,
  scan: WindowScan<S>,
  maxHold: number,
): number {
  let cut = Math.min(window.length, Math.max(shownUpTo, scan.openFrom));
  // Descending by start: moving the cut back to one match's start can land it inside an earlier one.
  const byStart = [...scan.unbreakable].sort((a, b) => b.start - a.start);
  for (const range of byStart) {
    // A match longer than the bound (an unbounded configured pattern) cannot be held whole.
    if (range.end - range.start > maxHold) continue;
    if (range.start < cut && cut < range.end) cut = range.start;
  }
  cut = Math.max(cut, shownUpTo);
  if (cut > shownUpTo && cut < window.length && isHighSurrogate(window.charCodeAt(cut - 1))) {
    cut -= 1;
  }
  return cut;
}

export function createLineFilter<S extends FilterSpan>(scanner: WindowScanner<S>): LineFilter {
  let context = '';
  let held = '';
  return {
    write(text, lineEnds) {
      if (!lineEnds && text === '') return '';
      const window = context + held + text;
      const shownUpTo = context.length;
      const scan = scanner.scan(window, shownUpTo, lineEnds);
      const cut = lineEnds ? window.length : safeCut(window, shownUpTo, scan, scanner.maxHold);
      const shown = cut > shownUpTo ? scanner.render(window, shownUpTo, cut, scan) : '';
      if (lineEnds) {
        context = '';
        held = '';
      } else {
        context = window.slice(Math.max(0, cut - CONTEXT_CHARS), cut);
        held = window.slice(cut);
      }
      return shown;
    },
    held: () => held.length,
  };
}

/**
 * Replaces the spans inside `from..to` of `text` with `replacement(span)`; a span that starts
 * before `from` or ends after `to` is replaced for the part inside the range.
 */
export function replaceInRange<S extends FilterSpan>(
  text: string,
  from: number,
  to: number,
  spans: readonly S[],
  replacement: (span: S) => string,
): string {
  let out = '';
  let position = from;
  for (const span of spans) {
    if (span.end <= from || span.end <= position) continue;
    if (span.start >= to) break;
    out += text.slice(position, Math.max(position, span.start)) + replacement(span);
    position = Math.min(span.end, to);
  }
  return out + text.slice(position, to);
}
