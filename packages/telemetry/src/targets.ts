// Tells what `instrument` was given, by the public shape of each kind of target.
import type { AgentFleet, HybridAgent } from '@tollgate/agents';
import type { Governor } from '@tollgate/limits';
import type { GovernedClient } from '@tollgate/llm-clients';

/** A DI container holding the Tollgate bindings (`createTollgateContainer`): anything with `get` and `isBound`. */
export interface TollgateContainerLike {
  get(id: symbol): unknown;
  isBound(id: symbol): boolean;
}

/** What `instrument` and `serveDashboard` accept. */
export type InstrumentTarget =
  | Governor
  | GovernedClient
  | HybridAgent<unknown>
  | AgentFleet
  | TollgateContainerLike;

/** A target, told apart. */
export type Classified =
  | { readonly kind: 'governor'; readonly target: Governor }
  | { readonly kind: 'client'; readonly target: GovernedClient }
  | { readonly kind: 'agent'; readonly target: HybridAgent<unknown> }
  | { readonly kind: 'fleet'; readonly target: AgentFleet }
  | { readonly kind: 'container'; readonly target: TollgateContainerLike };

type Shape = Record<string, unknown>;
const fn = (o: Shape, name: string) => typeof o[name] === 'function';
const has = (o: Shape, name: string) => name in o && o[name] !== undefined;

/** What kind of target this is, or `undefined` when it is none of them. */
export function classify(target: unknown): Classified | undefined {
  if (typeof target !== 'object' || target === null) return undefined;
  const o = target as Shape;
  if (fn(o, 'run') && fn(o, 'runRounds') && has(o, 'events$') && has(o, 'governor'))
    return { kind: 'fleet', target: target as AgentFleet };
  if (fn(o, 'executeTask') && has(o, 'agentId') && has(o, 'client'))
    return { kind: 'agent', target: target as HybridAgent<unknown> };
  if (fn(o, 'acquire') && fn(o, 'checkResourceAvailability') && has(o, 'events$'))
    return { kind: 'governor', target: target as Governor };
  if (fn(o, 'chat') && fn(o, 'estimateTokens') && has(o, 'events$') && has(o, 'stats'))
    return { kind: 'client', target: target as GovernedClient };
  if (fn(o, 'get') && fn(o, 'isBound')) return { kind: 'container', target: target as TollgateContainerLike };
  return undefined;
}
