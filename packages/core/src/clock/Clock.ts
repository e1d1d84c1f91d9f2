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
  /** Runs `fn` once after `ms` milliseconds (0 or more). */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  /** Cancels a timer; unknown or already-fired handles are ignored. */
  clearTimeout(handle: TimerHandle): void;
}
