import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { summarize } from './stats.ts';

describe('summarize', () => {
  it('finds the mean and the median of an odd count', () => {
    assert.deepEqual(summarize([3, 1, 2]), { count: 3, mean: 2, median: 2 });
  });

  it('averages the two middle values of an even count', () => {
    assert.equal(summarize([4, 1, 3, 2]).median, 2.5);
  });

  it('refuses an empty list', () => {
    assert.throws(() => summarize([]), RangeError);
  });
});
