// One dispatched task of a fleet run: its agent made, watched, run, reported and disposed.
import { addUsage, EMPTY_USAGE, linkAbort } from '@tollgate/core';
import type { GovernorLease } from '@tollgate/limits';
import { QuotaExhaustedError } from '@tollgate/llm-clients';
import type { HybridAgent } from '../agent/HybridAgent.js';
import type { AgentEvent } from '../agent/types.js';
import { costOf } from '../pricing.js';
import type { Running } from './budget.js';
import type { FleetRun } from './FleetRun.js';
import { guarded } from './guarded.js';
import { idleRow, resultRow } from './rows.js';
import type { FleetTask } from './types.js';

/**
 * Runs `task` on a fresh agent holding `lease` (its start slot), counts its live usage
 * toward the budget, reports its row, and always disposes the agent and releases the
 * lease. An agent that cannot be made fails the task; the run goes on.
 */
export async function executeFleetTask(
  run: FleetRun,
  task: FleetTask,
  lease: GovernorLease,
  round: number | undefined,
): Promise<void> {
  const { ctx } = run;
  const role = task.role ?? 'agent';
  const running: Running = { task, usage: EMPTY_USAGE, cost: 0 };
  run.running.add(running);
  const scope = linkAbort(run.signal);
  let agent: HybridAgent<unknown> | undefined;
  try {
    agent = ctx.options.createAgent(task);
    const subscription = watch(run, agent, running);
    ctx.emit({ type: 'task-started', taskId: task.id, agentId: agent.agentId, role });
    const { taskTimeoutMs } = ctx.options;
    const result = await agent.executeTask(
      { id: task.id, input: task.input, metadata: { ...task.metadata, role } },
      { signal: scope.signal, ...(taskTimeoutMs === undefined ? {} : { taskTimeoutMs }) },
    );
    subscription.unsubscribe();
    run.results.push(result);
    run.rows.push(resultRow(agent, result, role, round));
    ctx.emit({ type: 'task-finished', result, role });
    // A used-up quota fails every later call at once: start nothing more.
    if (QuotaExhaustedError.is(result.error)) run.stop('quota-exhausted', result.error.message);
  } catch (error) {
    // createAgent threw: the task fails, the run goes on.
    const message = error instanceof Error ? error.message : String(error);
    run.rows.push({ ...idleRow(task, 'failed', round), agentId: agent?.agentId ?? '(none)', error: message });
    ctx.logger.error('could not start an agent', { fleet: ctx.name, taskId: task.id, error: message });
  } finally {
    run.running.delete(running);
    scope.unlink();
    agent?.dispose();
    lease.release();
    run.checkWarning();
  }
}

/** Passes the agent's events on, counting each call's usage and cost toward the budget. */
function watch(run: FleetRun, agent: HybridAgent<unknown>, running: Running) {
  const { ctx } = run;
  const model = agent.model ?? agent.client.model;
  return agent.events$.subscribe(
    guarded(ctx.logger, `fleet '${ctx.name}' watching ${agent.agentId}`, (event: AgentEvent) => {
      if (event.type === 'llm-call') {
        running.usage = addUsage(running.usage, event.usage);
        running.cost += costOf(model, event.usage, ctx.pricing);
        run.checkWarning();
      }
      ctx.emit({ type: 'agent', event });
    }),
  );
}
