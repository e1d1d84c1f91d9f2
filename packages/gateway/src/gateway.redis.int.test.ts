import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Simulator, startSimulator } from '@tollgate/simulator';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisServer, redisService, startRedis } from '../../limits/src/test-support/redisServer.js';
import { hasService } from '../../limits/src/test-support/services.js';
import { type GatewayProcess, startGatewayProcess } from './test-support/gatewayProcess.js';
import { testKey } from './test-support/harness.js';

const WINDOW_MS = 500;
const PER_WINDOW = 8;

describe.skipIf(!hasService(redisService, import.meta.url))('two gateway processes sharing one Redis', () => {
  let redis: RedisServer;
  let simulator: Simulator;
  let gateways: GatewayProcess[] = [];
  beforeAll(async () => {
    redis = await startRedis();
    simulator = await startSimulator({
      quota: { requestsPerWindow: PER_WINDOW, windowMs: WINDOW_MS },
      latency: { ttftMs: 2, perTokenMs: 0, jitter: 0 },
    });
    const config = join(mkdtempSync(join(tmpdir(), 'tollgate-gateway-redis-')), 'gateway.json');
    writeFileSync(
      config,
      JSON.stringify({
        upstream: {
          baseUrl: simulator.baseURL,
          apiKey: 'sk-upstream',
          limits: {
            maxRequestsPerMinute: PER_WINDOW,
            algorithm: 'sliding-window',
            timeScale: 60_000 / WINDOW_MS,
            windowPaddingMs: 5,
            resourceWaitTimeoutSeconds: 120,
          },
        },
        keys: [
          { name: 'busy', key: testKey('busy'), limits: { maxRequestsPerMinute: 10_000 } },
          { name: 'five', key: testKey('five'), limits: { maxRequestsPerMinute: 5 } },
        ],
        docs: false,
      }),
    );
    const env = { REDIS_URL: redis.url, GATEWAY_CONFIG: config };
    gateways = await Promise.all([startGatewayProcess(env), startGatewayProcess(env)]);
  }, 300_000);
  afterAll(async () => {
    await Promise.all(gateways.map((g) => g.stop()));
    await simulator?.close();
    await redis?.stop();
  });

  it('30 clients split over both: zero upstream 429s, the strict window never exceeded, every call answered', async () => {
    const clients = Array.from({ length: 30 }, (_, i) => {
      const openai = new OpenAI({
        baseURL: gateways[i % 2]!.baseURL,
        apiKey: testKey('busy'),
        maxRetries: 0,
      });
      return (async () => {
        for (let n = 0; n < 2; n++) {
          const reply = await openai.chat.completions.create({
            model: 'sim-small',
            messages: [{ role: 'user', content: `client ${i}, call ${n}` }],
            max_tokens: 8,
          });
          expect(reply.choices[0]?.message.content).toBeTruthy();
        }
      })();
    });
    await Promise.all(clients);
    const stats = simulator.stats();
    expect(stats.rateLimited).toBe(0);
    expect(stats.admitted).toBe(60);
    expect(stats.maxRequestsInWindow).toBeLessThanOrEqual(PER_WINDOW);
  }, 120_000);

  it("a key's own limit holds across both: 5 per minute admitted in all, the rest 429 from whichever gateway", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) {
      const res = await fetch(`${gateways[i % 2]!.baseURL}/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${testKey('five')}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          model: 'sim-small',
          messages: [{ role: 'user', content: 'hi' }],
          max_tokens: 8,
        }),
      });
      statuses.push(res.status);
      await res.arrayBuffer();
    }
    expect(statuses.filter((s) => s === 200)).toHaveLength(5);
    expect(statuses.slice(5)).toEqual([429, 429, 429]);
  }, 60_000);
});
