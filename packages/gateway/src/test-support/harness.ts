// Starts a gateway against a simulator for tests, with keys from a config object.
import { silentLogger } from '@tollgate/core';
import { type Simulator, type SimulatorOptions, startSimulator } from '@tollgate/simulator';
import type { GatewayConfig, GatewayKeyConfig } from '../config/GatewayConfig.js';
import { type Gateway, type GatewayDeps, startGateway } from '../Gateway.js';

export interface Harness {
  readonly gateway: Gateway;
  readonly simulator: Simulator;
  close(): Promise<void>;
}

/** Where a suite keeps the gateway's data: `url()` is read when each gateway starts. */
export interface DatabaseBackend {
  readonly name: string;
  url(): string | undefined;
}

/** A key for tests: 24 characters, distinct per name. */
export const testKey = (name: string) => `tg-test-${name.padEnd(16, 'x')}`;

/** A gateway in front of a fresh simulator; `keys` get `testKey(name)` unless they set their own. */
export async function startHarness(
  options: {
    readonly simulator?: SimulatorOptions;
    readonly config?: GatewayConfig;
    readonly keys?: readonly (Omit<GatewayKeyConfig, 'key'> & { key?: string })[];
    readonly deps?: GatewayDeps;
    /** A PostgreSQL URL; PGlite without one. */
    readonly databaseUrl?: string | undefined;
  } = {},
): Promise<Harness> {
  const simulator = await startSimulator({
    latency: { ttftMs: 2, perTokenMs: 0, jitter: 0 },
    ...options.simulator,
  });
  const keys = (options.keys ?? []).map((k) => (k.keyHash ? k : { ...k, key: k.key ?? testKey(k.name) }));
  const gateway = await startGateway(
    {
      port: 0,
      adminKey: testKey('admin'),
      docs: false,
      databaseUrl: options.databaseUrl,
      ...options.config,
      upstream: { baseUrl: simulator.baseURL, apiKey: 'sk-upstream', ...options.config?.upstream },
      keys,
    },
    { logger: silentLogger, ...options.deps },
  );
  return {
    gateway,
    simulator,
    async close() {
      await gateway.close();
      await simulator.close();
    },
  };
}

/** A fetch to the gateway with a key. */
export function call(
  gateway: Gateway,
  path: string,
  init: { method?: string; key?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Response> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.key !== undefined) headers.authorization = `Bearer ${init.key}`;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  return fetch(`${gateway.url}${path}`, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers,
    body:
      init.body === undefined
        ? undefined
        : typeof init.body === 'string'
          ? init.body
          : JSON.stringify(init.body),
  });
}

/** A small chat request. */
export const chatBody = (content = 'hello', extra: Record<string, unknown> = {}) => ({
  model: 'sim-small',
  messages: [{ role: 'user', content }],
  max_tokens: 16,
  ...extra,
});
