// LocalFallback: admissions while the quota store is down, within this process's share.
import type { Clock, Logger } from '@tollgate/core';
import type { ParsedResourceLimits } from '../config/ResourceLimits.js';
import type { GovernorLease } from '../governor/Governor.js';
import { ResourceGovernor } from '../governor/ResourceGovernor.js';
import type { AcquireOptions, ActualUsage, ResourceCost } from '../governor/types.js';
import type { QuotaConfig, StoreRequest } from './QuotaStore.js';

/** What the local fallback admitted, to charge the store with once it is back. */
interface Admission {
  readonly at: number;
  readonly amounts: readonly number[];
}

/**
 * `localShare` of a shared quota, enforced in this process while its store is down: one
 * in-process governor with a rate per store rate (keyed by position, so two rates on one
 * resource stay apart) and the share of the slots.
 *
 * The store may have admitted up to the whole limit just before the outage, so each
 * outage starts with every rate charged with the share of what the store had used
 * (`begin`): every process that falls back takes at most its share of what was left, and
 * store and local admissions together never exceed a limit in a window. What it admits is
 * charged to the store when it is back (`drain`), so the store counts it too.
 */
export class LocalFallback {
  readonly #governor: ResourceGovernor;
  readonly #config: QuotaConfig;
  readonly #share: number;
  readonly #clock: Clock;
  #admissions: Admission[] = [];

  constructor(
    limits: ParsedResourceLimits,
    config: QuotaConfig,
    options: { share: number; clock: Clock; logger: Logger; name: string },
  ) {
    this.#config = config;
    this.#share = options.share;
    this.#clock = options.clock;
    const scale = (n: number) => Math.max(1, Math.floor(n * options.share));
    this.#governor = new ResourceGovernor(
      {
        ...(config.maxSlots === null ? {} : { maxConcurrentTasks: scale(config.maxSlots) }),
        enforceLimits: limits.enforceLimits,
        rejectOnLimit: limits.rejectOnLimit,
        // The distributed governor times its waiters out itself.
        resourceWaitTimeoutSeconds: Number.POSITIVE_INFINITY,
        rates: config.rates.map((r, i) => ({
          name: `local-${r.name}`,
          resource: resourceOf(i),
          limit: scale(r.limit),
          windowMs: r.windowMs,
          algorithm: r.algorithm,
          ...(r.algorithm === 'token-bucket' ? { burst: scale(r.capacity) } : {}),
        })),
      },
      { clock: options.clock, logger: options.logger, name: options.name },
    );
  }

  /** An outage starts: each rate is charged with the share of what the store had used (`remaining` from its last reply). */
  begin(remaining: readonly number[]): void {
    this.#config.rates.forEach((r, i) => {
      const used = r.capacity - (remaining[i] ?? r.capacity);
      if (used > 0) this.#governor.lowerRemaining(resourceOf(i), used * this.#share);
    });
  }

  /** Waits for the local share; the caller's signal, priority and label apply. */
  async acquire(
    request: StoreRequest,
    options: Pick<AcquireOptions, 'signal' | 'priority' | 'label'>,
  ): Promise<GovernorLease> {
    const cost: Record<string, number> = { task: request.slots };
    request.amounts.forEach((amount, i) => {
      cost[resourceOf(i)] = amount;
    });
    const lease = await this.#governor.acquire(cost as ResourceCost, options);
    this.#admissions.push({ at: this.#clock.now(), amounts: request.amounts });
    return lease;
  }

  /** A settle's real amounts (per store rate) as the local governor's resources. */
  usage(actual: readonly (number | undefined)[]): ActualUsage {
    const usage: Record<string, number | undefined> = {};
    actual.forEach((amount, i) => {
      if (amount !== undefined) usage[resourceOf(i)] = amount;
    });
    return usage;
  }

  /** What was admitted within each rate's window until now, per rate; forgets every admission. */
  drain(): number[] {
    const now = this.#clock.now();
    const totals = this.#config.rates.map((r, i) =>
      this.#admissions
        .filter((a) => a.at > now - r.windowMs)
        .reduce((sum, a) => sum + (a.amounts[i] ?? 0), 0),
    );
    this.#admissions = [];
    return totals;
  }

  dispose(): void {
    this.#governor.dispose();
  }
}

function resourceOf(index: number): string {
  return `rate${index}`;
}
