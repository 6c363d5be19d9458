import { describe, expect, it } from 'vitest';
import { comparableLines, VerdictJudge, type Verdict } from './verdict.ts';

/** The verdict of `printed` (as pieces: `partial` when the line goes on in the next piece). */
function judge(expected: string, pieces: readonly (string | [string, 'partial'])[]): Verdict {
  const judgeOf = new VerdictJudge(expected);
  for (const piece of pieces) {
    if (typeof piece === 'string') judgeOf.take(piece, false);
    else judgeOf.take(piece[0], true);
  }
  return judgeOf.verdict();
}

describe('the verdict of a run against its expected output', () => {
  it('passes the same lines, with trailing whitespace, CRLF and final newlines ignored', () => {
    expect(judge('1\n2\n', ['1', '2'])).toEqual({ status: 'passed' });
    expect(judge('1\r\n2', ['1   ', '2\t', '', ''])).toEqual({ status: 'passed' });
    expect(judge('', [])).toEqual({ status: 'passed' });
    expect(judge('\n\n', [' ', ''])).toEqual({ status: 'passed' });
  });

  it('joins a line printed in pieces', () => {
    expect(judge('hello world', [['hel', 'partial'], ['lo wor', 'partial'], 'ld'])).toEqual({
      status: 'passed',
    });
    // The last line without a newline ends with the output.
    expect(judge('a\nb', ['a', ['b', 'partial']])).toEqual({ status: 'passed' });
  });

  it('names the first differing line and column, expected and actual', () => {
    expect(judge('1\n2\n3\n', ['1', '20', '3'])).toEqual({
      status: 'failed',
      line: 2,
      column: 2,
      expected: '2',
      actual: '20',
    });
    // Leading whitespace counts.
    expect(judge('x', [' x'])).toMatchObject({ status: 'failed', line: 1, column: 1 });
  });

  it('says when the output ended early or went on past the expected lines', () => {
    expect(judge('a\nb\nc', ['a', 'b'])).toEqual({
      status: 'failed',
      line: 3,
      column: 1,
      expected: 'c',
      actual: null,
    });
    expect(judge('a', ['a', 'b'])).toEqual({
      status: 'failed',
      line: 2,
      column: 1,
      expected: null,
      actual: 'b',
    });
    // Empty lines before more text are not trailing: the first of them is where it differs.
    expect(judge('a', ['a', '', '', 'b'])).toEqual({
      status: 'failed',
      line: 2,
      column: 1,
      expected: null,
      actual: '',
    });
  });

  it('keeps a bounded part of a long line and still sees text past it', () => {
    const expected = 'abc';
    const long = `abc${' '.repeat(5000)}`;
    expect(judge(expected, [long])).toEqual({ status: 'passed' });
    const verdict = judge(expected, [[`abc${' '.repeat(5000)}`, 'partial'], 'x']);
    expect(verdict).toMatchObject({ status: 'failed', line: 1, column: 4, expected: 'abc' });
    if (verdict.status === 'failed') expect(verdict.actual?.length).toBeLessThanOrEqual(1024);
  });

  it('splits the expected output as the rule says', () => {
    expect(comparableLines('a \r\nb\t\n\n  \n')).toEqual(['a', 'b']);
    expect(comparableLines('  lead\n')).toEqual(['  lead']);
  });
});
