import { type Clock, checkOptions, systemClock } from '@tollgate/core';
import { BehaviorSubject, type Observable } from 'rxjs';
import { clockRule } from './distributedOptions.js';
import type { AcquireReply, QuotaConfig, QuotaStore, StoreRequest, StoreStatus } from './QuotaStore.js';

interface Entry {
  readonly lease: string;
  amount: number;
  /** Admitted at (in the future while held). */
  at: number;
}

interface RateState {
  entries: Entry[];
  level: number | undefined;
  ts: number;
}

interface QuotaState {
  cooldownUntil: number;
  readonly slots: Map<string, number>;
  readonly rates: Map<string, RateState>;
}

/**
 * The quota store semantics of `RedisQuotaStore`, in this process, on an injected clock:
 * for tests (with a ManualClock) and for one process that wants the distributed
 * governor's behaviour without Redis. `ResourceGovernor` is the faster in-process choice.
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
    const avail = config.rates.map((r) => this.#available(q, r, now));
    let slotsUsed = this.#slotsUsed(q, now);
    let granted = 0;
    let waitMs = 0;
    let blockedBy: string | undefined;
    for (const request of requests) {
      if (q.cooldownUntil > now) {
        waitMs = q.cooldownUntil - now;
        blockedBy = 'cooldown';
        break;
      }
      if (config.maxSlots !== null && request.slots > 0 && slotsUsed + request.slots > config.maxSlots) {
        const earliest = Math.min(...q.slots.values());
        waitMs = Number.isFinite(earliest) ? earliest - now : config.slotTtlMs;
        blockedBy = 'slots';
        break;
      }
      let longest = 0;
      let by: string | undefined;
      config.rates.forEach((r, i) => {
        const a = request.amounts[i] ?? 0;
        if (a <= 0 || avail[i]! >= a) return;
        let w: number;
        if (r.algorithm === 'sliding-window') {
          w = r.windowMs;
          let freed = 0;
          for (const e of [...this.#rate(q, r.name).entries].sort((x, y) => x.at - y.at)) {
            freed += e.amount;
            if (avail[i]! + freed >= a) {
              w = e.at + r.windowMs - now;
              break;
            }
          }
        } else {
          w = Math.ceil(((a - avail[i]!) * r.windowMs) / r.limit);
        }
        w = Math.max(1, w);
        if (w > longest) {
          longest = w;
          by = r.name;
        }
      });
      if (by) {
        waitMs = longest;
        blockedBy = by;
        break;
      }
      config.rates.forEach((r, i) => {
        const a = request.amounts[i] ?? 0;
        if (a <= 0) return;
        if (r.algorithm === 'sliding-window')
          this.#rate(q, r.name).entries.push({
            lease: request.leaseId,
            amount: a,
            at: request.held ? now + config.holdTtlMs : now,
          });
        avail[i] = avail[i]! - a;
      });
      if (config.maxSlots !== null)
        for (let k = 1; k <= request.slots; k++)
          q.slots.set(`${request.leaseId}#${k}`, now + config.slotTtlMs);
      slotsUsed += config.maxSlots === null ? 0 : request.slots;
      granted++;
    }
    config.rates.forEach((r, i) => {
      if (r.algorithm !== 'token-bucket') return;
      const state = this.#rate(q, r.name);
      state.level = avail[i]!;
      state.ts = now;
    });
    return { now, granted, waitMs, blockedBy, remaining: avail, slotsUsed, cooldownUntil: q.cooldownUntil };
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
      const amount = actual[i] ?? reserved[i] ?? 0;
      if (r.algorithm === 'sliding-window') {
        const state = this.#rate(q, r.name);
        this.#expire(state, r.windowMs, now);
        const entry = state.entries.find((e) => e.lease === leaseId);
        if (entry) {
          entry.amount = amount;
          entry.at = Math.min(entry.at, now);
          if (amount <= 0) state.entries.splice(state.entries.indexOf(entry), 1);
        } else if ((reserved[i] ?? 0) === 0 && amount > 0) {
          state.entries.push({ lease: leaseId, amount, at: now });
        }
      } else if (actual[i] !== undefined) {
        const level = this.#available(q, r, now) + (reserved[i] ?? 0) - actual[i]!;
        const state = this.#rate(q, r.name);
        state.level = Math.min(r.capacity, level);
        state.ts = now;
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
  ): Promise<void> {
    const now = this.#clock.now();
    const q = this.#state(config.quota);
    for (let k = 1; k <= slots; k++) q.slots.delete(`${leaseId}#${k}`);
    if (endHold)
      for (const r of config.rates) {
        for (const e of this.#rate(q, r.name).entries) if (e.lease === leaseId && e.at > now) e.at = now;
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
    const q = this.#state(config.quota);
    q.cooldownUntil = Math.max(q.cooldownUntil, this.#clock.now() + ms);
    return q.cooldownUntil;
  }

  async take(config: QuotaConfig, index: number, amount: number): Promise<void> {
    const r = config.rates[index];
    if (!r) return;
    const now = this.#clock.now();
    const q = this.#state(config.quota);
    const state = this.#rate(q, r.name);
    if (r.algorithm === 'sliding-window') state.entries.push({ lease: `fill-${now}`, amount, at: now });
    else {
      state.level = this.#available(q, r, now) - amount;
      state.ts = now;
    }
  }

  async status(config: QuotaConfig): Promise<StoreStatus> {
    const now = this.#clock.now();
    const q = this.#state(config.quota);
    return {
      now,
      remaining: config.rates.map((r) => this.#available(q, r, now)),
      slotsUsed: this.#slotsUsed(q, now),
      cooldownUntil: q.cooldownUntil,
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

  #rate(q: QuotaState, name: string): RateState {
    let r = q.rates.get(name);
    if (!r) {
      r = { entries: [], level: undefined, ts: 0 };
      q.rates.set(name, r);
    }
    return r;
  }

  #expire(state: RateState, windowMs: number, now: number): void {
    state.entries = state.entries.filter((e) => e.at > now - windowMs);
  }

  #available(q: QuotaState, r: QuotaConfig['rates'][number], now: number): number {
    const state = this.#rate(q, r.name);
    if (r.algorithm === 'sliding-window') {
      this.#expire(state, r.windowMs, now);
      return r.limit - state.entries.reduce((s, e) => s + e.amount, 0);
    }
    if (state.level === undefined) return r.capacity;
    return Math.min(r.capacity, state.level + ((now - state.ts) * r.limit) / r.windowMs);
  }

  #slotsUsed(q: QuotaState, now: number): number {
    for (const [member, expiry] of q.slots) if (expiry <= now) q.slots.delete(member);
    return q.slots.size;
  }
}
