// AgentFleet: many agents over many tasks under a start rate, a concurrency cap and a budget.
import { type Clock, InvalidArgumentError, type Logger, silentLogger, systemClock } from '@tollgate/core';
import type { Governor } from '@tollgate/limits';
import type { Observable } from 'rxjs';
import { Subject } from 'rxjs';
import { resourceGovernorFactory } from '../agent/factories.js';
import { checkFactoryResult, isGovernor } from '../agent/wiring.js';
import { costOf, DEFAULT_PRICING, type PricingTable } from '../pricing.js';
import { type FleetContext, type FleetEventInput, FleetRun } from './FleetRun.js';
import { checkFleetOptions, fleetLimits } from './fleetOptions.js';
import { buildRunReport } from './runReport.js';
import type {
  AgentFleetOptions,
  FleetEvent,
  FleetTask,
  RoundOptions,
  RunEstimate,
  RunReport,
} from './types.js';

const DEFAULT_ESTIMATE = { promptTokens: 1_500, completionTokens: 500 } as const;

/**
 * Runs many agents over many tasks under two layers of limits: layer 1 is the fleet's own
 * governor (agents started per minute, agents running at once), layer 2 the provider
 * governor every agent's calls already pass. Dispatch is lazy: a task is only handed to
 * an agent once it has its start slot and the budget says the run can afford it, so a
 * token or cost cap stops new work before it crosses, and cancelling a run leaves nothing
 * reserved. `run` and `runRounds` share one dispatch loop.
 *
 * @example
 * const fleet = new AgentFleet({
 *   createAgent: () => container.get(Researcher),
 *   startsPerMinute: 7,
 *   maxConcurrentAgents: 20,
 *   providerGovernor: container.get(TOKENS.ProviderGovernor),
 *   budget: { maxTokens: 500_000 },
 * });
 * const report = await fleet.run(tasks);
 */
export class AgentFleet {
  readonly name: string;
  /** Layer 1: starts per minute and agents at once (built by `governorFactory`). */
  readonly governor: Governor;
  readonly providerGovernor: Governor | undefined;
  readonly events$: Observable<FleetEvent>;
  readonly #options: AgentFleetOptions;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #pricing: PricingTable;
  readonly #events = new Subject<FleetEvent>();
  #busy = false;

  /**
   * @throws InvalidArgumentError for a missing `createAgent`, an option of the wrong type or
   * out of range, or a `governorFactory` that returned no governor.
   */
  constructor(options: AgentFleetOptions) {
    checkFleetOptions(options);
    this.#options = options;
    this.name = options.name ?? 'fleet';
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger ?? silentLogger;
    this.#pricing = { ...DEFAULT_PRICING, ...options.pricing };
    this.providerGovernor = options.providerGovernor;
    const factory = options.governorFactory ?? resourceGovernorFactory;
    this.governor = factory(fleetLimits(options), {
      name: this.name,
      clock: this.#clock,
      logger: this.#logger,
    });
    checkFactoryResult('governorFactory', this.governor, 'a Governor', isGovernor);
    this.events$ = this.#events.asObservable();
  }

  /**
   * What a run of `tasks` tasks is expected to use, by the per-task estimate, priced at the
   * fleet's model.
   */
  estimate(tasks: number, model = this.#options.model ?? 'unknown'): RunEstimate {
    const per = this.#options.estimate ?? DEFAULT_ESTIMATE;
    const usage = {
      promptTokens: per.promptTokens * tasks,
      completionTokens: per.completionTokens * tasks,
      totalTokens: (per.promptTokens + per.completionTokens) * tasks,
    };
    return { tasks, ...usage, cost: costOf(model, usage, this.#pricing), model };
  }

  /**
   * Runs every task, each on a fresh agent, in order of dispatch (FIFO through layer 1).
   * Resolves with the report however the run ends; tasks never dispatched are `skipped`.
   */
  async run(
    tasks: readonly FleetTask[],
    options: { readonly signal?: AbortSignal | undefined } = {},
  ): Promise<RunReport> {
    const run = this.#begin(options.signal, tasks.length, this.estimate(tasks.length));
    return this.#complete(run, () => run.dispatchAll(tasks, { budgetCount: 1 }));
  }

  /**
   * Round-based run: each round asks every role's source for up to `batchSize` ready
   * tasks, dispatches them (all roles in parallel) and waits for the round to end. Stops
   * early when no role has anything ready, when the next batch would cross the budget, at
   * `maxRounds`, when a role's source throws (`source-failed`), or when the signal aborts.
   * Like `run`, resolves with the report however the run ends.
   */
  async runRounds(options: RoundOptions): Promise<RunReport> {
    if (!(options.maxRounds >= 1) || !(options.batchSize >= 1))
      throw new InvalidArgumentError('maxRounds/batchSize', 'numbers of at least 1', options);
    const perRound = Object.keys(options.roles).length * options.batchSize;
    const run = this.#begin(options.signal, undefined, this.estimate(perRound * options.maxRounds));
    return this.#complete(run, async () => {
      for (let round = 1; !run.stopped; round++) {
        if (round > options.maxRounds) {
          run.stop('max-rounds', `stopped after ${options.maxRounds} rounds (maxRounds)`);
          break;
        }
        if (!(await this.#round(run, options, round))) break;
      }
    });
  }

  /** Disposes the fleet's own governor; waiters are rejected. The provider governor is left alone. */
  dispose(): void {
    this.governor.dispose();
    this.#events.complete();
  }

  /** One round: its batch gathered, checked against the budget, dispatched and summed up. False when the run ends here. */
  async #round(run: FleetRun, options: RoundOptions, round: number): Promise<boolean> {
    const batch = await this.#gather(run, options, round);
    if (!batch || run.signal.aborted) return false;
    if (batch.length === 0) {
      run.stop('no-ready-tasks', `no ready tasks in round ${round}`);
      return false;
    }
    run.tasks += batch.length;
    const over = run.wouldCross(batch.length);
    if (over) {
      for (const task of batch) run.skip(task, round);
      run.stop('budget', over);
      return false;
    }
    this.#emit({ type: 'round-started', round, tasks: batch.length });
    const before = run.results.length;
    await run.dispatchAll(batch, { budgetCount: 0, round });
    const finished = run.results.slice(before);
    const succeeded = finished.filter((r) => r.ok).length;
    const failed = finished.length - succeeded;
    const totalTokens = finished.reduce((sum, r) => sum + r.usage.totalTokens, 0);
    run.rounds.push({ round, dispatched: finished.length, succeeded, failed, totalTokens });
    this.#emit({ type: 'round-finished', round, succeeded, failed });
    return true;
  }

  /**
   * Every role's ready tasks for `round`, or undefined when a source threw: dispatch then
   * stops with `source-failed`, as it does when the fleet's governor fails.
   */
  async #gather(run: FleetRun, options: RoundOptions, round: number): Promise<FleetTask[] | undefined> {
    const batch: FleetTask[] = [];
    for (const [role, source] of Object.entries(options.roles)) {
      let ready: readonly FleetTask[];
      try {
        ready = await source.ready(options.batchSize, { round, results: [...run.results] });
      } catch (error) {
        // A source that gave up because the run was cancelled: the run ends as aborted.
        if (run.signal.aborted) return undefined;
        const message = error instanceof Error ? error.message : String(error);
        this.#logger.error('fleet task source failed', { fleet: this.name, role, round, error: message });
        run.stop('source-failed', `the task source of role '${role}' failed in round ${round}: ${message}`);
        return undefined;
      }
      batch.push(...ready.slice(0, options.batchSize).map((t) => ({ ...t, role: t.role ?? role })));
    }
    return batch;
  }

  /**
   * Runs `body` and reports the run. Should `body` throw all the same, the run is still
   * ended (its meters stopped, its scope let go) before the error goes to the caller; the
   * fleet takes its next run either way.
   */
  async #complete(run: FleetRun, body: () => Promise<void>): Promise<RunReport> {
    try {
      await body();
      return this.#finish(run);
    } catch (error) {
      run.end();
      throw error;
    } finally {
      this.#busy = false;
    }
  }

  #begin(signal: AbortSignal | undefined, tasks: number | undefined, estimate: RunEstimate): FleetRun {
    if (this.#busy) throw new InvalidArgumentError('run', 'one run at a time per fleet', 'a second run');
    this.#busy = true;
    return new FleetRun(this.#context(), signal, tasks, estimate);
  }

  #context(): FleetContext {
    return {
      name: this.name,
      options: this.#options,
      governor: this.governor,
      providerGovernor: this.providerGovernor,
      clock: this.#clock,
      logger: this.#logger,
      pricing: this.#pricing,
      estimate: (tasks) => this.estimate(tasks),
      emit: (event) => this.#emit(event),
    };
  }

  #finish(run: FleetRun): RunReport {
    const durationMs = run.end();
    const report = buildRunReport(run, durationMs, 'completed');
    this.#logger.info('fleet run finished', {
      fleet: this.name,
      stopReason: report.stopReason,
      succeeded: report.totals.succeeded,
      failed: report.totals.failed,
    });
    this.#emit({ type: 'run-finished', report });
    return report;
  }

  #emit(event: FleetEventInput): void {
    this.#events.next({ ...event, at: this.#clock.now(), fleet: this.name } as FleetEvent);
  }
}
