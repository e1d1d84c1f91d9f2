// The report rows of a fleet run's tasks.
import { EMPTY_USAGE } from '@tollgate/core';
import type { HybridAgent } from '../agent/HybridAgent.js';
import type { TaskResult } from '../agent/types.js';
import type { AgentRow, FleetTask } from './types.js';

/** The row of a task that used nothing: never dispatched, or its agent could not be made. */
export function idleRow(task: FleetTask, status: AgentRow['status'], round: number | undefined): AgentRow {
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

/** The row of a task an agent ran, with its client's retries and 429s. */
export function resultRow(
  agent: HybridAgent<unknown>,
  result: TaskResult<unknown>,
  role: string,
  round: number | undefined,
): AgentRow {
  const stats = agent.client.stats;
  return {
    taskId: result.taskId,
    agentId: agent.agentId,
    role,
    status: result.status,
    ...(round === undefined ? {} : { round }),
    queuedMs: result.queuedMs,
    durationMs: result.durationMs,
    llmCalls: result.llmCalls,
    toolCalls: result.toolCalls,
    retries: count(stats?.retries),
    rateLimited: count(stats?.rateLimited),
    usage: result.usage,
    cost: result.cost,
    ...(result.error ? { error: result.error.message } : {}),
  };
}

/** A client's count as reported, or 0 when it is not a finite non-negative number. */
function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : 0;
}
