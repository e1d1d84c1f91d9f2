// Health of every component the gateway depends on, and the overall status (the worst of them).

import { openaiProtocol } from '../proxy/protocols/openaiProtocol.js';
import { callUpstream, type UpstreamTarget } from '../proxy/upstream.js';
import type { GatewayServices } from '../services.js';

/** How a component is doing. */
export type HealthStatus = 'healthy' | 'degraded' | 'unhealthy';

/** One component's health. */
export interface ComponentHealth {
  readonly status: HealthStatus;
  readonly responseTimeMs: number;
  readonly details: Record<string, unknown>;
}

/** The components every gateway has. */
export const HEALTH_COMPONENTS = [
  'upstream',
  'quotaStore',
  'database',
  'governors',
  'circuitBreaker',
] as const;

/** The components of the Anthropic and Gemini upstreams, present when these are configured. */
export const PROVIDER_HEALTH_COMPONENTS = ['anthropicUpstream', 'geminiUpstream'] as const;

/** The answer of `GET /health/detailed`. */
export interface DetailedHealth {
  readonly status: HealthStatus;
  readonly components: Record<(typeof HEALTH_COMPONENTS)[number], ComponentHealth> &
    Partial<Record<(typeof PROVIDER_HEALTH_COMPONENTS)[number], ComponentHealth>>;
}

const RANK: Record<HealthStatus, number> = { healthy: 0, degraded: 1, unhealthy: 2 };

/** The worst of `statuses`. */
export function worst(statuses: readonly HealthStatus[]): HealthStatus {
  return statuses.reduce<HealthStatus>((a, b) => (RANK[b] > RANK[a] ? b : a), 'healthy');
}

async function timed(
  s: GatewayServices,
  probe: () => Promise<{ status: HealthStatus; details: Record<string, unknown> }>,
): Promise<ComponentHealth> {
  const started = s.clock.now();
  try {
    const { status, details } = await probe();
    return { status, responseTimeMs: s.clock.now() - started, details };
  } catch (error) {
    return {
      status: 'unhealthy',
      responseTimeMs: s.clock.now() - started,
      details: { error: (error as Error).message },
    };
  }
}

/** A `GET` of the upstream's health path (its model list) with its key: 2xx healthy, 429 or 5xx degraded. */
function upstream(s: GatewayServices, target: UpstreamTarget) {
  return timed(s, async () => {
    const protocol = target.protocol ?? openaiProtocol;
    const response = await callUpstream(
      { ...target, timeoutMs: 2_000 },
      target.healthPath ?? protocol.healthPath,
      { method: 'GET', signal: new AbortController().signal, headers: protocol.defaultHeaders },
    );
    await response.arrayBuffer();
    const status: HealthStatus = response.ok
      ? 'healthy'
      : response.status === 429 || response.status >= 500
        ? 'degraded'
        : 'unhealthy';
    return { status, details: { httpStatus: response.status } };
  });
}

function governors(s: GatewayServices) {
  return timed(s, async () => {
    const provider = s.governance.provider.checkResourceAvailability();
    const cooling = provider.cooldownUntil !== null && provider.cooldownUntil > provider.at;
    return {
      status: cooling ? 'degraded' : 'healthy',
      details: {
        provider: {
          remaining: provider.remaining,
          queued: provider.queued,
          cooldownUntil: provider.cooldownUntil,
        },
        keyGovernors: s.governance.governors().length - 1,
        blockedAddresses: s.blocker.blocked,
      },
    };
  });
}

/** Checks every component at once (the Anthropic and Gemini upstreams when configured). */
export async function checkHealth(s: GatewayServices): Promise<DetailedHealth> {
  const { anthropic, gemini } = s.providers;
  const [up, store, db, gov, anthropicUp, geminiUp] = await Promise.all([
    upstream(s, s.upstream),
    timed(s, async () => {
      await s.quotaStore.ping();
      return { status: 'healthy', details: { kind: s.quotaStore.kind } };
    }),
    timed(s, async () => {
      await s.db.query('SELECT 1');
      return { status: 'healthy', details: { kind: s.db.kind } };
    }),
    governors(s),
    anthropic && upstream(s, anthropic.upstream),
    gemini && upstream(s, gemini.upstream),
  ]);
  const state = s.breaker.state;
  const breaker: ComponentHealth = {
    status: state === 'closed' ? 'healthy' : state === 'half-open' ? 'degraded' : 'unhealthy',
    responseTimeMs: 0,
    details: { state },
  };
  const components = {
    upstream: up,
    quotaStore: store,
    database: db,
    governors: gov,
    circuitBreaker: breaker,
    ...(anthropicUp && { anthropicUpstream: anthropicUp }),
    ...(geminiUp && { geminiUpstream: geminiUp }),
  };
  return { status: worst(Object.values(components).map((c) => c.status)), components };
}
