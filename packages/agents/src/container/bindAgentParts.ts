// The agents layer's bindings: shared tools, the id source, the factories and each agent's deps.
import { type Clock, type Logger, TOKENS, type TokenCounter } from '@tollgate/core';
import type { Governor, MemoryProbe, ParsedResourceLimits } from '@tollgate/limits';
import type { LLMClient } from '@tollgate/llm-clients';
import type { ContainerModuleLoadOptions } from 'inversify';
import {
  type AgentClientFactory,
  type GovernorFactory,
  governedClientFactory,
  resourceGovernorFactory,
} from '../agent/factories.js';
import type { AnyTool } from '../agent/resolveTools.js';
import type { AgentClientOptions, AgentDeps } from '../agent/types.js';
import { IdSource } from '../ids/IdSource.js';
import type { PricingTable } from '../pricing.js';
import { ToolRegistry } from '../tools/ToolRegistry.js';
import { AGENT_TOKENS } from './tokens.js';

/** What the agents' bindings are made from, resolved by `tollgateModule`. */
export interface AgentParts {
  readonly provider: LLMClient;
  readonly agentLimits: ParsedResourceLimits;
  readonly tools?: readonly AnyTool[] | undefined;
  readonly governorFactory?: GovernorFactory | undefined;
  readonly clientFactory?: AgentClientFactory | undefined;
  readonly pricing?: PricingTable | undefined;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly clientOptions: AgentClientOptions;
}

/**
 * Binds the shared tool registry, one `IdSource` for the container, the governor and
 * client factories (rebind them to plug in another governor or client), and
 * `AGENT_TOKENS.AgentDeps` (transient: each agent its own deps, id and all).
 */
export function bindAgentParts(bind: ContainerModuleLoadOptions['bind'], parts: AgentParts): void {
  bind(AGENT_TOKENS.ToolRegistry).toConstantValue(new ToolRegistry(parts.tools ?? []));
  bind(AGENT_TOKENS.IdSource).toConstantValue(new IdSource());
  bind(AGENT_TOKENS.GovernorFactory).toConstantValue(parts.governorFactory ?? resourceGovernorFactory);
  bind(AGENT_TOKENS.AgentClientFactory).toConstantValue(parts.clientFactory ?? governedClientFactory);
  bind(AGENT_TOKENS.AgentDeps)
    .toDynamicValue((context): AgentDeps => {
      const memoryProbe = context.get<MemoryProbe>(TOKENS.MemoryProbe, { optional: true });
      const ids = context.get<IdSource>(AGENT_TOKENS.IdSource);
      return {
        client: parts.provider,
        limits: parts.agentLimits,
        providerGovernor: context.get<Governor>(TOKENS.ProviderGovernor),
        toolRegistry: context.get<ToolRegistry>(AGENT_TOKENS.ToolRegistry),
        tokenCounter: context.get<TokenCounter>(TOKENS.TokenCounter),
        governorFactory: context.get<GovernorFactory>(AGENT_TOKENS.GovernorFactory),
        clientFactory: context.get<AgentClientFactory>(AGENT_TOKENS.AgentClientFactory),
        ids,
        clock: parts.clock,
        logger: parts.logger,
        ...(memoryProbe ? { memoryProbe } : {}),
        ...(parts.pricing ? { pricing: parts.pricing } : {}),
        clientOptions: parts.clientOptions,
        agentId: ids.next('agent'),
      };
    })
    .inTransientScope();
}
