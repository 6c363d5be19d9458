import { describe, expect, it } from 'vitest';
import { createCreateThrottle } from './create-throttle.ts';
import { RateLimitError } from './errors/api-errors.ts';

describe('create throttle', () => {
  it('admits so many creates in any second and says when the next may come', () => {
    let now = 10_000;
    const throttle = createCreateThrottle(3, () => now);
    throttle.admit();
    now += 400;
    throttle.admit();
    throttle.admit();
    let refusal: unknown;
    try {
      throttle.admit();
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(RateLimitError);
    expect(refusal).toMatchObject({ limit: 'createsPerSecond', retryAfterMs: 600 });
    expect((refusal as Error).message).toBe(
      'runbox takes at most 3 new runs a second from all clients together, and that many came in the last second; retry in 1 s',
    );
    // A refused create took no place: a second after the first, one more fits, not two.
    now = 11_000;
    throttle.admit();
    expect(() => throttle.admit()).toThrow(RateLimitError);
    now = 11_400;
    throttle.admit();
    throttle.admit();
  });
});
