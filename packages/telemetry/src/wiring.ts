// Subscribes to each kind of target's streams and routes every event to the metrics and spans.
import type { AgentEvent, AgentFleet, FleetEvent, HybridAgent } from '@tollgate/agents';
import type { Governor, GovernorEvent } from '@tollgate/limits';
import type { GovernedClient } from '@tollgate/llm-clients';
import { type CallTarget, type CircuitStates, recordClientEvent } from './clientEvents.js';
import { recordGovernorEvent } from './governorEvents.js';
import { governorGauges } from './governorGauges.js';
import type { Recorder } from './Recorder.js';
import type { SpanTracker } from './spans/SpanTracker.js';

/** What one `instrument` call holds: where measurements go and what to unsubscribe. */
export interface Wiring {
  readonly recorder: Recorder;
  readonly spans: SpanTracker;
  readonly circuits: CircuitStates;
  /** Names of the governors subscribed to directly: their events in agents' streams are not counted twice. */
  readonly direct: Set<string>;
  readonly subscriptions: Array<{ unsubscribe(): void }>;
}

/** The `governor` label of the metrics of a fleet's per-agent governors, taken together. */
export const FLEET_AGENTS_GOVERNOR = 'agents';

/** An LLM call's admission, labelled with the agent it is for, becomes an event of its chat span. */
function noteAdmission(event: GovernorEvent, w: Wiring): void {
  if (event.type === 'acquired' && event.label !== undefined && Number(event.cost.requests ?? 0) > 0)
    w.spans.admitted(event.label, event.governor, event.waitedMs);
}

/** A governor's gauges, and its events as counters and histograms. */
export function wireGovernor(governor: Governor, w: Wiring): void {
  if (w.direct.has(governor.name)) return;
  w.direct.add(governor.name);
  w.recorder.gauges(governorGauges(governor));
  w.subscriptions.push(
    governor.events$.subscribe((event) => {
      recordGovernorEvent(event, w.recorder);
      noteAdmission(event, w);
    }),
  );
}

/** A governed client on its own: its events as metrics and a chat span per call. */
export function wireClient(client: GovernedClient, target: CallTarget, w: Wiring): void {
  w.subscriptions.push(
    client.events$.subscribe((event) => {
      recordClientEvent(event, target, w.recorder, w.circuits);
      if (event.type === 'call') w.spans.clientCall(event.durationMs, event.attempt, event.usage, target);
    }),
  );
}

/**
 * One agent event. `agentName` is given when the agent's own stream is followed (its task
 * spans come from it); a fleet opens and closes task spans from its own events instead.
 */
export function onAgentEvent(event: AgentEvent, target: CallTarget, w: Wiring, agentName?: string): void {
  switch (event.type) {
    case 'task-started':
      if (agentName !== undefined) w.spans.taskStarted(event.agentId, event.taskId, agentName);
      return;
    case 'task-finished':
      if (agentName !== undefined)
        w.spans.taskFinished(event.agentId, event.taskId, {
          status: event.status,
          usage: event.usage,
          error: event.error,
        });
      return;
    case 'llm-call':
      w.spans.llmCall(event.agentId, event, target);
      return;
    case 'tool-call':
      w.spans.toolCall(event.agentId, event);
      return;
    case 'governor':
      if (w.direct.has(event.event.governor)) return;
      recordGovernorEvent(event.event, w.recorder, FLEET_AGENTS_GOVERNOR);
      noteAdmission(event.event, w);
      return;
    case 'client':
      if (event.event.type === 'call') w.spans.attempt(event.agentId, event.event.attempt);
      recordClientEvent(event.event, target, w.recorder, w.circuits);
      return;
  }
}

/** An agent: its governors, and its stream for calls, tools and tasks. */
export function wireAgent(agent: HybridAgent<unknown>, target: CallTarget, w: Wiring): void {
  wireGovernor(agent.governor, w);
  if (agent.providerGovernor) wireGovernor(agent.providerGovernor, w);
  w.subscriptions.push(agent.events$.subscribe((event) => onAgentEvent(event, target, w, agent.name)));
}

function onFleetEvent(event: FleetEvent, target: CallTarget, w: Wiring): void {
  if (event.type === 'task-started') w.spans.taskStarted(event.agentId, event.taskId, event.role);
  else if (event.type === 'task-finished') {
    const r = event.result;
    w.spans.taskFinished(r.agentId, r.taskId, {
      status: r.status,
      usage: r.usage,
      agentName: r.agentName,
      responseModel: r.model,
      error: r.error?.message,
    });
  } else if (event.type === 'agent') onAgentEvent(event.event, target, w);
}

/** A fleet: its start governor, the provider governor, and every agent's stream through the fleet's. */
export function wireFleet(fleet: AgentFleet, target: CallTarget, w: Wiring): void {
  wireGovernor(fleet.governor, w);
  if (fleet.providerGovernor) wireGovernor(fleet.providerGovernor, w);
  w.subscriptions.push(fleet.events$.subscribe((event) => onFleetEvent(event, target, w)));
}
