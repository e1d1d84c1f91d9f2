// The shapes of AgentFleet: tasks, budget, options, rounds, stop reasons, events and the run report.
import type { Clock, Logger, Usage } from '@tollgate/core';
import type { Governor, RateAlgorithm } from '@tollgate/limits';
import type { GovernorFactory } from '../agent/factories.js';
import type { HybridAgent } from '../agent/HybridAgent.js';
import type { AgentEvent, TaskResult, TaskStatus } from '../agent/types.js';
import type { PricingTable } from '../pricing.js';

/** One unit of fleet work: a task for an agent of a role. */
export interface FleetTask {
  readonly id: string;
  readonly input: string;
  /** Picks the kind of agent (`createAgent` gets the task). @default 'agent' */
  readonly role?: string | undefined;
  readonly metadata?: Readonly<Record<string, unknown>> | undefined;
}

/** Token and cost caps of a run. */
export interface FleetBudget {
  /** Stop dispatching when the next task (or batch) would take the run past this many tokens. */
  readonly maxTokens?: number | undefined;
  /** The same, in dollars. */
  readonly maxCost?: number | undefined;
  /** A `budget-warning` event (once) when spending crosses this share of a cap. @default 0.8 */
  readonly warnAt?: number | undefined;
}

/** What one task is expected to use, for the estimate before the run and the budget's projections. */
export interface TaskEstimate {
  readonly promptTokens: number;
  readonly completionTokens: number;
}

/** Options of {@link AgentFleet}. */
export interface AgentFleetOptions {
  /** Makes the agent for a task; called once per dispatched task. The fleet disposes it after. */
  readonly createAgent: (task: FleetTask) => HybridAgent<unknown>;
  /** Layer 1: agents started per minute, fleet-wide. @default unlimited */
  readonly startsPerMinute?: number | undefined;
  /** @default 'sliding-window' (never more than `startsPerMinute` in any minute) */
  readonly startAlgorithm?: RateAlgorithm | undefined;
  /** Agents running at once, fleet-wide. @default unlimited */
  readonly maxConcurrentAgents?: number | undefined;
  /** Each task's time limit; its agent's call in flight is aborted at the end. @default the agent's limits */
  readonly taskTimeoutMs?: number | undefined;
  /** Layer 2, the provider governor the agents share: reported on (utilisation, status). */
  readonly providerGovernor?: Governor | undefined;
  readonly budget?: FleetBudget | undefined;
  /** Per-task use for the estimate; once tasks finish, their average replaces it in projections. */
  readonly estimate?: TaskEstimate | undefined;
  /** The model the estimate is priced at. @default the first agent's model */
  readonly model?: string | undefined;
  /** Merged over `DEFAULT_PRICING`. */
  readonly pricing?: PricingTable | undefined;
  /** Divides the start-rate window, as `ResourceLimits.timeScale` does. @default 1 */
  readonly timeScale?: number | undefined;
  /**
   * Builds layer 1's governor over the limits above (a `DistributedGovernor` shares the
   * start rate between processes). The fleet disposes it. @default resourceGovernorFactory
   */
  readonly governorFactory?: GovernorFactory | undefined;
  /** Names the run in events and the report. @default 'fleet' */
  readonly name?: string | undefined;
  readonly clock?: Clock | undefined;
  readonly logger?: Logger | undefined;
}

/** Where a role's tasks come from in a round-based run. */
export interface RoundSource {
  /**
   * Up to `limit` tasks ready now; an empty list means none (for this round). Called once
   * per round; the results so far let it unlock dependent work (a writer after its research).
   */
  ready(limit: number, context: RoundContext): readonly FleetTask[] | Promise<readonly FleetTask[]>;
}

export interface RoundContext {
  readonly round: number;
  /** Every result so far, in completion order. */
  readonly results: readonly TaskResult<unknown>[];
}

/** Options of `AgentFleet.runRounds`. */
export interface RoundOptions {
  /** Task sources by role, dispatched in this order each round. */
  readonly roles: Readonly<Record<string, RoundSource>>;
  readonly maxRounds: number;
  /** Most tasks per role per round. */
  readonly batchSize: number;
  readonly signal?: AbortSignal | undefined;
}

/** Why a run stopped. */
export type StopReason =
  | 'completed'
  | 'no-ready-tasks'
  | 'max-rounds'
  | 'budget'
  /** A call ended with `QuotaExhaustedError`: the provider's quota is used up, so no task is started after it. */
  | 'quota-exhausted'
  /** The fleet's governor failed (its store unavailable, disposed during the run): no task is started after it. */
  | 'governor-failed'
  /** A round's task source threw or rejected: no round is started after it. */
  | 'source-failed'
  | 'aborted';

/** The run's expectation, before it starts. */
export interface RunEstimate {
  readonly tasks: number;
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly totalTokens: number;
  readonly cost: number;
  readonly model: string;
}

/** Everything a fleet does, as it happens. */
export type FleetEvent = { readonly at: number; readonly fleet: string } & (
  | {
      readonly type: 'run-started';
      readonly tasks: number | undefined;
      readonly estimate: RunEstimate | undefined;
    }
  | { readonly type: 'round-started'; readonly round: number; readonly tasks: number }
  | {
      readonly type: 'task-started';
      readonly taskId: string;
      readonly agentId: string;
      readonly role: string;
    }
  | { readonly type: 'task-finished'; readonly result: TaskResult<unknown>; readonly role: string }
  | { readonly type: 'task-skipped'; readonly taskId: string; readonly reason: StopReason }
  | {
      readonly type: 'round-finished';
      readonly round: number;
      readonly succeeded: number;
      readonly failed: number;
    }
  | {
      readonly type: 'budget-warning';
      readonly resource: 'tokens' | 'cost';
      readonly spent: number;
      readonly cap: number;
    }
  | { readonly type: 'budget-stop'; readonly detail: string }
  /** Dispatch stopped (any reason but `completed`); tasks in flight run to their end. */
  | { readonly type: 'dispatch-stopped'; readonly reason: StopReason; readonly detail: string }
  | { readonly type: 'agent'; readonly event: AgentEvent }
  | { readonly type: 'run-finished'; readonly report: RunReport }
);

/** How much of one rate limit a run used. */
export interface LimitUtilisation {
  readonly governor: string;
  readonly name: string;
  readonly resource: string;
  readonly limit: number;
  readonly windowMs: number;
  /** Net amount charged during the run (refunds deducted). */
  readonly used: number;
  /**
   * The most the limit could admit over the run: `limit` per window the run touches for a
   * sliding window, burst plus refill for a token bucket.
   */
  readonly capacity: number;
  /** `used / capacity`; above 1 only when calls used more than they reserved, or in monitor mode. */
  readonly utilisation: number;
}

/** One agent's task in the report. */
export interface AgentRow {
  readonly taskId: string;
  readonly agentId: string;
  readonly role: string;
  readonly status: TaskStatus | 'skipped';
  readonly round?: number;
  readonly queuedMs: number;
  readonly durationMs: number;
  readonly llmCalls: number;
  readonly toolCalls: number;
  readonly retries: number;
  readonly rateLimited: number;
  readonly usage: Usage;
  readonly cost: number;
  readonly error?: string;
}

/** The report of a run: written as metrics.json and printed as a table. */
export interface RunReport {
  readonly version: 1;
  readonly name: string;
  /** Wall-clock start, ISO 8601. */
  readonly startedAt: string;
  readonly durationMs: number;
  readonly stopReason: StopReason;
  readonly stopDetail?: string;
  readonly totals: {
    readonly agents: number;
    readonly tasks: number;
    readonly dispatched: number;
    readonly succeeded: number;
    readonly failed: number;
    readonly skipped: number;
    readonly llmCalls: number;
    readonly toolCalls: number;
    readonly retries: number;
    /** 429s the agents' clients saw. */
    readonly rateLimited: number;
    readonly promptTokens: number;
    readonly completionTokens: number;
    readonly totalTokens: number;
    readonly cost: number;
    /** Tasks finished per minute of wall time. */
    readonly tasksPerMinute: number;
    readonly tokensPerMinute: number;
  };
  readonly estimate?: RunEstimate;
  readonly budget?: FleetBudget & { readonly warned: boolean; readonly stopped: boolean };
  readonly limits: readonly LimitUtilisation[];
  readonly rounds: ReadonlyArray<{
    readonly round: number;
    readonly dispatched: number;
    readonly succeeded: number;
    readonly failed: number;
    readonly totalTokens: number;
  }>;
  readonly agents: readonly AgentRow[];
}
