// The RateLimiter interface every rate algorithm implements, and how a rate is described.
import type { RateAlgorithm, ResolvedRate } from '../config/ResourceLimits.js';

/** What a {@link RateLimiter.take} returns; pass it back to `adjust` when settling. */
export type RateReservation = object;

/** One rate limit as governors and stores describe it, wherever it is enforced. */
export interface RateInfo {
  readonly name: string;
  /** The cost key it charges (`requests`, `tokens`, ...). */
  readonly resource: string;
  readonly algorithm: RateAlgorithm;
  /** Units per window. */
  readonly limit: number;
  readonly windowMs: number;
  /** The largest amount that can ever be taken at once (a bucket's burst); more never fits. */
  readonly capacity: number;
}

/**
 * A rate limit as pure math over time: no timers, no I/O. Every method takes `now` (ms)
 * from the caller's clock. Amounts are weights (a call costing 1,200 tokens is one
 * `take(1200)`).
 */
export interface RateLimiter extends RateInfo {
  /** What could be taken now (negative while in debt). */
  available(now: number): number;
  /** Milliseconds until `amount` fits: 0 if it fits now, `Infinity` if it never will. */
  waitTime(amount: number, now: number): number;
  /**
   * Takes `amount` unconditionally (callers check `waitTime` first); may go into debt.
   * A `held` reservation does not leave a sliding window until it is re-anchored.
   */
  take(amount: number, now: number, held?: boolean): RateReservation;
  /**
   * Corrects a reservation by `delta` (positive charges more, negative refunds). A refund
   * never raises availability above capacity; a charge may push the limit into debt.
   */
  adjust(reservation: RateReservation, delta: number, now: number): void;
  /**
   * Counts a reservation from `now` instead of from when it was taken, and ends its hold
   * (a sliding window moves the admission; a bucket stops counting it as in flight, which
   * lowered what it refills up to). Only ever moves usage later, so it can only admit
   * less, never more. `at` (at most `now`; default `now`) is when the admission really
   * happened, if known: a sliding window counts it from `at`, never before it was taken.
   */
  reanchor(reservation: RateReservation, now: number, at?: number): void;
}

/** Slack for floating-point refill math: amounts within this of fitting fit. */
export const EPSILON = 1e-9;

/** Describes a rate for messages: `tokensPerMinute (10000 per 60000 ms, token-bucket)`. */
export function describeRate(rate: Pick<ResolvedRate, 'name' | 'limit' | 'windowMs' | 'algorithm'>): string {
  return `${rate.name} (${rate.limit} per ${rate.windowMs} ms, ${rate.algorithm})`;
}
