import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MAX_NATIVE_DELAY_MS, SystemClock } from './SystemClock.js';

const DAY = 86_400_000;

describe('SystemClock', () => {
  it('keeps the process alive while a timer is pending (a waiting caller must not be dropped)', () => {
    const clock = new SystemClock();
    const handle = clock.setTimeout(() => {}, 10_000) as { hasRef(): boolean };
    expect(handle.hasRef()).toBe(true);
    clock.clearTimeout(handle);
  });

  it('reads the monotonic clock at full resolution: never backwards, at the pace of performance.now()', () => {
    const clock = new SystemClock();
    const p0 = performance.now();
    const start = clock.now();
    const p1 = performance.now();
    let last = start;
    let backwards = 0;
    let smallestStep = Number.POSITIVE_INFINITY;
    while (performance.now() - p1 < 20) {
      const now = clock.now();
      if (now < last) backwards++;
      if (now > last) smallestStep = Math.min(smallestStep, now - last);
      last = now;
    }
    const p2 = performance.now();
    const end = clock.now();
    const p3 = performance.now();
    // Whatever the scheduler does between reads, the elapsed time lies between the
    // performance.now() intervals just inside and just outside the two reads.
    expect(end - start).toBeGreaterThanOrEqual(p2 - p1 - 1e-6);
    expect(end - start).toBeLessThanOrEqual(p3 - p0 + 1e-6);
    expect(backwards).toBe(0);
    expect(smallestStep).toBeLessThan(0.5); // sub-millisecond resolution, not a cached or coarse time
  });

  describe('on the native timers (faked, with Node overflow semantics)', () => {
    beforeEach(() => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance', 'hrtime'] });
    });
    afterEach(() => {
      vi.useRealTimers();
    });

    it('never fires early: fractional delays round up', () => {
      const clock = new SystemClock();
      const start = clock.now();
      let firedAt: number | undefined;
      clock.setTimeout(() => {
        firedAt = clock.now();
      }, 5.2);
      vi.advanceTimersByTime(5);
      expect(firedAt).toBeUndefined();
      vi.advanceTimersByTime(1);
      expect(firedAt! - start).toBe(6);
    });

    it("arms again a native timer that fires before its deadline (Node's loop time runs ahead)", () => {
      class Lagging extends SystemClock {
        lagMs = 0;
        override now(): number {
          return super.now() - this.lagMs;
        }
      }
      const clock = new Lagging();
      const start = clock.now();
      let firedAt: number | undefined;
      clock.setTimeout(() => {
        firedAt = clock.now();
      }, 5);
      clock.lagMs = 0.6; // the native timer's 5 ms pass while this clock has seen 4.4
      vi.advanceTimersByTime(5);
      expect(firedAt).toBeUndefined();
      expect(vi.getTimerCount()).toBe(1);
      vi.advanceTimersByTime(1);
      expect(firedAt! - start).toBeCloseTo(5.4);
    });

    it('chains native timers for delays past 2^31-1 ms and fires once, on time', () => {
      const clock = new SystemClock();
      const start = clock.now();
      const fired: number[] = [];
      clock.setTimeout(() => fired.push(clock.now() - start), 30 * DAY);
      vi.advanceTimersByTime(20);
      expect(fired).toEqual([]); // Node alone fires an overlong delay after 1 ms
      expect(vi.getTimerCount()).toBe(1); // one native timer at a time, not a busy loop
      vi.advanceTimersByTime(30 * DAY - 21);
      expect(fired).toEqual([]);
      vi.advanceTimersByTime(1);
      expect(fired).toEqual([30 * DAY]);
      expect(vi.getTimerCount()).toBe(0);
      expect(MAX_NATIVE_DELAY_MS).toBe(2 ** 31 - 1);
    });

    it('cancels a chained timer at any link of its chain', () => {
      const clock = new SystemClock();
      let fired = false;
      const handle = clock.setTimeout(() => {
        fired = true;
      }, 100 * DAY);
      vi.advanceTimersByTime(60 * DAY); // two links in
      clock.clearTimeout(handle);
      expect(vi.getTimerCount()).toBe(0);
      vi.advanceTimersByTime(50 * DAY);
      expect(fired).toBe(false);
    });

    it('never fires a timer of Infinity and arms nothing for it; NaN and negatives fire at once', () => {
      const clock = new SystemClock();
      const fired: string[] = [];
      const never = clock.setTimeout(() => fired.push('never'), Number.POSITIVE_INFINITY);
      expect(vi.getTimerCount()).toBe(0);
      clock.setTimeout(() => fired.push('nan'), Number.NaN);
      clock.setTimeout(() => fired.push('negative'), -5);
      vi.advanceTimersByTime(0);
      expect(fired).toEqual(['nan', 'negative']);
      vi.advanceTimersByTime(1_000 * DAY);
      expect(fired).toEqual(['nan', 'negative']);
      clock.clearTimeout(never); // ignored
    });
  });
});
