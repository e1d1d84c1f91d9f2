// Health of every component the gateway depends on, and the overall status (the worst of them).

import { callUpstream } from '../proxy/upstream.js';
import type { GatewayServices } from '../services.js';

/** How a component is doing. */
export type HealthStatus = 'healthy' | 'degraded' | 'unhealthy';

/** One component's health. */
export interface ComponentHealth {
  readonly status: HealthStatus;
  readonly responseTimeMs: number;
  readonly details: Record<string, unknown>;
}

/** The answer of `GET /health/detailed`. */
export interface DetailedHealth {
  readonly status: HealthStatus;
  readonly components: Record<
    'upstream' | 'quotaStore' | 'database' | 'governors' | 'circuitBreaker',
    ComponentHealth
  >;
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

function upstream(s: GatewayServices) {
  return timed(s, async () => {
    const response = await callUpstream({ ...s.upstream, timeoutMs: 2_000 }, '/models', {
      method: 'GET',
      signal: new AbortController().signal,
    });
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

/** Checks every component at once. */
export async function checkHealth(s: GatewayServices): Promise<DetailedHealth> {
  const [up, store, db, gov] = await Promise.all([
    upstream(s),
    timed(s, async () => {
      await s.quotaStore.ping();
      return { status: 'healthy', details: { kind: s.quotaStore.kind } };
    }),
    timed(s, async () => {
      await s.db.query('SELECT 1');
      return { status: 'healthy', details: { kind: s.db.kind } };
    }),
    governors(s),
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
  };
  return { status: worst(Object.values(components).map((c) => c.status)), components };
}
