// The seam between the governor engine and where its quota lives: the admission strategy and what the engine offers it.
import type { Clock, Logger } from '@tollgate/core';
import type { ParsedResourceLimits } from '../config/ResourceLimits.js';
import type { MemoryProbe } from '../memory/MemoryProbe.js';
import type { RateInfo } from '../rates/RateLimiter.js';
import type { Blocker, QueuedDemand } from './demand.js';
import type { EventBody } from './EventHub.js';
import type { Lease, LeaseGrant, LeaseOwner } from './Lease.js';
import type { LivenessView } from './liveness.js';
import type { ResourceCost, ResourceStatus } from './types.js';
import type { Waiter } from './Waiters.js';
import type { WaitQueue } from './WaitQueue.js';

/** One rate limit as a governor shows it, wherever it is enforced. */
export type RateView = RateInfo;

/** A parsed cost, with the bit mask of the limits it touches (queue ordering). */
export type Demand = QueuedDemand;

/**
 * Where a governor's quota lives and how waiters are admitted: in this process
 * (`LocalAdmission`, exact and synchronous) or in a shared store (`StoreAdmission`).
 * The engine (`GovernorCore`) owns everything else: waiters, modes, cooldowns, leases,
 * events, status. `T` is what a lease keeps of its reservation, `X` what a waiter carries
 * for the admission.
 */
export interface Admission<T, X> {
  readonly rates: readonly RateView[];
  /** Concurrency slots; `Infinity` when tasks are not limited. */
  readonly maxSlots: number;
  /** Decides at acquire whether a cost fits now (else every acquire waits for `serve`). */
  readonly synchronous: boolean;
  /** Parses a cost against the rates, with its queue mask. */
  demand(cost: ResourceCost): Demand;
  /** What a waiter carries for this admission (a store request). */
  prepare(demand: Demand, held: boolean): X;
  /** Whether waiters already queued go before `demand`. */
  ahead(demand: Demand, queue: WaitQueue<Waiter<X>>): boolean;
  /** The rate that keeps `demand` out now, as far as this process knows. */
  rateBlocker(demand: Demand, now: number): Blocker | undefined;
  /** Concurrency slots in use, as far as this process knows. */
  slotsInUse(): number;
  /** What is left of rate `index` now (negative in debt), as far as this process knows. */
  available(index: number, now: number): number;
  /** Takes `demand` from the rates now, unconditionally; what the lease keeps of it. */
  reserve(demand: Demand, now: number, held: boolean, extra: X | undefined): T;
  /** Admits whoever can go now, or arranges to try again. Called after every change. */
  serve(): void;
  /** Applies a settle (`values` per rate, `undefined` unchanged); whether capacity was freed now. */
  settle(lease: Lease<T>, values: readonly (number | undefined)[], now: number): boolean;
  /**
   * Ends a lease's hold, as of `agoMs` before `now` (already clamped to the time since the
   * grant; 0 when not given); whether capacity was freed now.
   */
  endHold(lease: Lease<T>, now: number, agoMs?: number): boolean;
  /** Gives back a lease's slots (and ends its hold); whether capacity was freed now. */
  release(lease: Lease<T>): boolean;
  /** Charges rate `index` with `amount` used elsewhere. */
  lower(index: number, amount: number, now: number): void;
  /** A cooldown of `ms` began here. */
  cooldown(ms: number): void;
  /** Why nobody can be admitted whatever the limits (a store down, failing closed). */
  closed(): string | undefined;
  /** `waitForResources` for admissions that cannot wait in the queue without taking. */
  readonly probe?: (timeoutMs: number, demand: Demand) => Promise<boolean>;
  /**
   * Makes the lease object (a subclass may show more of the ticket); without it, the
   * engine makes a plain `Lease` (and no grant object on the way).
   */
  lease?(owner: LeaseOwner, grant: LeaseGrant<T>): Lease<T>;
  /** Stops timers and subscriptions. */
  dispose(): void;
  /** The admission's part of the liveness view; `waitOf` a waiter is as `LivenessView.headWaitMs`. */
  liveness(): Pick<LivenessView, 'wakeAt' | 'headWaitMs' | 'busy'> & {
    waitOf(waiter: Waiter<X>): number | undefined;
  };
}

/** What the engine offers its admission. */
export interface AdmissionHost<T, X> {
  readonly name: string;
  readonly limits: ParsedResourceLimits;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly mode: ResourceStatus['mode'];
  readonly disposed: boolean;
  /** Reads this process's memory for the memory cap, if any. */
  readonly memoryProbe: MemoryProbe | undefined;
  /** Concurrency slots held by this process's leases. */
  readonly activeTasks: number;
  readonly queue: WaitQueue<Waiter<X>>;
  /** Clock time until which nobody is admitted (`-Infinity` for none). */
  readonly cooldownUntil: number;
  /** Why the current cooldown began. */
  readonly cooldownReason: string;
  /** Moves the cooldown's end later (another process began it); no event. */
  extendCooldown(until: number): void;
  /** Why `demand` cannot go now: the cooldown, the slots, the memory cap, then the rates. */
  blocker(demand: Demand, now: number): Blocker | undefined;
  /** Why `demand` would not be admitted now, as `checkResourceAvailability` says; `undefined` when it would. */
  reason(demand: Demand, now?: number): string | undefined;
  /** Why a slot cannot be taken for memory now, if so. */
  memoryBlocker(slots: number): Blocker | undefined;
  /** The waiter goes: a probe resolves `true`, anyone else gets a lease (reserved now unless `ticket` is given). */
  admit(waiter: Waiter<X>, now: number, ticket?: T): void;
  /**
   * The waiter is told why it must wait (a `queued` event the first time); every waiter's
   * timeout runs from now on (only this one's with `armAll` false).
   */
  blocked(waiter: Waiter<X>, reason: string, armAll?: boolean): void;
  /** Starts the waiter's wait timeout (a store admission starts it only once the waiter is known to wait). */
  arm(waiter: Waiter<X>): void;
  /** Refuses the waiter (reject mode) with a `rejected` event. */
  refuse(waiter: Waiter<X>, blocker: Blocker): void;
  /** Takes the waiter out of the queue and rejects it. */
  drop(waiter: Waiter<X>, error: unknown): void;
  /** Grants `demand` at once outside the queue (monitor mode, failing open). */
  grantNow(
    waiter: Pick<Waiter<X>, 'demand' | 'label' | 'held' | 'task' | 'enqueuedAt' | 'extra'>,
    now: number,
    ticket?: T,
  ): Lease<T>;
  emit(event: EventBody): void;
  /**
   * Emits `limit-approaching` for each rate (of those `amounts` touches, when given) whose
   * availability went from `before` to what it is at `now` across the threshold.
   */
  approached(before: readonly number[], now: number, amounts?: readonly number[]): void;
  /** The status changed. */
  changed(): void;
}
