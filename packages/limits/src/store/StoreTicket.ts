// What a store-backed lease keeps of its grant, and the lease class that shows it.
import type { GovernorLease } from '../governor/Governor.js';
import { Lease, type LeaseGrant, type LeaseOwner } from '../governor/Lease.js';

/** Where a store-backed lease was granted: by the store, failing open, or by the local fallback. */
export interface StoreTicket {
  /** Its id in the store (unique across processes). */
  readonly storeId: string;
  /** Store-clock time of admission, when the store admitted it. */
  readonly admittedAt: number | undefined;
  /** The local fallback's lease, when the fallback admitted it. */
  readonly local: GovernorLease | undefined;
}

/** A lease of a distributed governor: in the store, or local while the store was down. */
export class DistributedLease extends Lease<StoreTicket> {
  /** Whether it was acquired with `holdUntilSettled` (a settle or end of hold does not change it; see `holding`). */
  readonly holds: boolean;

  /** @internal leases are made by governors. */
  constructor(owner: LeaseOwner, grant: LeaseGrant<StoreTicket>) {
    super(owner, grant);
    this.holds = grant.held;
  }

  /** Its id in the store. */
  get storeId(): string {
    return this.ticket.storeId;
  }

  /** Store-clock time of admission, when the store admitted it. */
  get admittedAt(): number | undefined {
    return this.ticket.admittedAt;
  }

  /** The local fallback's lease, when the fallback admitted it. */
  get local(): GovernorLease | undefined {
    return this.ticket.local;
  }

  /** Whether the store holds this lease (not a fail-open or local-fallback one). */
  get stored(): boolean {
    return this.ticket.admittedAt !== undefined;
  }

  /** Whether its held reservations still count as in flight (acquired held; no settle or end of hold yet). */
  get holding(): boolean {
    return this.held;
  }
}
