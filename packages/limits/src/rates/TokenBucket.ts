// TokenBucket: a rate limit as a bucket refilled continuously, with burst and debt.
import type { ResolvedRate } from '../config/ResourceLimits.js';
import { EPSILON, type RateLimiter, type RateReservation } from './RateLimiter.js';

const NO_HANDLE: RateReservation = Object.freeze({});

/** A held reservation: counted as in flight until its hold ends. */
interface HeldTake {
  readonly amount: number;
  open: boolean;
}

/**
 * A token bucket: holds up to `burst` units, refills continuously at `limit / windowMs`
 * per ms, starts full. Over any interval of length W it admits at most
 * `burst + limit × W / windowMs`. Settlement can take it below zero (debt), which later
 * callers wait out.
 *
 * Held reservations (the provider governor's) are in flight until their hold ends: the
 * provider charges each when it receives it, somewhere before its reply, and until then
 * its own bucket may be full and losing its refill. So the level refills only up to
 * `capacity` less what is in flight, which keeps it at or below the provider's (net of
 * what is on its way) however late requests arrive: a full bucket sending a burst refills
 * from the burst's replies, not from its send.
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
  /** What held reservations in flight add up to. */
  #inFlight = 0;

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
    // The level only refills as time passes: what fits the stored level fits now.
    if (amount <= this.#level) return 0;
    if (amount > this.capacity + EPSILON) return Number.POSITIVE_INFINITY;
    const deficit = amount - this.#levelAt(now);
    if (deficit <= EPSILON * Math.max(1, this.capacity)) return 0;
    return Math.ceil(deficit / this.#perMs);
  }

  take(amount: number, now: number, held?: boolean): RateReservation {
    this.#refill(now);
    this.#level -= amount;
    if (!held || amount <= 0) return NO_HANDLE;
    this.#inFlight += amount;
    return { amount, open: true } satisfies HeldTake;
  }

  adjust(_reservation: RateReservation, delta: number, now: number): void {
    this.#refill(now);
    this.#level = Math.min(Math.max(this.#level, this.#ceiling()), this.#level - delta);
  }

  /** The level at `now`, without moving state: queries about the future change nothing. */
  #levelAt(now: number): number {
    const ceiling = this.#ceiling();
    if (now <= this.#last || this.#level >= ceiling) return this.#level;
    return Math.min(ceiling, this.#level + (now - this.#last) * this.#perMs);
  }

  /** What the level refills up to: capacity, less the held reservations in flight. */
  #ceiling(): number {
    return this.capacity - this.#inFlight;
  }

  /** Ends a held reservation's flight (the provider has it): the level may refill above it again. */
  reanchor(reservation: RateReservation, now: number): void {
    const held = reservation as Partial<HeldTake>;
    if (held.open !== true || held.amount === undefined) return;
    this.#refill(now);
    held.open = false;
    this.#inFlight = Math.max(0, this.#inFlight - held.amount);
  }

  #refill(now: number): void {
    if (now <= this.#last) return;
    this.#level = this.#levelAt(now);
    this.#last = now;
  }
}
