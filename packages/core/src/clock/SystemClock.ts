import type { Clock, TimerHandle } from './Clock.js';

/**
 * The wall clock: monotonic `performance.now()` time and Node timers. Timers are
 * `unref`'d so a governor waiting on its head-of-queue timer never keeps a process alive
 * by itself; the pending promises of the callers do that.
 */
export class SystemClock implements Clock {
  now(): number {
    return performance.now();
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    // Round up: a timer must never fire before the moment a limit said capacity frees.
    const timer = setTimeout(fn, Math.max(0, Math.ceil(ms)));
    timer.unref?.();
    return timer;
  }

  clearTimeout(handle: TimerHandle): void {
    clearTimeout(handle as NodeJS.Timeout);
  }
}

/** One shared wall clock, the default wherever a clock is optional. */
export const systemClock: Clock = new SystemClock();
