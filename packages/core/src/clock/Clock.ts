/** An opaque handle returned by {@link Clock.setTimeout}. */
export type TimerHandle = { readonly __timer: unique symbol } | object;

/**
 * The source of time for everything in Tollgate. All limit math reads `now()` from an
 * injected clock, so the same code runs on the wall clock in production and on a
 * {@link ManualClock} in tests.
 */
export interface Clock {
  /** Milliseconds since an arbitrary fixed origin; never goes backwards. */
  now(): number;
  /**
   * Runs `fn` once after `ms` milliseconds: never earlier, however long the delay. `ms` of
   * 0 or less (or `NaN`) runs it as soon as possible; `Infinity` never runs it.
   */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  /** Cancels a timer; unknown or already-fired handles are ignored. */
  clearTimeout(handle: TimerHandle): void;
}

/** The delay a clock waits for `ms`: `NaN` and negatives are 0, `Infinity` stays (never fires). */
export function timerDelay(ms: number): number {
  return ms > 0 ? ms : 0;
}
