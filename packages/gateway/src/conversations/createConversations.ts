// Builds the conversation service of a gateway from its parts.
import type { Clock, Logger, TokenCounter } from '@tollgate/core';
import { type CircuitBreaker, OpenAIClient } from '@tollgate/llm-clients';
import type { Database } from '../db/Database.js';
import type { Governance } from '../governance/Governance.js';
import type { UsageRecorder } from '../keys/UsageRecorder.js';
import type { UpstreamTarget } from '../proxy/upstream.js';
import { ConversationStore } from './ConversationStore.js';
import { Conversations } from './Conversations.js';
import type { ConversationsConfig } from './config.js';
import { DEFAULT_AGENT_PROFILES } from './profiles.js';

/** The gateway parts a conversation service runs on. */
export interface ConversationGatewayParts {
  readonly db: Database;
  readonly governance: Governance;
  readonly breaker: CircuitBreaker;
  readonly usage: UsageRecorder;
  readonly upstream: UpstreamTarget;
  readonly counter: TokenCounter;
  readonly charging: 'admission' | 'usage';
  readonly maxAttempts: number;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** A conversation service whose agents call the gateway's upstream with the official openai client. */
export function createConversations(
  parts: ConversationGatewayParts,
  config: ConversationsConfig = {},
): Conversations {
  const provider = new OpenAIClient({
    model: (config.agents ?? DEFAULT_AGENT_PROFILES)[0]?.model ?? 'gpt-4o-mini',
    apiKey: parts.upstream.apiKey,
    baseURL: parts.upstream.baseUrl,
    timeoutMs: parts.upstream.timeoutMs,
    provider: 'upstream',
  });
  return new Conversations({ ...parts, provider, store: new ConversationStore(parts.db) }, config);
}
