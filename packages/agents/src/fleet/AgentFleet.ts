import { setMaxListeners } from 'node:events';
import {
  AbortError,
  addUsage,
  type Clock,
  checkOptions,
  EMPTY_USAGE,
  InvalidArgumentError,
  type LinkedAbort,
  type Logger,
  linkAbort,
  oneOf,
  optionRules,
  rule,
  silentLogger,
  systemClock,
  type Usage,
} from '@tollgate/core';
import { type Governor, type GovernorLease, ResourceGovernor, type ResourceLimits } from '@tollgate/limits';
import { QuotaExhaustedError } from '@tollgate/llm-clients';
import type { Observable } from 'rxjs';
import { Subject } from 'rxjs';
import type { HybridAgent } from '../agent/HybridAgent.js';
import type { AgentEvent, TaskResult } from '../agent/types.js';
import { costOf, DEFAULT_PRICING, type PricingTable } from '../pricing.js';
import { guarded } from './guarded.js';
import type {
  AgentFleetOptions,
  AgentRow,
  FleetEvent,
  FleetTask,
  RoundOptions,
  RunEstimate,
  RunReport,
  StopReason,
} from './types.js';
import { UsageMeter } from './UsageMeter.js';

const DEFAULT_ESTIMATE = { promptTokens: 1_500, completionTokens: 500 } as const;

/** A task in flight: its live usage counts toward the budget before it reports. */
interface Running {
  readonly task: FleetTask;
  usage: Usage;
  cost: number;
}

/** State of one run. */
interface Run {
  readonly signal: AbortSignal;
  readonly scope: LinkedAbort;
  /** Aborted when dispatch stops, so a wait for a start slot ends at once. */
  readonly dispatch: LinkedAbort;
  readonly startedAt: number;
  readonly wallStart: Date;
  readonly results: TaskResult<unknown>[];
  readonly rows: AgentRow[];
  readonly running: Set<Running>;
  readonly rounds: RunReport['rounds'][number][];
  readonly meters: UsageMeter[];
  /** Order in which tasks were first seen: the report lists them so. */
  readonly order: Map<string, number>;
  warned: Set<'tokens' | 'cost'>;
  stopped: boolean;
  stopReason: StopReason | undefined;
  stopDetail: string | undefined;
  dispatched: number;
  tasks: number;
  estimate: RunEstimate | undefined;
}

/**
 * Runs many agents over many tasks under two layers of limits: layer 1 is the fleet's own
 * governor (agents started per minute, agents running at once), layer 2 the provider
 * governor every agent's calls already pass. Dispatch is lazy: a task is only handed to
 * an agent once it has its start slot and the budget says the run can afford it, so a
 * token or cost cap stops new work before it crosses, and cancelling a run leaves nothing
 * reserved.
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
  /** Layer 1: starts per minute and agents at once. */
  readonly governor: ResourceGovernor;
  readonly providerGovernor: Governor | undefined;
  readonly events$: Observable<FleetEvent>;
  readonly #options: AgentFleetOptions;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #pricing: PricingTable;
  readonly #events = new Subject<FleetEvent>();
  #busy = false;

  /** @throws InvalidArgumentError for a missing `createAgent`, or an option of the wrong type or out of range. */
  constructor(options: AgentFleetOptions) {
    if (typeof options?.createAgent !== 'function')
      throw new InvalidArgumentError(
        'AgentFleet.createAgent',
        'a function returning an agent for a task',
        options?.createAgent,
      );
    checkOptions('AgentFleet', options, {
      startsPerMinute: optionRules.positive,
      startAlgorithm: oneOf('sliding-window', 'token-bucket'),
      maxConcurrentAgents: optionRules.positiveInt,
      taskTimeoutMs: optionRules.positive,
      timeScale: optionRules.positive,
      name: optionRules.string,
      model: optionRules.string,
      budget: rule('an object', isObject),
      estimate: rule('an object', isObject),
    });
    checkOptions('AgentFleet.budget', options.budget, {
      maxTokens: optionRules.positive,
      maxCost: optionRules.positive,
      warnAt: optionRules.fraction,
    });
    checkOptions('AgentFleet.estimate', options.estimate, {
      promptTokens: optionRules.nonNegative,
      completionTokens: optionRules.nonNegative,
    });
    this.#options = options;
    this.name = options.name ?? 'fleet';
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger ?? silentLogger;
    this.#pricing = { ...DEFAULT_PRICING, ...options.pricing };
    this.providerGovernor = options.providerGovernor;
    const limits: ResourceLimits = {
      ...(options.maxConcurrentAgents === undefined
        ? {}
        : { maxConcurrentTasks: options.maxConcurrentAgents }),
      rates:
        options.startsPerMinute === undefined
          ? []
          : [
              {
                name: 'agentStartsPerMinute',
                resource: 'agentStarts',
                limit: options.startsPerMinute,
                windowMs: 60_000,
                algorithm: options.startAlgorithm ?? 'sliding-window',
              },
            ],
      timeScale: options.timeScale ?? 1,
      resourceWaitTimeoutSeconds: Number.POSITIVE_INFINITY,
    };
    this.governor = new ResourceGovernor(limits, {
      clock: this.#clock,
      logger: this.#logger,
      name: this.name,
    });
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
    const inFlight: Promise<void>[] = [];
    try {
      for (const [index, task] of tasks.entries()) {
        const started = await this.#dispatch(run, task, 1);
        if (!started) {
          for (const rest of tasks.slice(index)) this.#skip(run, rest);
          break;
        }
        inFlight.push(started.done);
      }
      await Promise.all(inFlight);
      return this.#finish(run, run.stopReason ?? 'completed');
    } finally {
      this.#busy = false;
    }
  }

  /**
   * Round-based run: each round asks every role's source for up to `batchSize` ready
   * tasks, dispatches them (all roles in parallel) and waits for the round to end. Stops
   * early when no role has anything ready, when the next batch would cross the budget, at
   * `maxRounds`, or when the signal aborts.
   */
  async runRounds(options: RoundOptions): Promise<RunReport> {
    if (!(options.maxRounds >= 1) || !(options.batchSize >= 1))
      throw new InvalidArgumentError('maxRounds/batchSize', 'numbers of at least 1', options);
    const roles = Object.entries(options.roles);
    const perRound = roles.length * options.batchSize;
    const run = this.#begin(options.signal, undefined, this.estimate(perRound * options.maxRounds));
    try {
      let round = 0;
      while (!run.stopped) {
        if (round >= options.maxRounds) {
          this.#stop(run, 'max-rounds', `stopped after ${options.maxRounds} rounds (maxRounds)`);
          break;
        }
        round++;
        const batch: FleetTask[] = [];
        for (const [role, source] of roles) {
          const ready = await source.ready(options.batchSize, { round, results: [...run.results] });
          batch.push(...ready.slice(0, options.batchSize).map((t) => ({ ...t, role: t.role ?? role })));
        }
        if (run.signal.aborted) break;
        if (batch.length === 0) {
          this.#stop(run, 'no-ready-tasks', `no ready tasks in round ${round}`);
          break;
        }
        run.tasks += batch.length;
        const over = this.#wouldCross(run, batch.length);
        if (over) {
          for (const task of batch) this.#skip(run, task, round);
          this.#stop(run, 'budget', over);
          break;
        }
        this.#emit({ type: 'round-started', round, tasks: batch.length });
        const before = run.results.length;
        const inFlight: Promise<void>[] = [];
        for (const [index, task] of batch.entries()) {
          const started = await this.#dispatch(run, task, 0, round);
          if (!started) {
            for (const rest of batch.slice(index)) this.#skip(run, rest, round);
            break;
          }
          inFlight.push(started.done);
        }
        await Promise.all(inFlight);
        const finished = run.results.slice(before);
        const summary = {
          round,
          dispatched: finished.length,
          succeeded: finished.filter((r) => r.ok).length,
          failed: finished.filter((r) => !r.ok).length,
          totalTokens: finished.reduce((sum, r) => sum + r.usage.totalTokens, 0),
        };
        run.rounds.push(summary);
        this.#emit({ type: 'round-finished', round, succeeded: summary.succeeded, failed: summary.failed });
      }
      return this.#finish(run, run.stopReason ?? 'completed');
    } finally {
      this.#busy = false;
    }
  }

  /** Disposes the fleet's own governor; waiters are rejected. The provider governor is left alone. */
  dispose(): void {
    this.governor.dispose();
    this.#events.complete();
  }

  #begin(signal: AbortSignal | undefined, tasks: number | undefined, estimate: RunEstimate): Run {
    if (this.#busy) throw new InvalidArgumentError('run', 'one run at a time per fleet', 'a second run');
    this.#busy = true;
    // One internal scope per run: every task and waiter listens to it (not to the caller's
    // signal), so thousands of them raise no max-listeners warning on a signal we do not own.
    const scope = linkAbort(signal);
    setMaxListeners(0, scope.signal);
    const runSignal = scope.signal;
    const meters = [new UsageMeter(this.governor, this.#logger)];
    if (this.providerGovernor) meters.push(new UsageMeter(this.providerGovernor, this.#logger));
    const run: Run = {
      signal: runSignal,
      scope,
      dispatch: linkAbort(runSignal),
      startedAt: this.#clock.now(),
      wallStart: new Date(),
      results: [],
      rows: [],
      running: new Set(),
      rounds: [],
      meters,
      order: new Map(),
      warned: new Set(),
      stopped: false,
      stopReason: undefined,
      stopDetail: undefined,
      dispatched: 0,
      tasks: tasks ?? 0,
      estimate,
    };
    this.#emit({ type: 'run-started', tasks, estimate });
    this.#logger.info('fleet run started', {
      fleet: this.name,
      tasks,
      estimatedTokens: estimate.totalTokens,
      estimatedCost: estimate.cost,
    });
    return run;
  }

  /**
   * Waits for a start slot, checks the budget, and starts the task. Resolves with the
   * task's completion (boxed, so awaiting the start does not await the task), or
   * `undefined` when the run stopped instead.
   */
  async #dispatch(
    run: Run,
    task: FleetTask,
    batch: number,
    round?: number,
  ): Promise<{ readonly done: Promise<void> } | undefined> {
    if (!run.order.has(task.id)) run.order.set(task.id, run.order.size);
    if (run.stopped || run.signal.aborted) return this.#stopIfAborted(run);
    let over = batch > 0 ? this.#wouldCross(run, batch) : undefined;
    if (over) return this.#stopForBudget(run, over);
    let lease: GovernorLease;
    try {
      lease = await this.governor.acquire(
        { task: 1, agentStarts: 1 },
        { signal: run.dispatch.signal, label: task.id },
      );
    } catch (error) {
      if (AbortError.is(error) || run.signal.aborted || run.stopped) return this.#stopIfAborted(run);
      throw error;
    }
    // Spending may have moved while we waited for the slot.
    over = batch > 0 ? this.#wouldCross(run, batch) : undefined;
    if (over || run.signal.aborted || run.stopped) {
      lease.settle({ agentStarts: 0 });
      lease.release();
      return over ? this.#stopForBudget(run, over) : this.#stopIfAborted(run);
    }
    run.dispatched++;
    return { done: this.#execute(run, task, lease, round) };
  }

  async #execute(run: Run, task: FleetTask, lease: GovernorLease, round: number | undefined): Promise<void> {
    const role = task.role ?? 'agent';
    const running: Running = { task, usage: EMPTY_USAGE, cost: 0 };
    run.running.add(running);
    const scope = linkAbort(run.signal);
    let agent: HybridAgent<unknown> | undefined;
    try {
      agent = this.#options.createAgent(task);
      const model = agent.model ?? agent.client.model;
      const subscription = agent.events$.subscribe(
        guarded(this.#logger, `fleet '${this.name}' watching ${agent.agentId}`, (event: AgentEvent) => {
          if (event.type === 'llm-call') {
            running.usage = addUsage(running.usage, event.usage);
            running.cost += costOf(model, event.usage, this.#pricing);
            this.#checkWarning(run);
          }
          this.#emit({ type: 'agent', event });
        }),
      );
      this.#emit({ type: 'task-started', taskId: task.id, agentId: agent.agentId, role });
      const result = await agent.executeTask(
        { id: task.id, input: task.input, metadata: { ...task.metadata, role } },
        {
          signal: scope.signal,
          ...(this.#options.taskTimeoutMs === undefined
            ? {}
            : { taskTimeoutMs: this.#options.taskTimeoutMs }),
        },
      );
      subscription.unsubscribe();
      const stats = agent.client.stats;
      run.results.push(result);
      run.rows.push({
        taskId: task.id,
        agentId: agent.agentId,
        role,
        status: result.status,
        ...(round === undefined ? {} : { round }),
        queuedMs: result.queuedMs,
        durationMs: result.durationMs,
        llmCalls: result.llmCalls,
        toolCalls: result.toolCalls,
        retries: stats.retries,
        rateLimited: stats.rateLimited,
        usage: result.usage,
        cost: result.cost,
        ...(result.error ? { error: result.error.message } : {}),
      });
      this.#emit({ type: 'task-finished', result, role });
      // A used-up quota fails every later call at once: start nothing more.
      if (QuotaExhaustedError.is(result.error)) this.#stop(run, 'quota-exhausted', result.error.message);
    } catch (error) {
      // createAgent threw: the task fails, the run goes on.
      const message = error instanceof Error ? error.message : String(error);
      run.rows.push({
        ...idleRow(task, 'failed', round),
        agentId: agent?.agentId ?? '(none)',
        error: message,
      });
      this.#logger.error('could not start an agent', { fleet: this.name, taskId: task.id, error: message });
    } finally {
      run.running.delete(running);
      scope.unlink();
      agent?.dispose();
      lease.release();
      this.#checkWarning(run);
    }
  }

  /** Why dispatching `count` more tasks would cross a cap, or `undefined` if it would not. */
  #wouldCross(run: Run, count: number): string | undefined {
    const budget = this.#options.budget;
    if (!budget || (budget.maxTokens === undefined && budget.maxCost === undefined)) return undefined;
    const spent = this.#spent(run);
    // Expected per task: the average of finished tasks once there are some, else the estimate.
    const done = run.results.filter((r) => r.llmCalls > 0);
    const per = run.estimate && run.estimate.tasks > 0 ? run.estimate : this.estimate(1);
    const perTokens =
      done.length > 0
        ? done.reduce((s, r) => s + r.usage.totalTokens, 0) / done.length
        : per.totalTokens / per.tasks;
    const perCost =
      done.length > 0 ? done.reduce((s, r) => s + r.cost, 0) / done.length : per.cost / per.tasks;
    // Tasks in flight are expected to use at least what a task uses on average.
    let pendingTokens = 0;
    let pendingCost = 0;
    for (const r of run.running) {
      pendingTokens += Math.max(0, perTokens - r.usage.totalTokens);
      pendingCost += Math.max(0, perCost - r.cost);
    }
    const projectedTokens = spent.tokens + pendingTokens + count * perTokens;
    const projectedCost = spent.cost + pendingCost + count * perCost;
    if (budget.maxTokens !== undefined && projectedTokens > budget.maxTokens)
      return `token budget: ${Math.round(spent.tokens)} spent, ${Math.round(projectedTokens)} projected with the next ${count} task(s), cap ${budget.maxTokens}`;
    if (budget.maxCost !== undefined && projectedCost > budget.maxCost)
      return `cost budget: $${spent.cost.toFixed(4)} spent, $${projectedCost.toFixed(4)} projected with the next ${count} task(s), cap $${budget.maxCost}`;
    return undefined;
  }

  #spent(run: Run): { tokens: number; cost: number } {
    let tokens = 0;
    let cost = 0;
    for (const r of run.results) {
      tokens += r.usage.totalTokens;
      cost += r.cost;
    }
    for (const r of run.running) {
      tokens += r.usage.totalTokens;
      cost += r.cost;
    }
    return { tokens, cost };
  }

  #checkWarning(run: Run): void {
    const budget = this.#options.budget;
    if (!budget) return;
    const warnAt = budget.warnAt ?? 0.8;
    const spent = this.#spent(run);
    const check = (resource: 'tokens' | 'cost', value: number, cap: number | undefined) => {
      if (cap === undefined || run.warned.has(resource) || value < warnAt * cap) return;
      run.warned.add(resource);
      this.#logger.warn('budget threshold crossed', { fleet: this.name, resource, spent: value, cap });
      this.#emit({ type: 'budget-warning', resource, spent: value, cap });
    };
    check('tokens', spent.tokens, budget.maxTokens);
    check('cost', spent.cost, budget.maxCost);
  }

  #stopForBudget(run: Run, detail: string): undefined {
    if (!run.stopped) this.#emit({ type: 'budget-stop', detail });
    this.#stop(run, 'budget', detail);
    return undefined;
  }

  #stopIfAborted(run: Run): undefined {
    if (run.signal.aborted) this.#stop(run, 'aborted', 'the run was cancelled');
    return undefined;
  }

  #stop(run: Run, reason: StopReason, detail: string): void {
    if (run.stopped) return;
    run.stopped = true;
    run.stopReason = reason;
    run.stopDetail = detail;
    run.dispatch.abort(new AbortError(`Dispatch stopped: ${reason}`));
    this.#logger.info('fleet stopped dispatching', { fleet: this.name, reason, detail });
    this.#emit({ type: 'dispatch-stopped', reason, detail });
  }

  #skip(run: Run, task: FleetTask, round?: number): void {
    if (!run.order.has(task.id)) run.order.set(task.id, run.order.size);
    const reason = run.signal.aborted ? 'aborted' : (run.stopReason ?? 'aborted');
    run.rows.push(idleRow(task, 'skipped', round));
    this.#emit({ type: 'task-skipped', taskId: task.id, reason });
  }

  #finish(run: Run, fallback: StopReason): RunReport {
    if (run.signal.aborted && !run.stopped) this.#stop(run, 'aborted', 'the run was cancelled');
    const durationMs = this.#clock.now() - run.startedAt;
    run.scope.unlink();
    run.dispatch.unlink();
    for (const meter of run.meters) meter.stop();
    const rank = (id: string) => run.order.get(id) ?? Number.MAX_SAFE_INTEGER;
    const rows = [...run.rows].sort((a, b) => rank(a.taskId) - rank(b.taskId));
    const sum = (pick: (r: AgentRow) => number) => rows.reduce((s, r) => s + pick(r), 0);
    const totalTokens = sum((r) => r.usage.totalTokens);
    const finished = rows.filter((r) => r.status !== 'skipped').length;
    const minutes = durationMs / 60_000;
    const budget = this.#options.budget;
    const report: RunReport = {
      version: 1,
      name: this.name,
      startedAt: run.wallStart.toISOString(),
      durationMs,
      stopReason: run.stopReason ?? fallback,
      ...(run.stopDetail === undefined ? {} : { stopDetail: run.stopDetail }),
      totals: {
        agents: new Set(rows.filter((r) => r.agentId !== '(none)').map((r) => r.agentId)).size,
        tasks: Math.max(run.tasks, rows.length),
        dispatched: run.dispatched,
        succeeded: rows.filter((r) => r.status === 'completed').length,
        failed: rows.filter((r) => r.status !== 'completed' && r.status !== 'skipped').length,
        skipped: rows.filter((r) => r.status === 'skipped').length,
        llmCalls: sum((r) => r.llmCalls),
        toolCalls: sum((r) => r.toolCalls),
        retries: sum((r) => r.retries),
        rateLimited: sum((r) => r.rateLimited),
        promptTokens: sum((r) => r.usage.promptTokens),
        completionTokens: sum((r) => r.usage.completionTokens),
        totalTokens,
        cost: sum((r) => r.cost),
        tasksPerMinute: minutes > 0 ? finished / minutes : 0,
        tokensPerMinute: minutes > 0 ? totalTokens / minutes : 0,
      },
      ...(run.estimate ? { estimate: run.estimate } : {}),
      ...(budget
        ? { budget: { ...budget, warned: run.warned.size > 0, stopped: run.stopReason === 'budget' } }
        : {}),
      limits: run.meters.flatMap((m) => m.utilisation(durationMs)),
      rounds: run.rounds,
      agents: rows,
    };
    this.#logger.info('fleet run finished', {
      fleet: this.name,
      stopReason: report.stopReason,
      succeeded: report.totals.succeeded,
      failed: report.totals.failed,
    });
    this.#emit({ type: 'run-finished', report });
    return report;
  }

  #emit(event: DistributiveOmit<FleetEvent, 'at' | 'fleet'>): void {
    this.#events.next({ ...event, at: this.#clock.now(), fleet: this.name } as FleetEvent);
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

const isObject = (v: unknown) => typeof v === 'object' && v !== null;

/** The row of a task that used nothing: never dispatched, or its agent could not be made. */
function idleRow(task: FleetTask, status: AgentRow['status'], round: number | undefined): AgentRow {
  return {
    taskId: task.id,
    agentId: '(none)',
    role: task.role ?? 'agent',
    status,
    ...(round === undefined ? {} : { round }),
    queuedMs: 0,
    durationMs: 0,
    llmCalls: 0,
    toolCalls: 0,
    retries: 0,
    rateLimited: 0,
    usage: EMPTY_USAGE,
    cost: 0,
  };
}
