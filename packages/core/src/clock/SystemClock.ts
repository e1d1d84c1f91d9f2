import type { Clock, TimerHandle } from './Clock.js';

/**
 * The wall clock: monotonic `performance.now()` time and Node timers. Timers are not
 * `unref`'d: a governor only holds a timer while someone waits on it, and a pending
 * promise alone would not keep the process alive until the wait ends.
 */
export class SystemClock implements Clock {
  now(): number {
    return performance.now();
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    // Round up: a timer must never fire before the moment a limit said capacity frees.
    return setTimeout(fn, Math.max(0, Math.ceil(ms)));
  }

  clearTimeout(handle: TimerHandle): void {
    clearTimeout(handle as NodeJS.Timeout);
  }
}

/** One shared wall clock, the default wherever a clock is optional. */
export const systemClock: Clock = new SystemClock();
