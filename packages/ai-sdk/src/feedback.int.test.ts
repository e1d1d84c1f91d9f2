import { QuotaExhaustedError } from '@tollgate/llm-clients';
import type { Simulator } from '@tollgate/simulator';
import { APICallError, generateText, wrapLanguageModel } from 'ai';
import { afterEach, describe, expect, it } from 'vitest';
import {
  providerGovernor,
  record,
  simulatedModel,
  simulator,
  tokenCounter,
  useQuota,
} from './test-support/simulated.js';
import { tollgateMiddleware } from './tollgateMiddleware.js';

const sims: Simulator[] = [];
async function sim(options: Parameters<typeof simulator>[0]) {
  const s = await simulator(options);
  sims.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(sims.splice(0).map((s) => s.close()));
});

const ask = (model: Parameters<typeof generateText>[0]['model'], i: number) =>
  generateText({ model, prompt: `Question ${i}?`, maxOutputTokens: 20, maxRetries: 0 });

describe('provider feedback through the AI SDK', () => {
  it('a 429 with retry-after-ms puts the provider governor in cooldown that every caller waits out', async () => {
    const windowMs = 1_000;
    const s = await sim({ quota: { requestsPerWindow: 4, windowMs } });
    const provider = providerGovernor(4, windowMs);
    const { events } = record(provider);
    const middleware = tollgateMiddleware({ governors: [provider], tokenCounter });
    const model = wrapLanguageModel({ model: simulatedModel(s), middleware });
    await useQuota(s, 4); // another tenant of the key used the whole window: we do not know it
    const first = ask(model, 0); // answered 429 with retry-after-ms, then retried by the middleware
    await new Promise<void>((resolve) => {
      const sub = provider.events$.subscribe((e) => {
        if (e.type !== 'cooldown') return;
        sub.unsubscribe();
        resolve();
      });
    });
    const cooldown = events.find((e) => e.type === 'cooldown')!;
    const others = Array.from({ length: 3 }, (_, i) => ask(model, i + 1));
    const results = await Promise.all([first, ...others]);

    expect(results.every((r) => /\w/.test(r.text))).toBe(true);
    expect(s.stats()).toMatchObject({ admitted: 4 + 4, rateLimited: 1 }); // one 429, then nobody else met one
    expect(middleware.stats).toMatchObject({ succeeded: 4, rateLimited: 1, retries: 1, failed: 0 });
    // The cooldown is what the provider asked: the rest of its window (at most a window, rounded up).
    expect(cooldown).toMatchObject({ type: 'cooldown', reason: 'sim.chat answered 429' });
    if (cooldown.type !== 'cooldown') throw new Error('unreachable');
    expect(cooldown.ms).toBeGreaterThan(0);
    expect(cooldown.ms).toBeLessThanOrEqual(windowMs + 1);
    // Every acquire after the 429, the first call's retry included, was admitted after the cooldown.
    const after = events.filter((e) => e.type === 'acquired' && e.at >= cooldown.at);
    expect(after).toHaveLength(4);
    for (const e of after) expect(e.at).toBeGreaterThanOrEqual(cooldown.until - 1);
    // The three callers that came during the cooldown queued behind it.
    expect(events.filter((e) => e.type === 'queued' && e.at >= cooldown.at)).toHaveLength(4);
    provider.dispose();
  });

  it("a 429's rate-limit headers hold back the callers after the cooldown while another tenant's calls are still in the window", async () => {
    const windowMs = 3_000;
    const s = await sim({ quota: { requestsPerWindow: 4, windowMs } });
    const provider = providerGovernor(4, windowMs);
    const middleware = tollgateMiddleware({ governors: [provider], tokenCounter });
    const model = wrapLanguageModel({ model: simulatedModel(s), middleware });
    // The other tenant's calls are spread: the 429's retry-after frees one place, not four.
    await useQuota(s, 2);
    await new Promise((r) => setTimeout(r, 200));
    await useQuota(s, 2);
    const first = ask(model, 0); // answered 429: the place the retry-after frees is its retry's
    await new Promise<void>((resolve) => {
      const sub = provider.events$.subscribe((e) => {
        if (e.type !== 'cooldown') return;
        sub.unsubscribe();
        resolve();
      });
    });
    const results = await Promise.all([first, ...Array.from({ length: 3 }, (_, i) => ask(model, i + 1))]);

    expect(results.every((r) => /\w/.test(r.text))).toBe(true);
    expect(s.stats()).toMatchObject({ admitted: 4 + 4, rateLimited: 1 });
    expect(middleware.stats).toMatchObject({ succeeded: 4, rateLimited: 1, retries: 1, failed: 0 });
    provider.dispose();
  });

  it('rate-limit headers lower the provider governor to what the provider says is left', async () => {
    const s = await sim({ quota: { requestsPerWindow: 10, windowMs: 60_000 } });
    const provider = providerGovernor(10, 60_000);
    const middleware = tollgateMiddleware({ governors: [provider], tokenCounter });
    const lowered: number[] = [];
    middleware.events$.subscribe((e) => e.type === 'feedback' && lowered.push(e.lowered));
    await useQuota(s, 3);
    await ask(wrapLanguageModel({ model: simulatedModel(s), middleware }), 0);
    // We knew of our one call (9 left); the provider knew of four (6 left).
    expect(lowered).toEqual([3]);
    expect(provider.remaining('requests')).toBe(6);
    provider.dispose();
  });

  it('a used-up quota (429 insufficient_quota) fails at once with QuotaExhaustedError, no cooldown, no retry', async () => {
    const s = await sim({ quota: { requestBudget: 1 } });
    const provider = providerGovernor(100, 60_000);
    const { events } = record(provider);
    const middleware = tollgateMiddleware({ governors: [provider], tokenCounter });
    const model = wrapLanguageModel({ model: simulatedModel(s), middleware });
    await ask(model, 0);
    const error = await ask(model, 1).catch((e: unknown) => e);
    expect(QuotaExhaustedError.is(error)).toBe(true);
    expect((error as QuotaExhaustedError).cause).toSatisfy(APICallError.isInstance);
    expect(s.stats()).toMatchObject({ admitted: 1, quotaExhausted: 1 });
    expect(events.some((e) => e.type === 'cooldown')).toBe(false);
    expect(middleware.stats).toMatchObject({ succeeded: 1, failed: 1, retries: 0 });
    provider.dispose();
  });

  it('5xx replies are retried up to maxAttempts, then the AI SDK error reaches the caller', async () => {
    const s = await sim({ faults: { error503: 1 } });
    const provider = providerGovernor(100, 60_000);
    const middleware = tollgateMiddleware({
      governors: [provider],
      tokenCounter,
      retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5 },
    });
    const error = await ask(wrapLanguageModel({ model: simulatedModel(s), middleware }), 0).catch(
      (e: unknown) => e,
    );
    expect(APICallError.isInstance(error) && error.statusCode).toBe(503);
    expect(s.stats().faults.error503).toBe(3);
    expect(middleware.stats).toMatchObject({ calls: 1, retries: 2, failed: 1 });
    // The provider may have admitted each failed attempt: its governor keeps their requests.
    expect(provider.remaining('requests')).toBe(97);
    provider.dispose();
  });
});
