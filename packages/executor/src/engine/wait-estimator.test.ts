import { describe, expect, it } from 'vitest';
import { createWaitEstimator } from './wait-estimator.ts';

describe('wait estimator', () => {
  it('uses the median of recent durations of the same kind', () => {
    const estimator = createWaitEstimator({ fallbackMs: 1000 });
    expect(estimator.typicalMs('python')).toBe(1000);
    for (const ms of [100, 300, 200, 10_000, 250]) estimator.record('python', ms);
    expect(estimator.typicalMs('python')).toBe(250);
    expect(estimator.typicalMs('bash')).toBe(1000);
  });

  it('forgets beyond its window', () => {
    const estimator = createWaitEstimator({ window: 3 });
    for (const ms of [9000, 9000, 9000, 1, 1, 1]) estimator.record('k', ms);
    expect(estimator.typicalMs('k')).toBe(1);
  });

  it('first in line with a free slot waits nothing', () => {
    const estimator = createWaitEstimator();
    expect(estimator.estimateWaitMs({ ahead: [], running: [], concurrency: 2 })).toBe(0);
  });

  it('counts the remaining time of running runs and the runs ahead, slot by slot', () => {
    const estimator = createWaitEstimator({ fallbackMs: 1000 });
    estimator.record('slow', 10_000);
    estimator.record('fast', 1_000);
    // One slot, busy with a slow run 4 s in; two fast runs ahead.
    expect(
      estimator.estimateWaitMs({
        ahead: ['fast', 'fast'],
        running: [{ kind: 'slow', elapsedMs: 4_000 }],
        concurrency: 1,
      }),
    ).toBe(8_000);
    // Two slots: the second is free, so the first fast run starts at once and ends at 1 s; the
    // second starts then and ends at 2 s; our run takes the first slot to free up: 2 s.
    expect(
      estimator.estimateWaitMs({
        ahead: ['fast', 'fast'],
        running: [{ kind: 'slow', elapsedMs: 4_000 }],
        concurrency: 2,
      }),
    ).toBe(2_000);
  });

  it('never runs with no slot', () => {
    expect(createWaitEstimator().estimateWaitMs({ ahead: [], running: [], concurrency: 0 })).toBe(
      Number.POSITIVE_INFINITY,
    );
  });
});
