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
  type DistributedGovernorOptions,
  type Governor,
  type MemoryProbe,
  type ParsedResourceLimits,
  parseResourceLimits,
  type ResourceLimits,
  resourceLimitsFromEnv,
} from '@tollgate/limits';
import type { CircuitBreakerOptions, LLMClient } from '@tollgate/llm-clients';
import { Container, ContainerModule, type Newable } from 'inversify';
import type { AgentClientFactory, GovernorFactory } from '../agent/factories.js';
import type { AnyTool, HybridAgent } from '../agent/HybridAgent.js';
import type { AgentClientOptions, AgentDeps } from '../agent/types.js';
import type { PricingTable } from '../pricing.js';
import { type AgentDepsFor, bindAgentParts } from './bindAgentParts.js';
import {
  ProviderSet,
  type ProviderSetup,
  providerEnvPrefix,
  resolveProviders,
  singleProvider,
} from './providers.js';
import { AGENT_TOKENS } from './tokens.js';

/** What the container is built from. */
export interface TollgateOptions {
  /**
   * The provider client every agent shares, e.g. `openai({ model, apiKey })`. Required
   * unless `providers` is given (then leave it, `providerLimits` and `providerStore` out).
   */
  readonly provider?: LLMClient | undefined;
  /**
   * Several providers, by name, each with its own client, its own quota and the one governor
   * of that quota its agents share: `{ openai: { client, limits }, anthropic: {...} }`. An
   * agent takes `defaultProvider` unless bound to another (`bindAgent(container, { provider:
   * 'anthropic' }, Writer)`) or built with `agentDepsFor(container, name)` (one per task).
   * `TOLLGATE_PROVIDER_<NAME>_*` variables override a provider's limits. @default none
   */
  readonly providers?: Readonly<Record<string, ProviderSetup>> | undefined;
  /** The provider of `providers` agents get when they name none. @default the first one */
  readonly defaultProvider?: string | undefined;
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
  options: Pick<TollgateOptions, 'limits' | 'providerLimits' | 'env' | 'logger' | 'providers'>,
): ResolvedTollgateLimits {
  const layer = (limits: ResourceLimits | undefined, prefix: string, ignorePrefixes: string[]) => {
    const parsed = parseResourceLimits(limits ?? {});
    if (!options.env) return parsed;
    const logger = options.logger ?? silentLogger;
    return resourceLimitsFromEnv(options.env, prefix, parsed, { ignorePrefixes, logger });
  };
  const agent = layer(options.limits, ENV_PREFIXES.agent, [ENV_PREFIXES.provider]);
  const named = Object.keys(options.providers ?? {}).map(providerEnvPrefix);
  const provider = layer(options.providerLimits, ENV_PREFIXES.provider, named);
  if (named.length > 0 && JSON.stringify(provider) !== JSON.stringify(parseResourceLimits({})))
    throw new InvalidArgumentError(
      'env',
      `no TOLLGATE_PROVIDER_* limit when \`providers\` is given: name the provider (${named[0]}*)`,
      Object.keys(options.env ?? {}).filter(
        (k) => k.startsWith(ENV_PREFIXES.provider) && !named.some((p) => k.startsWith(p)),
      ),
    );
  return { agent, provider };
}

/**
 * The Tollgate bindings as a container module: clock, logger, token counter, memory probe,
 * both layers of limits, the provider client, the shared provider governor (a singleton),
 * the shared tool registry, the agents' governor and client factories, the container's id
 * source, and `AGENT_TOKENS.AgentDeps` (transient: each agent gets its own).
 */
export function tollgateModule(options: TollgateOptions): ContainerModule {
  checkContainerOptions(options);
  const limits = resolveTollgateLimits(options);
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const { circuitBreaker, ...clientOptions } = options.client ?? {};
  const context = { env: options.env, logger, clock, clientOptions, circuitBreaker: circuitBreaker ?? {} };
  const providers = options.providers
    ? resolveProviders(options.providers, context)
    : [singleProvider(options.provider!, limits.provider, options.providerStore, context)];
  const defaultProvider = options.defaultProvider ?? providers[0]!.name;
  const main = providers.find((p) => p.name === defaultProvider)!;
  const countersByClient = options.providers !== undefined;
  return new ContainerModule(({ bind, onDeactivation }) => {
    bind(TOKENS.Clock).toConstantValue(clock);
    bind(TOKENS.Logger).toConstantValue(logger);
    bind(TOKENS.TokenCounter)
      .toDynamicValue(() => options.tokenCounter ?? new TiktokenCounter())
      .inSingletonScope();
    if (options.memoryProbe) bind(TOKENS.MemoryProbe).toConstantValue(options.memoryProbe);
    bind(TOKENS.ResourceLimits).toConstantValue(limits.agent);
    bind(TOKENS.ProviderLimits).toConstantValue(main.limits);
    bind(TOKENS.LLMClient).toConstantValue(main.client);
    if (main.store) bind(TOKENS.QuotaStore).toConstantValue(main.store.store);
    bind(AGENT_TOKENS.Providers)
      .toDynamicValue(() => new ProviderSet({ providers, defaultProvider, clock, logger, countersByClient }))
      .inSingletonScope();
    onDeactivation<ProviderSet>(AGENT_TOKENS.Providers, (set) => set.dispose());
    bind(TOKENS.ProviderGovernor)
      .toDynamicValue((ctx) => ctx.get<ProviderSet>(AGENT_TOKENS.Providers).governor())
      .inSingletonScope();
    onDeactivation<Governor>(TOKENS.ProviderGovernor, (governor) => governor.dispose());
    bindAgentParts(bind, { ...options, agentLimits: limits.agent, clock, logger });
  });
}

/**
 * @throws InvalidArgumentError for neither `provider` nor `providers` (or both), a
 * `defaultProvider` that is not one of `providers`, or a factory that is not a function.
 */
function checkContainerOptions(options: TollgateOptions): void {
  const { provider, providers } = options ?? {};
  if (providers !== undefined) {
    const single = ['provider', 'providerLimits', 'providerStore'] as const;
    const clash = single.find((key) => options[key] !== undefined);
    if (clash)
      throw new InvalidArgumentError(
        clash,
        'left out when `providers` is given (give it to one of the providers)',
        options[clash],
      );
    const named = typeof providers === 'object' && providers !== null ? Object.keys(providers) : [];
    const { defaultProvider } = options;
    if (defaultProvider !== undefined && !named.includes(defaultProvider))
      throw new InvalidArgumentError('defaultProvider', `one of ${named.join(', ')}`, defaultProvider);
  } else if (typeof provider?.chat !== 'function')
    throw new InvalidArgumentError(
      'provider',
      'an LLMClient, e.g. openai({ model, apiKey }) (or several as `providers`)',
      provider,
    );
  checkOptions('TollgateOptions', options, {
    governorFactory: optionRules.function,
    clientFactory: optionRules.function,
  });
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

/** How {@link bindAgent} binds agent classes. */
export interface BindAgentOptions {
  /** The provider of `providers` the agents call. @default the container's `defaultProvider` */
  readonly provider?: string | undefined;
}

type AgentClass = Newable<HybridAgent<unknown>> & { prototype: HybridAgent<unknown> };

/**
 * Binds agent classes (transient: every `get` is a new agent with its own governor,
 * sharing its provider's governor). No decorator is needed on the subclass. With options
 * first, `{ provider: 'anthropic' }`, the agents call that provider of `providers`.
 *
 * @throws InvalidArgumentError, when an agent is resolved, for a provider the container does not have.
 * @example
 * bindAgent(container, Researcher); // the default provider
 * bindAgent(container, { provider: 'anthropic' }, Writer);
 */
export function bindAgent(
  container: Container,
  ...agents: [BindAgentOptions, ...AgentClass[]] | AgentClass[]
): Container {
  const [first, ...rest] = agents;
  const options = typeof first === 'function' || first === undefined ? undefined : first;
  const classes = (options ? rest : agents) as AgentClass[];
  checkOptions('bindAgent', options ?? {}, { provider: optionRules.string });
  for (const Agent of classes) {
    const binding = container.bind(Agent);
    (options?.provider === undefined
      ? binding.toResolvedValue((deps: AgentDeps) => new Agent(deps), [AGENT_TOKENS.AgentDeps])
      : binding.toResolvedValue(
          (depsFor: AgentDepsFor) => new Agent(depsFor(options.provider)),
          [AGENT_TOKENS.AgentDepsFor],
        )
    ).inTransientScope();
  }
  return container;
}

/**
 * What an agent on provider `provider` (of the container's `providers`; the default one
 * when not given) is built from: its own id, the provider's client, governor and token
 * counter, and the rest of the container's deps. For picking a provider per task.
 *
 * @throws InvalidArgumentError naming the providers there are, for a name that is not one.
 * @example
 * const fleet = new AgentFleet({
 *   createAgent: (task) => new Analyst(agentDepsFor(container, String(task.metadata?.provider))),
 * });
 */
export function agentDepsFor(container: Container, provider?: string): AgentDeps {
  return container.get<AgentDepsFor>(AGENT_TOKENS.AgentDepsFor)(provider);
}
