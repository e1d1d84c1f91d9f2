import { type Clock, type TimerHandle, timerDelay } from './Clock.js';

/** The longest delay Node's `setTimeout` honours (2^31-1 ms, about 24.8 days); longer ones fire after 1 ms. */
export const MAX_NATIVE_DELAY_MS = 2 ** 31 - 1;

/** A timer longer than one native timer can wait: a chain of native timers towards `due`. */
class LongTimer {
  readonly #clock: Clock;
  readonly #due: number;
  readonly #fn: () => void;
  #native: NodeJS.Timeout | undefined;

  constructor(clock: Clock, delay: number, fn: () => void) {
    this.#clock = clock;
    this.#due = clock.now() + delay;
    this.#fn = fn;
    this.#arm();
  }

  #arm(): void {
    const remaining = this.#due - this.#clock.now();
    this.#native = setTimeout(
      () => (remaining > MAX_NATIVE_DELAY_MS ? this.#arm() : this.#fn()),
      Math.max(0, Math.min(MAX_NATIVE_DELAY_MS, Math.ceil(remaining))),
    );
  }

  clear(): void {
    clearTimeout(this.#native);
  }
}

/** The handle of a timer that never fires (`Infinity`). */
const NEVER: TimerHandle = Object.freeze({});

/**
 * The wall clock: monotonic `performance.now()` time and Node timers. Timers are not
 * `unref`'d: a governor only holds a timer while someone waits on it, and a pending
 * promise alone would not keep the process alive until the wait ends. Delays longer than
 * a native timer can wait (about 24.8 days) are chained; `Infinity` arms nothing.
 */
export class SystemClock implements Clock {
  now(): number {
    return performance.now();
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const delay = timerDelay(ms);
    if (delay === Number.POSITIVE_INFINITY) return NEVER;
    if (delay > MAX_NATIVE_DELAY_MS) return new LongTimer(this, delay, fn);
    // Round up: a timer must never fire before the moment a limit said capacity frees.
    return setTimeout(fn, Math.ceil(delay));
  }

  clearTimeout(handle: TimerHandle): void {
    if (handle instanceof LongTimer) handle.clear();
    else if (handle !== NEVER) clearTimeout(handle as NodeJS.Timeout);
  }
}

/** One shared wall clock, the default wherever a clock is optional. */
export const systemClock: Clock = new SystemClock();
