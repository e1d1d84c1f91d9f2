// Everything the gateway's routes use, built once at start (see startGateway).
import type { Clock, Logger } from '@tollgate/core';
import type { CircuitBreaker } from '@tollgate/llm-clients';
import type { Authenticator } from './auth/Authenticator.js';
import type { IpBlocker } from './auth/IpBlocker.js';
import type { Conversations } from './conversations/Conversations.js';
import type { Database } from './db/Database.js';
import type { Governance } from './governance/Governance.js';
import type { KeyStore } from './keys/KeyStore.js';
import type { UsageRecorder } from './keys/UsageRecorder.js';
import type { ChatProxy } from './proxy/ChatProxy.js';
import type { ProviderProxies } from './proxy/providerProxies.js';
import type { UpstreamTarget } from './proxy/upstream.js';

/** The quota store's kind (`custom`: one passed in `GatewayDeps.quotaStore`) and a way to check it is reachable. */
export interface QuotaStoreHealth {
  readonly kind: 'memory' | 'redis' | 'custom';
  /** Resolves when reachable; rejects otherwise. */
  ping(): Promise<void>;
}

/** The parts of a running gateway, shared by its routes (plugins take this as their options). */
export interface GatewayServices {
  readonly db: Database;
  readonly keys: KeyStore;
  readonly usage: UsageRecorder;
  readonly authenticator: Authenticator;
  readonly blocker: IpBlocker;
  readonly governance: Governance;
  readonly proxy: ChatProxy;
  /** The Anthropic and Gemini upstreams, when configured (or served by the embedded simulator). */
  readonly providers: ProviderProxies;
  readonly breaker: CircuitBreaker;
  readonly upstream: UpstreamTarget;
  readonly quotaStore: QuotaStoreHealth;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The multi-agent conversation service. */
  readonly conversations: Conversations;
}
