import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SlidingWindow } from './SlidingWindow.js';
import { TokenBucket } from './TokenBucket.js';

const rate = (limit: number, windowMs: number, burst = limit) => ({
  name: 'r',
  resource: 'x',
  limit,
  windowMs,
  burst,
});

/** Largest weight admitted in any half-open interval [t, t + windowMs) of the log. */
function maxInAnyWindow(log: ReadonlyArray<{ at: number; weight: number }>, windowMs: number): number {
  let max = 0;
  for (const start of log) {
    let sum = 0;
    for (const e of log) if (e.at >= start.at && e.at < start.at + windowMs) sum += e.weight;
    max = Math.max(max, sum);
  }
  return max;
}

describe('TokenBucket', () => {
  it('starts full, refills continuously and says exactly how long until a cost fits', () => {
    const bucket = new TokenBucket(rate(60, 60_000, 10), 0); // 1 per second, burst 10
    expect(bucket.available(0)).toBe(10);
    bucket.take(10, 0);
    expect(bucket.waitTime(3, 0)).toBe(3000);
    expect(bucket.waitTime(3, 2500)).toBe(500);
    expect(bucket.waitTime(3, 3000)).toBe(0);
    expect(bucket.available(1_000_000)).toBe(10); // never above capacity
    expect(bucket.waitTime(11, 0)).toBe(Number.POSITIVE_INFINITY);
  });

  it('goes into debt on a shortfall and caps refunds at capacity', () => {
    const bucket = new TokenBucket(rate(10, 1000), 0);
    const r = bucket.take(10, 0);
    bucket.adjust(r, 5, 0); // used 5 more than reserved
    expect(bucket.available(0)).toBe(-5);
    expect(bucket.waitTime(1, 0)).toBe(600);
    bucket.adjust(r, -100, 0);
    expect(bucket.available(0)).toBe(10);
  });

  it('never admits more than burst + rate x W in any window W (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 10, max: 2000 }),
        fc.integer({ min: 0, max: 30 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 1, max: 60 })), {
          maxLength: 150,
        }),
        (limit, windowMs, extraBurst, steps) => {
          const burst = limit + extraBurst;
          const bucket = new TokenBucket(rate(limit, windowMs, burst), 0);
          const log: { at: number; weight: number }[] = [];
          let now = 0;
          for (const [dt, amount] of steps) {
            now += dt;
            const wait = bucket.waitTime(amount, now);
            if (amount > burst) {
              expect(wait).toBe(Number.POSITIVE_INFINITY);
              continue;
            }
            if (wait === 0) {
              bucket.take(amount, now);
              log.push({ at: now, weight: amount });
            } else {
              // The wait is enough: at now + wait the amount fits.
              expect(bucket.waitTime(amount, now + wait)).toBe(0);
            }
          }
          for (const start of log) {
            for (const span of [windowMs, windowMs / 2, windowMs * 3]) {
              let sum = 0;
              for (const e of log) if (e.at >= start.at && e.at <= start.at + span) sum += e.weight;
              expect(sum).toBeLessThanOrEqual(burst + (limit * span) / windowMs + 1e-6);
            }
          }
        },
      ),
    );
  });
});

describe('TokenBucket, held reservations (the provider governor)', () => {
  it('refills only up to capacity less what is in flight, from each reply on', () => {
    const bucket = new TokenBucket(rate(10, 1000, 10), 0); // 1 per 100 ms
    const first = bucket.take(4, 0, true);
    expect(bucket.available(500)).toBe(6); // full, but for the 4 on their way
    const second = bucket.take(6, 0, true);
    expect(bucket.available(500)).toBe(0); // the provider may not have either yet: no refill
    expect(bucket.waitTime(1, 500)).toBeGreaterThan(0);
    bucket.reanchor(first, 700); // its reply: the provider had it by now
    expect(bucket.available(700)).toBe(0);
    expect(bucket.available(900)).toBeCloseTo(2);
    expect(bucket.available(2000)).toBeCloseTo(4); // up to 10 less the 6 still in flight
    bucket.reanchor(second, 2000);
    expect(bucket.available(2100)).toBeCloseTo(5);
    bucket.reanchor(second, 2100); // twice is once
    expect(bucket.available(10_000)).toBe(10);
    // Unheld takes refill from the take, as before.
    const plain = new TokenBucket(rate(10, 1000, 10), 0);
    plain.take(10, 0);
    expect(plain.available(500)).toBeCloseTo(5);
  });

  it('never admits what a provider bucket, reached some time after each send and before its reply, would refuse', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            weight: fc.integer({ min: 1, max: 10 }),
            delay: fc.integer({ min: 0, max: 400 }),
            reply: fc.integer({ min: 0, max: 300 }),
          }),
          { minLength: 1, maxLength: 40 },
        ),
        (requests) => {
          const spec = rate(20, 1000, 20);
          const ours = new TokenBucket(spec, 0);
          const provider = new TokenBucket(spec, 0);
          const arrivals: { at: number; weight: number }[] = [];
          const replies: { at: number; handle: object }[] = [];
          let next = 0;
          for (let now = 0; now <= 40_000 && (next < requests.length || replies.length > 0); now++) {
            for (const a of arrivals.filter((x) => x.at === now)) {
              expect(provider.waitTime(a.weight, now)).toBe(0); // the provider admits it: no 429
              provider.take(a.weight, now);
            }
            for (const r of replies.filter((x) => x.at === now)) ours.reanchor(r.handle, now);
            replies.splice(0, replies.length, ...replies.filter((x) => x.at > now));
            while (next < requests.length && ours.waitTime(requests[next]!.weight, now) === 0) {
              const { weight, delay, reply } = requests[next++]!;
              const handle = ours.take(weight, now, true);
              arrivals.push({ at: now + delay, weight });
              replies.push({ at: now + delay + reply, handle });
            }
          }
          expect(next).toBe(requests.length); // and everything got through
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('SlidingWindow', () => {
  it('admits exactly the limit per window and frees each admission one window after it', () => {
    const window = new SlidingWindow(rate(3, 1000));
    window.take(1, 0);
    window.take(1, 100);
    window.take(1, 200);
    expect(window.waitTime(1, 500)).toBe(500); // the t=0 admission leaves at 1000
    expect(window.waitTime(2, 500)).toBe(600); // needs the t=100 one gone too
    expect(window.waitTime(1, 1000)).toBe(0);
    expect(window.waitTime(4, 0)).toBe(Number.POSITIVE_INFINITY);
  });

  it('settles against the original admission: refunds free capacity at once, shortfalls are debt', () => {
    const window = new SlidingWindow(rate(100, 1000));
    const r = window.take(80, 0);
    window.adjust(r, -50, 10);
    expect(window.available(10)).toBe(70);
    window.adjust(r, 90, 20);
    expect(window.available(20)).toBe(-20);
    expect(window.waitTime(1, 20)).toBe(980);
    window.adjust(r, -500, 1500); // already outside the window: ignored
    expect(window.available(1500)).toBe(100);
  });

  it('never exceeds its limit in any window and its waits are exact (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 5, max: 1000 }),
        fc.array(
          fc.record({
            dt: fc.integer({ min: 0, max: 200 }),
            amount: fc.integer({ min: 1, max: 45 }),
            refund: fc.integer({ min: 0, max: 10 }),
          }),
          { maxLength: 150 },
        ),
        (limit, windowMs, steps) => {
          const window = new SlidingWindow(rate(limit, windowMs));
          const log: { at: number; weight: number }[] = [];
          let now = 0;
          for (const { dt, amount, refund } of steps) {
            now += dt;
            const wait = window.waitTime(amount, now);
            if (amount > limit) {
              expect(wait).toBe(Number.POSITIVE_INFINITY);
              continue;
            }
            if (wait === 0) {
              const entry = { at: now, weight: amount };
              const r = window.take(amount, now);
              const back = Math.min(refund, amount);
              window.adjust(r, -back, now);
              entry.weight -= back;
              log.push(entry);
            } else {
              expect(window.waitTime(amount, now + wait)).toBe(0);
              if (wait > 1) expect(window.waitTime(amount, now + wait - 1)).toBeGreaterThan(0);
            }
          }
          expect(maxInAnyWindow(log, windowMs)).toBeLessThanOrEqual(limit);
        },
      ),
    );
  });
});
