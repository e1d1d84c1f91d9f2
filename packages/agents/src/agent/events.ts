// An agent's event stream: its own events, its governors' and its client's.
import type { Clock } from '@tollgate/core';
import type { Governor, GovernorEvent } from '@tollgate/limits';
import { EMPTY, endWith, filter, ignoreElements, map, merge, type Observable, takeUntil } from 'rxjs';
import type { AgentClient } from './factories.js';
import type { AgentEvent } from './types.js';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** An agent event before the agent stamps its id and the time on it. */
export type AgentEventInput = DistributiveOmit<AgentEvent, 'agentId' | 'at'>;

/** Provider governor events about one caller's acquire that its agent passes on. */
const HELD_BACK: ReadonlySet<GovernorEvent['type']> = new Set([
  'would-block',
  'queued',
  'rejected',
  'timeout',
]);

/** What an agent's `events$` is merged from. */
export interface AgentEventSources {
  readonly agentId: string;
  readonly clock: Clock;
  /** The agent's own events; completing it completes the whole stream. */
  readonly own: Observable<AgentEvent>;
  readonly governor: Governor;
  readonly providerGovernor?: Governor | undefined;
  readonly client: AgentClient;
}

/**
 * The agent's own events, its governor's, its client's, and the shared provider governor's
 * word on this agent's own calls (held back, or would have been): the shared governor
 * outlives the agent, so its part ends with the agent's own stream.
 */
export function agentEvents(sources: AgentEventSources): Observable<AgentEvent> {
  const { agentId, clock, own, governor, providerGovernor, client } = sources;
  const fromGovernor = map(
    (event: GovernorEvent): AgentEvent => ({ type: 'governor', agentId, at: event.at, event }),
  );
  const heldBack = (e: GovernorEvent) => HELD_BACK.has(e.type) && 'label' in e && e.label === agentId;
  const provider =
    providerGovernor && providerGovernor !== governor
      ? [
          providerGovernor.events$.pipe(
            filter(heldBack),
            fromGovernor,
            takeUntil(own.pipe(ignoreElements(), endWith(undefined))),
          ),
        ]
      : [];
  return merge(
    own,
    governor.events$.pipe(fromGovernor),
    ...provider,
    (client.events$ ?? EMPTY).pipe(
      map((event): AgentEvent => ({ type: 'client', agentId, at: clock.now(), event })),
    ),
  );
}
