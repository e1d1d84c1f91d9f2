// TokenBucket: a rate limit as a bucket refilled continuously, with burst and debt.
import type { ResolvedRate } from '../config/ResourceLimits.js';
import { EPSILON, type RateLimiter, type RateReservation } from './RateLimiter.js';

const NO_HANDLE: RateReservation = Object.freeze({});

/**
 * A token bucket: holds up to `burst` units, refills continuously at `limit / windowMs`
 * per ms, starts full. Over any interval of length W it admits at most
 * `burst + limit × W / windowMs`. Settlement can take it below zero (debt), which later
 * callers wait out.
 */
export class TokenBucket implements RateLimiter {
  readonly name: string;
  readonly resource: string;
  readonly algorithm = 'token-bucket' as const;
  readonly limit: number;
  readonly windowMs: number;
  readonly capacity: number;
  readonly #perMs: number;
  #level: number;
  #last: number;

  constructor(rate: Omit<ResolvedRate, 'algorithm'>, now: number) {
    this.name = rate.name;
    this.resource = rate.resource;
    this.limit = rate.limit;
    this.windowMs = rate.windowMs;
    this.capacity = rate.burst;
    this.#perMs = rate.limit / rate.windowMs;
    this.#level = rate.burst;
    this.#last = now;
  }

  available(now: number): number {
    return this.#levelAt(now);
  }

  waitTime(amount: number, now: number): number {
    if (amount > this.capacity + EPSILON) return Number.POSITIVE_INFINITY;
    const deficit = amount - this.#levelAt(now);
    if (deficit <= EPSILON * Math.max(1, this.capacity)) return 0;
    return Math.ceil(deficit / this.#perMs);
  }

  take(amount: number, now: number, _held?: boolean): RateReservation {
    this.#refill(now);
    this.#level -= amount;
    return NO_HANDLE;
  }

  adjust(_reservation: RateReservation, delta: number, now: number): void {
    this.#refill(now);
    this.#level = Math.min(this.capacity, this.#level - delta);
  }

  /** The level at `now`, without moving state: queries about the future change nothing. */
  #levelAt(now: number): number {
    if (now <= this.#last) return this.#level;
    return Math.min(this.capacity, this.#level + (now - this.#last) * this.#perMs);
  }

  reanchor(): void {
    // A bucket keeps no admission times: nothing to move.
  }

  #refill(now: number): void {
    if (now <= this.#last) return;
    this.#level = this.#levelAt(now);
    this.#last = now;
  }
}
