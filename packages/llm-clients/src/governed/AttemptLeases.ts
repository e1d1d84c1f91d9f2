// The leases of one attempt: taken on every governor in order, settled or refunded once, released.
import type { Usage } from '@tollgate/core';
import type { GovernorLease } from '@tollgate/limits';
import { MalformedResponseError, type ProviderError } from '../errors.js';
import { processingAgoMs } from '../headers.js';
import type { ClientContext } from './context.js';
import { type CallSize, chargeOf, keptOf, REFUND, reservationOf } from './costs.js';

/**
 * One lease per governor of the client, for one attempt. The first of `settle`, `keep`
 * and `refund` decides what the governors are charged; later ones do nothing.
 */
export class AttemptLeases {
  readonly #ctx: ClientContext;
  readonly #leases: readonly GovernorLease[];
  readonly #size: CallSize;
  #settled = false;
  /** When the call was sent (until then, when the leases were granted). */
  #sentAt: number;

  private constructor(ctx: ClientContext, leases: readonly GovernorLease[], size: CallSize) {
    this.#ctx = ctx;
    this.#sentAt = ctx.clock.now();
    this.#leases = leases;
    this.#size = size;
  }

  /**
   * Acquires the reservation of `size` on every governor in order; the provider's lease is
   * held until settled (the provider counts the call when it arrives). On failure gives back
   * what was taken and rethrows.
   */
  static async acquire(
    ctx: ClientContext,
    size: CallSize,
    signal: AbortSignal | undefined,
  ): Promise<AttemptLeases> {
    const cost = reservationOf(size);
    const leases: GovernorLease[] = [];
    try {
      for (const governor of ctx.governors) {
        const holdUntilSettled = governor === ctx.providerGovernor;
        leases.push(await governor.acquire(cost, { signal, holdUntilSettled, label: ctx.label }));
      }
      return new AttemptLeases(ctx, leases, size);
    } catch (error) {
      for (const lease of leases) {
        lease.settle(REFUND); // the call never happened
        lease.release();
      }
      throw error;
    }
  }

  /**
   * Ends the provider lease's hold (see `GovernorLease.endHold`): its reply has started,
   * and the provider counted the call at least `processingMs` ago when it said so.
   */
  endProviderHold(processingMs?: number): void {
    const i = this.#providerIndex();
    if (i < 0) return;
    this.#leases[i]?.endHold(processingAgoMs(processingMs, this.#ctx.clock.now() - this.#sentAt));
  }

  /** The call is being sent now: a hold never ends as of an earlier instant. */
  sending(): void {
    this.#sentAt = this.#ctx.clock.now();
  }

  /** Settles with what was used; the provider is charged as it charges (`providerCharging`). */
  settle(usage: Usage): void {
    if (!this.#begin()) return;
    this.#leases.forEach((lease, i) => {
      const charging = i === this.#providerIndex() ? this.#ctx.charging : 'usage';
      lease.settle(chargeOf(usage, this.#size.maxTokens, charging));
    });
  }

  /** Settles every lease with the reservation: the call was answered, what it used is unknown. */
  keep(): void {
    if (!this.#begin()) return;
    const kept = keptOf(this.#size);
    for (const lease of this.#leases) lease.settle(kept);
  }

  /**
   * A failed call used no tokens; the provider still counts a request it may have admitted
   * (not a 429 or a 4xx). A malformed reply was answered, so nothing is refunded.
   */
  refund(error: unknown): void {
    if (MalformedResponseError.is(error)) {
      this.keep();
      return;
    }
    if (!this.#begin()) return;
    const status = (error as ProviderError)?.status;
    const notAdmitted = status !== undefined && status >= 400 && status < 500;
    const provider = this.#providerIndex();
    this.#leases.forEach((lease, i) => {
      // The provider may have admitted (and charged) a call that failed without a 4xx: a 5xx,
      // a reset, a timeout, an abort after sending. Keep its reservation, so we never count
      // less than the provider does. Our own governors get everything back.
      if (i === provider && !notAdmitted) return;
      lease.settle(REFUND);
    });
  }

  /** Releases every lease (and ends any hold). Idempotent. */
  release(): void {
    for (const lease of this.#leases) lease.release();
  }

  #begin(): boolean {
    if (this.#settled) return false;
    this.#settled = true;
    return true;
  }

  #providerIndex(): number {
    const provider = this.#ctx.providerGovernor;
    return provider ? this.#ctx.governors.indexOf(provider) : -1;
  }
}
