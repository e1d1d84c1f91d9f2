// The shared-quota governor: the governor engine over a store-backed admission.

import { parseResourceLimits } from '../config/parseResourceLimits.js';
import type { ResourceLimits } from '../config/ResourceLimits.js';
import { checkRateCount } from '../governor/demand.js';
import { GovernorCore } from '../governor/GovernorCore.js';
import type { ResourceStatus } from '../governor/types.js';
import { ProcessMemoryProbe } from '../memory/MemoryProbe.js';
import { type DistributedGovernorOptions, resolveDistributedOptions } from './distributedOptions.js';
import type { QuotaConfig, QuotaStore } from './QuotaStore.js';
import { quotaConfig, StoreAdmission } from './StoreAdmission.js';
import { DistributedLease, type StoreTicket } from './StoreTicket.js';
import type { StoreDownPolicy, StoreWait } from './storeOutage.js';

export { type DistributedGovernorOptions, DistributedLease, type StoreDownPolicy };

/**
 * A governor whose quota lives in a `QuotaStore` shared by many processes (Redis). Within
 * the process, waiters keep their order (by priority) among those that need the same
 * limits, as in `ResourceGovernor`; up to `batchSize` of them are sent to the store in one
 * atomic call that grants them in order until one does not fit, and tells how long until
 * it would. Waiters that share no limit with that one go in the next call; once everyone
 * waits, the pump sleeps until the first can fit (plus a little jitter), or less when a
 * settle or release anywhere publishes a wake-up: no polling.
 *
 * Slots are leases with a TTL, renewed while held, so a killed process frees its slots
 * within `slotTtlMs`. A 429's cooldown is stored too: every process backs off together.
 * `checkResourceAvailability` answers from what the last store reply said.
 */
export class DistributedGovernor extends GovernorCore<StoreTicket, StoreWait> {
  /** The quota as the store enforces it. */
  readonly config: QuotaConfig;
  readonly store: QuotaStore;
  readonly #admission: StoreAdmission;

  constructor(limits: ResourceLimits, options: DistributedGovernorOptions) {
    const o = resolveDistributedOptions(options);
    const parsed = parseResourceLimits(limits);
    const config = quotaConfig(parsed, o);
    // The same bound as the in-process governor, so one set of limits works on both.
    checkRateCount(config.rates.length);
    const { clock, logger } = o;
    const memoryProbe =
      parsed.maxMemoryMb === undefined
        ? o.memoryProbe
        : (o.memoryProbe ?? new ProcessMemoryProbe({ clock, logger }));
    const core = {
      name: o.name,
      clock,
      logger,
      memoryProbe,
      approachingRatio: 0.8,
      waitingReason: 'waiting for the shared quota',
    };
    let admission: StoreAdmission | undefined;
    super(parsed, core, (host) => {
      admission = new StoreAdmission(host, config, o);
      return admission;
    });
    this.#admission = admission!;
    this.config = config;
    this.store = o.store;
  }

  /** Whether the store is unreachable now. */
  get storeDown(): boolean {
    return this.#admission.outage.down;
  }

  /** Asks the store for the quota's state now, and updates what `checkResourceAvailability` says. */
  async refresh(): Promise<ResourceStatus> {
    await this.#admission.refresh();
    return this.checkResourceAvailability();
  }
}
