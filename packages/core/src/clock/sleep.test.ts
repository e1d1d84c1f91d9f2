import { describe, expect, it } from 'vitest';
import { AbortError, TaskTimeoutError } from '../errors/errors.js';
import { ManualClock } from './ManualClock.js';
import { sleep } from './sleep.js';

describe('sleep', () => {
  it('resolves after ms on the clock and rejects at once on abort, with the signal reason', async () => {
    const clock = new ManualClock();
    let done = false;
    const nap = sleep(clock, 100).then(() => {
      done = true;
    });
    await clock.advanceAsync(99);
    expect(done).toBe(false);
    await clock.advanceAsync(1);
    await nap;
    expect(done).toBe(true);
    const controller = new AbortController();
    const aborted = sleep(clock, 1_000, controller.signal);
    controller.abort(new TaskTimeoutError(5));
    await expect(aborted).rejects.toSatisfy(TaskTimeoutError.is);
    expect(clock.pendingTimers).toBe(0);
    await expect(sleep(clock, 1, AbortSignal.abort())).rejects.toSatisfy(AbortError.is);
    await sleep(clock, 0); // resolves without a timer
    expect(clock.pendingTimers).toBe(0);
  });
});
