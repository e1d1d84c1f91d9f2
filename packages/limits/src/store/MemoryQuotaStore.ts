// The quota store semantics of RedisQuotaStore in this process, on the rate maths of rates/.
import { type Clock, checkOptions, systemClock } from '@tollgate/core';
import { BehaviorSubject, type Observable } from 'rxjs';
import type { RateInfo, RateReservation } from '../rates/RateLimiter.js';
import { SlidingWindow } from '../rates/SlidingWindow.js';
import { TokenBucket } from '../rates/TokenBucket.js';
import { clockRule } from './distributedOptions.js';
import type { AcquireReply, QuotaConfig, QuotaStore, StoreRequest, StoreStatus } from './QuotaStore.js';

/** One rate of a quota: its limiter, and each lease's window entry (sliding windows only). */
interface RateState {
  readonly limiter: SlidingWindow | TokenBucket;
  readonly entries: Map<string, RateReservation>;
}

interface QuotaState {
  cooldownUntil: number;
  /** Slot member (`lease#k`) to its expiry. */
  readonly slots: Map<string, number>;
  readonly rates: Map<string, RateState>;
}

/**
 * The quota store semantics of `RedisQuotaStore`, in this process, on an injected clock:
 * for tests (with a ManualClock) and for one process that wants the distributed
 * governor's behaviour without Redis. `ResourceGovernor` is the faster in-process choice.
 * Rates are the limiters of `rates/`; a held reservation is a window entry admitted at the
 * end of its hold (`SlidingWindow.takeAt`), as the Lua scripts store it. A differential
 * test holds every answer against a real Redis.
 */
export class MemoryQuotaStore implements QuotaStore {
  readonly kind = 'memory';
  readonly available$: Observable<boolean> = new BehaviorSubject(true);
  readonly #clock: Clock;
  readonly #quotas = new Map<string, QuotaState>();
  readonly #listeners = new Map<string, Set<() => void>>();

  constructor(clock: Clock = systemClock) {
    checkOptions('MemoryQuotaStore', { clock }, { clock: clockRule });
    this.#clock = clock;
  }

  async acquire(config: QuotaConfig, requests: readonly StoreRequest[]): Promise<AcquireReply> {
    const now = this.#clock.now();
    const q = this.#state(config.quota);
    const rates = config.rates.map((r) => this.#rate(q, r, now));
    let slotsUsed = this.#slotsUsed(q, now);
    let granted = 0;
    let waitMs = 0;
    let blockedBy: string | undefined;
    const starts: number[] = [];
    for (const request of requests) {
      const blocked = this.#blocked(config, q, rates, request, slotsUsed, now);
      // Only sliding windows keep it out, briefly: granted now, to start when they let it in.
      const start = blocked?.deferrable && blocked.waitMs <= (config.deferMs ?? 0) ? blocked.waitMs : 0;
      if (blocked && start === 0) {
        waitMs = Math.max(1, Math.ceil(blocked.waitMs));
        blockedBy = blocked.by;
        break;
      }
      this.#reserve(config, q, rates, request, now, start);
      slotsUsed += config.maxSlots === null ? 0 : request.slots;
      starts.push(start);
      granted++;
    }
    // Every bucket is written back at this call's time, as the script does.
    for (const { limiter } of rates) if (limiter instanceof TokenBucket) limiter.adjust(NO_HANDLE, 0, now);
    const remaining = rates.map((r) => r.limiter.available(now));
    return {
      now,
      granted,
      waitMs,
      blockedBy,
      remaining,
      slotsUsed,
      cooldownUntil: cooldownOf(q, now),
      ...(starts.some((s) => s > 0) ? { startsInMs: starts } : {}),
    };
  }

  async settle(
    config: QuotaConfig,
    leaseId: string,
    reserved: readonly number[],
    actual: readonly (number | undefined)[],
  ): Promise<void> {
    const now = this.#clock.now();
    const q = this.#state(config.quota);
    config.rates.forEach((r, i) => {
      const { limiter, entries } = this.#rate(q, r, now);
      const booked = reserved[i] ?? 0;
      const amount = actual[i] ?? booked;
      if (limiter instanceof TokenBucket) {
        if (actual[i] !== undefined) limiter.adjust(NO_HANDLE, amount - booked, now);
        return;
      }
      const entry = entries.get(leaseId);
      // A settle is the lease's last word on its window entry: nothing looks it up again.
      entries.delete(leaseId);
      if (entry) {
        limiter.advance(entry, now); // a held entry counts from its settle
        limiter.adjust(entry, amount - booked, now);
      } else if (booked === 0 && amount > 0) {
        limiter.takeAt(amount, now, now);
      }
    });
    this.#wake(config.quota);
  }

  async release(
    config: QuotaConfig,
    leaseId: string,
    slots: number,
    endHold: boolean,
    _reserved: readonly number[],
    agoMs = 0,
  ): Promise<void> {
    const now = this.#clock.now();
    const q = this.#state(config.quota);
    for (let k = 1; k <= slots; k++) q.slots.delete(`${leaseId}#${k}`);
    if (endHold)
      for (const r of config.rates) {
        const { limiter, entries } = this.#rate(q, r, now);
        const entry = entries.get(leaseId);
        if (!entry || !(limiter instanceof SlidingWindow)) continue;
        // A held entry sits at its start plus the hold: never count it from before its start.
        const start = limiter.startOf(entry) - config.holdTtlMs;
        limiter.advance(entry, now, Math.max(start, now - agoMs));
      }
    this.#wake(config.quota);
  }

  async renew(
    config: QuotaConfig,
    leases: ReadonlyArray<{ readonly leaseId: string; readonly slots: number }>,
  ): Promise<void> {
    const now = this.#clock.now();
    const q = this.#state(config.quota);
    for (const l of leases)
      for (let k = 1; k <= l.slots; k++) {
        const member = `${l.leaseId}#${k}`;
        // Only a slot still alive: one past its TTL may already be counted free by another process.
        if ((q.slots.get(member) ?? now) > now) q.slots.set(member, now + config.slotTtlMs);
      }
  }

  async cooldown(config: QuotaConfig, ms: number): Promise<number> {
    const now = this.#clock.now();
    const q = this.#state(config.quota);
    const whole = Math.ceil(ms);
    if (now + whole <= cooldownOf(q, now)) return q.cooldownUntil;
    q.cooldownUntil = now + whole;
    return q.cooldownUntil;
  }

  async take(config: QuotaConfig, index: number, amount: number): Promise<void> {
    const r = config.rates[index];
    if (!r) return;
    const now = this.#clock.now();
    const { limiter } = this.#rate(this.#state(config.quota), r, now);
    if (limiter instanceof TokenBucket) limiter.take(amount, now);
    else limiter.takeAt(amount, now, now);
  }

  async status(config: QuotaConfig): Promise<StoreStatus> {
    const now = this.#clock.now();
    const q = this.#state(config.quota);
    return {
      now,
      remaining: config.rates.map((r) => this.#rate(q, r, now).limiter.available(now)),
      slotsUsed: this.#slotsUsed(q, now),
      cooldownUntil: cooldownOf(q, now),
    };
  }

  subscribe(config: QuotaConfig, listener: () => void): () => void {
    const set = this.#listeners.get(config.quota) ?? new Set();
    this.#listeners.set(config.quota, set);
    set.add(listener);
    return () => set.delete(listener);
  }

  async close(): Promise<void> {
    this.#listeners.clear();
  }

  /** Why `request` cannot be granted now, and for how long (unrounded), if so. */
  #blocked(
    config: QuotaConfig,
    q: QuotaState,
    rates: readonly RateState[],
    request: StoreRequest,
    slotsUsed: number,
    now: number,
  ): { waitMs: number; by: string; deferrable?: boolean } | undefined {
    const cooldownUntil = cooldownOf(q, now);
    if (cooldownUntil > now) return { waitMs: cooldownUntil - now, by: 'cooldown' };
    if (config.maxSlots !== null && request.slots > 0 && slotsUsed + request.slots > config.maxSlots) {
      // The earliest expiry among the holders: a dead holder's slot is free exactly then.
      const earliest = Math.min(...q.slots.values());
      return { waitMs: Number.isFinite(earliest) ? earliest - now : config.slotTtlMs, by: 'slots' };
    }
    let longest = 0;
    let by: string | undefined;
    let deferrable = true;
    config.rates.forEach((r, i) => {
      const amount = request.amounts[i] ?? 0;
      const limiter = rates[i]!.limiter;
      if (amount <= 0) return;
      const waitMs = storeWait(r, limiter, amount, now);
      if (waitMs === 0) return;
      // Only a sliding window's exact wait, shorter than the window, can be waited out ahead.
      if (limiter instanceof TokenBucket || waitMs >= r.windowMs) deferrable = false;
      if (waitMs > longest) {
        longest = waitMs;
        by = r.name;
      }
    });
    return by === undefined ? undefined : { waitMs: longest, by, deferrable };
  }

  /**
   * Takes what `request` asks, as the Lua script writes it: its window entries count from
   * its start, `start` ms from now, or a held one from the end of its hold.
   */
  #reserve(
    config: QuotaConfig,
    q: QuotaState,
    rates: readonly RateState[],
    request: StoreRequest,
    now: number,
    start: number,
  ) {
    config.rates.forEach((_, i) => {
      const amount = request.amounts[i] ?? 0;
      if (amount <= 0) return;
      const { limiter, entries } = rates[i]!;
      if (limiter instanceof TokenBucket) limiter.take(amount, now);
      else {
        const at = now + start + (request.held ? config.holdTtlMs : 0);
        entries.set(request.leaseId, limiter.takeAt(amount, at, now));
        if (entries.size > 2 * limiter.entryCount + 64) forgetGone(entries, limiter, now);
      }
    });
    if (config.maxSlots !== null)
      for (let k = 1; k <= request.slots; k++) q.slots.set(`${request.leaseId}#${k}`, now + config.slotTtlMs);
  }

  #wake(quota: string): void {
    // Like a pub/sub message: delivered after the caller's own step.
    queueMicrotask(() => {
      for (const listener of this.#listeners.get(quota) ?? []) listener();
    });
  }

  #state(quota: string): QuotaState {
    let q = this.#quotas.get(quota);
    if (!q) {
      q = { cooldownUntil: 0, slots: new Map(), rates: new Map() };
      this.#quotas.set(quota, q);
    }
    return q;
  }

  #rate(q: QuotaState, r: RateInfo, now: number): RateState {
    let state = q.rates.get(r.name);
    if (!state) {
      const spec = {
        name: r.name,
        resource: r.resource,
        limit: r.limit,
        windowMs: r.windowMs,
        burst: r.capacity,
      };
      const limiter = r.algorithm === 'sliding-window' ? new SlidingWindow(spec) : new TokenBucket(spec, now);
      state = { limiter, entries: new Map() };
      q.rates.set(r.name, state);
    }
    return state;
  }

  #slotsUsed(q: QuotaState, now: number): number {
    for (const [member, expiry] of q.slots) if (expiry <= now) q.slots.delete(member);
    return q.slots.size;
  }
}

/**
 * How long until `amount` fits `limiter`, as the store says it: 0 when it fits now, else
 * whole ms, and one window for more than the limit can ever grant.
 */
function storeWait(
  rate: RateInfo,
  limiter: SlidingWindow | TokenBucket,
  amount: number,
  now: number,
): number {
  const waitMs = limiter.waitTime(amount, now);
  return Math.ceil(Number.isFinite(waitMs) ? waitMs : rate.windowMs);
}

/** The cooldown's end, or 0 once it has passed. */
function cooldownOf(q: QuotaState, now: number): number {
  return q.cooldownUntil > now ? q.cooldownUntil : 0;
}

/** Drops the entries of leases never settled whose admissions have left the window. */
function forgetGone(entries: Map<string, RateReservation>, limiter: SlidingWindow, now: number): void {
  for (const [lease, entry] of entries) if (!limiter.counts(entry, now)) entries.delete(lease);
}

/** A token bucket's reservations need no handle. */
const NO_HANDLE: RateReservation = Object.freeze({});
