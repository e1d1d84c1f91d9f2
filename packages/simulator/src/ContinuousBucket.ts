// A token bucket with continuous refill: how Anthropic enforces its RPM, ITPM and OTPM.

/**
 * At most `capacity` units at once, refilled continuously at `capacity` per `windowMs`
 * (a full bucket again one window after it was emptied). Units taken can be given back
 * (an output reservation corrected to what was really produced), never above capacity.
 */
export class ContinuousBucket {
  readonly capacity: number;
  readonly windowMs: number;
  #level: number;
  #at: number | undefined;

  constructor(capacity: number, windowMs: number) {
    this.capacity = capacity;
    this.windowMs = windowMs;
    this.#level = capacity;
  }

  /** Units available at `now`. */
  level(now: number): number {
    if (this.#at !== undefined && now > this.#at) {
      this.#level = Math.min(this.capacity, this.#level + ((now - this.#at) * this.capacity) / this.windowMs);
    }
    this.#at = Math.max(now, this.#at ?? now);
    return this.#level;
  }

  /** Milliseconds until `cost` units are available (0 if they are now). */
  waitMs(cost: number, now: number): number {
    const missing = cost - this.level(now);
    // A millionth of a unit of slack: refill arithmetic in floating point must not refuse an exact fit.
    return missing <= 1e-6 ? 0 : (missing * this.windowMs) / this.capacity;
  }

  /** Milliseconds until the bucket is full again. */
  fullInMs(now: number): number {
    return ((this.capacity - this.level(now)) * this.windowMs) / this.capacity;
  }

  take(cost: number, now: number): void {
    this.#level = this.level(now) - cost;
  }

  give(amount: number, now: number): void {
    this.#level = Math.min(this.capacity, this.level(now) + amount);
  }
}
