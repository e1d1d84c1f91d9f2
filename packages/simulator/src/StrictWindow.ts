/**
 * The provider's own accounting: an exact log of admissions per window, independent of
 * Tollgate's limiters so that it can referee them. `limit` per `windowMs`, never more in
 * any window; what is refused is not recorded.
 */
export class StrictWindow {
  readonly limit: number;
  readonly windowMs: number;
  #log: { at: number; weight: number }[] = [];
  #used = 0;
  /** The most weight ever inside one window. */
  maxSeen = 0;

  constructor(limit: number, windowMs: number) {
    this.limit = limit;
    this.windowMs = windowMs;
  }

  used(now: number): number {
    this.#prune(now);
    return this.#used;
  }

  remaining(now: number): number {
    return Math.max(0, this.limit - this.used(now));
  }

  /** Milliseconds until `weight` fits (0 if it fits now). */
  retryAfterMs(weight: number, now: number): number {
    this.#prune(now);
    let excess = this.#used + weight - this.limit;
    if (excess <= 0) return 0;
    for (const entry of this.#log) {
      excess -= entry.weight;
      if (excess <= 0) return entry.at + this.windowMs - now;
    }
    return this.windowMs;
  }

  /** Milliseconds until everything now in the window has left it. */
  resetMs(now: number): number {
    this.#prune(now);
    const last = this.#log.at(-1);
    return last ? last.at + this.windowMs - now : 0;
  }

  add(weight: number, now: number): void {
    this.#prune(now);
    this.#log.push({ at: now, weight });
    this.#used += weight;
    this.maxSeen = Math.max(this.maxSeen, this.#used);
  }

  #prune(now: number): void {
    let i = 0;
    while (i < this.#log.length && this.#log[i]!.at + this.windowMs <= now)
      this.#used -= this.#log[i++]!.weight;
    if (i > 0) this.#log.splice(0, i);
    if (this.#log.length === 0) this.#used = 0;
  }
}
