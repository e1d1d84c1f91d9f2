import { createAnthropic } from '@ai-sdk/anthropic';
import { ResourceGovernor } from '@tollgate/limits';
import type { Simulator } from '@tollgate/simulator';
import { generateText, stepCountIs, streamText, tool, wrapLanguageModel } from 'ai';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { governTools } from './governTools.js';
import {
  API_KEY,
  admissionSpanBound,
  loopDelay,
  OTHER_KEY,
  record,
  simulator,
  tokenCounter,
} from './test-support/simulated.js';
import { tollgateMiddleware } from './tollgateMiddleware.js';

const sims: Simulator[] = [];
afterEach(async () => {
  await Promise.all(sims.splice(0).map((s) => s.close()));
});

/** The AI SDK's Anthropic provider package on the simulator's `POST /v1/messages`. */
const claude = (sim: Simulator, apiKey = API_KEY) =>
  createAnthropic({ baseURL: `${sim.url}/v1`, apiKey })('claude-sonnet-4-6');

/** Another tenant of the key: `n` requests straight to the Messages API. */
async function useAnthropicQuota(sim: Simulator, n: number) {
  for (let i = 0; i < n; i++) {
    const res = await fetch(`${sim.url}/v1/messages`, {
      method: 'POST',
      headers: {
        'x-api-key': API_KEY,
        'anthropic-version': '2023-06-01',
        'content-type': 'application/json',
      },
      body: JSON.stringify({
        model: 'claude-sonnet-4-6',
        max_tokens: 5,
        messages: [{ role: 'user', content: `t${i}` }],
      }),
    });
    if (!res.ok) throw new Error(`the other tenant was refused: ${res.status}`);
    await res.text();
  }
}

describe('tollgateMiddleware against the Anthropic Messages API of the simulator', () => {
  it('generateText with tools and streamText: every call reserved and settled with the usage Anthropic reports', async () => {
    const sim = await simulator();
    sims.push(sim);
    const provider = new ResourceGovernor({ maxRequestsPerMinute: 50 }, { name: 'anthropic' });
    const agent = new ResourceGovernor({ maxToolCallsPerMinute: 5 }, { name: 'agent' });
    const { events } = record(provider);
    const middleware = tollgateMiddleware({
      governors: [agent, provider],
      tokenCounter,
      providerCharging: 'usage',
    });
    const model = wrapLanguageModel({ model: claude(sim), middleware });
    const runs: string[] = [];
    const lookup = tool({
      description: 'Looks up a city',
      inputSchema: z.object({ city: z.string() }),
      execute: async ({ city }) => {
        runs.push(city);
        return `${city}: sunny`;
      },
    });
    const result = await generateText({
      model,
      prompt: 'Weather in Oslo?',
      tools: governTools({ lookup }, agent),
      stopWhen: stepCountIs(3),
      maxOutputTokens: 200,
      maxRetries: 0,
    });
    expect(runs).toHaveLength(1);
    expect(result.text).toMatch(/\w/);
    const streamed = streamText({ model, prompt: 'Tell me more.', maxOutputTokens: 200, maxRetries: 0 });
    expect(await streamed.text).toMatch(/\w/);
    const usage = await streamed.usage;

    const settled = events.flatMap((e) => (e.type === 'settled' ? [e.actual] : []));
    expect(settled).toHaveLength(3); // two steps of generateText, one stream
    // Settled with what Anthropic reported, not the reservation.
    expect(settled[2]).toMatchObject({ inputTokens: usage.inputTokens, outputTokens: usage.outputTokens });
    expect(middleware.stats).toMatchObject({ calls: 3, succeeded: 3, failed: 0 });
    expect(sim.stats().rateLimited).toBe(0);
    provider.dispose();
    agent.dispose();
  });

  it('anthropic-ratelimit headers lower the view; a 429 with retry-after puts the provider governor in cooldown, and every call then succeeds', async () => {
    const windowMs = 1_000;
    const sim = await simulator({ quota: { requestsPerWindow: 3, windowMs } });
    sims.push(sim);
    const provider = new ResourceGovernor(
      { maxRequestsPerMinute: 30, timeScale: 60_000 / windowMs },
      { name: 'anthropic' },
    );
    const { events } = record(provider);
    const middleware = tollgateMiddleware({ governors: [provider], tokenCounter });
    const lowered: number[] = [];
    middleware.events$.subscribe(
      (e) => e.type === 'feedback' && e.resource === 'requests' && lowered.push(e.lowered),
    );
    const model = wrapLanguageModel({ model: claude(sim), middleware });
    const ask = (i: number) =>
      generateText({ model, prompt: `Question ${i}`, maxOutputTokens: 20, maxRetries: 0 });

    await useAnthropicQuota(sim, 2); // another tenant: one request is left of the bucket
    await ask(0);
    expect(lowered[0]).toBeGreaterThanOrEqual(2); // the provider said what we had not seen
    const replies = await Promise.all([1, 2, 3].map(ask)); // the bucket is empty: a 429, a cooldown, then paced
    expect(replies.every((r) => /\w/.test(r.text))).toBe(true);
    const cooldowns = events.filter((e) => e.type === 'cooldown');
    expect(sim.stats().rateLimited).toBe(cooldowns.length);
    expect(cooldowns.length).toBeGreaterThanOrEqual(1);
    expect(cooldowns[0]).toMatchObject({ reason: 'anthropic.messages answered 429' });
    expect(middleware.stats).toMatchObject({ succeeded: 4, failed: 0 });
    provider.dispose();
  });

  it('50 concurrent calls on 7 requests per window: all succeed, zero 429s', async () => {
    const windowMs = 1_500;
    const sim = await simulator({ quota: { requestsPerWindow: 7, windowMs }, completionTokens: [5, 12] });
    sims.push(sim);
    // Open the keep-alive connections on another key first (the simulator keeps a quota per key).
    await Promise.all(
      Array.from({ length: 7 }, (_, i) =>
        generateText({ model: claude(sim, OTHER_KEY), prompt: `${i}`, maxOutputTokens: 5, maxRetries: 0 }),
      ),
    );
    sim.reset();
    // Anthropic refills its request bucket continuously. A strict window held until each reply
    // starts never overdraws it whatever the latency; a token bucket here (which holds
    // nothing) met a few 429s in 50 calls, as arrivals jitter against the provider's refill.
    const provider = new ResourceGovernor(
      {
        maxRequestsPerMinute: 7,
        algorithm: 'sliding-window',
        timeScale: 60_000 / windowMs,
        resourceWaitTimeoutSeconds: 600,
      },
      { name: 'anthropic' },
    );
    const middleware = tollgateMiddleware({ governors: [provider], tokenCounter });
    const model = wrapLanguageModel({ model: claude(sim), middleware });
    const { events } = record(provider);
    const lag = loopDelay();
    const replies = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        generateText({ model, prompt: `Item ${i}`, maxOutputTokens: 40, maxRetries: 0 }),
      ),
    );
    const lagMs = lag.stop();
    const stats = sim.stats();
    const spanMs = stats.lastAdmissionMs! - stats.firstAdmissionMs!;
    const minimumMs = 7 * windowMs;
    const boundMs = admissionSpanBound(events, { perWindow: 7, windowMs, minimumMs, lagMs });
    console.log(
      `anthropic: 50 calls, admissions over ${spanMs.toFixed(0)} ms (minimum ${minimumMs} ms, bound ${boundMs.toFixed(0)} ms with loop delay p99 ${lagMs.toFixed(1)} ms), ${sim.stats().rateLimited} x 429`,
    );
    expect(replies.every((r) => /\w/.test(r.text))).toBe(true);
    expect(stats).toMatchObject({ admitted: 50, rateLimited: 0 });
    expect(middleware.stats).toMatchObject({ succeeded: 50, retries: 0 });
    // Strict windows: 8 windows' worth, the last admission 7 windows after the first, plus at
    // most 10% and the hold and timer delays measured.
    expect(events.filter((e) => e.type === 'released')).toHaveLength(50);
    expect(spanMs).toBeGreaterThanOrEqual(minimumMs);
    expect(spanMs).toBeLessThanOrEqual(boundMs);
    provider.dispose();
  }, 45_000);
});
