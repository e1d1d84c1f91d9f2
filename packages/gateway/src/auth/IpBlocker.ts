// Blocks a client address for a while after repeated failed authentications.
import type { Clock } from '@tollgate/core';

interface Record {
  failures: number[];
  blockedUntil: number;
}

/** Limits of {@link IpBlocker}. */
export interface IpBlockerLimits {
  readonly maxFailures: number;
  readonly windowMs: number;
  readonly blockMs: number;
}

/**
 * Counts failed authentications per address; `maxFailures` within `windowMs` block the
 * address for `blockMs`. A success does not clear the count (a stolen key must not
 * launder guessing). Memory stays bounded: addresses with nothing recent are forgotten.
 */
export class IpBlocker {
  readonly #limits: IpBlockerLimits;
  readonly #clock: Clock;
  readonly #records = new Map<string, Record>();

  constructor(limits: IpBlockerLimits, clock: Clock) {
    this.#limits = limits;
    this.#clock = clock;
  }

  /** Ms until `ip` is unblocked, or 0 when it is not blocked. */
  blockedFor(ip: string): number {
    const r = this.#records.get(ip);
    if (!r) return 0;
    const left = r.blockedUntil - this.#clock.now();
    if (left > 0) return left;
    if (r.blockedUntil > 0) this.#records.delete(ip); // the block is over: start afresh
    return 0;
  }

  /** Records a failed authentication; returns the block's length when this one blocks `ip`. */
  failure(ip: string): number {
    const now = this.#clock.now();
    const r = this.#records.get(ip) ?? { failures: [], blockedUntil: 0 };
    r.failures = r.failures.filter((t) => t > now - this.#limits.windowMs);
    r.failures.push(now);
    this.#records.set(ip, r);
    if (this.#records.size > 10_000) this.#prune(now);
    if (r.failures.length < this.#limits.maxFailures) return 0;
    r.blockedUntil = now + this.#limits.blockMs;
    r.failures = [];
    return this.#limits.blockMs;
  }

  /** Addresses blocked now. */
  get blocked(): number {
    const now = this.#clock.now();
    let n = 0;
    for (const r of this.#records.values()) if (r.blockedUntil > now) n++;
    return n;
  }

  #prune(now: number): void {
    for (const [ip, r] of this.#records)
      if (r.blockedUntil <= now && r.failures.every((t) => t <= now - this.#limits.windowMs))
        this.#records.delete(ip);
  }
}
