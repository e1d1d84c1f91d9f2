// What a conversation's agents are built with: the provider client and both governors of every call.
import { type AgentClientFactory, type AgentDeps, ownedByAgent } from '@tollgate/agents';
import type { Clock, Logger, TokenCounter } from '@tollgate/core';
import { type CircuitBreaker, GovernedClient, type LLMClient } from '@tollgate/llm-clients';
import { tap } from 'rxjs';
import type { Principal } from '../auth/Principal.js';
import type { Governance } from '../governance/Governance.js';

/** The gateway parts an agent's calls go through. */
export interface AgentCallParts {
  /** The provider client (an `OpenAIClient` on the upstream), shared by every agent. */
  readonly provider: LLMClient;
  readonly governance: Governance;
  /** The gateway's upstream breaker: one outage opens it for proxy and agents alike. */
  readonly breaker: CircuitBreaker;
  readonly counter: TokenCounter;
  readonly charging: 'admission' | 'usage';
  /** Attempts per call when the provider answers 429 or fails. */
  readonly maxAttempts: number;
  readonly clock: Clock;
  readonly logger: Logger;
}

/**
 * The deps of the agents of `principal`'s conversation: every call passes the principal's
 * key governor (waiting for its room), then the provider's shared governor, in a
 * `GovernedClient` that shares the gateway's circuit breaker. Each agent's own governor has
 * no limits: the key's limits are the principal's. With `onDelta`, answers are streamed from
 * the provider (and assembled as usual) and each piece of text is passed to it as it arrives.
 */
export function conversationAgentDeps(
  parts: AgentCallParts,
  principal: Principal,
  onDelta?: (agentId: string, delta: string) => void,
): AgentDeps {
  const key = parts.governance.keyWaitingGovernor(principal);
  const provider = parts.governance.provider;
  const clientFactory: AgentClientFactory = (context) =>
    ownedByAgent(
      new GovernedClient(
        onDelta ? tapped(context.provider, (d) => onDelta(context.agentId, d)) : context.provider,
        {
          chatTransport: onDelta ? 'stream' : 'whole',
          governors: [key, provider],
          providerGovernor: provider,
          providerCharging: parts.charging,
          circuitBreaker: parts.breaker,
          retry: { maxAttempts: parts.maxAttempts },
          tokenCounter: parts.counter,
          clock: parts.clock,
          logger: parts.logger,
          label: `${principal.name}/${context.agentId}`,
        },
      ),
    );
  return {
    client: parts.provider,
    limits: {},
    clientFactory,
    tokenCounter: parts.counter,
    clock: parts.clock,
    logger: parts.logger,
  };
}

/** `client`, its streams reporting each piece of text to `onDelta` as it passes. */
function tapped(client: LLMClient, onDelta: (delta: string) => void): LLMClient {
  return {
    specificationVersion: client.specificationVersion,
    provider: client.provider,
    model: client.model,
    chat: (request, options) => client.chat(request, options),
    stream: (request, options) =>
      client.stream(request, options).pipe(
        tap((chunk) => {
          if (chunk.content) onDelta(chunk.content);
        }),
      ),
  };
}
