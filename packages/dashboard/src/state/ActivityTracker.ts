// What the page shows of calls, agents and a fleet's run, from client, agent and fleet events.
import type { AgentEvent, FleetEvent } from '@tollgate/agents';
import type { ClientEvent } from '@tollgate/llm-clients';
import type { AgentView, CallsView, FleetView } from '../views.js';

interface MutableAgent {
  agentId: string;
  taskId: string;
  role: string;
  status: string;
  llmCalls: number;
  toolCalls: number;
  tokens: number;
}

/** Counts of calls, the agents' tasks, and a fleet's progress and budget. */
export class ActivityTracker {
  readonly #calls = {
    calls: 0,
    rateLimited: 0,
    retries: 0,
    failures: 0,
    circuit: 'closed',
    inputTokens: 0,
    outputTokens: 0,
  };
  readonly #agents = new Map<string, MutableAgent>();
  readonly #maxAgents: number;
  #fleet: { -readonly [K in keyof FleetView]: FleetView[K] } | null = null;

  constructor(maxAgents: number) {
    this.#maxAgents = maxAgents;
  }

  /** A fleet is the target: its run is shown. */
  trackFleet(name: string, budget: { maxTokens?: number; maxCost?: number } = {}): void {
    this.#fleet = {
      name,
      tasks: null,
      started: 0,
      finished: 0,
      succeeded: 0,
      failed: 0,
      tokens: 0,
      cost: 0,
      maxTokens: budget.maxTokens ?? null,
      maxCost: budget.maxCost ?? null,
      stopReason: null,
    };
  }

  onClient(event: ClientEvent): void {
    const c = this.#calls;
    if (event.type === 'call') {
      c.calls++;
      c.inputTokens += event.usage.promptTokens;
      c.outputTokens += event.usage.completionTokens;
    } else if (event.type === 'rate-limited') c.rateLimited++;
    else if (event.type === 'retry') c.retries++;
    else if (event.type === 'failed') c.failures++;
    else if (event.type === 'circuit') c.circuit = event.state;
  }

  onAgent(event: AgentEvent, role = 'agent'): void {
    if (event.type === 'task-started') this.#agentRow(event.agentId, event.taskId, role);
    const row = this.#agents.get(event.agentId);
    if (event.type === 'client') this.onClient(event.event);
    if (!row) return;
    if (event.type === 'llm-call') {
      row.llmCalls++;
      row.tokens += event.usage.totalTokens;
    } else if (event.type === 'tool-call') row.toolCalls++;
    else if (event.type === 'task-finished') row.status = event.status;
  }

  onFleet(event: FleetEvent): void {
    const f = this.#fleet;
    if (event.type === 'agent') {
      this.onAgent(event.event);
      return;
    }
    if (!f) return;
    if (event.type === 'run-started') f.tasks = event.tasks ?? null;
    else if (event.type === 'task-started') {
      f.started++;
      this.#agentRow(event.agentId, event.taskId, event.role);
    } else if (event.type === 'task-finished') {
      f.finished++;
      if (event.result.ok) f.succeeded++;
      else f.failed++;
      f.tokens += event.result.usage.totalTokens;
      f.cost += event.result.cost;
      const row = this.#agents.get(event.result.agentId);
      if (row) row.status = event.result.status;
    } else if (event.type === 'budget-warning') {
      if (event.resource === 'tokens') f.maxTokens = event.cap;
      else f.maxCost = event.cap;
    } else if (event.type === 'run-finished') {
      f.stopReason = event.report.stopReason;
      f.maxTokens = event.report.budget?.maxTokens ?? f.maxTokens;
      f.maxCost = event.report.budget?.maxCost ?? f.maxCost;
    }
  }

  calls(): CallsView {
    return { ...this.#calls };
  }

  /** Running agents first, then the most recent. */
  agents(): AgentView[] {
    const rows = [...this.#agents.values()].reverse();
    return [...rows.filter((r) => r.status === 'running'), ...rows.filter((r) => r.status !== 'running')].map(
      (r) => ({ ...r }),
    );
  }

  activeAgents(): number {
    let n = 0;
    for (const r of this.#agents.values()) if (r.status === 'running') n++;
    return n;
  }

  fleet(): FleetView | null {
    return this.#fleet ? { ...this.#fleet } : null;
  }

  #agentRow(agentId: string, taskId: string, role: string): void {
    const existing = this.#agents.get(agentId);
    if (existing && existing.taskId === taskId) {
      if (role !== 'agent') existing.role = role;
      return;
    }
    this.#agents.delete(agentId);
    this.#agents.set(agentId, {
      agentId,
      taskId,
      role,
      status: 'running',
      llmCalls: 0,
      toolCalls: 0,
      tokens: 0,
    });
    if (this.#agents.size > this.#maxAgents) {
      const done = [...this.#agents.values()].find((r) => r.status !== 'running');
      if (done) this.#agents.delete(done.agentId);
    }
  }
}
