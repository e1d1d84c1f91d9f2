// Grants a store made ahead of their start: each waits out the rest on this process's own timer.
import type { Clock, TimerHandle } from '@tollgate/core';

interface Pending {
  readonly timer: TimerHandle;
  readonly due: number;
  readonly start: () => void;
}

/**
 * The grants a store made to start a little later (`AcquireReply.startsInMs`), by waiter.
 * Each starts once, at its due clock time, or at `flush` (dispose).
 */
export class DeferredGrants<W> {
  readonly #clock: Clock;
  readonly #pending = new Map<W, Pending>();

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Whether `waiter` was granted and waits for its start. */
  has(waiter: W): boolean {
    return this.#pending.has(waiter);
  }

  /** Calls `start` in `ms`, once. */
  add(waiter: W, ms: number, start: () => void): void {
    const timer = this.#clock.setTimeout(() => {
      this.#pending.delete(waiter);
      start();
    }, ms);
    this.#pending.set(waiter, { timer, due: this.#clock.now() + ms, start });
  }

  /** The clock time `waiter` starts at, if it waits for its start. */
  dueOf(waiter: W): number | undefined {
    return this.#pending.get(waiter)?.due;
  }

  /** The clock time the first one starts at, if any waits. */
  firstDue(): number | undefined {
    let first: number | undefined;
    for (const { due } of this.#pending.values()) first = first === undefined ? due : Math.min(first, due);
    return first;
  }

  /** Starts every one now (on dispose, their waiters are done: their grants are given back). */
  flush(): void {
    for (const [waiter, { timer, start }] of [...this.#pending]) {
      this.#clock.clearTimeout(timer);
      this.#pending.delete(waiter);
      start();
    }
  }
}
