// The Anthropic and Gemini upstreams: each with its own quota governor, circuit breaker and token counter.
import type { Clock, Logger, Usage } from '@tollgate/core';
import { CircuitBreaker, tokenCounterFor } from '@tollgate/llm-clients';
import {
  GATEWAY_DEFAULTS as D,
  DEFAULT_PROVIDER_LIMITS,
  type GatewayConfig,
} from '../config/GatewayConfig.js';
import type { Governance } from '../governance/Governance.js';
import type { UsageRecorder } from '../keys/UsageRecorder.js';
import { ChatProxy } from './ChatProxy.js';
import { anthropicProtocol } from './protocols/anthropicProtocol.js';
import { geminiProtocol } from './protocols/geminiProtocol.js';

/** The proxies of the upstreams besides the OpenAI-compatible one; absent when not configured. */
export interface ProviderProxies {
  readonly anthropic?: ChatProxy | undefined;
  readonly gemini?: ChatProxy | undefined;
}

/** What every upstream's proxy shares. */
export interface ProviderProxyDeps {
  readonly governance: Governance;
  readonly usage: UsageRecorder;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly costOf: (model: string, usage: Usage) => number;
}

const PROTOCOLS = { anthropic: anthropicProtocol, gemini: geminiProtocol } as const;

/**
 * A proxy for each of `anthropic` and `gemini` that has a `baseUrl`, or that the embedded
 * simulator (at `embeddedUrl`) serves. The simulator is called with a key per API, so its
 * per-key quotas are apart as a real provider's are.
 */
export function providerProxies(
  config: GatewayConfig,
  embeddedUrl: string | undefined,
  deps: ProviderProxyDeps,
): ProviderProxies {
  const out: Record<string, ChatProxy> = {};
  for (const name of ['anthropic', 'gemini'] as const) {
    const c = config[name] ?? {};
    const baseUrl = c.baseUrl ?? embeddedUrl;
    if (baseUrl === undefined) continue;
    const protocol = PROTOCOLS[name];
    out[name] = new ChatProxy({
      upstream: {
        baseUrl,
        apiKey: c.apiKey ?? `${D.simulatorApiKey}-${name}`,
        timeoutMs: c.timeoutMs ?? D.timeoutMs,
        transport: c.transport,
        protocol,
        healthPath: c.baseUrl === undefined ? '/health' : undefined,
      },
      governance: deps.governance,
      provider: deps.governance.addProvider(name, c.limits ?? DEFAULT_PROVIDER_LIMITS),
      protocol,
      breaker: new CircuitBreaker(name, {}, deps.clock),
      usage: deps.usage,
      counter: tokenCounterFor(name),
      defaultMaxTokens: config.defaultMaxTokens ?? D.defaultMaxTokens,
      maxAttempts: c.maxAttempts ?? D.maxAttempts,
      charging: c.charging ?? D.charging,
      costOf: deps.costOf,
      logger: deps.logger,
    });
  }
  return out;
}
