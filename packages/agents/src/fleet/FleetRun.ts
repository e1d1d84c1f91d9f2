// One run of a fleet: its state, the dispatch loop every kind of run shares, and how it stops.
import { setMaxListeners } from 'node:events';
import { AbortError, type Clock, type LinkedAbort, type Logger, linkAbort } from '@tollgate/core';
import type { Governor, GovernorLease } from '@tollgate/limits';
import type { TaskResult } from '../agent/types.js';
import type { PricingTable } from '../pricing.js';
import { dueWarnings, type Running, wouldCross } from './budget.js';
import { executeFleetTask } from './executeFleetTask.js';
import { idleRow } from './rows.js';
import type {
  AgentFleetOptions,
  AgentRow,
  FleetEvent,
  FleetTask,
  RunEstimate,
  RunReport,
  StopReason,
} from './types.js';
import { UsageMeter } from './UsageMeter.js';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** A fleet event before the fleet stamps its name and the time on it. */
export type FleetEventInput = DistributiveOmit<FleetEvent, 'at' | 'fleet'>;

/** What a run needs of its fleet. */
export interface FleetContext {
  readonly name: string;
  readonly options: AgentFleetOptions;
  /** Layer 1: start slots. */
  readonly governor: Governor;
  readonly providerGovernor: Governor | undefined;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly pricing: PricingTable;
  estimate(tasks: number): RunEstimate;
  emit(event: FleetEventInput): void;
}

/** How a batch of tasks is dispatched. */
export interface DispatchOptions {
  /** Tasks the budget is checked for before each start: 1 task by task, 0 when checked per batch. */
  readonly budgetCount: number;
  /** The round the tasks belong to, in a round-based run. */
  readonly round?: number | undefined;
}

/**
 * The state of one run and its dispatch loop. Dispatch is lazy: a task is handed to an
 * agent only once it has its start slot and the budget says the run can afford it.
 */
export class FleetRun {
  readonly signal: AbortSignal;
  readonly startedAt: number;
  readonly wallStart = new Date();
  readonly results: TaskResult<unknown>[] = [];
  readonly rows: AgentRow[] = [];
  readonly running = new Set<Running>();
  readonly rounds: RunReport['rounds'][number][] = [];
  readonly meters: UsageMeter[];
  /** Order in which tasks were first seen: the report lists them so. */
  readonly order = new Map<string, number>();
  readonly warned = new Set<'tokens' | 'cost'>();
  readonly ctx: FleetContext;
  readonly #scope: LinkedAbort;
  /** Aborted when dispatch stops, so a wait for a start slot ends at once. */
  readonly #dispatch: LinkedAbort;
  stopped = false;
  stopReason: StopReason | undefined;
  stopDetail: string | undefined;
  dispatched = 0;
  tasks: number;
  readonly estimate: RunEstimate | undefined;

  constructor(
    ctx: FleetContext,
    signal: AbortSignal | undefined,
    tasks: number | undefined,
    estimate: RunEstimate,
  ) {
    this.ctx = ctx;
    // One internal scope per run: every task and waiter listens to it (not to the caller's
    // signal), so thousands of them raise no max-listeners warning on a signal we do not own.
    this.#scope = linkAbort(signal);
    setMaxListeners(0, this.#scope.signal);
    this.signal = this.#scope.signal;
    this.#dispatch = linkAbort(this.signal);
    this.startedAt = ctx.clock.now();
    this.meters = [ctx.governor, ...(ctx.providerGovernor ? [ctx.providerGovernor] : [])].map(
      (governor) => new UsageMeter(governor, ctx.logger),
    );
    this.tasks = tasks ?? 0;
    this.estimate = estimate;
    ctx.emit({ type: 'run-started', tasks, estimate });
    ctx.logger.info('fleet run started', {
      fleet: ctx.name,
      tasks,
      estimatedTokens: estimate.totalTokens,
      estimatedCost: estimate.cost,
    });
  }

  /**
   * The dispatch loop of every run: dispatches `tasks` in order, each once it has its start
   * slot; once dispatch stops, the rest are skipped. Resolves when every dispatched task has ended.
   */
  async dispatchAll(tasks: readonly FleetTask[], options: DispatchOptions): Promise<void> {
    const inFlight: Promise<void>[] = [];
    try {
      for (const [index, task] of tasks.entries()) {
        const started = await this.#dispatchOne(task, options);
        if (!started) {
          for (const rest of tasks.slice(index)) this.skip(rest, options.round);
          break;
        }
        inFlight.push(started.done);
      }
    } finally {
      // However dispatch ended, the run ends only after every task it started.
      await Promise.allSettled(inFlight);
    }
  }

  /** Why dispatching `count` more tasks would cross the budget, or `undefined`. */
  wouldCross(count: number): string | undefined {
    const perTask = this.estimate && this.estimate.tasks > 0 ? this.estimate : this.ctx.estimate(1);
    return wouldCross(this, this.ctx.options.budget, perTask, count);
  }

  /** Emits the budget warnings spending has just made due. */
  checkWarning(): void {
    for (const warning of dueWarnings(this, this.ctx.options.budget, this.warned)) {
      this.ctx.logger.warn('budget threshold crossed', { fleet: this.ctx.name, ...warning });
      this.ctx.emit({ type: 'budget-warning', ...warning });
    }
  }

  /** Stops dispatching (once): waits for start slots end, tasks in flight run to their end. */
  stop(reason: StopReason, detail: string): void {
    if (this.stopped) return;
    this.stopped = true;
    this.stopReason = reason;
    this.stopDetail = detail;
    this.#dispatch.abort(new AbortError(`Dispatch stopped: ${reason}`));
    this.ctx.logger.info('fleet stopped dispatching', { fleet: this.ctx.name, reason, detail });
    this.ctx.emit({ type: 'dispatch-stopped', reason, detail });
  }

  /** Reports `task` as never dispatched. */
  skip(task: FleetTask, round?: number): void {
    this.#see(task);
    const reason = this.signal.aborted ? 'aborted' : (this.stopReason ?? 'aborted');
    this.rows.push(idleRow(task, 'skipped', round));
    this.ctx.emit({ type: 'task-skipped', taskId: task.id, reason });
  }

  /** Ends the run: stopped as aborted if the signal aborted, the scope unlinked and the meters stopped. */
  end(): number {
    if (this.signal.aborted && !this.stopped) this.stop('aborted', 'the run was cancelled');
    const durationMs = this.ctx.clock.now() - this.startedAt;
    this.#scope.unlink();
    this.#dispatch.unlink();
    for (const meter of this.meters) meter.stop();
    return durationMs;
  }

  /**
   * Waits for a start slot, checks the budget, and starts the task. Resolves with the
   * task's completion (boxed, so awaiting the start does not await the task), or
   * `undefined` when the run stopped instead.
   */
  async #dispatchOne(task: FleetTask, { budgetCount, round }: DispatchOptions) {
    this.#see(task);
    if (this.stopped || this.signal.aborted) return this.#stopIfAborted();
    let over = budgetCount > 0 ? this.wouldCross(budgetCount) : undefined;
    if (over) return this.#stopForBudget(over);
    let lease: GovernorLease;
    try {
      const options = { signal: this.#dispatch.signal, label: task.id };
      lease = await this.ctx.governor.acquire({ task: 1, agentStarts: 1 }, options);
    } catch (error) {
      if (AbortError.is(error) || this.signal.aborted || this.stopped) return this.#stopIfAborted();
      // The governor itself failed (a store down, a dispose): dispatch stops, the run reports.
      const message = error instanceof Error ? error.message : String(error);
      this.ctx.logger.error('fleet governor failed', {
        fleet: this.ctx.name,
        taskId: task.id,
        error: message,
      });
      this.stop('governor-failed', `the fleet governor failed: ${message}`);
      return undefined;
    }
    // Spending may have moved while we waited for the slot.
    over = budgetCount > 0 ? this.wouldCross(budgetCount) : undefined;
    if (over || this.signal.aborted || this.stopped) {
      lease.settle({ agentStarts: 0 });
      lease.release();
      return over ? this.#stopForBudget(over) : this.#stopIfAborted();
    }
    this.dispatched++;
    return { done: executeFleetTask(this, task, lease, round) };
  }

  #see(task: FleetTask): void {
    if (!this.order.has(task.id)) this.order.set(task.id, this.order.size);
  }

  #stopForBudget(detail: string): undefined {
    if (!this.stopped) this.ctx.emit({ type: 'budget-stop', detail });
    this.stop('budget', detail);
    return undefined;
  }

  #stopIfAborted(): undefined {
    if (this.signal.aborted) this.stop('aborted', 'the run was cancelled');
    return undefined;
  }
}
