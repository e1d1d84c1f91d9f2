// A run's spending against its budget: what it has spent, what the next tasks would cost, the warning.
import type { Usage } from '@tollgate/core';
import type { TaskResult } from '../agent/types.js';
import type { FleetBudget, FleetTask, RunEstimate } from './types.js';

/** A task in flight: its live usage counts toward the budget before it reports. */
export interface Running {
  readonly task: FleetTask;
  usage: Usage;
  cost: number;
}

/** What a run has spent and has in flight. */
export interface Spending {
  readonly results: readonly TaskResult<unknown>[];
  readonly running: ReadonlySet<Running>;
}

/** Tokens and dollars of the finished tasks and of those in flight so far. */
export function spent(run: Spending): { tokens: number; cost: number } {
  let tokens = 0;
  let cost = 0;
  for (const r of [...run.results, ...run.running]) {
    tokens += r.usage.totalTokens;
    cost += r.cost;
  }
  return { tokens, cost };
}

/**
 * Why dispatching `count` more tasks would cross a cap of `budget`, or `undefined` if it
 * would not. A task is expected to use the average of the finished ones, else `perTask`'s
 * share; tasks in flight are expected to use at least that.
 */
export function wouldCross(
  run: Spending,
  budget: FleetBudget | undefined,
  perTask: RunEstimate,
  count: number,
): string | undefined {
  if (!budget || (budget.maxTokens === undefined && budget.maxCost === undefined)) return undefined;
  const now = spent(run);
  const done = run.results.filter((r) => r.llmCalls > 0);
  const average = (pick: (r: TaskResult<unknown>) => number, fallback: number) =>
    done.length > 0 ? done.reduce((s, r) => s + pick(r), 0) / done.length : fallback;
  const perTokens = average((r) => r.usage.totalTokens, perTask.totalTokens / perTask.tasks);
  const perCost = average((r) => r.cost, perTask.cost / perTask.tasks);
  let pendingTokens = 0;
  let pendingCost = 0;
  for (const r of run.running) {
    pendingTokens += Math.max(0, perTokens - r.usage.totalTokens);
    pendingCost += Math.max(0, perCost - r.cost);
  }
  const projectedTokens = now.tokens + pendingTokens + count * perTokens;
  const projectedCost = now.cost + pendingCost + count * perCost;
  if (budget.maxTokens !== undefined && projectedTokens > budget.maxTokens)
    return `token budget: ${Math.round(now.tokens)} spent, ${Math.round(projectedTokens)} projected with the next ${count} task(s), cap ${budget.maxTokens}`;
  if (budget.maxCost !== undefined && projectedCost > budget.maxCost)
    return `cost budget: $${now.cost.toFixed(4)} spent, $${projectedCost.toFixed(4)} projected with the next ${count} task(s), cap $${budget.maxCost}`;
  return undefined;
}

/** A cap whose warning threshold (`warnAt` of it) spending has just crossed. */
export interface BudgetWarning {
  readonly resource: 'tokens' | 'cost';
  readonly spent: number;
  readonly cap: number;
}

/** The warnings due now that were not given yet (`warned` is updated). */
export function dueWarnings(
  run: Spending,
  budget: FleetBudget | undefined,
  warned: Set<'tokens' | 'cost'>,
): BudgetWarning[] {
  if (!budget) return [];
  const warnAt = budget.warnAt ?? 0.8;
  const now = spent(run);
  const due: BudgetWarning[] = [];
  for (const [resource, value, cap] of [
    ['tokens', now.tokens, budget.maxTokens],
    ['cost', now.cost, budget.maxCost],
  ] as const) {
    if (cap === undefined || warned.has(resource) || value < warnAt * cap) continue;
    warned.add(resource);
    due.push({ resource, spent: value, cap });
  }
  return due;
}
