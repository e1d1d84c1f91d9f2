// ManualClock: a clock that moves only when advanced, for tests of time-dependent logic.
import { type Clock, type TimerHandle, timerDelay } from './Clock.js';

interface ManualTimer {
  readonly due: number;
  readonly seq: number;
  readonly fn: () => void;
}

/**
 * A clock that only moves when told to. `advance(ms)` fires every timer that falls due,
 * in order of due time (then of scheduling), with `now()` set to each timer's due time
 * while it runs; timers scheduled by a firing timer fire in the same advance if they
 * fall due within it. Delays follow {@link Clock.setTimeout}: any length is exact, and a
 * timer of `Infinity` never fires (it is not pending).
 *
 * @example
 * const clock = new ManualClock();
 * clock.setTimeout(() => console.log(clock.now()), 1_000);
 * clock.advance(1_000); // logs 1000
 */
export class ManualClock implements Clock {
  #now: number;
  #seq = 0;
  #timers = new Set<ManualTimer>();

  constructor(startMs = 0) {
    this.#now = startMs;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer: ManualTimer = { due: this.#now + timerDelay(ms), seq: this.#seq++, fn };
    if (timer.due !== Number.POSITIVE_INFINITY) this.#timers.add(timer);
    return timer;
  }

  clearTimeout(handle: TimerHandle): void {
    this.#timers.delete(handle as ManualTimer);
  }

  /** Number of timers not yet fired or cleared. */
  get pendingTimers(): number {
    return this.#timers.size;
  }

  /** Moves time forward by `ms`, firing due timers synchronously, in order. */
  advance(ms: number): void {
    const target = this.#now + ms;
    for (let timer = this.#nextDue(target); timer; timer = this.#nextDue(target)) {
      this.#timers.delete(timer);
      this.#now = Math.max(this.#now, timer.due);
      timer.fn();
    }
    this.#now = Math.max(this.#now, target);
  }

  /**
   * Like {@link advance}, but lets promise callbacks run after each timer, so async code
   * woken by a timer can schedule its next timer before time moves on. Use this to drive
   * code that awaits between timers.
   */
  async advanceAsync(ms: number): Promise<void> {
    const target = this.#now + ms;
    await flushMicrotasks();
    for (let timer = this.#nextDue(target); timer; timer = this.#nextDue(target)) {
      this.#timers.delete(timer);
      this.#now = Math.max(this.#now, timer.due);
      timer.fn();
      await flushMicrotasks();
    }
    this.#now = Math.max(this.#now, target);
    await flushMicrotasks();
  }

  /** Advances to the next pending timer and fires it (and any due at the same instant). */
  async runNext(): Promise<boolean> {
    const next = this.#nextDue(Number.POSITIVE_INFINITY);
    if (!next) return false;
    await this.advanceAsync(next.due - this.#now);
    return true;
  }

  #nextDue(limit: number): ManualTimer | undefined {
    let best: ManualTimer | undefined;
    for (const t of this.#timers) {
      if (t.due > limit) continue;
      if (!best || t.due < best.due || (t.due === best.due && t.seq < best.seq)) best = t;
    }
    return best;
  }
}

/** Lets pending promise callbacks (and the callbacks they schedule) run. */
export async function flushMicrotasks(): Promise<void> {
  await new Promise<void>((resolve) => setImmediate(resolve));
}
