import type { ActualUsage, ResourceCost } from './types.js';

/** The governor side of a lease: what settle and release do. */
export interface LeaseOwner {
  settleLease(lease: Lease, actual: ActualUsage): void;
  releaseLease(lease: Lease): void;
  endHoldLease(lease: Lease): void;
}

/**
 * What an acquire grants: the reservation of every limit it passed, and its concurrency
 * slots. `settle` corrects the reservation with what was really used; `release` frees
 * the slots. Both are idempotent, and neither throws once the governor is disposed.
 */
export class Lease {
  /** Unique within its governor. */
  readonly id: number;
  /** What was reserved. */
  readonly cost: ResourceCost;
  /** Clock time of the grant, ms. */
  readonly acquiredAt: number;
  /** @internal per-limiter reservation handles and amounts, aligned with the governor's limiters. */
  readonly handles: (object | undefined)[];
  /** @internal */
  readonly amounts: number[];
  /** @internal concurrency slots held. */
  readonly slots: number;
  /** @internal sliding-window reservations are held until settled (or released). */
  held: boolean;
  #owner: LeaseOwner;
  #settled = false;
  #released = false;

  /** @internal leases are made by governors. */
  constructor(
    owner: LeaseOwner,
    id: number,
    cost: ResourceCost,
    acquiredAt: number,
    handles: (object | undefined)[],
    amounts: number[],
    slots: number,
    held: boolean,
  ) {
    this.#owner = owner;
    this.id = id;
    this.cost = cost;
    this.acquiredAt = acquiredAt;
    this.handles = handles;
    this.amounts = amounts;
    this.slots = slots;
    this.held = held;
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
   * started), so held sliding-window reservations count from now. Idempotent.
   */
  endHold(): void {
    if (this.held) this.#owner.endHoldLease(this);
  }

  /** Frees the lease's concurrency slots. Only the first call counts. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#owner.releaseLease(this);
  }
}
