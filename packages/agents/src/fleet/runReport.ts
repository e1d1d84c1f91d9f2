// The report of a finished fleet run: totals, budget, limit utilisation, rounds and rows.
import type { FleetRun } from './FleetRun.js';
import type { AgentRow, RunReport, StopReason } from './types.js';

/** The report of `run`, which lasted `durationMs`; `fallback` is its stop reason if it never stopped. */
export function buildRunReport(run: FleetRun, durationMs: number, fallback: StopReason): RunReport {
  const rank = (id: string) => run.order.get(id) ?? Number.MAX_SAFE_INTEGER;
  const rows = [...run.rows].sort((a, b) => rank(a.taskId) - rank(b.taskId));
  const { budget } = run.ctx.options;
  return {
    version: 1,
    name: run.ctx.name,
    startedAt: run.wallStart.toISOString(),
    durationMs,
    stopReason: run.stopReason ?? fallback,
    ...(run.stopDetail === undefined ? {} : { stopDetail: run.stopDetail }),
    totals: totals(run, rows, durationMs),
    ...(run.estimate ? { estimate: run.estimate } : {}),
    ...(budget
      ? { budget: { ...budget, warned: run.warned.size > 0, stopped: run.stopReason === 'budget' } }
      : {}),
    limits: run.meters.flatMap((m) => m.utilisation(durationMs)),
    rounds: run.rounds,
    agents: rows,
  };
}

function totals(run: FleetRun, rows: readonly AgentRow[], durationMs: number): RunReport['totals'] {
  const sum = (pick: (r: AgentRow) => number) => rows.reduce((s, r) => s + pick(r), 0);
  const count = (keep: (r: AgentRow) => boolean) => rows.filter(keep).length;
  const totalTokens = sum((r) => r.usage.totalTokens);
  const finished = count((r) => r.status !== 'skipped');
  const minutes = durationMs / 60_000;
  return {
    agents: new Set(rows.filter((r) => r.agentId !== '(none)').map((r) => r.agentId)).size,
    tasks: Math.max(run.tasks, rows.length),
    dispatched: run.dispatched,
    succeeded: count((r) => r.status === 'completed'),
    failed: count((r) => r.status !== 'completed' && r.status !== 'skipped'),
    skipped: count((r) => r.status === 'skipped'),
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
  };
}
