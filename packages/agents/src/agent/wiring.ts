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
import type { GovernorFactory } from './factories.js';
import {
  type AgentClient,
  type AgentClientContext,
  type AgentClientFactory,
  governedClientFactory,
  isOwnedByAgent,
  resourceGovernorFactory,
} from './factories.js';
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
  /** Whether the client factory marked the client as the agent's own (and so it disposes it). */
  readonly ownsClient: boolean;
}

/**
 * Checks an agent's deps and builds its parts: its id, its governor (the deps' `governor`,
 * or one from `governorFactory` over `limits`) and its client (from `clientFactory`).
 * @throws InvalidArgumentError for deps without a client, a dep of the wrong type, or a
 * factory that returned no governor or no client; a governor built here is disposed when
 * the client factory throws or returns no client.
 */
export function wireAgent(className: string, deps: AgentDeps): AgentWiring {
  checkDeps(className, deps);
  const agentId = deps.agentId ?? defaultAgentId(className, deps.ids);
  const clock = deps.clock ?? systemClock;
  const logger = deps.logger ?? silentLogger;
  const context = { name: agentId, clock, logger };
  const memoryProbe = deps.memoryProbe ? { memoryProbe: deps.memoryProbe } : {};
  const governor = deps.governor ?? buildGovernor(deps, { ...context, ...memoryProbe });
  let client: AgentClient;
  try {
    client = buildClient(deps.clientFactory ?? governedClientFactory, {
      agentId,
      clock,
      logger,
      provider: deps.client,
      governor,
      providerGovernor: deps.providerGovernor,
      tokenCounter: deps.tokenCounter ?? new TiktokenCounter(),
      options: deps.clientOptions ?? {},
    });
  } catch (error) {
    if (deps.governor === undefined) governor.dispose();
    throw error;
  }
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
    ownsClient: isOwnedByAgent(client),
  };
}

function buildGovernor(deps: AgentDeps, context: Parameters<GovernorFactory>[1]): Governor {
  const governor = (deps.governorFactory ?? resourceGovernorFactory)(deps.limits ?? {}, context);
  checkFactoryResult('governorFactory', governor, 'a Governor', isGovernor);
  return governor;
}

function buildClient(factory: AgentClientFactory, context: AgentClientContext): AgentClient {
  const client = factory(context);
  checkFactoryResult('clientFactory', client, 'an LLMClient (with chat)', (v) => {
    return typeof (v as AgentClient | null)?.chat === 'function';
  });
  return client;
}

/** A Governor, by its shape. */
export function isGovernor(value: unknown): value is Governor {
  return typeof (value as Governor | null)?.acquire === 'function';
}

/**
 * Checks what a factory returned.
 * @throws InvalidArgumentError naming the factory and what it returned, when `ok` says no.
 */
export function checkFactoryResult(
  name: string,
  value: unknown,
  expected: string,
  ok: (v: unknown) => boolean,
): void {
  if (!ok(value)) throw new InvalidArgumentError(`${name}() result`, expected, value);
}

function checkDeps(className: string, deps: AgentDeps): void {
  if (!deps || typeof deps.client?.chat !== 'function')
    throw new InvalidArgumentError(`${className}.client`, 'an LLMClient', deps?.client);
  checkOptions(className, deps, {
    agentId: optionRules.string,
    name: optionRules.string,
    clientOptions: rule('an object', (v) => typeof v === 'object' && v !== null),
    governor: rule('a Governor', isGovernor),
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
