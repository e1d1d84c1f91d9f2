import { describe, expect, it } from 'vitest';
import { ManualClock } from './ManualClock.js';

describe('ManualClock', () => {
  it('fires due timers in order of due time, then of scheduling, at their due time', () => {
    const clock = new ManualClock(100);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push(`b@${clock.now()}`), 20);
    clock.setTimeout(() => fired.push(`a@${clock.now()}`), 10);
    clock.setTimeout(() => fired.push(`c@${clock.now()}`), 20);
    clock.setTimeout(() => fired.push('late'), 31);
    clock.advance(30);
    expect(fired).toEqual(['a@110', 'b@120', 'c@120']);
    expect(clock.now()).toBe(130);
    expect(clock.pendingTimers).toBe(1);
  });

  it('fires timers scheduled by a firing timer when they fall due within the same advance', () => {
    const clock = new ManualClock();
    const fired: number[] = [];
    clock.setTimeout(() => {
      fired.push(clock.now());
      clock.setTimeout(() => fired.push(clock.now()), 5);
    }, 5);
    clock.advance(10);
    expect(fired).toEqual([5, 10]);
  });

  it('does not fire cleared timers', () => {
    const clock = new ManualClock();
    let fired = false;
    const handle = clock.setTimeout(() => {
      fired = true;
    }, 1);
    clock.clearTimeout(handle);
    clock.advance(5);
    expect(fired).toBe(false);
    expect(clock.pendingTimers).toBe(0);
  });

  it('advanceAsync lets awaiting code schedule its next timer before time moves on', async () => {
    const clock = new ManualClock();
    const sleep = (ms: number) => new Promise<void>((r) => clock.setTimeout(r, ms));
    const seen: number[] = [];
    const loop = (async () => {
      for (let i = 0; i < 3; i++) {
        await sleep(10);
        seen.push(clock.now());
      }
    })();
    await clock.advanceAsync(30);
    await loop;
    expect(seen).toEqual([10, 20, 30]);
  });

  it('runNext jumps to the next timer', async () => {
    const clock = new ManualClock();
    clock.setTimeout(() => {}, 250);
    expect(await clock.runNext()).toBe(true);
    expect(clock.now()).toBe(250);
    expect(await clock.runNext()).toBe(false);
  });
});

describe('ManualClock delays', () => {
  it('models the wall clock: long delays fire exactly on time, Infinity never, NaN at once', async () => {
    const clock = new ManualClock();
    const fired: string[] = [];
    clock.setTimeout(() => fired.push(`long@${clock.now()}`), 30 * 86_400_000);
    clock.setTimeout(() => fired.push('never'), Number.POSITIVE_INFINITY);
    clock.setTimeout(() => fired.push(`nan@${clock.now()}`), Number.NaN);
    expect(clock.pendingTimers).toBe(2);
    clock.advance(0);
    expect(fired).toEqual(['nan@0']);
    clock.advance(30 * 86_400_000 - 1);
    expect(fired).toEqual(['nan@0']);
    expect(await clock.runNext()).toBe(true);
    expect(fired).toEqual(['nan@0', `long@${30 * 86_400_000}`]);
    expect(await clock.runNext()).toBe(false); // nothing left: the Infinity timer is not pending
    expect(clock.now()).toBe(30 * 86_400_000);
  });
});
