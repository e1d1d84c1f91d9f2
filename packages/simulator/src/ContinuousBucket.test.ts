import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ContinuousBucket } from './ContinuousBucket.js';

describe('ContinuousBucket', () => {
  it('starts full, refills continuously and says when a cost fits', () => {
    const bucket = new ContinuousBucket(600, 60_000); // 10 per second
    expect(bucket.waitMs(600, 0)).toBe(0);
    bucket.take(600, 0);
    expect(bucket.waitMs(100, 0)).toBe(10_000);
    expect(bucket.level(5_000)).toBeCloseTo(50);
    expect(bucket.waitMs(100, 5_000)).toBeCloseTo(5_000);
    expect(bucket.fullInMs(5_000)).toBeCloseTo(55_000);
    expect(bucket.level(120_000)).toBe(600); // never above capacity
  });

  it('gives back what was reserved and not used, never above capacity', () => {
    const bucket = new ContinuousBucket(100, 1_000);
    bucket.take(80, 0);
    bucket.give(50, 0);
    expect(bucket.level(0)).toBe(70);
    bucket.give(500, 0);
    expect(bucket.level(0)).toBe(100);
  });

  it('admits no more than capacity + rate x elapsed over any run of takes (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 500 }), fc.integer({ min: 1, max: 100 })), {
          maxLength: 60,
        }),
        (steps) => {
          const bucket = new ContinuousBucket(100, 1_000);
          let now = 0;
          let taken = 0;
          for (const [dt, cost] of steps) {
            now += dt;
            if (bucket.waitMs(cost, now) === 0) {
              bucket.take(cost, now);
              taken += cost;
            }
          }
          expect(taken).toBeLessThanOrEqual(100 + (100 * now) / 1_000 + 1e-6);
        },
      ),
    );
  });
});
