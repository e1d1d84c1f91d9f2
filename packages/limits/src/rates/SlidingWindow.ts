import type { ResolvedRate } from '../config/ResourceLimits.js';
import { EPSILON, type RateLimiter, type RateReservation } from './RateLimiter.js';

interface Entry {
  readonly at: number;
  weight: number;
}

/**
 * An exact sliding window (a log of weighted admissions): the weights admitted in any
 * half-open interval of `windowMs` never exceed `limit`, for providers that enforce
 * strict windows. Memory is one small entry per admission still inside the window.
 */
export class SlidingWindow implements RateLimiter {
  readonly name: string;
  readonly resource: string;
  readonly algorithm = 'sliding-window' as const;
  readonly limit: number;
  readonly windowMs: number;
  readonly capacity: number;
  #entries: Entry[] = [];
  #head = 0;
  #used = 0;

  constructor(rate: Omit<ResolvedRate, 'algorithm' | 'burst'>) {
    this.name = rate.name;
    this.resource = rate.resource;
    this.limit = rate.limit;
    this.windowMs = rate.windowMs;
    this.capacity = rate.limit;
  }

  available(now: number): number {
    return this.limit - this.#usedAt(now).used;
  }

  waitTime(amount: number, now: number): number {
    if (amount > this.limit + EPSILON) return Number.POSITIVE_INFINITY;
    const { used, first } = this.#usedAt(now);
    let excess = used + amount - this.limit;
    if (excess <= EPSILON * Math.max(1, this.limit)) return 0;
    // Walk the oldest admissions until enough weight has left the window.
    for (let i = first; i < this.#entries.length; i++) {
      const entry = this.#entries[i]!;
      excess -= entry.weight;
      if (excess <= EPSILON * Math.max(1, this.limit)) return Math.max(1, entry.at + this.windowMs - now);
    }
    return this.windowMs; // unreachable while used and amount are finite; a safe upper bound
  }

  take(amount: number, now: number): RateReservation {
    this.#prune(now);
    const entry: Entry = { at: now, weight: amount };
    this.#entries.push(entry);
    this.#used += amount;
    return entry;
  }

  adjust(reservation: RateReservation, delta: number, now: number): void {
    this.#prune(now);
    const entry = reservation as Entry;
    // An admission that has left the window no longer affects any window that matters.
    if (entry.at + this.windowMs <= now) return;
    const weight = Math.max(0, entry.weight + delta);
    this.#used += weight - entry.weight;
    entry.weight = weight;
  }

  /**
   * Weight inside the window at `now` and the index of its oldest entry, without moving
   * state: only take and adjust prune, so queries about the future change nothing.
   */
  #usedAt(now: number): { used: number; first: number } {
    let used = this.#used;
    let i = this.#head;
    for (; i < this.#entries.length && this.#entries[i]!.at + this.windowMs <= now; i++)
      used -= this.#entries[i]!.weight;
    return { used, first: i };
  }

  #prune(now: number): void {
    const entries = this.#entries;
    let head = this.#head;
    while (head < entries.length && entries[head]!.at + this.windowMs <= now) {
      this.#used -= entries[head]!.weight;
      head++;
    }
    if (head === entries.length) {
      this.#entries = [];
      this.#head = 0;
      this.#used = 0; // drop accumulated float drift whenever the window empties
    } else if (head > 1024 && head * 2 > entries.length) {
      this.#entries = entries.slice(head);
      this.#head = 0;
    } else {
      this.#head = head;
    }
  }
}
