// Admission in this process: exact rate maths, the slot count and one timer for the next moment a waiter fits.
import { type ParsedResourceLimits, resolveRates } from '../config/ResourceLimits.js';
import { createRateLimiter } from '../rates/createRateLimiter.js';
import type { RateLimiter, RateReservation } from '../rates/RateLimiter.js';
import type { Admission, AdmissionHost, Demand } from './Admission.js';
import { type Blocker, checkRateCount, parseQueuedDemand, rateReason } from './demand.js';
import type { Lease } from './Lease.js';
import type { LivenessView } from './liveness.js';
import type { ResourceCost } from './types.js';
import type { Waiter } from './Waiters.js';
import type { WaitQueue } from './WaitQueue.js';
import { WakeTimer } from './WakeTimer.js';

/** What a local lease keeps: its reservation handle per rate (none where it took nothing). */
export type LocalTicket = (RateReservation | undefined)[];

/**
 * Admits against rate limiters in this process. Each limit has a bit; a waiter never
 * overtakes an earlier one it shares a bit with, so a large request is not starved, while
 * waiters for other limits pass. One timer is armed for the earliest moment anyone can
 * proceed.
 */
export class LocalAdmission implements Admission<LocalTicket, undefined> {
  readonly rates: readonly RateLimiter[];
  readonly maxSlots: number;
  readonly synchronous = true;
  readonly #host: AdmissionHost<LocalTicket, undefined>;
  /** Slots are gated (a slot limit or a memory cap): slot takers queue in order. */
  readonly #slotsGated: boolean;
  readonly #timer: WakeTimer;
  #scanning = false;
  #scanAgain = false;

  constructor(host: AdmissionHost<LocalTicket, undefined>, limits: ParsedResourceLimits) {
    this.#host = host;
    const now = host.clock.now();
    this.rates = resolveRates(limits).map((rate) => createRateLimiter(rate, now));
    checkRateCount(this.rates.length);
    this.maxSlots = limits.maxConcurrentTasks ?? Number.POSITIVE_INFINITY;
    this.#slotsGated = Number.isFinite(this.maxSlots) || host.memoryProbe !== undefined;
    this.#timer = new WakeTimer(host.clock, () => this.serve());
  }

  demand(cost: ResourceCost): Demand {
    return parseQueuedDemand(cost, this.rates, this.#slotsGated);
  }

  prepare(): undefined {
    return undefined;
  }

  ahead(demand: Demand, queue: WaitQueue<Waiter<undefined>>): boolean {
    return (demand.mask & queue.liveMask()) !== 0;
  }

  rateBlocker(demand: Demand, now: number): Blocker | undefined {
    let worst: Blocker | undefined;
    for (let i = 0; i < this.rates.length; i++) {
      const amount = demand.amounts[i]!;
      if (amount === 0) continue;
      const limiter = this.rates[i]!;
      const waitMs = limiter.waitTime(amount, now);
      if (waitMs > 0 && (!worst || waitMs > worst.waitMs!)) {
        const available = limiter.available(now);
        const reason = rateReason(limiter.name, amount, available, waitMs);
        worst = { limit: limiter.name, requested: amount, available: Math.max(0, available), waitMs, reason };
      }
    }
    return worst;
  }

  slotsInUse(): number {
    return this.#host.activeTasks;
  }

  available(index: number, now: number): number {
    return this.rates[index]!.available(now);
  }

  reserve(demand: Demand, now: number, held: boolean): LocalTicket {
    const handles: LocalTicket = new Array(this.rates.length);
    for (let i = 0; i < this.rates.length; i++) {
      const amount = demand.amounts[i]!;
      if (amount > 0) handles[i] = this.rates[i]!.take(amount, now, held);
    }
    return handles;
  }

  settle(lease: Lease<LocalTicket>, values: readonly (number | undefined)[], now: number): boolean {
    let refunded = false;
    for (let i = 0; i < this.rates.length; i++) {
      const value = values[i];
      if (value === undefined) continue;
      const delta = value - lease.amounts[i]!;
      if (delta === 0) continue;
      const handle = lease.ticket[i];
      if (handle) this.rates[i]!.adjust(handle, delta, now);
      else if (delta > 0) lease.ticket[i] = this.rates[i]!.take(delta, now);
      lease.amounts[i] = value;
      if (delta < 0) refunded = true;
    }
    return this.endHold(lease, now) || refunded;
  }

  /** Re-anchors a held lease's reservations at `now - agoMs`; whether it was held. */
  endHold(lease: Lease<LocalTicket>, now: number, agoMs = 0): boolean {
    if (!lease.held) return false;
    for (let i = 0; i < this.rates.length; i++) {
      const handle = lease.ticket[i];
      if (handle) this.rates[i]!.reanchor(handle, now, now - agoMs);
    }
    return true;
  }

  release(lease: Lease<LocalTicket>): boolean {
    // The clock is read only when a hold ends (most releases end none).
    return lease.held && this.endHold(lease, this.#host.clock.now());
  }

  lower(index: number, amount: number, now: number): void {
    this.rates[index]!.take(amount, now);
  }

  cooldown(): void {
    // The engine serves the queue next; the scan arms the timer for the cooldown's end.
  }

  closed(): undefined {
    return undefined;
  }

  /** Admits every waiter that can go, in order, then sets the one timer for the next. */
  serve(): void {
    if (!this.#scanning && this.#host.queue.size === 0) {
      this.#timer.set(Number.POSITIVE_INFINITY); // nobody waits: what most releases find
      return;
    }
    if (this.#scanning) {
      this.#scanAgain = true;
      return;
    }
    this.#scanning = true;
    try {
      do {
        this.#scanAgain = false;
        this.#scan();
      } while (this.#scanAgain);
    } finally {
      this.#scanning = false;
    }
  }

  dispose(): void {
    this.#timer.set(Number.POSITIVE_INFINITY);
  }

  liveness(): Pick<LivenessView, 'wakeAt' | 'headWaitMs' | 'busy'> & {
    waitOf(waiter: Waiter<undefined>): number;
  } {
    const now = this.#host.clock.now();
    const waitOf = (waiter: Waiter<undefined>) => {
      const blocker = this.#host.blocker(waiter.demand, now);
      return blocker ? (blocker.waitMs ?? Number.POSITIVE_INFINITY) : 0;
    };
    const head = this.#host.queue.head;
    return { wakeAt: this.#timer.due, headWaitMs: head && waitOf(head), busy: false, waitOf };
  }

  #scan(): void {
    const host = this.#host;
    const queue = host.queue;
    if (host.disposed || queue.size === 0) {
      this.#timer.set(Number.POSITIVE_INFINITY);
      return;
    }
    const now = host.clock.now();
    if (now < host.cooldownUntil) {
      this.#timer.set(host.cooldownUntil);
      return;
    }
    const live = queue.liveMask();
    let claimed = 0;
    let wake = Number.POSITIVE_INFINITY;
    for (const waiter of queue) {
      if ((waiter.mask & claimed) === 0) {
        const blocker = host.blocker(waiter.demand, now);
        if (!blocker) {
          host.admit(waiter, now);
          continue;
        }
        waiter.reason = blocker.reason;
        if (blocker.waitMs !== undefined) wake = Math.min(wake, now + blocker.waitMs);
      }
      // Whoever comes later and shares a limit with this waiter must wait behind it.
      claimed |= waiter.mask;
      if ((claimed & live) === live) break;
    }
    this.#timer.set(wake);
  }
}
