import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { silentLogger } from '@tollgate/core';
import { afterEach, describe, expect, it } from 'vitest';
import { startGateway } from '../Gateway.js';
import { call, type Harness, startHarness, testKey } from '../test-support/harness.js';

/**
 * Stands in for the Anthropic and Gemini hosts on 127.0.0.1: answers their model lists
 * (`GET /v1/models`, `GET /v1beta/models`) with the status set for the path, and records
 * each request. The simulator serves only OpenAI's model list.
 */
async function fakeProvider(statuses: Record<string, number>) {
  const seen: { path: string; headers: IncomingHttpHeaders }[] = [];
  const server: Server = createServer((req, res) => {
    seen.push({ path: req.url ?? '', headers: req.headers });
    res.writeHead(statuses[req.url ?? ''] ?? 404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ data: [] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

interface Health {
  status: string;
  components: Record<string, { status: string; responseTimeMs: number; details: Record<string, unknown> }>;
}

async function detailed(h: Harness): Promise<{ code: number; health: Health }> {
  const response = await call(h.gateway, '/health/detailed', { key: testKey('admin') });
  return { code: response.status, health: (await response.json()) as Health };
}

describe('/health/detailed checks the Anthropic and Gemini upstreams when they are configured', () => {
  const open: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    for (const o of open.splice(0).reverse()) await o.close();
  });

  async function gatewayBefore(statuses: Record<string, number>) {
    const provider = await fakeProvider(statuses);
    open.push(provider);
    const h = await startHarness({
      config: {
        anthropic: { baseUrl: provider.url, apiKey: 'sk-ant-health' },
        gemini: { baseUrl: provider.url, apiKey: 'sk-gemini-health' },
      },
    });
    open.push(h);
    return { h, provider };
  }

  it('asks each model list with its own key and headers: both answering is healthy', async () => {
    const { h, provider } = await gatewayBefore({ '/v1/models': 200, '/v1beta/models': 200 });
    const { code, health } = await detailed(h);
    expect(code).toBe(200);
    expect(health.status).toBe('healthy');
    for (const name of ['anthropicUpstream', 'geminiUpstream']) {
      expect(health.components[name]?.status).toBe('healthy');
      expect(health.components[name]?.details).toEqual({ httpStatus: 200 });
      expect(health.components[name]?.responseTimeMs).toBeGreaterThanOrEqual(0);
    }
    const anthropic = provider.seen.find((r) => r.path === '/v1/models');
    expect(anthropic?.headers['x-api-key']).toBe('sk-ant-health');
    expect(anthropic?.headers['anthropic-version']).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(anthropic?.headers.authorization).toBeUndefined();
    const gemini = provider.seen.find((r) => r.path === '/v1beta/models');
    expect(gemini?.headers['x-goog-api-key']).toBe('sk-gemini-health');
    expect(gemini?.headers.authorization).toBeUndefined();
  });

  it('a provider answering 429 is degraded; one refusing the key is unhealthy and the gateway answers 503', async () => {
    const { h } = await gatewayBefore({ '/v1/models': 401, '/v1beta/models': 429 });
    const { code, health } = await detailed(h);
    expect(health.components.geminiUpstream).toMatchObject({
      status: 'degraded',
      details: { httpStatus: 429 },
    });
    expect(health.components.anthropicUpstream).toMatchObject({
      status: 'unhealthy',
      details: { httpStatus: 401 },
    });
    expect(health.components.upstream?.status).toBe('healthy');
    expect(health.status).toBe('unhealthy');
    expect(code).toBe(503);
  });

  it('a provider that cannot be reached is unhealthy, with the reason', async () => {
    const provider = await fakeProvider({});
    await provider.close(); // nothing listens on its port now
    const h = await startHarness({ config: { gemini: { baseUrl: provider.url, apiKey: 'sk-gemini' } } });
    open.push(h);
    const { code, health } = await detailed(h);
    expect(health.components.geminiUpstream?.status).toBe('unhealthy');
    expect(health.components.geminiUpstream?.details.error).toEqual(expect.any(String));
    expect(health.components.anthropicUpstream).toBeUndefined();
    expect(code).toBe(503);
  });

  it('lists neither when neither is configured', async () => {
    const h = await startHarness();
    open.push(h);
    const { health } = await detailed(h);
    expect(Object.keys(health.components)).not.toContain('anthropicUpstream');
    expect(Object.keys(health.components)).not.toContain('geminiUpstream');
  });

  it('with the embedded simulator serving every API, all three upstreams are checked and healthy', async () => {
    const gateway = await startGateway(
      { port: 0, docs: false, adminKey: testKey('admin') },
      { logger: silentLogger },
    );
    open.push(gateway);
    const response = await call(gateway, '/health/detailed', { key: testKey('admin') });
    const health = (await response.json()) as Health;
    expect(response.status).toBe(200);
    for (const name of ['upstream', 'anthropicUpstream', 'geminiUpstream'])
      expect(health.components[name]).toMatchObject({ status: 'healthy', details: { httpStatus: 200 } });
  });
});
