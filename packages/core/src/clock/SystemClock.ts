// SystemClock: the real clock, whose timers never fire before their deadline.
import { type Clock, type TimerHandle, timerDelay } from './Clock.js';

/** The longest delay Node's `setTimeout` honours (2^31-1 ms, about 24.8 days); longer ones fire after 1 ms. */
export const MAX_NATIVE_DELAY_MS = 2 ** 31 - 1;

/**
 * A timer towards a deadline on this clock. Node fires a native timer by its own
 * millisecond loop time, which can run up to 1 ms ahead of `performance.now()`, and fires
 * a delay past 2^31-1 ms after 1 ms: a timer that fires early (for either reason) is armed
 * again for what is left, so `fn` never runs before the deadline.
 */
class DeadlineTimer {
  readonly #clock: Clock;
  readonly #due: number;
  readonly #fn: () => void;
  #native: NodeJS.Timeout | undefined;

  constructor(clock: Clock, delay: number, fn: () => void) {
    this.#clock = clock;
    this.#due = clock.now() + delay;
    this.#fn = fn;
    this.#arm(delay);
  }

  #arm(remaining: number): void {
    this.#native = setTimeout(this.#fire, Math.min(MAX_NATIVE_DELAY_MS, Math.ceil(remaining)));
  }

  readonly #fire = (): void => {
    const remaining = this.#due - this.#clock.now();
    if (remaining > 0) this.#arm(remaining);
    else this.#fn();
  };

  clear(): void {
    clearTimeout(this.#native);
  }

  /** Whether the pending native timer keeps the process alive (it does). */
  hasRef(): boolean {
    return this.#native?.hasRef() ?? false;
  }
}

/** The clock's origin: the whole second of `process.hrtime()` when this module loaded. */
const ORIGIN_SECONDS = process.hrtime()[0];

/** The handle of a timer that never fires (`Infinity`). */
const NEVER: TimerHandle = Object.freeze({});

/**
 * The wall clock: monotonic time (milliseconds since this module loaded) and Node timers. Timers are not
 * `unref`'d: a governor only holds a timer while someone waits on it, and a pending
 * promise alone would not keep the process alive until the wait ends. Delays longer than
 * a native timer can wait (about 24.8 days) are chained, a native timer that fires before
 * its deadline (Node's loop time runs up to 1 ms ahead) is armed again, and `Infinity`
 * arms nothing.
 */
export class SystemClock implements Clock {
  now(): number {
    // The monotonic clock `performance.now()` reads too, at full resolution and read afresh
    // on every call, without the receiver check Node 20's `performance.now()` makes: every
    // acquire reads the clock once, and this is the cheaper read (measured).
    const t = process.hrtime();
    return (t[0] - ORIGIN_SECONDS) * 1000 + t[1] / 1e6;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const delay = timerDelay(ms);
    if (delay === Number.POSITIVE_INFINITY) return NEVER;
    // A timer must never fire before the moment a limit said capacity frees.
    return new DeadlineTimer(this, delay, fn);
  }

  clearTimeout(handle: TimerHandle): void {
    if (handle instanceof DeadlineTimer) handle.clear();
    else if (handle !== NEVER) clearTimeout(handle as NodeJS.Timeout);
  }
}

/** One shared wall clock, the default wherever a clock is optional. */
export const systemClock: Clock = new SystemClock();
