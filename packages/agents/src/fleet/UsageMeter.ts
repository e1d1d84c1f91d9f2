// UsageMeter: what a governor's limits really carried while watched, per resource.
import { type Logger, silentLogger } from '@tollgate/core';
import type { Governor, GovernorEvent } from '@tollgate/limits';
import type { Subscription } from 'rxjs';
import { guarded } from './guarded.js';
import type { LimitUtilisation } from './types.js';

/**
 * Sums what a governor charged while it watched: every acquire's cost per resource, corrected
 * by each settle (refunds and shortfalls), so `used` is what the limits really carried.
 */
export class UsageMeter {
  readonly governor: Governor;
  readonly #used = new Map<string, number>();
  readonly #reserved = new Map<number, Record<string, number>>();
  readonly #subscription: Subscription;

  /** @param logger where a failure to count an event is logged (it never reaches the governor's stream). */
  constructor(governor: Governor, logger: Logger = silentLogger) {
    this.governor = governor;
    this.#subscription = governor.events$.subscribe(
      guarded(logger, 'UsageMeter', (event: GovernorEvent) => this.#observe(event)),
    );
  }

  used(resource: string): number {
    return this.#used.get(resource) ?? 0;
  }

  /**
   * Utilisation of each of the governor's rate limits over `durationMs`: what was charged
   * against the most the limit could have admitted in that time. A sliding window admits
   * `limit` in every window the run touches (a run of 1.5 windows spans two); a token bucket
   * its burst plus what refills. It can still pass 100% when calls used more than they
   * reserved (the excess is settled as debt) or in monitor mode, which holds no call back.
   */
  utilisation(durationMs: number): LimitUtilisation[] {
    const status = this.governor.checkResourceAvailability({});
    return Object.entries(status.limits).map(([name, l]) => {
      const used = this.used(l.resource);
      const windows = durationMs / l.windowMs;
      const capacity =
        l.algorithm === 'token-bucket' ? l.capacity + l.limit * windows : l.limit * (Math.floor(windows) + 1);
      return {
        governor: this.governor.name,
        name,
        resource: l.resource,
        limit: l.limit,
        windowMs: l.windowMs,
        used,
        capacity,
        utilisation: capacity > 0 ? used / capacity : 0,
      };
    });
  }

  stop(): void {
    this.#subscription.unsubscribe();
  }

  #observe(event: GovernorEvent): void {
    if (event.type === 'acquired') {
      const charged: Record<string, number> = {};
      for (const [resource, amount] of Object.entries(event.cost)) {
        if (resource === 'task' || typeof amount !== 'number' || amount === 0) continue;
        charged[resource] = amount;
        this.#used.set(resource, this.used(resource) + amount);
      }
      this.#reserved.set(event.leaseId, charged);
    } else if (event.type === 'settled') {
      const charged = this.#reserved.get(event.leaseId) ?? {};
      for (const [resource, actual] of Object.entries(event.actual)) {
        if (actual === undefined) continue;
        this.#used.set(resource, this.used(resource) + actual - (charged[resource] ?? 0));
        charged[resource] = actual;
      }
    } else if (event.type === 'released') {
      this.#reserved.delete(event.leaseId);
    }
  }
}
