import { z } from 'zod';

/**
 * A snippet's verdict: its stdout against the `expectedOutput` it was sent with, as judges of
 * programming exercises compare them. Lines are compared one by one after:
 *
 * - `\r\n` is taken as `\n` (in both; a run's output keeps lines without their `\r` anyway);
 * - whitespace at the end of each line is ignored (JavaScript's `trimEnd`: spaces, tabs, `\r`, ...);
 * - empty lines at the end are ignored, so a missing or extra final newline does not count.
 *
 * Whitespace at the start and inside a line counts. The verdict is of the output alone: how the
 * program ended is the run's state and exit code.
 */

/** How much of each differing line the verdict shows. */
export const VERDICT_EXCERPT_CHARS = 1024;

export const verdictSchema = z.discriminatedUnion('status', [
  z.object({ status: z.literal('passed') }).strict(),
  z
    .object({
      status: z.literal('failed'),
      /** 1-based line of the first difference. */
      line: z.number().int(),
      /** 1-based character of that line where they first differ. */
      column: z.number().int(),
      /** The expected line (its first 1,024 characters); null: the output has more lines than expected. */
      expected: z.string().nullable(),
      /** The printed line (its first 1,024 characters); null: the output ended before it. */
      actual: z.string().nullable(),
    })
    .strict(),
]);
export type Verdict = z.infer<typeof verdictSchema>;

/** The lines that count of a text: split at `\n` (or `\r\n`), trailing whitespace and empty lines dropped. */
export function comparableLines(text: string): string[] {
  const lines = text.split(/\r?\n/).map((line) => line.trimEnd());
  while (lines.length > 0 && lines.at(-1) === '') lines.pop();
  return lines;
}

function excerpt(line: string | null): string | null {
  return line === null ? null : line.slice(0, VERDICT_EXCERPT_CHARS);
}

function firstDifference(expected: string, actual: string): number {
  let index = 0;
  while (index < expected.length && index < actual.length && expected[index] === actual[index])
    index++;
  return index + 1;
}

function failed(line: number, expected: string | null, actual: string | null): Verdict {
  const column = expected !== null && actual !== null ? firstDifference(expected, actual) : 1;
  return { status: 'failed', line, column, expected: excerpt(expected), actual: excerpt(actual) };
}

/**
 * Judges stdout as it is printed, holding only the line being printed (and not even all of that
 * past the expected line's length), so a run that prints a lot costs no memory here.
 */
export class VerdictJudge {
  readonly #expected: readonly string[];
  /** Index of the line being printed. */
  #line = 0;
  #current = '';
  /** The line being printed has something besides whitespace past what `#current` kept. */
  #overflow = false;
  /** Empty lines printed past the expected ones: trailing (ignored) unless more text follows. */
  #emptyAfterEnd = 0;
  #result: Verdict | null = null;

  constructor(expectedOutput: string) {
    this.#expected = comparableLines(expectedOutput);
  }

  /** A piece of stdout: `partial` when its line goes on in the next piece (no newline yet). */
  take(text: string, partial: boolean): void {
    if (this.#result) return;
    this.#append(text);
    if (!partial) this.#endLine();
  }

  /** The verdict, once the output has ended. */
  verdict(): Verdict {
    if (this.#current !== '' || this.#overflow) this.#endLine();
    if (this.#result) return this.#result;
    if (this.#line < this.#expected.length)
      return failed(this.#line + 1, this.#expected[this.#line] ?? '', null);
    return { status: 'passed' };
  }

  #append(text: string): void {
    const room =
      (this.#expected[this.#line]?.length ?? 0) + VERDICT_EXCERPT_CHARS - this.#current.length;
    if (room >= text.length) {
      this.#current += text;
      return;
    }
    this.#current += text.slice(0, Math.max(0, room));
    // Past the room only whether anything but whitespace follows matters.
    if (text.slice(Math.max(0, room)).trim() !== '') this.#overflow = true;
  }

  #endLine(): void {
    const actual = this.#current.trimEnd();
    const overflow = this.#overflow;
    this.#current = '';
    this.#overflow = false;
    if (this.#result) return;
    const index = this.#line++;
    if (index >= this.#expected.length) {
      if (actual === '' && !overflow) {
        this.#emptyAfterEnd++;
        return;
      }
      // Text after the expected lines; the first line past them is where they differ.
      const first = this.#expected.length + 1;
      this.#result = failed(first, null, this.#emptyAfterEnd > 0 ? '' : actual);
      return;
    }
    const expected = this.#expected[index] ?? '';
    if (actual !== expected || overflow) this.#result = failed(index + 1, expected, actual);
  }
}
