import { ResourceGovernor } from '@tollgate/limits';
import { type Simulator, startSimulator } from '@tollgate/simulator';
import { afterEach, describe, expect, it } from 'vitest';
import { GovernedClient } from '../governed/GovernedClient.js';
import { runCallers } from '../test-support/callers.js';
import { anthropicTokenCounter } from '../tokens/MarginTokenCounter.js';
import { AnthropicClient } from './AnthropicClient.js';

const KEY = 'sk-ant-fleet';
const sims: Simulator[] = [];
afterEach(async () => {
  await Promise.all(sims.splice(0).map((s) => s.close()));
});

describe('50 callers x 3 calls on Anthropic limits (RPM, ITPM, OTPM as buckets), output the binding one', () => {
  const windowMs = 5_000; // "a minute", time-compressed 12x
  const otpm = 5_000;
  const maxTokens = 250;

  it('zero 429s, all succeed, admission span within 10% of the minimum the output bucket allows', {
    timeout: 90_000,
  }, async () => {
    const sim = await startSimulator({
      apiKeys: [KEY],
      quota: {
        requestsPerWindow: 1_000,
        inputTokensPerWindow: 100_000,
        outputTokensPerWindow: otpm,
        windowMs,
      },
      completionTokens: [150, 250],
      latency: { ttftMs: 2, perTokenMs: 0.02, jitter: 0.5 },
    });
    sims.push(sim);
    const provider = new ResourceGovernor(
      {
        maxRequestsPerMinute: 1_000,
        maxInputTokensPerMinute: 100_000,
        // A full bucket's burst (the default burst size): the simulator's bucket, full until
        // the burst reaches it, loses the refill of the burst's delay, and the governor's
        // bucket loses it too, refilling only to its capacity less what is in flight.
        maxOutputTokensPerMinute: otpm,
        timeScale: 60_000 / windowMs,
        resourceWaitTimeoutSeconds: 120,
      },
      { name: 'anthropic' },
    );
    const client = new GovernedClient(
      new AnthropicClient({ model: 'claude-sim', baseURL: sim.url, apiKey: KEY }),
      {
        governors: [provider],
        tokenCounter: anthropicTokenCounter(),
        providerCharging: 'usage',
      },
    );
    // Loads both tokenizers before the clock starts: that is not scheduling.
    await client.chat({ messages: [{ role: 'user', content: 'warm up' }], maxTokens: 1 });
    sim.reset();
    const run = await runCallers(client, 50, 3, (i, c) => ({
      messages: [{ role: 'user', content: `Summarise item ${i}-${c} in a line.` }],
      maxTokens,
    }));
    provider.dispose();
    const stats = sim.stats();
    expect(run.failures).toEqual([]);
    expect(stats.rateLimited).toBe(0);
    expect(stats.admitted).toBe(150);
    // Output binds: the bucket starts full and refills otpm per window. Everything past the
    // first bucketful waits for refill, so the admissions span at least this long.
    const minimum = ((stats.tokens.completion - otpm) * windowMs) / otpm;
    const span = stats.lastAdmissionMs! - stats.firstAdmissionMs!;
    console.info(
      `anthropic OTPM: admission span ${span.toFixed(0)} ms, minimum ${minimum.toFixed(0)} ms (${((span / minimum - 1) * 100).toFixed(1)}%), makespan ${run.makespanMs.toFixed(0)} ms, timer lag p99 ${run.lagMs.toFixed(1)} ms`,
    );
    expect(span).toBeGreaterThanOrEqual(minimum * 0.97);
    expect(span).toBeLessThanOrEqual(minimum * 1.1 + run.lagMs * 10);
  });
});
