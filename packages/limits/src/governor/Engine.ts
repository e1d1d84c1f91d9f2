// What a governor's admission works with: the waiters, the cooldown, and the grants, refusals and events that end a wait.
import {
  abortReason,
  type Clock,
  type Logger,
  ResourceLimitExceededError,
  ResourceWaitTimeoutError,
} from '@tollgate/core';
import type { ParsedResourceLimits } from '../config/ResourceLimits.js';
import type { MemoryProbe } from '../memory/MemoryProbe.js';
import type { Admission, AdmissionHost, Demand } from './Admission.js';
import { type Blocker, cooldownReason, neverFits, slotsReason, TASK_LIMIT } from './demand.js';
import { type EventBody, EventHub } from './EventHub.js';
import { Lease, type LeaseOwner } from './Lease.js';
import { approaching, memoryBlocker } from './rules.js';
import type { ResourceCost, ResourceStatus } from './types.js';
import { type Waiter, Waiters } from './Waiters.js';
import type { WaitQueue } from './WaitQueue.js';

/** What the engine needs besides its limits and admission, every default filled in. */
export interface CoreOptions {
  readonly name: string;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly memoryProbe: MemoryProbe | undefined;
  /** `limit-approaching` fires when a limit's usage crosses this share of it. */
  readonly approachingRatio: number;
  /** Why a waiter waits before anything is known (an admission that decides later). */
  readonly waitingReason: string;
}

/** Who a grant is for: a waiter, or a caller admitted at once. */
export type Admittee<X> = Pick<Waiter<X>, 'demand' | 'enqueuedAt' | 'label' | 'held' | 'task' | 'extra'>;

/**
 * The governor's working state, shared by its public face (`GovernorCore`) and its
 * admission: the wait queue with each waiter's timeout and signal, the cooldown, the
 * slots held, lease ids (per governor), and the one event hub. Every wait ends here, by a
 * grant, a refusal, a timeout, an abort or a drop, with the same events and words
 * whatever the admission.
 */
export class Engine<T, X> implements AdmissionHost<T, X> {
  readonly name: string;
  readonly limits: ParsedResourceLimits;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly options: CoreOptions;
  readonly hub: EventHub;
  readonly waiters: Waiters<X>;
  readonly queue: WaitQueue<Waiter<X>>;
  /** Set once, by the governor, right after the admission is made. */
  admission!: Admission<T, X>;
  activeTasks = 0;
  disposed = false;
  readonly #owner: LeaseOwner;
  #leaseSeq = 0;
  #cooldownUntil = Number.NEGATIVE_INFINITY;
  #cooldownReason = '';

  constructor(
    limits: ParsedResourceLimits,
    options: CoreOptions,
    owner: LeaseOwner,
    status: () => ResourceStatus,
  ) {
    this.limits = limits;
    this.name = options.name;
    this.clock = options.clock;
    this.logger = options.logger;
    this.options = options;
    this.#owner = owner;
    this.hub = new EventHub(this.name, () => this.clock.now(), status);
    this.waiters = new Waiters<X>(this.clock, {
      timedOut: (w) => this.#timedOut(w),
      aborted: (w, signal) => this.#aborted(w, signal),
    });
    this.queue = this.waiters.queue;
  }

  get mode(): ResourceStatus['mode'] {
    if (!this.limits.enforceLimits) return 'monitor';
    return this.limits.rejectOnLimit ? 'reject' : 'enforce';
  }

  get memoryProbe(): MemoryProbe | undefined {
    return this.options.memoryProbe;
  }

  get cooldownUntil(): number {
    return this.#cooldownUntil;
  }

  get cooldownReason(): string {
    return this.#cooldownReason;
  }

  /** Starts a cooldown until `until`; whether it is news (it extends the current one). */
  startCooldown(until: number, reason: string): boolean {
    if (until <= this.#cooldownUntil) return false;
    this.#cooldownUntil = until;
    this.#cooldownReason = reason;
    return true;
  }

  extendCooldown(until: number): void {
    if (until > this.#cooldownUntil) this.#cooldownUntil = until;
  }

  reason(demand: Demand, now = this.clock.now()): string | undefined {
    if (this.disposed) return `${this.name} is disposed`;
    const admission = this.admission;
    const never = neverFits(demand, admission.rates, admission.maxSlots);
    if (never) return never.reason;
    const closed = admission.closed();
    if (closed !== undefined) return closed;
    if (admission.ahead(demand, this.queue)) return `${this.queue.size} caller(s) waiting first`;
    return this.blocker(demand, now)?.reason;
  }

  blocker(demand: Demand, now: number): Blocker | undefined {
    if (now < this.#cooldownUntil) {
      const waitMs = this.#cooldownUntil - now;
      const reason = cooldownReason(waitMs, this.#cooldownReason);
      return { limit: 'cooldown', requested: 1, available: 0, waitMs, reason };
    }
    if (demand.slots > 0) {
      const max = this.admission.maxSlots;
      const used = this.admission.slotsInUse();
      if (demand.slots > max - used) {
        const available = Math.max(0, max - used);
        const reason = slotsReason(used, max);
        return { limit: TASK_LIMIT, requested: demand.slots, available, waitMs: undefined, reason };
      }
      const memory = this.memoryBlocker(demand.slots);
      if (memory) return memory;
    }
    return this.admission.rateBlocker(demand, now);
  }

  memoryBlocker(slots: number): Blocker | undefined {
    return slots > 0 ? memoryBlocker(this.limits.maxMemoryMb, this.options.memoryProbe, slots) : undefined;
  }

  admit(waiter: Waiter<X>, now: number, ticket?: T): void {
    if (!this.waiters.leave(waiter)) return;
    if (waiter.probe) waiter.resolve(true);
    else waiter.resolve(this.grantNow(waiter, now, ticket));
  }

  /** Grants at once: reserves now through the admission unless `ticket` says what was reserved. */
  grantNow(who: Admittee<X>, now: number, ticket?: T): Lease<T> {
    if (who.task) who.task.started = true;
    return this.grant(who.demand, now, who.held, who.extra, who.enqueuedAt, who.label, ticket);
  }

  /**
   * {@link grantNow} with what it needs as parameters (the caller marks the task started):
   * the path of every acquire admitted at once, which makes no object besides the lease.
   */
  grant(
    demand: Demand,
    now: number,
    held: boolean,
    extra: X,
    enqueuedAt: number,
    label: string | undefined,
    ticket?: T,
  ): Lease<T> {
    const admission = this.admission;
    const observed = this.hub.observed;
    let before: number[] | undefined;
    if (ticket === undefined) {
      before = observed ? admission.rates.map((_, i) => admission.available(i, now)) : undefined;
      ticket = admission.reserve(demand, now, held, extra);
    }
    this.activeTasks += demand.slots;
    const id = ++this.#leaseSeq;
    const { cost, amounts, slots } = demand; // each acquire parses its own demand: the lease may keep it
    const lease = admission.lease
      ? admission.lease(this.#owner, { id, cost, acquiredAt: now, amounts, slots, held, ticket })
      : new Lease<T>(this.#owner, id, cost, now, ticket, amounts, slots, held);
    if (observed) {
      const waitedMs = now - enqueuedAt;
      this.hub.emit({ type: 'acquired', leaseId: lease.id, cost: demand.cost, waitedMs, label }, now);
      if (before) this.approached(before, now, demand.amounts);
    }
    this.hub.changed();
    return lease;
  }

  /** Monitor mode: grants at once and says what enforcing would have done. */
  grantMonitored(who: Admittee<X>, now: number): Lease<T> {
    const { demand } = who;
    if (this.hub.observed) {
      const admission = this.admission;
      const would = neverFits(demand, admission.rates, admission.maxSlots) ?? this.blocker(demand, now);
      if (would) {
        const { limit, reason } = would;
        this.hub.emit({ type: 'would-block', cost: demand.cost, limit, reason, label: who.label });
      }
    }
    return this.grantNow(who, now);
  }

  /** Says why `cost` is refused (a `rejected` event) and returns the error to throw. */
  refusal(cost: ResourceCost, blocker: Blocker, label: string | undefined): ResourceLimitExceededError {
    const { waitMs, ...rest } = blocker;
    this.logger.debug('rejected', { governor: this.name, limit: rest.limit, reason: rest.reason });
    this.hub.emit({
      type: 'rejected',
      cost,
      limit: rest.limit,
      reason: rest.reason,
      retryAfterMs: waitMs,
      label,
    });
    return new ResourceLimitExceededError({ ...rest, retryAfterMs: waitMs });
  }

  refuse(waiter: Waiter<X>, blocker: Blocker): void {
    this.drop(waiter, this.refusal(waiter.demand.cost, blocker, waiter.label));
  }

  blocked(waiter: Waiter<X>, reason: string, armAll = true): void {
    waiter.reason = reason;
    if (armAll) for (const w of this.queue) this.waiters.arm(w);
    else this.waiters.arm(waiter);
    if (waiter.noted) return;
    waiter.noted = true;
    const { cost } = waiter.demand;
    this.hub.emit({ type: 'queued', cost, queued: this.queue.size, reason, label: waiter.label });
  }

  arm(waiter: Waiter<X>): void {
    this.waiters.arm(waiter);
  }

  drop(waiter: Waiter<X>, error: unknown): void {
    if (!this.waiters.leave(waiter)) return;
    waiter.reject(error);
    this.#left();
  }

  emit(event: EventBody): void {
    this.hub.emit(event);
  }

  changed(): void {
    this.hub.changed();
  }

  approached(before: readonly number[], now: number, amounts?: readonly number[]): void {
    if (!this.hub.observed) return;
    const { rates } = this.admission;
    for (let i = 0; i < rates.length; i++) {
      if (amounts && amounts[i]! <= 0) continue;
      const after = this.admission.available(i, now);
      const event = approaching(rates[i]!, before[i]!, after, this.options.approachingRatio);
      if (event) this.hub.emit(event);
    }
  }

  #timedOut(waiter: Waiter<X>): void {
    if (!this.waiters.leave(waiter)) return;
    const { timeoutMs: afterMs, reason, label } = waiter;
    this.hub.emit({ type: 'timeout', kind: 'wait', afterMs, reason, label });
    if (waiter.probe) waiter.resolve(false);
    else waiter.reject(new ResourceWaitTimeoutError(afterMs, reason));
    this.#left();
  }

  #aborted(waiter: Waiter<X>, signal: AbortSignal): void {
    if (!this.waiters.leave(waiter)) return;
    this.hub.emit({ type: 'aborted', cost: waiter.demand.cost, label: waiter.label });
    waiter.reject(abortReason(signal));
    this.#left();
  }

  /** A waiter left without a grant: those behind it may go now. */
  #left(): void {
    this.hub.changed();
    this.admission.serve();
  }
}
