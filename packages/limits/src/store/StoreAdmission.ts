// Admission through a shared QuotaStore: batched store calls, the store's clock, slot renewals and wake-ups.
import { randomUUID } from 'node:crypto';
import type { Clock, TimerHandle } from '@tollgate/core';
import { type ParsedResourceLimits, resolveRates } from '../config/ResourceLimits.js';
import type { Admission, AdmissionHost, Demand } from '../governor/Admission.js';
import { type Blocker, parseDemand, rateReason } from '../governor/demand.js';
import type { LeaseGrant, LeaseOwner } from '../governor/Lease.js';
import { limitMask } from '../governor/limitMask.js';
import type { LivenessView } from '../governor/liveness.js';
import type { ResourceCost } from '../governor/types.js';
import type { Waiter } from '../governor/Waiters.js';
import type { WaitQueue } from '../governor/WaitQueue.js';
import type { ResolvedDistributedOptions } from './distributedOptions.js';
import { StoreUnavailableError } from './errors.js';
import { LocalFallback } from './LocalFallback.js';
import type { QuotaConfig, QuotaStore, StoreRate } from './QuotaStore.js';
import { StorePump } from './StorePump.js';
import { DistributedLease, type StoreTicket } from './StoreTicket.js';
import { StoreOutage, type StoreWait } from './storeOutage.js';

/** The limits as a store enforces them: a rate per resolved rate, the slots, the TTLs. */
export function quotaConfig(limits: ParsedResourceLimits, o: ResolvedDistributedOptions): QuotaConfig {
  const rates: StoreRate[] = resolveRates(limits).map((r) => ({
    name: r.name,
    resource: r.resource,
    algorithm: r.algorithm,
    limit: r.limit,
    windowMs: r.windowMs,
    capacity: r.algorithm === 'sliding-window' ? r.limit : r.burst,
  }));
  const { quota, slotTtlMs, holdTtlMs, recoveryHoldMs } = o;
  const maxSlots = limits.maxConcurrentTasks ?? null;
  // A refusing governor answers at once: a grant ahead would make its caller wait.
  const deferMs = limits.rejectOnLimit ? 0 : o.deferMs;
  return { quota, rates, maxSlots, slotTtlMs, holdTtlMs, recoveryHoldMs, deferMs };
}

/**
 * Admits through a `QuotaStore` shared by many processes. What this process knows of the
 * quota (remaining per rate, slots in use, the cooldown) is what the last store reply
 * said, with store-clock times turned into local ones. Settles and releases go to the
 * store and wake the pump when done; slots held here are renewed well within their TTL.
 */
export class StoreAdmission implements Admission<StoreTicket, StoreWait> {
  readonly rates: readonly StoreRate[];
  readonly maxSlots: number;
  readonly synchronous = false;
  readonly config: QuotaConfig;
  readonly store: QuotaStore;
  readonly outage: StoreOutage;
  readonly #host: AdmissionHost<StoreTicket, StoreWait>;
  readonly #clock: Clock;
  readonly #pump: StorePump;
  readonly #tag = randomUUID().slice(0, 8);
  /** Slots held by this process's stored leases, to renew: store id to slots. */
  readonly #held = new Map<string, number>();
  readonly #unsubscribe: () => void;
  readonly #unsubscribeAvailability: () => void;
  #remaining: number[];
  #slotsUsed = 0;
  #requestSeq = 0;
  #renewTimer: TimerHandle | undefined;
  /** Pending `waitForResources` calls: each one's answer. */
  readonly #probes = new Set<(answer: boolean) => void>();

  constructor(
    host: AdmissionHost<StoreTicket, StoreWait>,
    config: QuotaConfig,
    o: ResolvedDistributedOptions,
  ) {
    this.#host = host;
    this.#clock = host.clock;
    this.config = config;
    this.store = o.store;
    this.rates = config.rates;
    this.maxSlots = config.maxSlots ?? Number.POSITIVE_INFINITY;
    this.#remaining = this.rates.map((r) => r.capacity);
    const fallback =
      o.onStoreDown === 'local-fallback'
        ? new LocalFallback(host.limits, config, {
            share: o.localShare,
            clock: this.#clock,
            logger: host.logger,
            name: `${host.name}:local-fallback`,
          })
        : undefined;
    this.outage = new StoreOutage({
      host,
      store: this.store,
      config,
      policy: o.onStoreDown,
      retryMs: o.retryMs,
      fallback,
      remaining: () => this.#remaining,
      refresh: () => this.refresh(),
      wake: () => this.serve(),
    });
    this.#pump = new StorePump(host, this, o);
    this.#unsubscribe = this.store.subscribe(config, () => this.serve());
    const availability = this.store.available$.subscribe((up) => {
      if (!up) this.outage.markDown(new StoreUnavailableError(this.store.kind, 'connection lost'));
    });
    this.#unsubscribeAvailability = () => availability.unsubscribe();
  }

  demand(cost: ResourceCost): Demand {
    const { amounts, slots } = parseDemand(cost, this.rates);
    // Waiters keep their order among those that need the same limits, as in one process.
    const slotsGated = this.config.maxSlots !== null || this.#host.memoryProbe !== undefined;
    return { cost, amounts, slots, mask: limitMask(amounts, slots, slotsGated) };
  }

  prepare(demand: Demand, held: boolean): StoreWait {
    const leaseId = `${this.#tag}:${++this.#requestSeq}`;
    return { request: { leaseId, slots: demand.slots, held, amounts: demand.amounts }, forwarded: undefined };
  }

  /** Waiters the store has made wait go first, among those that need the same limits (reject mode refuses new work behind them). */
  ahead(demand: Demand, queue: WaitQueue<Waiter<StoreWait>>): boolean {
    return (demand.mask & this.#pump.waitingMask & queue.liveMask()) !== 0;
  }

  rateBlocker(demand: Demand, _now: number): Blocker | undefined {
    for (let i = 0; i < this.rates.length; i++) {
      const amount = demand.amounts[i]!;
      const left = this.#remaining[i]!;
      if (amount > 0 && amount > left) {
        const { name } = this.rates[i]!;
        const reason = rateReason(name, amount, left);
        return { limit: name, requested: amount, available: Math.max(0, left), waitMs: undefined, reason };
      }
    }
    return undefined;
  }

  slotsInUse(): number {
    return this.#slotsUsed;
  }

  available(index: number): number {
    return this.#remaining[index]!;
  }

  /** Takes outside the store's admission (monitor mode): counted here and charged to the store. */
  reserve(demand: Demand, _now: number, _held: boolean, extra: StoreWait | undefined): StoreTicket {
    demand.amounts.forEach((amount, i) => {
      if (amount > 0) this.lower(i, amount);
    });
    return { storeId: extra?.request.leaseId ?? '', admittedAt: undefined, local: undefined };
  }

  /** Capacity may have changed: sleepers retry now, and the pump runs. */
  serve(): void {
    this.#pump.wake();
  }

  settle(lease: DistributedLease, values: readonly (number | undefined)[]): boolean {
    const { local } = lease.ticket;
    if (local) local.settle(this.outage.fallbackUsage(values));
    else if (lease.stored)
      this.#send('settle', this.store.settle(this.config, lease.storeId, lease.amounts, values));
    else if (this.#host.mode === 'monitor') this.#chargeShortfall(lease, values);
    return false;
  }

  /**
   * Monitor mode: what a lease used beyond its estimate is charged to the store, as its
   * estimate was at the grant (`reserve`), so the shared quota sees real usage. The store
   * cannot tell a monitored take from another, so an over-estimate stays charged.
   */
  #chargeShortfall(lease: DistributedLease, values: readonly (number | undefined)[]): void {
    values.forEach((value, i) => {
      if (value === undefined) return;
      const delta = value - lease.amounts[i]!;
      if (delta <= 0) return;
      this.lower(i, delta);
      lease.amounts[i] = value;
    });
  }

  endHold(lease: DistributedLease, _now: number, agoMs = 0): boolean {
    const { local } = lease.ticket;
    if (local) local.endHold(agoMs);
    else if (lease.stored)
      this.#send('release', this.store.release(this.config, lease.storeId, 0, true, lease.amounts, agoMs));
    return false;
  }

  release(lease: DistributedLease): boolean {
    this.#held.delete(lease.storeId);
    const { local } = lease.ticket;
    if (local) local.release();
    else if (lease.stored && (lease.slots > 0 || lease.held))
      this.#send(
        'release',
        this.store.release(this.config, lease.storeId, lease.slots, lease.held, lease.amounts),
      );
    return true;
  }

  lower(index: number, amount: number): void {
    this.#remaining[index] = this.#remaining[index]! - amount;
    this.store.take(this.config, index, amount).catch((error: unknown) => this.outage.error(error, 'take'));
  }

  cooldown(ms: number): void {
    this.store.cooldown(this.config, ms).catch((error: unknown) => this.outage.error(error, 'cooldown'));
  }

  closed(): string | undefined {
    return this.outage.reason();
  }

  lease(owner: LeaseOwner, grant: LeaseGrant<StoreTicket>): DistributedLease {
    const lease = new DistributedLease(owner, grant);
    if (lease.stored && lease.slots > 0 && this.config.maxSlots !== null) {
      this.#held.set(lease.storeId, lease.slots);
      this.#scheduleRenewal();
    }
    return lease;
  }

  /** Asks the store for the quota's state now, and updates what this process knows. */
  async refresh(): Promise<void> {
    const status = await this.store.status(this.config);
    this.learn(status, this.#clock.now());
    this.outage.markUp();
    this.#host.changed();
  }

  /** Takes in what a store reply says of the quota; after grants here, says which limits they brought near. */
  learn(
    reply: { remaining: readonly number[]; slotsUsed: number; cooldownUntil: number; now: number },
    at: number,
    granted = false,
  ): void {
    const before = this.#remaining;
    this.#remaining = [...reply.remaining];
    if (granted) this.#host.approached(before, at);
    this.#slotsUsed = reply.slotsUsed;
    if (reply.cooldownUntil > reply.now) this.#host.extendCooldown(at + (reply.cooldownUntil - reply.now));
  }

  /**
   * `waitForResources`: asks the store until `demand` would be admitted, or `timeoutMs`
   * passes. Dispose answers `false` at once, even with a store call in flight.
   */
  readonly probe = (timeoutMs: number, demand: Demand): Promise<boolean> =>
    new Promise<boolean>((resolve) => {
      const answer = (value: boolean) => {
        if (this.#probes.delete(answer)) resolve(value);
      };
      this.#probes.add(answer);
      this.#probeUntil(this.#clock.now() + timeoutMs, demand).then(answer, () => answer(false));
    });

  async #probeUntil(deadline: number, demand: Demand): Promise<boolean> {
    for (;;) {
      if (this.#host.disposed) return false;
      try {
        await this.refresh();
        if (this.#host.disposed) return false;
        if (this.#host.reason(demand) === undefined) return true;
      } catch {
        // unreachable store: not available; try again until the deadline
      }
      const left = deadline - this.#clock.now();
      if (left <= 0 || this.#host.disposed) return false;
      await this.#pump.sleep(left);
    }
  }

  dispose(): void {
    for (const answer of [...this.#probes]) answer(false);
    this.#pump.wakeSleepers();
    this.#pump.dispose();
    if (this.#renewTimer !== undefined) this.#clock.clearTimeout(this.#renewTimer);
    this.#unsubscribe();
    this.#unsubscribeAvailability();
    this.outage.dispose();
    // A release just made must not wait for a later call that will not come.
    void this.store.flush?.();
  }

  liveness(): Pick<LivenessView, 'wakeAt' | 'headWaitMs' | 'busy'> & {
    waitOf(waiter: Waiter<StoreWait>): number | undefined;
  } {
    return { ...this.#pump.liveness(), waitOf: (waiter) => this.#pump.waitOf(waiter) };
  }

  /** A settle or release sent to the store: the pump wakes when it is done. */
  #send(operation: string, call: Promise<void>): void {
    call.then(() => this.serve()).catch((error: unknown) => this.outage.error(error, operation));
  }

  #scheduleRenewal(): void {
    if (this.#renewTimer !== undefined || this.#host.disposed) return;
    const every = Math.max(1, Math.floor(this.config.slotTtlMs / 3));
    this.#renewTimer = this.#clock.setTimeout(() => {
      this.#renewTimer = undefined;
      if (this.#held.size === 0) return;
      const leases = [...this.#held].map(([leaseId, slots]) => ({ leaseId, slots }));
      this.store.renew(this.config, leases).catch((error: unknown) => this.outage.error(error, 'renew'));
      this.#scheduleRenewal();
    }, every);
  }
}
