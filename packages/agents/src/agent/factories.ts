// The plug-in points of an agent: how its governor and its client are built.
import type { Clock, Logger, TokenCounter } from '@tollgate/core';
import { type Governor, type MemoryProbe, ResourceGovernor, type ResourceLimits } from '@tollgate/limits';
import { type ClientEvent, type ClientStats, GovernedClient, type LLMClient } from '@tollgate/llm-clients';
import type { Observable } from 'rxjs';
import { typedCounter } from './typedCounter.js';
import type { AgentClientOptions } from './types.js';

/** What a {@link GovernorFactory} builds a governor with. */
export interface GovernorFactoryContext {
  /** Names the governor in events and status (an agent id, a fleet name). */
  readonly name: string;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly memoryProbe?: MemoryProbe | undefined;
}

/**
 * Builds a governor over `limits`: an agent's own governor, or a fleet's. The default,
 * {@link resourceGovernorFactory}, builds an in-process `ResourceGovernor`; bind another
 * (a `DistributedGovernor` over a shared store, a test double) under
 * `AGENT_TOKENS.GovernorFactory`, or pass it as `AgentDeps.governorFactory` or
 * `AgentFleetOptions.governorFactory`.
 */
export type GovernorFactory = (limits: ResourceLimits, context: GovernorFactoryContext) => Governor;

/** Builds an in-process `ResourceGovernor`: the default {@link GovernorFactory}. */
export const resourceGovernorFactory: GovernorFactory = (limits, { name, clock, logger, memoryProbe }) =>
  new ResourceGovernor(limits, { clock, logger, name, ...(memoryProbe ? { memoryProbe } : {}) });

/**
 * The client an agent calls through: any `LLMClient`. What a `GovernedClient` adds is used
 * when present: its `events$` reach the agent's `events$` and its `stats` the fleet's
 * report. Its `dispose` is called when the agent is disposed only if the factory marked
 * it with {@link ownedByAgent} (as {@link governedClientFactory} does): a client a factory
 * shares between agents is left to whoever made it.
 */
export interface AgentClient extends LLMClient {
  /** Passed on as the agent's `client` events. @default none */
  readonly events$?: Observable<ClientEvent> | undefined;
  /** Retries and 429s, for a fleet's report. @default counted as 0 */
  readonly stats?: Readonly<Pick<ClientStats, 'retries' | 'rateLimited'>> | undefined;
  /** Releases what the client holds; called by the agent's `dispose` when the client is {@link ownedByAgent}. */
  dispose?(): void;
}

/** What an {@link AgentClientFactory} builds an agent's client with. */
export interface AgentClientContext {
  /** The agent's id: the `label` of its calls' acquires. */
  readonly agentId: string;
  /** The provider client every agent shares. */
  readonly provider: LLMClient;
  /** The agent's own governor. */
  readonly governor: Governor;
  /** The shared provider governor, when there is one. */
  readonly providerGovernor?: Governor | undefined;
  readonly tokenCounter: TokenCounter;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The deps' `clientOptions` (retries, breaker, transport...). */
  readonly options: AgentClientOptions;
}

/**
 * Builds the client an agent calls through. The default, {@link governedClientFactory},
 * wraps the provider in a `GovernedClient` over the agent's governor then the provider
 * governor; bind another under `AGENT_TOKENS.AgentClientFactory`, or pass it as
 * `AgentDeps.clientFactory`. A factory that builds a fresh client per agent marks it with
 * {@link ownedByAgent} so the agent disposes it; an unmarked client is never disposed by
 * the agent. A client that does not pass its calls through `governor` and
 * `providerGovernor` skips their limits.
 */
export type AgentClientFactory = (context: AgentClientContext) => AgentClient;

const owned = new WeakSet<object>();

/**
 * Marks `client`, built by an {@link AgentClientFactory} for one agent, as that agent's
 * own: the agent calls its `dispose` when the agent is disposed. Returns `client`.
 */
export function ownedByAgent<T extends AgentClient>(client: T): T {
  owned.add(client);
  return client;
}

/** Whether `client` was marked with {@link ownedByAgent}. */
export function isOwnedByAgent(client: AgentClient): boolean {
  return owned.has(client);
}

/** Wraps the provider in a `GovernedClient` the agent owns: the default {@link AgentClientFactory}. */
export const governedClientFactory: AgentClientFactory = (context) => {
  const { governor, providerGovernor } = context;
  return ownedByAgent(
    new GovernedClient(context.provider, {
      ...context.options,
      governors: providerGovernor ? [governor, providerGovernor] : [governor],
      providerGovernor: providerGovernor ?? governor,
      tokenCounter: typedCounter(context.tokenCounter),
      clock: context.clock,
      logger: context.logger,
      label: context.agentId,
    }),
  );
};
