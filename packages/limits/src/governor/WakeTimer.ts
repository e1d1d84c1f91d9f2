// One timer armed for a due time, re-armed only when the time changes.
import type { Clock, TimerHandle } from '@tollgate/core';

/**
 * Calls `wake` at the due clock time set last (`Infinity`: never). Setting the time it is
 * already due at costs nothing, so a scan can set it after every pass.
 */
export class WakeTimer {
  readonly #clock: Clock;
  readonly #wake: () => void;
  #handle: TimerHandle | undefined;
  #due = Number.POSITIVE_INFINITY;

  constructor(clock: Clock, wake: () => void) {
    this.#clock = clock;
    this.#wake = wake;
  }

  /** The clock time it fires at, or `undefined` when unarmed. */
  get due(): number | undefined {
    return Number.isFinite(this.#due) ? this.#due : undefined;
  }

  set(due: number): void {
    if (due === this.#due) return;
    if (this.#handle !== undefined) this.#clock.clearTimeout(this.#handle);
    this.#handle = undefined;
    this.#due = due;
    if (due === Number.POSITIVE_INFINITY) return;
    this.#handle = this.#clock.setTimeout(() => {
      this.#handle = undefined;
      this.#due = Number.POSITIVE_INFINITY;
      this.#wake();
    }, due - this.#clock.now());
  }
}
