// The in-process governor: the governor engine over a local admission (exact, synchronous).
import { silentLogger, systemClock } from '@tollgate/core';
import { parseResourceLimits } from '../config/parseResourceLimits.js';
import type { ResourceLimits } from '../config/ResourceLimits.js';
import { ProcessMemoryProbe } from '../memory/MemoryProbe.js';
import { checkAcquireOptions } from './callOptions.js';
import { DEFAULT_PROBE_COST, GovernorCore } from './GovernorCore.js';
import type { Lease } from './Lease.js';
import { LocalAdmission, type LocalTicket } from './LocalAdmission.js';
import type { AcquireOptions, ResourceCost, ResourceGovernorOptions } from './types.js';

export { DEFAULT_PROBE_COST };

/**
 * Enforces `ResourceLimits` in this process: concurrency, rate limits, a memory cap and
 * timeouts, in enforce (wait), reject or monitor mode. Every acquire reserves from all
 * applicable limits at once or not at all. Waiters are served in order among those that
 * need the same limits (a waiter never overtakes an earlier one it shares a limit with, so
 * a large request is not starved), with one timer for the earliest moment anyone can
 * proceed.
 *
 * @example
 * const governor = new ResourceGovernor({ maxConcurrentTasks: 5, maxRequestsPerMinute: 60 });
 * const lease = await governor.acquire({ requests: 1, tokens: 1200 });
 * try { const reply = await call(); lease.settle({ tokens: reply.usage.total_tokens }); }
 * finally { lease.release(); }
 */
export class ResourceGovernor extends GovernorCore<LocalTicket, undefined> {
  /**
   * @param limits validated with `parseResourceLimits` (raw objects are parsed here).
   * @throws InvalidLimitsError when `limits` are not valid.
   */
  constructor(limits: ResourceLimits, options: ResourceGovernorOptions = {}) {
    const parsed = parseResourceLimits(limits);
    const clock = options.clock ?? systemClock;
    const logger = options.logger ?? silentLogger;
    const memoryProbe =
      parsed.maxMemoryMb === undefined
        ? options.memoryProbe
        : (options.memoryProbe ?? new ProcessMemoryProbe({ clock, logger }));
    const core = {
      name: options.name ?? 'governor',
      clock,
      logger,
      memoryProbe,
      approachingRatio: options.approachingRatio ?? 0.8,
      waitingReason: 'waiting behind earlier callers',
    };
    super(parsed, core, (host) => new LocalAdmission(host, parsed));
  }

  /** A lease now, or `undefined` if `cost` does not fit now (or someone is waiting for the same limits). */
  tryAcquire(cost: ResourceCost, options?: Pick<AcquireOptions, 'label'>): Lease<LocalTicket> | undefined {
    const { label } = checkAcquireOptions(options, 'tryAcquire');
    return this.tryGrant(cost, label);
  }
}
