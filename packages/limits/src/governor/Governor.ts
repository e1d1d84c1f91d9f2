import type { Observable } from 'rxjs';
import type { ParsedResourceLimits } from '../config/ResourceLimits.js';
import type {
  AcquireOptions,
  ActualUsage,
  GovernorEvent,
  ResourceCost,
  ResourceStatus,
  RunTaskOptions,
} from './types.js';

/** What an acquire grants: settle it with the real usage, release it when done. */
export interface GovernorLease {
  readonly id: number;
  readonly cost: ResourceCost;
  /** Concurrency slots held. */
  readonly slots: number;
  readonly settled: boolean;
  readonly released: boolean;
  /** Corrects the reservation with what was really used (refunds or debt). Once. */
  settle(actual: ActualUsage): void;
  /** Frees the slots (and ends a hold). Idempotent. */
  release(): void;
  /**
   * Ends a hold (`holdUntilSettled`) before the settle: the provider has certainly counted
   * the call by now (the first byte of its reply arrived), so its sliding-window
   * reservations count from now. Settle and release are still to come. Idempotent; nothing
   * happens for a lease that holds nothing.
   */
  endHold(): void;
}

/**
 * What clients, agents and fleets need of a governor. `ResourceGovernor` keeps its quota in
 * this process (exact, synchronous); `DistributedGovernor` keeps it in a `QuotaStore`
 * shared by many processes.
 */
export interface Governor {
  readonly name: string;
  readonly limits: ParsedResourceLimits;
  readonly events$: Observable<GovernorEvent>;
  readonly status$: Observable<ResourceStatus>;
  readonly activeTasks: number;
  readonly queued: number;
  readonly disposed: boolean;
  readonly mode: ResourceStatus['mode'];
  acquire(cost: ResourceCost, options?: AcquireOptions): Promise<GovernorLease>;
  runTask<T>(
    fn: (signal: AbortSignal, lease: GovernorLease) => Promise<T> | T,
    options?: RunTaskOptions,
  ): Promise<T>;
  /** Nobody is admitted for `ms` (a provider said 429). */
  cooldown(ms: number, reason?: string): void;
  checkResourceAvailability(cost?: ResourceCost): ResourceStatus;
  waitForResources(timeoutMs: number, cost?: ResourceCost): Promise<boolean>;
  /** What the shortest-window limit on `resource` has left, as far as this governor knows. */
  remaining(resource: string): number | undefined;
  /** Lowers what is left of `resource` by `amount` (provider feedback). */
  lowerRemaining(resource: string, amount: number): void;
  dispose(): void;
}
