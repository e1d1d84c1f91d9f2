// The agents layer's bindings: shared tools, the id source, the factories and each agent's deps.
import { type Clock, type Logger, TOKENS, type TokenCounter } from '@tollgate/core';
import type { Governor, MemoryProbe, ParsedResourceLimits } from '@tollgate/limits';
import type { ContainerModuleLoadOptions, ResolutionContext } from 'inversify';
import {
  type AgentClientFactory,
  type GovernorFactory,
  governedClientFactory,
  resourceGovernorFactory,
} from '../agent/factories.js';
import type { AnyTool } from '../agent/resolveTools.js';
import type { AgentDeps } from '../agent/types.js';
import { IdSource } from '../ids/IdSource.js';
import type { PricingTable } from '../pricing.js';
import { ToolRegistry } from '../tools/ToolRegistry.js';
import type { ProviderSet } from './providers.js';
import { AGENT_TOKENS } from './tokens.js';

/** What the agents' bindings are made from, resolved by `tollgateModule`. */
export interface AgentParts {
  readonly agentLimits: ParsedResourceLimits;
  readonly tools?: readonly AnyTool[] | undefined;
  readonly governorFactory?: GovernorFactory | undefined;
  readonly clientFactory?: AgentClientFactory | undefined;
  readonly pricing?: PricingTable | undefined;
  readonly clock: Clock;
  readonly logger: Logger;
}

/**
 * Builds the deps of an agent on a provider of the container (the default one when none is
 * named): each call a new agent id. Bound under `AGENT_TOKENS.AgentDepsFor`.
 */
export type AgentDepsFor = (provider?: string) => AgentDeps;

/**
 * Binds the shared tool registry, one `IdSource` for the container, the governor and
 * client factories (rebind them to plug in another governor or client),
 * `AGENT_TOKENS.AgentDepsFor`, and `AGENT_TOKENS.AgentDeps` (transient: each agent its own
 * deps, id and all, on the default provider).
 */
export function bindAgentParts(bind: ContainerModuleLoadOptions['bind'], parts: AgentParts): void {
  bind(AGENT_TOKENS.ToolRegistry).toConstantValue(new ToolRegistry(parts.tools ?? []));
  bind(AGENT_TOKENS.IdSource).toConstantValue(new IdSource());
  bind(AGENT_TOKENS.GovernorFactory).toConstantValue(parts.governorFactory ?? resourceGovernorFactory);
  bind(AGENT_TOKENS.AgentClientFactory).toConstantValue(parts.clientFactory ?? governedClientFactory);
  bind(AGENT_TOKENS.AgentDepsFor)
    .toDynamicValue((context) => depsFor(context, parts))
    .inTransientScope();
  bind(AGENT_TOKENS.AgentDeps)
    .toDynamicValue((context) => depsFor(context, parts)())
    .inTransientScope();
}

/** Reads the container's shared parts once; the function it returns builds an agent's deps on a provider. */
function depsFor(context: ResolutionContext, parts: AgentParts): AgentDepsFor {
  const memoryProbe = context.get<MemoryProbe>(TOKENS.MemoryProbe, { optional: true });
  const ids = context.get<IdSource>(AGENT_TOKENS.IdSource);
  const providers = context.get<ProviderSet>(AGENT_TOKENS.Providers);
  // The default provider's governor is the container's TOKENS.ProviderGovernor (rebindable).
  const mainGovernor = context.get<Governor>(TOKENS.ProviderGovernor);
  const sharedCounter = context.get<TokenCounter>(TOKENS.TokenCounter);
  const shared = {
    limits: parts.agentLimits,
    toolRegistry: context.get<ToolRegistry>(AGENT_TOKENS.ToolRegistry),
    governorFactory: context.get<GovernorFactory>(AGENT_TOKENS.GovernorFactory),
    clientFactory: context.get<AgentClientFactory>(AGENT_TOKENS.AgentClientFactory),
    ids,
    clock: parts.clock,
    logger: parts.logger,
    ...(memoryProbe ? { memoryProbe } : {}),
    ...(parts.pricing ? { pricing: parts.pricing } : {}),
  };
  return (name) => {
    const provider = providers.get(name);
    const isDefault = provider.name === providers.defaultProvider;
    return {
      ...shared,
      client: provider.client,
      providerGovernor: isDefault ? mainGovernor : providers.governor(provider.name),
      tokenCounter: providers.tokenCounter(provider.name, sharedCounter),
      clientOptions: provider.clientOptions,
      agentId: ids.next('agent'),
    };
  };
}
