// The Tollgate container: its options, limits resolved from env, its module of bindings, and bindAgent.
import {
  type Clock,
  checkOptions,
  InvalidArgumentError,
  type Logger,
  optionRules,
  silentLogger,
  systemClock,
  TiktokenCounter,
  TOKENS,
  type TokenCounter,
} from '@tollgate/core';
import {
  DistributedGovernor,
  type DistributedGovernorOptions,
  type Governor,
  type MemoryProbe,
  type ParsedResourceLimits,
  parseResourceLimits,
  ResourceGovernor,
  type ResourceLimits,
  resourceLimitsFromEnv,
} from '@tollgate/limits';
import { CircuitBreaker, type CircuitBreakerOptions, type LLMClient } from '@tollgate/llm-clients';
import { Container, ContainerModule, type Newable } from 'inversify';
import type { AgentClientFactory, GovernorFactory } from '../agent/factories.js';
import type { AnyTool, HybridAgent } from '../agent/HybridAgent.js';
import type { AgentClientOptions, AgentDeps } from '../agent/types.js';
import type { PricingTable } from '../pricing.js';
import { bindAgentParts } from './bindAgentParts.js';
import { AGENT_TOKENS } from './tokens.js';

/** What the container is built from. */
export interface TollgateOptions {
  /** The provider client every agent shares, e.g. `openai({ model, apiKey })`. */
  readonly provider: LLMClient;
  /** Limits of each agent (one governor per agent). Validated. @default none */
  readonly limits?: ResourceLimits | undefined;
  /**
   * Limits of the provider's quota (per API key and model), enforced by one governor that
   * every agent shares: the global limiter. Validated. @default none
   */
  readonly providerLimits?: ResourceLimits | undefined;
  /**
   * Environment to read per-deployment overrides from: `TOLLGATE_*` for agent limits and
   * `TOLLGATE_PROVIDER_*` for provider limits (e.g. `TOLLGATE_PROVIDER_MAX_REQUESTS_PER_MINUTE=7`).
   * Pass `process.env` to enable. @default none
   */
  readonly env?: Readonly<Record<string, string | undefined>> | undefined;
  /**
   * Keep the provider quota in a shared store (Redis) instead of this process: the provider
   * governor is then a `DistributedGovernor` over `providerLimits`, and every process using
   * the same store and `quota` name shares it.
   *
   * @example
   * providerStore: { store: new RedisQuotaStore(redis), quota: 'openai:gpt-4o-mini', onStoreDown: 'local-fallback', localShare: 0.25 }
   */
  readonly providerStore?: Omit<DistributedGovernorOptions, 'clock' | 'logger' | 'name'> | undefined;
  /** Tools agents can name in their `tools` list. */
  readonly tools?: readonly AnyTool[] | undefined;
  readonly tokenCounter?: TokenCounter | undefined;
  readonly clock?: Clock | undefined;
  readonly logger?: Logger | undefined;
  readonly memoryProbe?: MemoryProbe | undefined;
  /** Merged over `DEFAULT_PRICING`. */
  readonly pricing?: PricingTable | undefined;
  /**
   * Builds each agent's own governor over `limits` (bound under `AGENT_TOKENS.GovernorFactory`).
   * @default resourceGovernorFactory
   */
  readonly governorFactory?: GovernorFactory | undefined;
  /**
   * Builds the client each agent calls through (bound under `AGENT_TOKENS.AgentClientFactory`).
   * @default governedClientFactory
   */
  readonly clientFactory?: AgentClientFactory | undefined;
  /** Options of every agent's governed client. One circuit breaker is shared by all agents. */
  readonly client?:
    | (Omit<AgentClientOptions, 'circuitBreaker'> & {
        readonly circuitBreaker?: CircuitBreakerOptions | false | undefined;
      })
    | undefined;
}

/** The agent limits and provider limits a container was built with, after validation and env overrides. */
export interface ResolvedTollgateLimits {
  readonly agent: ParsedResourceLimits;
  readonly provider: ParsedResourceLimits;
}

/** Prefixes of the environment variables `createTollgateContainer` reads. */
export const ENV_PREFIXES = { agent: 'TOLLGATE_', provider: 'TOLLGATE_PROVIDER_' } as const;

/**
 * Validates and resolves the two layers of limits: the given object, then environment
 * overrides, validated merged. Variables under `TOLLGATE_` that set nothing are listed once
 * through `logger` (a misspelt one is an error).
 *
 * @throws InvalidLimitsError naming the field (or variable) that is wrong.
 */
export function resolveTollgateLimits(
  options: Pick<TollgateOptions, 'limits' | 'providerLimits' | 'env' | 'logger'>,
): ResolvedTollgateLimits {
  const layer = (limits: ResourceLimits | undefined, prefix: string, ignorePrefixes: string[]) => {
    const parsed = parseResourceLimits(limits ?? {});
    if (!options.env) return parsed;
    const logger = options.logger ?? silentLogger;
    return resourceLimitsFromEnv(options.env, prefix, parsed, { ignorePrefixes, logger });
  };
  return {
    agent: layer(options.limits, ENV_PREFIXES.agent, [ENV_PREFIXES.provider]),
    provider: layer(options.providerLimits, ENV_PREFIXES.provider, []),
  };
}

/**
 * The Tollgate bindings as a container module: clock, logger, token counter, memory probe,
 * both layers of limits, the provider client, the shared provider governor (a singleton),
 * the shared tool registry, the agents' governor and client factories, the container's id
 * source, and `AGENT_TOKENS.AgentDeps` (transient: each agent gets its own).
 */
export function tollgateModule(options: TollgateOptions): ContainerModule {
  if (!options || typeof options.provider?.chat !== 'function')
    throw new InvalidArgumentError(
      'provider',
      'an LLMClient, e.g. openai({ model, apiKey })',
      options?.provider,
    );
  checkOptions('TollgateOptions', options, {
    governorFactory: optionRules.function,
    clientFactory: optionRules.function,
  });
  const limits = resolveTollgateLimits(options);
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const provider = options.provider;
  const { circuitBreaker: breakerOptions, ...clientOptions } = options.client ?? {};
  const breaker =
    breakerOptions === false ? false : new CircuitBreaker(provider.provider, breakerOptions, clock);
  return new ContainerModule(({ bind, onDeactivation }) => {
    bind(TOKENS.Clock).toConstantValue(clock);
    bind(TOKENS.Logger).toConstantValue(logger);
    bind(TOKENS.TokenCounter)
      .toDynamicValue(() => options.tokenCounter ?? new TiktokenCounter())
      .inSingletonScope();
    if (options.memoryProbe) bind(TOKENS.MemoryProbe).toConstantValue(options.memoryProbe);
    bind(TOKENS.ResourceLimits).toConstantValue(limits.agent);
    bind(TOKENS.ProviderLimits).toConstantValue(limits.provider);
    bind(TOKENS.LLMClient).toConstantValue(provider);
    if (options.providerStore) bind(TOKENS.QuotaStore).toConstantValue(options.providerStore.store);
    bind(TOKENS.ProviderGovernor)
      .toDynamicValue(() => providerGovernor(options, limits.provider, clock, logger))
      .inSingletonScope();
    onDeactivation<Governor>(TOKENS.ProviderGovernor, (governor) => governor.dispose());
    bindAgentParts(bind, {
      ...options,
      agentLimits: limits.agent,
      clock,
      logger,
      clientOptions: { ...clientOptions, circuitBreaker: breaker },
    });
  });
}

/** The provider governor every agent shares: distributed over `providerStore` when given, else in process. */
function providerGovernor(
  options: TollgateOptions,
  limits: ParsedResourceLimits,
  clock: Clock,
  logger: Logger,
): Governor {
  const { provider, providerStore } = options;
  const name = `provider:${provider.provider}:${provider.model}`;
  return providerStore
    ? new DistributedGovernor(limits, { ...providerStore, clock, logger, name })
    : new ResourceGovernor(limits, { clock, logger, name });
}

/**
 * An inversify container with the Tollgate bindings loaded. Bind your agent classes with
 * {@link bindAgent} (or decorate them with `@agent()` and bind them yourself), then
 * `container.get(MyAgent)`.
 *
 * @example
 * const container = createTollgateContainer({
 *   provider: openai({ model: 'gpt-4o-mini', apiKey }),
 *   limits: { maxConcurrentTasks: 2, maxToolCallsPerMinute: 30 },
 *   providerLimits: { maxRequestsPerMinute: 500, maxTokensPerMinute: 200_000 },
 *   env: process.env,
 * });
 * bindAgent(container, Researcher);
 * const agent = container.get(Researcher);
 */
export function createTollgateContainer(options: TollgateOptions): Container {
  const container = new Container();
  container.load(tollgateModule(options));
  return container;
}

/**
 * Binds agent classes (transient: every `get` is a new agent with its own governor,
 * sharing the provider governor). No decorator is needed on the subclass.
 */
export function bindAgent(
  container: Container,
  ...agents: Array<Newable<HybridAgent<unknown>> & { prototype: HybridAgent<unknown> }>
): Container {
  for (const Agent of agents)
    container
      .bind(Agent)
      .toResolvedValue((deps: AgentDeps) => new Agent(deps), [AGENT_TOKENS.AgentDeps])
      .inTransientScope();
  return container;
}
