// The shapes of governors: costs, usage, acquire and runTask options, status and events.
import type { Clock, Logger } from '@tollgate/core';
import type { RateAlgorithm } from '../config/ResourceLimits.js';
import type { MemoryProbe } from '../memory/MemoryProbe.js';

/**
 * What one acquire costs. Each key is a resource that rate limits charge; `task` takes
 * concurrency slots (and is what the memory cap gates). Keys a governor has no limit for
 * are ignored, so one cost can pass several governors.
 *
 * @example
 * { requests: 1, tokens: 1_850 }   // one LLM call
 * { toolCalls: 1 }                 // one tool call
 * { task: true }                   // one concurrency slot
 */
export interface ResourceCost {
  readonly requests?: number | undefined;
  readonly tokens?: number | undefined;
  readonly toolCalls?: number | undefined;
  /** Input (prompt) tokens, for `maxInputTokensPerMinute`. */
  readonly inputTokens?: number | undefined;
  /** Output (completion) tokens, for `maxOutputTokensPerMinute`. */
  readonly outputTokens?: number | undefined;
  /** Concurrency slots: `true` is 1. */
  readonly task?: number | boolean | undefined;
  readonly [resource: string]: number | boolean | undefined;
}

/** A usage report for `Lease.settle`: the real amount of each resource, as far as known. */
export type ActualUsage = Readonly<Record<string, number | undefined>>;

/** Options of `acquire`. */
export interface AcquireOptions {
  /** Aborting removes the waiter and rejects with `AbortError`; nothing stays reserved. */
  readonly signal?: AbortSignal | undefined;
  /** Higher goes first among waiters for the same limits. @default 0 */
  readonly priority?: number | undefined;
  /** Longest wait in ms before `ResourceWaitTimeoutError`. @default resourceWaitTimeoutSeconds × 1000 */
  readonly timeoutMs?: number | undefined;
  /** Free-form label carried on the events of this acquire (an agent id, say). */
  readonly label?: string | undefined;
  /**
   * Keep this lease's sliding-window reservations counted until it is settled (or
   * released), then count them for a full window from then. For calls to a provider whose
   * strict window starts when it *receives* the request: it did so somewhere between our
   * acquire and its reply, so only this is safe whatever the latency. @default false
   */
  readonly holdUntilSettled?: boolean | undefined;
}

/** Options of `runTask`. */
export interface RunTaskOptions extends AcquireOptions {
  /** Task time limit in ms; the task's signal aborts with `TaskTimeoutError`. @default taskTimeoutSeconds × 1000 */
  readonly taskTimeoutMs?: number | undefined;
  /** Further resources the task takes with its slot (e.g. `{ agentStarts: 1 }`). */
  readonly cost?: ResourceCost | undefined;
  /**
   * After a timeout or abort, how long the task may take to stop before its slot is given
   * back anyway (with a warning), ms. `runTask` rejects at once either way; the slot stays
   * taken while the aborted work still runs. @default 5_000
   */
  readonly stopGraceMs?: number | undefined;
}

/** Options of `ResourceGovernor`. */
export interface ResourceGovernorOptions {
  /** @default systemClock */
  readonly clock?: Clock | undefined;
  /** @default silentLogger */
  readonly logger?: Logger | undefined;
  /** Used when `maxMemoryMb` is set. @default a ProcessMemoryProbe */
  readonly memoryProbe?: MemoryProbe | undefined;
  /** Names this governor in events, status and errors. @default 'governor' */
  readonly name?: string | undefined;
  /** `limit-approaching` fires when a limit's usage crosses this share of it. @default 0.8 */
  readonly approachingRatio?: number | undefined;
}

/** One rate limit as seen in a status. */
export interface LimitStatus {
  readonly resource: string;
  readonly limit: number;
  readonly windowMs: number;
  readonly capacity: number;
  readonly algorithm: RateAlgorithm;
  /** What could be taken now; 0 while in debt (`Governor.remaining` tells the debt). */
  readonly remaining: number;
}

/** What the governor knows, at one instant. */
export interface ResourceStatus {
  readonly governor: string;
  /** Clock time of the snapshot, ms. */
  readonly at: number;
  /** Whether the checked cost would be admitted now. */
  readonly available: boolean;
  /** Why not, when it would not. */
  readonly reason?: string;
  readonly mode: 'enforce' | 'reject' | 'monitor';
  readonly activeTasks: number;
  /** `null` when tasks are not limited. */
  readonly maxTasks: number | null;
  /** Callers waiting. */
  readonly queued: number;
  /** Remaining amount of every rate limit, by name (floored to whole units). */
  readonly remaining: Readonly<Record<string, number>>;
  readonly limits: Readonly<Record<string, LimitStatus>>;
  readonly memoryUsageMb: number | null;
  readonly memoryLimitMb: number | null;
  /** Clock time until which nobody is admitted, or `null`. */
  readonly cooldownUntil: number | null;
}

interface EventBase {
  readonly governor: string;
  /** Clock time, ms. */
  readonly at: number;
}

/** Everything a governor does, as it happens. */
export type GovernorEvent = EventBase &
  (
    | {
        readonly type: 'acquired';
        readonly leaseId: number;
        readonly cost: ResourceCost;
        readonly waitedMs: number;
        readonly label?: string;
      }
    | {
        readonly type: 'queued';
        readonly cost: ResourceCost;
        readonly queued: number;
        readonly reason: string;
        readonly label?: string;
      }
    | {
        readonly type: 'rejected';
        readonly cost: ResourceCost;
        readonly limit: string;
        readonly reason: string;
        readonly retryAfterMs: number | undefined;
        readonly label?: string;
      }
    | {
        readonly type: 'settled';
        readonly leaseId: number;
        readonly reserved: ResourceCost;
        readonly actual: ActualUsage;
      }
    | { readonly type: 'released'; readonly leaseId: number; readonly heldMs: number }
    | {
        readonly type: 'timeout';
        readonly kind: 'wait' | 'task';
        readonly afterMs: number;
        readonly reason: string;
        readonly label?: string;
      }
    | { readonly type: 'aborted'; readonly cost: ResourceCost; readonly label?: string }
    | { readonly type: 'cooldown'; readonly until: number; readonly ms: number; readonly reason: string }
    | {
        readonly type: 'limit-approaching';
        readonly limit: string;
        readonly used: number;
        readonly max: number;
        readonly ratio: number;
      }
    | {
        readonly type: 'would-block';
        readonly cost: ResourceCost;
        readonly limit: string;
        readonly reason: string;
        readonly label?: string;
      }
    | {
        readonly type: 'store-unavailable';
        readonly policy: 'fail-closed' | 'fail-open' | 'local-fallback';
        readonly error: string;
      }
    | { readonly type: 'store-recovered'; readonly downMs: number }
    | { readonly type: 'disposed' }
  );

export type GovernorEventType = GovernorEvent['type'];
