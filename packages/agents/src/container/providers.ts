// The providers of a container: each its client, the one governor of its quota, its estimator and its client options.
import {
  type Clock,
  checkOptions,
  InvalidArgumentError,
  InvalidLimitsError,
  type Logger,
  rule,
  silentLogger,
  type TokenCounter,
} from '@tollgate/core';
import {
  DistributedGovernor,
  type DistributedGovernorOptions,
  type Governor,
  type ParsedResourceLimits,
  parseResourceLimits,
  ResourceGovernor,
  type ResourceLimits,
  resourceLimitsFromEnv,
} from '@tollgate/limits';
import { CircuitBreaker, type LLMClient, tokenCounterFor } from '@tollgate/llm-clients';
import type { AgentClientOptions } from '../agent/types.js';

/** Where a provider keeps its quota when it is shared between processes (as `TollgateOptions.providerStore`). */
export type ProviderStore = Omit<DistributedGovernorOptions, 'clock' | 'logger' | 'name'>;

/**
 * One provider of a container (an entry of `TollgateOptions.providers`): its client and its
 * quota. Every agent on it shares one governor over `limits`.
 *
 * @example
 * anthropic: {
 *   client: anthropic({ model: 'claude-sonnet-4-6' }),
 *   limits: { maxRequestsPerMinute: 50, maxInputTokensPerMinute: 30_000, maxOutputTokensPerMinute: 8_000 },
 *   clientOptions: { providerCharging: 'usage' },
 * }
 */
export interface ProviderSetup {
  /** The provider's client: `openai({...})`, `anthropic({...})`, `gemini({...})`, any `LLMClient`. */
  readonly client: LLMClient;
  /** The provider's quota, per API key and model. Validated. @default none */
  readonly limits?: ResourceLimits | undefined;
  /** Keep the quota in a shared store (Redis): its governor is then a `DistributedGovernor`. @default in process */
  readonly store?: ProviderStore | undefined;
  /**
   * Estimates this provider's prompts. @default `tokenCounterFor(client.provider)` for
   * `'anthropic'` and `'gemini'` clients, else the container's `tokenCounter`
   */
  readonly tokenCounter?: TokenCounter | undefined;
  /** Options of its agents' governed clients, over the container's `client` options. @default none */
  readonly clientOptions?: Omit<AgentClientOptions, 'circuitBreaker'> | undefined;
}

/** A provider of a container, resolved: what the agents on it are built with. */
export interface ResolvedProvider {
  /** Its name in `providers` (the client's `provider` name for the single `provider` option). */
  readonly name: string;
  readonly client: LLMClient;
  /** Its limits after validation and environment overrides. */
  readonly limits: ParsedResourceLimits;
  readonly store: ProviderStore | undefined;
  /** Its token counter, when it has one of its own (else the container's). */
  readonly tokenCounter: TokenCounter | undefined;
  /** The container's `client` options with the provider's over them, its circuit breaker included. */
  readonly clientOptions: AgentClientOptions;
}

/** The prefix of a named provider's environment overrides: `TOLLGATE_PROVIDER_<NAME>_`. */
export function providerEnvPrefix(name: string): string {
  return `TOLLGATE_PROVIDER_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_`;
}

const NAME = /^[A-Za-z][A-Za-z0-9_-]*$/;

/** What {@link ProviderSet} is built from, resolved by the container. */
export interface ProviderSetOptions {
  readonly providers: readonly ResolvedProvider[];
  readonly defaultProvider: string;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Whether a provider without a counter of its own gets its client's estimator (named providers) or the container's. */
  readonly countersByClient: boolean;
}

/**
 * The providers of a container and the one governor of each one's quota (built on first
 * use, shared by every agent on that provider, disposed with the set). Bound under
 * `AGENT_TOKENS.Providers`.
 */
export class ProviderSet {
  /** The name agents get when they name none. */
  readonly defaultProvider: string;
  readonly #providers: ReadonlyMap<string, ResolvedProvider>;
  readonly #governors = new Map<string, Governor>();
  readonly #counters = new Map<string, TokenCounter>();
  readonly #options: ProviderSetOptions;

  constructor(options: ProviderSetOptions) {
    this.#providers = new Map(options.providers.map((p) => [p.name, p]));
    this.defaultProvider = options.defaultProvider;
    this.#options = options;
  }

  /** The providers' names, in the order given. */
  get names(): readonly string[] {
    return [...this.#providers.keys()];
  }

  /**
   * Provider `name`, or the default one.
   * @throws InvalidArgumentError naming the providers there are, for a name that is not one.
   */
  get(name: string = this.defaultProvider): ResolvedProvider {
    const provider = this.#providers.get(name);
    if (!provider) throw new InvalidArgumentError('provider', `one of ${this.names.join(', ')}`, name);
    return provider;
  }

  /**
   * The governor of provider `name`'s quota (the default provider's without a name): one per
   * provider, shared by all its agents. Named `provider:<client provider>:<model>`.
   * @throws InvalidArgumentError for an unknown name.
   */
  governor(name: string = this.defaultProvider): Governor {
    const provider = this.get(name);
    let governor = this.#governors.get(provider.name);
    if (!governor) {
      const options = { clock: this.#options.clock, logger: this.#options.logger };
      const label = `provider:${provider.client.provider}:${provider.client.model}`;
      governor = provider.store
        ? new DistributedGovernor(provider.limits, { ...provider.store, ...options, name: label })
        : new ResourceGovernor(provider.limits, { ...options, name: label });
      this.#governors.set(provider.name, governor);
    }
    return governor;
  }

  /**
   * The token counter of provider `name`'s agents: its own, else (for named providers) its
   * client's estimator, else `shared` (the container's). One per provider.
   * @throws InvalidArgumentError for an unknown name.
   */
  tokenCounter(name: string, shared: TokenCounter): TokenCounter {
    const provider = this.get(name);
    let counter = this.#counters.get(provider.name);
    if (!counter) {
      counter =
        provider.tokenCounter ??
        (this.#options.countersByClient ? defaultProviderCounter(provider.client, shared) : shared);
      this.#counters.set(provider.name, counter);
    }
    return counter;
  }

  /** Disposes the governors built so far. */
  dispose(): void {
    for (const governor of this.#governors.values()) governor.dispose();
    this.#governors.clear();
  }
}

/** How {@link resolveProviders} reads env overrides and builds breakers. */
export interface ResolveProvidersContext {
  readonly env?: Readonly<Record<string, string | undefined>> | undefined;
  readonly logger?: Logger | undefined;
  readonly clock: Clock;
  /** The container's `client` options, under each provider's. */
  readonly clientOptions: Omit<AgentClientOptions, 'circuitBreaker'>;
  /** Options of each provider's circuit breaker, or `false` for none. */
  readonly circuitBreaker: ConstructorParameters<typeof CircuitBreaker>[1] | false;
}

/**
 * Checks and resolves `providers`: names, clients, limits (with `TOLLGATE_PROVIDER_<NAME>_*`
 * overrides when `env` is given), one circuit breaker per provider.
 * @throws InvalidArgumentError for an empty set, a bad name or entry; InvalidLimitsError naming
 * `providers.<name>.limits.<field>` (or the variable).
 */
export function resolveProviders(
  providers: Readonly<Record<string, ProviderSetup>>,
  context: ResolveProvidersContext,
): ResolvedProvider[] {
  const names = typeof providers === 'object' && providers !== null ? Object.keys(providers) : [];
  if (names.length === 0)
    throw new InvalidArgumentError('providers', 'an object of one or more providers by name', providers);
  const prefixes = names.map(providerEnvPrefix);
  const clash = prefixes.find((p, i) => prefixes.indexOf(p) !== i);
  if (clash)
    throw new InvalidArgumentError(
      'providers',
      `names that differ in more than case or punctuation (two are ${clash}*)`,
      names,
    );
  return names.map((name, i) => {
    const setup = providers[name]!;
    checkSetup(name, setup);
    const prefix = prefixes[i]!;
    const limits = providerLimits(`providers.${name}.limits`, setup.limits, prefix, {
      env: context.env,
      logger: context.logger,
      ignorePrefixes: prefixes.filter((p) => p !== prefix),
    });
    return resolvedProvider(name, setup, limits, context);
  });
}

/** The one provider of the `provider` option, named by its client, its env prefix `TOLLGATE_PROVIDER_`. */
export function singleProvider(
  client: LLMClient,
  limits: ParsedResourceLimits,
  store: ProviderStore | undefined,
  context: ResolveProvidersContext,
): ResolvedProvider {
  return resolvedProvider(client.provider, { client, store, tokenCounter: undefined }, limits, context);
}

function resolvedProvider(
  name: string,
  setup: ProviderSetup,
  limits: ParsedResourceLimits,
  context: ResolveProvidersContext,
): ResolvedProvider {
  const { circuitBreaker } = context;
  const breaker =
    circuitBreaker === false
      ? false
      : new CircuitBreaker(setup.client.provider, circuitBreaker, context.clock);
  return {
    name,
    client: setup.client,
    limits,
    store: setup.store,
    tokenCounter: setup.tokenCounter,
    clientOptions: { ...context.clientOptions, ...setup.clientOptions, circuitBreaker: breaker },
  };
}

/** The counter a named provider estimates with when its setup gives none: Anthropic's and Gemini's estimators, else `shared`. */
export function defaultProviderCounter(client: LLMClient, shared: TokenCounter): TokenCounter {
  return client.provider === 'anthropic' || client.provider === 'gemini'
    ? tokenCounterFor(client.provider)
    : shared;
}

function checkSetup(name: string, setup: ProviderSetup): void {
  if (!NAME.test(name))
    throw new InvalidArgumentError('providers', 'names of a letter then letters, digits, - or _', name);
  if (typeof setup?.client?.chat !== 'function')
    throw new InvalidArgumentError(
      `providers.${name}.client`,
      'an LLMClient, e.g. anthropic({ model })',
      setup?.client,
    );
  const isObject = (v: unknown) => typeof v === 'object' && v !== null;
  checkOptions(`providers.${name}`, setup, {
    limits: rule('an object of ResourceLimits', isObject),
    store: rule(
      'an object with a QuotaStore as `store`',
      (v) => isObject(v) && isObject((v as ProviderStore).store),
    ),
    tokenCounter: rule(
      'a TokenCounter',
      (v) => typeof (v as TokenCounter | null)?.countMessages === 'function',
    ),
    clientOptions: rule('an object', isObject),
  });
}

/** `limits` validated (fields named under `path`), then env overrides under `prefix`. */
function providerLimits(
  path: string,
  limits: ResourceLimits | undefined,
  prefix: string,
  env: {
    env: Readonly<Record<string, string | undefined>> | undefined;
    logger: Logger | undefined;
    ignorePrefixes: string[];
  },
): ParsedResourceLimits {
  let parsed: ParsedResourceLimits;
  try {
    parsed = parseResourceLimits(limits ?? {});
  } catch (error) {
    if (!InvalidLimitsError.is(error)) throw error;
    throw new InvalidLimitsError(error.issues.map((i) => ({ ...i, field: `${path}.${i.field}` })));
  }
  if (!env.env) return parsed;
  const logger = env.logger ?? silentLogger;
  return resourceLimitsFromEnv(env.env, prefix, parsed, { ignorePrefixes: env.ignorePrefixes, logger });
}
