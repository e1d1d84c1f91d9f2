// The one lease class every governor grants: its reservation, its slots, and the calls that end them.
import type { GovernorLease } from './Governor.js';
import type { ActualUsage, ResourceCost } from './types.js';

/** The governor side of a lease: what settle, release and the end of a hold do. */
export interface LeaseOwner {
  settleLease(lease: Lease, actual: ActualUsage): void;
  releaseLease(lease: Lease): void;
  endHoldLease(lease: Lease, agoMs?: number): void;
}

/** What a governor's admission records of one grant: a lease's reservation handles, amounts and slots. */
export interface LeaseGrant<T = unknown> {
  /** Unique within its governor. */
  readonly id: number;
  readonly cost: ResourceCost;
  /** Clock time of the grant, ms. */
  readonly acquiredAt: number;
  /** Amount reserved per rate, in the governor's rate order. */
  readonly amounts: number[];
  readonly slots: number;
  readonly held: boolean;
  /** What the admission keeps to undo or correct the reservation. */
  readonly ticket: T;
}

/**
 * What an acquire grants: the reservation of every limit it passed, and its concurrency
 * slots. `settle` corrects the reservation with what was really used; `release` frees
 * the slots. Both are idempotent, and neither throws once the governor is disposed.
 */
export class Lease<T = unknown> implements GovernorLease {
  /** Unique within its governor. */
  readonly id: number;
  /** What was reserved. */
  readonly cost: ResourceCost;
  /** Clock time of the grant, ms. */
  readonly acquiredAt: number;
  /** @internal amount reserved per rate, in the governor's rate order; settle updates it. */
  readonly amounts: number[];
  /** @internal concurrency slots held. */
  readonly slots: number;
  /** @internal what the governor's admission keeps of the reservation. */
  readonly ticket: T;
  /** @internal sliding-window reservations are held until settled, released or the hold ends. */
  held: boolean;
  #owner: LeaseOwner;
  #settled = false;
  #released = false;

  /** @internal leases are made by governors. */
  constructor(owner: LeaseOwner, grant: LeaseGrant<T>);
  /**
   * @internal the positional form (of earlier releases, and of a governor's acquire, which
   * makes no grant object): `handles` (the reservation handle per rate) is the lease's ticket.
   */
  constructor(
    owner: LeaseOwner,
    id: number,
    cost: ResourceCost,
    acquiredAt: number,
    handles: T,
    amounts: number[],
    slots: number,
    held: boolean,
  );
  constructor(
    owner: LeaseOwner,
    first: LeaseGrant<T> | number,
    cost?: ResourceCost,
    acquiredAt?: number,
    handles?: T,
    amounts?: number[],
    slots?: number,
    held?: boolean,
  ) {
    // Named parameters, not a rest array: a governor makes a lease on every acquire.
    this.#owner = owner;
    if (typeof first === 'number') {
      this.id = first;
      this.cost = cost!;
      this.acquiredAt = acquiredAt!;
      this.amounts = amounts!;
      this.slots = slots!;
      this.held = held!;
      this.ticket = handles as T;
    } else {
      this.id = first.id;
      this.cost = first.cost;
      this.acquiredAt = first.acquiredAt;
      this.amounts = first.amounts;
      this.slots = first.slots;
      this.held = first.held;
      this.ticket = first.ticket;
    }
  }

  /**
   * @internal the reservation handle per rate, as earlier releases showed it: the ticket of
   * an in-process lease; empty for a lease whose reservation lives elsewhere (a store).
   */
  get handles(): (object | undefined)[] {
    const ticket: unknown = this.ticket;
    return Array.isArray(ticket) ? ticket : [];
  }

  get settled(): boolean {
    return this.#settled;
  }

  get released(): boolean {
    return this.#released;
  }

  /**
   * Corrects the reservation with real usage: for each resource given, refunds an
   * over-estimate or charges the shortfall (which may put a limit into debt). Resources
   * not given keep their reservation. Only the first call counts.
   *
   * @example
   * const lease = await governor.acquire({ requests: 1, tokens: estimate });
   * const reply = await callModel();
   * lease.settle({ tokens: reply.usage.total_tokens });
   */
  settle(actual: ActualUsage): void {
    if (this.#settled) return;
    this.#settled = true;
    try {
      this.#owner.settleLease(this, actual);
    } catch (error) {
      this.#settled = false; // a malformed report changes nothing; a valid one may follow
      throw error;
    }
  }

  /**
   * Ends a hold before the settle: the provider has counted the call by now (its reply
   * started), so held sliding-window reservations count from now, or from `agoMs` ms ago
   * when the provider said how long it has had the call (never before the grant).
   * Idempotent.
   *
   * @throws InvalidArgumentError when `agoMs` is given and is not a number (NaN included).
   */
  endHold(agoMs?: number): void {
    if (this.held && !this.#released) this.#owner.endHoldLease(this, agoMs);
  }

  /** Frees the lease's concurrency slots. Only the first call counts. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#owner.releaseLease(this);
  }
}
