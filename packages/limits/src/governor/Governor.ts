// The governor contract every governor keeps, documented once here for all of them.
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
  /** Unique within its governor. */
  readonly id: number;
  /** What was reserved. */
  readonly cost: ResourceCost;
  /** Concurrency slots held. */
  readonly slots: number;
  /** `settle` was called (and accepted). */
  readonly settled: boolean;
  /** `release` was called. */
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
   *
   * `agoMs` says the provider counted the call at least that long ago (its reply reported
   * how long it has been processing it, e.g. OpenAI's `openai-processing-ms`): the
   * reservations then count from `now - agoMs`. It is clamped to `[0, time since the
   * grant]`, so no value can make a reservation count before the call was sent or after
   * now; `Infinity` means "since the grant".
   *
   * @throws InvalidArgumentError when `agoMs` is given and is not a number (NaN included).
   */
  endHold(agoMs?: number): void;
}

/**
 * What clients, agents and fleets need of a governor. `ResourceGovernor` keeps its quota in
 * this process (exact, synchronous); `DistributedGovernor` keeps it in a `QuotaStore`
 * shared by many processes. Both are one engine (`GovernorCore`) over a different
 * admission, so everything below behaves the same on both.
 */
export interface Governor {
  /** Names this governor in events, status and errors. */
  readonly name: string;
  /** The limits it enforces, validated. */
  readonly limits: ParsedResourceLimits;
  /** Every governor event, as it happens; completes on `dispose`. */
  readonly events$: Observable<GovernorEvent>;
  /**
   * The current status on subscribe, then a new one after every change, at most once per
   * microtask however many changes a tick made; completes on `dispose`.
   */
  readonly status$: Observable<ResourceStatus>;
  /** Concurrency slots held by this governor's leases. */
  readonly activeTasks: number;
  /** Callers waiting. */
  readonly queued: number;
  /** Whether `dispose` was called. */
  readonly disposed: boolean;
  /** The mode the limits select: `enforce` waits, `reject` refuses, `monitor` only reports. */
  readonly mode: ResourceStatus['mode'];
  /**
   * Reserves `cost` from every applicable limit at once. In enforce mode it waits (in
   * order) until everything fits; in reject mode it fails at once; in monitor mode it
   * never waits and reports what it would have done.
   *
   * @throws ResourceLimitExceededError at once when the cost can never fit (in enforce and
   *   reject mode), or in reject mode when it does not fit now.
   * @throws ResourceWaitTimeoutError after `timeoutMs` of waiting.
   * @throws AbortError when `signal` aborts first.
   * @throws DisposedError when the governor is disposed.
   */
  acquire(cost: ResourceCost, options?: AcquireOptions): Promise<GovernorLease>;
  /**
   * Runs `fn` holding one concurrency slot (and `options.cost`): waits for the slot (and
   * the memory cap), then aborts `fn`'s signal after the task timeout. Everything is
   * released however `fn` ends; on timeout or abort the returned promise rejects at once,
   * even if `fn` ignores its signal.
   *
   * @throws TaskTimeoutError when the task runs past its timeout.
   */
  runTask<T>(
    fn: (signal: AbortSignal, lease: GovernorLease) => Promise<T> | T,
    options?: RunTaskOptions,
  ): Promise<T>;
  /**
   * Nobody is admitted for `ms` (a provider said 429). Extends, never shortens, a current
   * cooldown; a store-backed governor shares it with every process.
   * @throws InvalidArgumentError when `ms` is not a finite number of at least 0.
   */
  cooldown(ms: number, reason?: string): void;
  /**
   * Whether `cost` would be admitted now, and everything else the governor knows.
   * @param cost what to ask about. @default { task: 1, requests: 1 }
   */
  checkResourceAvailability(cost?: ResourceCost): ResourceStatus;
  /**
   * Resolves `true` as soon as `cost` would be admitted, `false` after `timeoutMs` (or on
   * `dispose`). Takes nothing.
   */
  waitForResources(timeoutMs: number, cost?: ResourceCost): Promise<boolean>;
  /**
   * What the shortest-window limit on `resource` has left now (negative in debt), as far
   * as this governor knows, or `undefined` when nothing limits it. Used to compare our view
   * with a provider's.
   */
  remaining(resource: string): number | undefined;
  /**
   * Records `amount` of `resource` used outside this governor (another process on the same
   * API key, as a provider's rate-limit headers reveal): the shortest-window limit on that
   * resource is charged, so our view of what is left can only go down.
   */
  lowerRemaining(resource: string, amount: number): void;
  /**
   * Rejects every waiter with `DisposedError` (a `waitForResources` resolves `false`) and
   * stops every timer. Leases can still be settled and released. Idempotent.
   */
  dispose(): void;
}
