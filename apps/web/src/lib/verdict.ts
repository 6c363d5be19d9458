import type { RunView } from '@runbox/api';
import type { StateWords } from './format';

/** A snippet's verdict (its stdout against its `expectedOutput`) in words. */

export type Verdict = NonNullable<RunView['verdict']>;

export function verdictWords(verdict: Verdict): StateWords {
  return verdict.status === 'passed'
    ? { label: 'Passed: the output is as expected', tone: 'good' }
    : { label: `Failed: line ${verdict.line} differs`, tone: 'bad' };
}

/**
 * The first differing line of a failed verdict, each side as shown: a side that has no line there
 * says so (the output went on past the expected lines, or ended before them).
 */
export function verdictDifference(verdict: Extract<Verdict, { status: 'failed' }>): {
  where: string;
  expected: string | null;
  actual: string | null;
  expectedNote: string | null;
  actualNote: string | null;
} {
  return {
    where:
      verdict.expected !== null && verdict.actual !== null
        ? `line ${verdict.line}, from character ${verdict.column}`
        : `line ${verdict.line}`,
    expected: verdict.expected,
    actual: verdict.actual,
    expectedNote:
      verdict.expected === null ? 'no line: the output has more lines than expected' : null,
    actualNote: verdict.actual === null ? 'no line: the output ended before it' : null,
  };
}
