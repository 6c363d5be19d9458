import { describe, expect, it } from 'vitest';
import { verdictDifference, verdictWords } from './verdict';

describe('verdictWords', () => {
  it('says a passed verdict passed', () => {
    expect(verdictWords({ status: 'passed' })).toEqual({
      label: 'Passed: the output is as expected',
      tone: 'good',
    });
  });

  it('names the first line that differs', () => {
    expect(
      verdictWords({ status: 'failed', line: 2, column: 3, expected: 'abc', actual: 'abd' }),
    ).toEqual({ label: 'Failed: line 2 differs', tone: 'bad' });
  });
});

describe('verdictDifference', () => {
  it('shows both lines and the character where they part', () => {
    expect(
      verdictDifference({ status: 'failed', line: 2, column: 3, expected: 'abc', actual: 'abd' }),
    ).toEqual({
      where: 'line 2, from character 3',
      expected: 'abc',
      actual: 'abd',
      expectedNote: null,
      actualNote: null,
    });
  });

  it('says which side had no line', () => {
    const short = verdictDifference({
      status: 'failed',
      line: 3,
      column: 1,
      expected: 'three',
      actual: null,
    });
    expect(short.where).toBe('line 3');
    expect(short.actualNote).toBe('no line: the output ended before it');
    const long = verdictDifference({
      status: 'failed',
      line: 3,
      column: 1,
      expected: null,
      actual: 'extra',
    });
    expect(long.expectedNote).toBe('no line: the output has more lines than expected');
  });
});
