// One attempt's leases on every governor: settled, refunded and released exactly once.
import type { Clock } from '@tollgate/core';
import type { GovernorLease } from '@tollgate/limits';
import { processingAgoMs } from '@tollgate/llm-clients';
import type { CallUsage } from './usage.js';

/** What a call reserves: its prompt as estimated and the most output it may produce. */
export interface Reservation {
  readonly promptTokens: number;
  readonly maxTokens: number;
}

/** The cost a call reserves on every governor; keys a governor has no limit for are ignored. */
export function reservationCost(r: Reservation) {
  return {
    requests: 1,
    tokens: r.promptTokens + r.maxTokens,
    inputTokens: r.promptTokens,
    outputTokens: r.maxTokens,
  };
}

/**
 * The leases of one attempt, in governor order, with the provider governor's index.
 * `settle` and `refund` act once (the first wins); `release` is idempotent.
 */
export class Toll {
  readonly #leases: readonly GovernorLease[];
  readonly #provider: number;
  readonly #charging: 'admission' | 'usage';
  readonly #reservation: Reservation;
  readonly #clock: Clock | undefined;
  /** When the call went to the provider: every lease was granted just before. */
  readonly #sentAt: number;
  #done = false;

  constructor(
    leases: readonly GovernorLease[],
    provider: number,
    charging: 'admission' | 'usage',
    reservation: Reservation,
    clock?: Clock,
  ) {
    this.#clock = clock;
    this.#sentAt = clock?.now() ?? 0;
    this.#leases = leases;
    this.#provider = provider;
    this.#charging = charging;
    this.#reservation = reservation;
  }

  /** Tokens reserved: prompt + max output tokens. */
  get reserved(): number {
    return this.#reservation.promptTokens + this.#reservation.maxTokens;
  }

  /** Whether the leases have been settled or refunded. */
  get done(): boolean {
    return this.#done;
  }

  /**
   * The provider has answered (its headers or a first chunk): its window counts from now,
   * or from `processingMs` ago when the provider said how long it had the call (see
   * `GovernorLease.endHold`), never from before the call was sent.
   */
  endHold(processingMs?: number): void {
    const sinceSent = this.#clock ? this.#clock.now() - this.#sentAt : 0;
    this.#leases[this.#provider]?.endHold(processingAgoMs(processingMs, sinceSent));
  }

  /**
   * Settles with what was used. Input is charged without cache reads (providers do not
   * count them against input limits); the provider governor, under `admission` charging,
   * is charged prompt + max output tokens, as the provider charged at admission.
   */
  settle(usage: CallUsage): void {
    if (this.#once()) return;
    this.#leases.forEach((lease, i) => {
      const admission = i === this.#provider && this.#charging === 'admission';
      lease.settle({
        tokens: usage.inputTokens + (admission ? this.#reservation.maxTokens : usage.outputTokens),
        inputTokens: usage.inputTokens - usage.cacheReadTokens,
        outputTokens: usage.outputTokens,
        ...(usage.cacheReadTokens > 0 ? { cacheReadTokens: usage.cacheReadTokens } : {}),
        ...(usage.cacheWriteTokens > 0 ? { cacheWriteTokens: usage.cacheWriteTokens } : {}),
      });
    });
  }

  /**
   * A failed attempt used no tokens. Our own governors get everything back; the provider
   * governor too when the provider refused the call (a 4xx), but not when it may have
   * admitted and charged it (a 5xx, a reset, a timeout, an abort after sending): its
   * reservation stands, so we never count less than the provider does.
   */
  refund(admitted: boolean): void {
    if (this.#once()) return;
    this.#leases.forEach((lease, i) => {
      if (i === this.#provider && admitted) return;
      lease.settle({ requests: 0, tokens: 0, inputTokens: 0, outputTokens: 0 });
    });
  }

  /** Frees every lease (and ends any hold). Idempotent. */
  release(): void {
    for (const lease of this.#leases) lease.release();
  }

  #once(): boolean {
    if (this.#done) return true;
    this.#done = true;
    return false;
  }
}
