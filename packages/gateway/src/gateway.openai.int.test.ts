import {
  type AcquireReply,
  type GovernorEvent,
  MemoryQuotaStore,
  type QuotaConfig,
  type StoreRequest,
} from '@tollgate/limits';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from './auth/Principal.js';
import { type Harness, startHarness, testKey } from './test-support/harness.js';

const WINDOW_MS = 400; // "a minute", time-compressed 150x
const SCALE = 60_000 / WINDOW_MS;
const PROVIDER_PER_WINDOW = 20;
const KEYS = [
  { name: 'small', perWindow: 3 },
  { name: 'medium', perWindow: 6 },
  { name: 'roomy', perWindow: 1_000 }, // never over its own limit
] as const;
const CLIENTS = 20;
const CALLS = 2;

/** The most timestamps inside any window of `windowMs` (half-open). */
function mostInWindow(times: readonly number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[i]! - sorted[j]! >= windowMs) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

/**
 * The quota store the gateway's governors share, recording when it admitted each request of
 * each quota, on its own clock: the record the windows are measured on.
 */
class RecordingStore extends MemoryQuotaStore {
  readonly admitted = new Map<string, { config: QuotaConfig; times: number[] }>();

  override async acquire(config: QuotaConfig, requests: readonly StoreRequest[]): Promise<AcquireReply> {
    const reply = await super.acquire(config, requests);
    const record = this.admitted.get(config.quota) ?? { config, times: [] };
    this.admitted.set(config.quota, record);
    for (let k = 0; k < reply.granted; k++) {
      if (requests[k]!.amounts.some((a) => a > 0))
        record.times.push(reply.now + (reply.startsInMs?.[k] ?? 0));
    }
    return reply;
  }
}

describe('any OpenAI client against the gateway: 3 keys with different limits, 20 concurrent clients each', () => {
  let h: Harness;
  const store = new RecordingStore();
  beforeAll(async () => {
    h = await startHarness({
      deps: { quotaStore: store },
      simulator: { quota: { requestsPerWindow: PROVIDER_PER_WINDOW, windowMs: WINDOW_MS } },
      config: {
        upstream: {
          limits: {
            maxRequestsPerMinute: PROVIDER_PER_WINDOW,
            algorithm: 'sliding-window',
            timeScale: SCALE,
            windowPaddingMs: 2,
            resourceWaitTimeoutSeconds: 60,
          },
        },
      },
      keys: [
        ...KEYS.map((k) => ({
          name: k.name,
          limits: {
            maxRequestsPerMinute: k.perWindow,
            algorithm: 'sliding-window' as const,
            timeScale: SCALE,
          },
        })),
        { name: 'burst', limits: { maxRequestsPerMinute: 5, algorithm: 'sliding-window' } },
      ],
    });
  }, 120_000);
  afterAll(() => h?.close());

  it('zero upstream 429s; no key admitted over its own window; 429s from the gateway only to keys over their limit', async () => {
    const principals = new Map<string, Principal>();
    for (const r of await h.gateway.services.keys.list()) {
      principals.set(r.name, {
        id: r.id,
        name: r.name,
        kind: 'key',
        permissions: new Set(r.permissions),
        limits: r.limits ?? undefined,
      });
    }
    const admitted = new Map<string, number[]>(KEYS.map((k) => [k.name, []]));
    for (const k of KEYS) {
      h.gateway.services.governance
        .keyGovernor(principals.get(k.name)!)
        .events$.subscribe((e: GovernorEvent) => {
          if (e.type === 'acquired') admitted.get(k.name)!.push(e.at);
        });
    }
    const rejections = new Map<string, { code: string; remaining: string | null; retryAfterMs: number }[]>(
      KEYS.map((k) => [k.name, []]),
    );
    const client = async (keyName: string, i: number) => {
      const openai = new OpenAI({ baseURL: h.gateway.baseURL, apiKey: testKey(keyName), maxRetries: 0 });
      for (let done = 0; done < CALLS; ) {
        try {
          const reply = await openai.chat.completions.create({
            model: 'sim-small',
            messages: [{ role: 'user', content: `client ${i} of ${keyName}` }],
            max_tokens: 8,
          });
          expect(reply.choices[0]?.message.content).toBeTruthy();
          done++;
        } catch (error) {
          if (!(error instanceof OpenAI.APIError) || error.status !== 429) throw error;
          const wait = Number(error.headers?.get('retry-after-ms'));
          rejections.get(keyName)!.push({
            code: String(error.code),
            remaining: error.headers?.get('x-ratelimit-remaining-requests') ?? null,
            retryAfterMs: wait,
          });
          await new Promise((r) => setTimeout(r, wait));
        }
      }
    };
    await Promise.all(KEYS.flatMap((k) => Array.from({ length: CLIENTS }, (_, i) => client(k.name, i))));

    const stats = h.simulator.stats();
    expect(stats.rateLimited).toBe(0);
    expect(stats.admitted).toBe(KEYS.length * CLIENTS * CALLS);
    expect(stats.maxRequestsInWindow).toBeLessThanOrEqual(PROVIDER_PER_WINDOW);
    for (const k of KEYS) {
      expect(admitted.get(k.name)).toHaveLength(CLIENTS * CALLS);
      const rejected = rejections.get(k.name)!;
      for (const r of rejected) {
        expect(r.code).toBe('rate_limit_exceeded');
        expect(r.remaining).toBe('0');
        expect(r.retryAfterMs).toBeGreaterThan(0);
        expect(r.retryAfterMs).toBeLessThanOrEqual(WINDOW_MS);
      }
      // Whether a small key is ever over its limit depends on how fast the clients arrive;
      // the test below makes it certain. A key that never is must never get a 429.
      if (k.perWindow >= CLIENTS * CALLS) expect(rejected).toHaveLength(0);
    }
    // Every quota (each key's and the provider's), as its store admitted: no window over its limit.
    const requestQuotas = [...store.admitted.values()].filter((q) =>
      q.config.rates.some((r) => r.resource === 'requests'),
    );
    expect(requestQuotas.length).toBeGreaterThanOrEqual(KEYS.length + 1);
    for (const { config, times } of requestQuotas) {
      const rate = config.rates.find((r) => r.resource === 'requests')!;
      expect(mostInWindow(times, rate.windowMs), config.quota).toBeLessThanOrEqual(rate.limit);
    }
    const usage = await Promise.all(
      KEYS.map(async (k) => {
        await h.gateway.services.usage.flush();
        return h.gateway.services.keys.usage(principals.get(k.name)!.id);
      }),
    );
    for (const [i, k] of KEYS.entries()) {
      expect(usage[i]).toMatchObject({ requests: CLIENTS * CALLS, rejected: rejections.get(k.name)!.length });
      expect(usage[i]!.promptTokens).toBeGreaterThan(0);
    }
  }, 90_000);

  it('a key over its own limit gets 429 with its rate-limit headers, and those requests are never forwarded', async () => {
    const before = h.simulator.stats().requests;
    const openai = new OpenAI({ baseURL: h.gateway.baseURL, apiKey: testKey('burst'), maxRetries: 0 });
    const outcomes = await Promise.all(
      Array.from({ length: 8 }, () =>
        openai.chat.completions
          .create({ model: 'sim-small', messages: [{ role: 'user', content: 'burst' }], max_tokens: 8 })
          .then(
            () => 200,
            (error: unknown) => {
              if (!(error instanceof OpenAI.APIError)) throw error;
              expect(error.code).toBe('rate_limit_exceeded');
              expect(error.headers?.get('x-ratelimit-limit-requests')).toBe('5');
              expect(error.headers?.get('x-ratelimit-remaining-requests')).toBe('0');
              expect(Number(error.headers?.get('retry-after'))).toBeGreaterThan(0);
              return error.status;
            },
          ),
      ),
    );
    expect(outcomes.filter((s) => s === 200)).toHaveLength(5);
    expect(outcomes.filter((s) => s === 429)).toHaveLength(3);
    expect(h.simulator.stats().requests - before).toBe(5);
  });
});
