import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConversationResult } from './conversations/messages.js';
import { call, type Harness, startHarness, testKey } from './test-support/harness.js';

const WINDOW_MS = 500; // "a minute", time-compressed 120x
const PER_WINDOW = 12; // provider requests per window: 120 calls need at least 10 windows
const CONVERSATIONS = 20;

describe('load: 20 concurrent conversations of 3 agents x 2 turns on a tight provider quota', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      simulator: {
        quota: { requestsPerWindow: PER_WINDOW, windowMs: WINDOW_MS },
        latency: { ttftMs: 20, perTokenMs: 0, jitter: 0 },
        completionTokens: [8, 24],
      },
      config: {
        upstream: {
          limits: {
            maxRequestsPerMinute: PER_WINDOW,
            algorithm: 'sliding-window',
            timeScale: 60_000 / WINDOW_MS,
            windowPaddingMs: 2,
            resourceWaitTimeoutSeconds: 120,
          },
        },
        conversations: { maxTokens: 32 },
      },
      keys: [{ name: 'load', limits: { maxRequestsPerMinute: 100_000, maxTokensPerMinute: 100_000_000 } }],
    });
  }, 120_000);
  afterAll(() => h?.close());

  it('zero upstream 429s, every conversation stored complete, none left running', async () => {
    const started = performance.now();
    const answers = await Promise.all(
      Array.from({ length: CONVERSATIONS }, (_, i) =>
        call(h.gateway, '/chat', {
          key: testKey('load'),
          body: { message: `Question ${i}: how do shared quotas stay fair?`, num_agents: 3, turns: 2 },
        }).then(async (res) => ({ status: res.status, body: (await res.json()) as ConversationResult })),
      ),
    );
    const wallMs = performance.now() - started;
    const stats = h.simulator.stats();
    const rows = await h.gateway.services.db.query<{ status: string; n: string }>(
      'SELECT status, count(*) AS n FROM conversations GROUP BY status',
    );
    const figures = {
      conversations: CONVERSATIONS,
      providerCalls: stats.admitted,
      upstream429s: stats.rateLimited,
      maxRequestsInWindow: stats.maxRequestsInWindow,
      providerLimitPerWindow: PER_WINDOW,
      wallSeconds: Number((wallMs / 1000).toFixed(2)),
      floorSeconds: ((CONVERSATIONS * 6) / PER_WINDOW - 1) * (WINDOW_MS / 1000),
      statuses: Object.fromEntries(rows.map((r) => [r.status, Number(r.n)])),
    };
    console.log('conversation load test', JSON.stringify(figures));
    expect(stats.rateLimited).toBe(0);
    expect(stats.maxRequestsInWindow).toBeLessThanOrEqual(PER_WINDOW);
    expect(answers.map((a) => a.status)).toEqual(Array(CONVERSATIONS).fill(200));
    expect(
      answers.every((a) => a.body.metadata.status === 'completed' && a.body.agent_responses.length === 6),
    ).toBe(true);
    expect(stats.admitted).toBe(CONVERSATIONS * 6);
    expect(figures.statuses).toEqual({ completed: CONVERSATIONS });
    // The quota, not the gateway, set the pace: 120 calls at 12 per window take at least 9 windows.
    expect(wallMs).toBeGreaterThanOrEqual(figures.floorSeconds * 1000);
  }, 180_000);
});
