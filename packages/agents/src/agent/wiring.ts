// How an agent is put together from its deps: its id, its governor and its client.
import { randomUUID } from 'node:crypto';
import {
  type Clock,
  checkOptions,
  InvalidArgumentError,
  type Logger,
  optionRules,
  rule,
  silentLogger,
  systemClock,
  TiktokenCounter,
} from '@tollgate/core';
import type { Governor } from '@tollgate/limits';
import type { IdSource } from '../ids/IdSource.js';
import { DEFAULT_PRICING, type PricingTable } from '../pricing.js';
import { type AgentClient, governedClientFactory, resourceGovernorFactory } from './factories.js';
import type { AgentDeps } from './types.js';

/** An agent's parts, built from its deps. */
export interface AgentWiring {
  readonly agentId: string;
  readonly name: string;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly pricing: PricingTable;
  readonly governor: Governor;
  /** Whether the agent built its governor (and so disposes it). */
  readonly ownsGovernor: boolean;
  readonly providerGovernor: Governor | undefined;
  readonly client: AgentClient;
}

/**
 * Checks an agent's deps and builds its parts: its id, its governor (the deps' `governor`,
 * or one from `governorFactory` over `limits`) and its client (from `clientFactory`).
 * @throws InvalidArgumentError for deps without a client, or a dep of the wrong type.
 */
export function wireAgent(className: string, deps: AgentDeps): AgentWiring {
  checkDeps(className, deps);
  const agentId = deps.agentId ?? defaultAgentId(className, deps.ids);
  const clock = deps.clock ?? systemClock;
  const logger = deps.logger ?? silentLogger;
  const context = { name: agentId, clock, logger };
  const memoryProbe = deps.memoryProbe ? { memoryProbe: deps.memoryProbe } : {};
  const governor =
    deps.governor ??
    (deps.governorFactory ?? resourceGovernorFactory)(deps.limits ?? {}, { ...context, ...memoryProbe });
  const client = (deps.clientFactory ?? governedClientFactory)({
    agentId,
    clock,
    logger,
    provider: deps.client,
    governor,
    providerGovernor: deps.providerGovernor,
    tokenCounter: deps.tokenCounter ?? new TiktokenCounter(),
    options: deps.clientOptions ?? {},
  });
  return {
    agentId,
    name: deps.name ?? className,
    clock,
    logger,
    pricing: { ...DEFAULT_PRICING, ...deps.pricing },
    governor,
    ownsGovernor: deps.governor === undefined,
    providerGovernor: deps.providerGovernor,
    client,
  };
}

function checkDeps(className: string, deps: AgentDeps): void {
  if (!deps || typeof deps.client?.chat !== 'function')
    throw new InvalidArgumentError(`${className}.client`, 'an LLMClient', deps?.client);
  checkOptions(className, deps, {
    agentId: optionRules.string,
    name: optionRules.string,
    clientOptions: rule('an object', (v) => typeof v === 'object' && v !== null),
    governor: rule('a Governor', (v) => typeof (v as Governor | null)?.acquire === 'function'),
    governorFactory: optionRules.function,
    clientFactory: optionRules.function,
    ids: rule('an IdSource', (v) => typeof (v as IdSource | null)?.next === 'function'),
  });
}

/**
 * `<class name in kebab case>-<n>` from the container's id source; without one (an agent
 * built by hand) the suffix is random, so agents sharing a provider governor never share
 * an id (its events are told apart by it).
 */
function defaultAgentId(className: string, ids: IdSource | undefined): string {
  const base = className.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase() || 'agent';
  return ids ? ids.next(base) : `${base}-${randomUUID().slice(0, 8)}`;
}
