// SlidingWindow: an exact sliding-window rate limit over a log of weighted admissions.
import type { ResolvedRate } from '../config/ResourceLimits.js';
import { EPSILON, type RateLimiter, type RateReservation } from './RateLimiter.js';

interface Entry {
  at: number;
  weight: number;
  /** Held entries stay counted past their window until re-anchored. */
  held: boolean;
}

/**
 * An exact sliding window (a log of weighted admissions): the weights admitted in any
 * half-open interval of `windowMs` never exceed `limit`, for providers that enforce
 * strict windows. Memory is one small entry per admission still inside the window.
 *
 * A held admission (a call still in flight to a provider that counts it on arrival)
 * stays counted until it is re-anchored, then counts for a full window from then.
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
  /** Held entries whose window has passed: out of the log, still counted. */
  #overdue = new Set<Entry>();
  #overdueUsed = 0;

  constructor(rate: Omit<ResolvedRate, 'algorithm' | 'burst'>) {
    this.name = rate.name;
    this.resource = rate.resource;
    this.limit = rate.limit;
    this.windowMs = rate.windowMs;
    this.capacity = rate.limit;
  }

  available(now: number): number {
    return this.limit - this.#usedAt(now).used - this.#overdueUsed;
  }

  waitTime(amount: number, now: number): number {
    if (amount > this.limit + EPSILON) return Number.POSITIVE_INFINITY;
    const { used, first } = this.#usedAt(now);
    let excess = used + this.#overdueUsed + amount - this.limit;
    if (excess <= EPSILON * Math.max(1, this.limit)) return 0;
    // Walk the oldest admissions until enough weight has left the window. Held ones do
    // not leave on their own: their re-anchoring wakes the governor.
    for (let i = first; i < this.#entries.length; i++) {
      const entry = this.#entries[i]!;
      if (entry.held) continue;
      excess -= entry.weight;
      if (excess <= EPSILON * Math.max(1, this.limit)) return Math.max(1, entry.at + this.windowMs - now);
    }
    return this.windowMs; // waiting on held admissions: check again within a window
  }

  take(amount: number, now: number, held = false): RateReservation {
    this.#prune(now);
    const entry: Entry = { at: now, weight: amount, held };
    this.#insert(entry);
    this.#used += amount;
    return entry;
  }

  /**
   * Takes `amount` admitted at `at`, which may lie ahead of `now`: a store's held
   * reservation counts as admitted at the end of its hold until it is settled. Entries
   * stay in time order.
   */
  takeAt(amount: number, at: number, now: number): RateReservation {
    this.#prune(now);
    const entry: Entry = { at, weight: amount, held: false };
    this.#insert(entry);
    this.#used += amount;
    return entry;
  }

  /** Admissions in the log (inside the window as of the last take), for callers that keep handles. */
  get entryCount(): number {
    return this.#entries.length - this.#head;
  }

  /** When a reservation counts from (a held one: when it was taken). */
  startOf(reservation: RateReservation): number {
    return (reservation as Entry).at;
  }

  /** Whether a reservation still counts at `now` (held, or inside the window). */
  counts(reservation: RateReservation, now: number): boolean {
    const entry = reservation as Entry;
    return entry.held || this.#overdue.has(entry) || entry.at + this.windowMs > now;
  }

  /**
   * Counts a reservation admitted after `now` (see {@link takeAt}) from `now`, or from `at`
   * when earlier (callers keep `at` at or after when it was really taken).
   */
  advance(reservation: RateReservation, now: number, at = now): void {
    this.#prune(now);
    const entry = reservation as Entry;
    const start = Math.min(at, now);
    if (entry.at <= start) return;
    const index = this.#indexOf(entry);
    if (index < 0) return;
    this.#entries.splice(index, 1);
    entry.at = start;
    this.#insert(entry);
  }

  adjust(reservation: RateReservation, delta: number, now: number): void {
    this.#prune(now);
    const entry = reservation as Entry;
    const weight = Math.max(0, entry.weight + delta);
    if (this.#overdue.has(entry)) {
      this.#overdueUsed += weight - entry.weight;
    } else {
      // An admission that has left the window no longer affects any window that matters.
      if (entry.at + this.windowMs <= now) return;
      this.#used += weight - entry.weight;
    }
    entry.weight = weight;
  }

  reanchor(reservation: RateReservation, now: number, at = now): void {
    this.#prune(now);
    const entry = reservation as Entry;
    const wasHeld = entry.held;
    entry.held = false;
    // From `at`, never before the admission was taken nor after now.
    const start = Math.min(now, Math.max(at, entry.at));
    if (this.#overdue.delete(entry)) {
      this.#overdueUsed -= entry.weight;
    } else {
      if (entry.at >= start || (!wasHeld && entry.at + this.windowMs <= now)) return;
      const index = this.#indexOf(entry);
      if (index < 0) return;
      this.#entries.splice(index, 1);
      this.#used -= entry.weight;
    }
    entry.at = start;
    if (start + this.windowMs <= now) return; // already out of the window
    this.#insert(entry);
    this.#used += entry.weight;
  }

  /** Puts `entry` after every entry admitted at or before it. */
  #insert(entry: Entry): void {
    const entries = this.#entries;
    const last = entries[entries.length - 1];
    if (!last || last.at <= entry.at) {
      entries.push(entry);
      return;
    }
    let i = this.#lowerBound(entry.at);
    while (i < entries.length && entries[i]!.at <= entry.at) i++;
    entries.splice(i, 0, entry);
  }

  /** Position of a live entry: binary search on its time, then a scan of equal times. */
  #indexOf(entry: Entry): number {
    const entries = this.#entries;
    let i = this.#lowerBound(entry.at);
    for (; i < entries.length && entries[i]!.at === entry.at; i++) if (entries[i] === entry) return i;
    return -1;
  }

  /** First index at or after the head whose time is at least `at`. */
  #lowerBound(at: number): number {
    const entries = this.#entries;
    let lo = this.#head;
    let hi = entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (entries[mid]!.at < at) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Weight inside the window at `now` and the index of its oldest entry, without moving
   * state: only take and adjust prune, so queries about the future change nothing.
   */
  #usedAt(now: number): { used: number; first: number } {
    let used = this.#used;
    let i = this.#head;
    for (; i < this.#entries.length && this.#entries[i]!.at + this.windowMs <= now; i++) {
      if (!this.#entries[i]!.held) used -= this.#entries[i]!.weight;
    }
    return { used, first: i };
  }

  #prune(now: number): void {
    const entries = this.#entries;
    let head = this.#head;
    while (head < entries.length && entries[head]!.at + this.windowMs <= now) {
      const entry = entries[head]!;
      this.#used -= entry.weight;
      if (entry.held) {
        this.#overdue.add(entry);
        this.#overdueUsed += entry.weight;
      }
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
