import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { ResourceGovernor } from '@tollgate/limits';
import { type Simulator, startSimulator } from '@tollgate/simulator';
import { afterEach, describe, expect, it } from 'vitest';
import { GovernedClient } from '../governed/GovernedClient.js';
import { geminiTokenCounter } from '../tokens/MarginTokenCounter.js';
import { GeminiClient } from './GeminiClient.js';

const KEY = 'AIza-fleet';
const sims: Simulator[] = [];
afterEach(async () => {
  await Promise.all(sims.splice(0).map((s) => s.close()));
});

describe('50 callers x 3 calls on a Gemini per-minute request quota (strict windows)', () => {
  const windowMs = 400; // "a minute", time-compressed 150x
  const rpm = 10;

  it('zero 429s, all succeed, makespan within 10% of the minimum plus the call and timer delays measured', async () => {
    const sim = await startSimulator({
      apiKeys: [KEY],
      quota: { requestsPerWindow: rpm, tokensPerWindow: 1_000_000, windowMs },
      latency: { ttftMs: 1, perTokenMs: 0.02, jitter: 0.5 },
    });
    sims.push(sim);
    const provider = new ResourceGovernor(
      {
        maxRequestsPerMinute: rpm,
        maxInputTokensPerMinute: 1_000_000,
        algorithm: 'sliding-window',
        timeScale: 60_000 / windowMs,
        windowPaddingMs: 1,
        resourceWaitTimeoutSeconds: 120,
      },
      { name: 'gemini' },
    );
    const client = new GovernedClient(
      new GeminiClient({ model: 'gemini-sim', baseURL: sim.url, apiKey: KEY }),
      {
        governors: [provider],
        tokenCounter: geminiTokenCounter(),
      },
    );
    await client.chat({ messages: [{ role: 'user', content: 'warm up' }], maxTokens: 1 });
    await new Promise((r) => setTimeout(r, windowMs + 5));
    sim.reset();
    // How long each admission held its window slot (to its reply), in order of admission.
    const admittedAt = new Map<number, number>();
    const heldMs = new Map<number, number>();
    const events = provider.events$.subscribe((e) => {
      if (e.type === 'acquired') admittedAt.set(e.leaseId, e.at);
      if (e.type === 'settled') heldMs.set(e.leaseId, e.at - admittedAt.get(e.leaseId)!);
    });
    const delay = monitorEventLoopDelay({ resolution: 1 });
    delay.enable();
    const started = performance.now();
    await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        for (let c = 0; c < 3; c++) {
          await client.chat({ messages: [{ role: 'user', content: `question ${i}-${c}` }], maxTokens: 40 });
        }
      }),
    );
    const makespan = performance.now() - started;
    delay.disable();
    events.unsubscribe();
    provider.dispose();
    const stats = sim.stats();
    expect(stats.rateLimited).toBe(0);
    expect(stats.admitted).toBe(150);
    expect(stats.maxRequestsInWindow).toBe(rpm);
    expect(client.stats).toMatchObject({ succeeded: 151, failed: 0, rateLimited: 0 }); // with the warm-up call
    const waits = Math.ceil(150 / rpm) - 1;
    const minimum = waits * windowMs;
    // Each window's admissions free the next ones at most their longest call later; each
    // wait ends on a timer, late by the event loop's delay.
    const held = [...admittedAt.keys()].map((id) => heldMs.get(id) ?? 0);
    let calls = 0;
    for (let i = 0; i < held.length; i += rpm) calls += Math.max(...held.slice(i, i + rpm));
    const lagMs = Math.max(0, delay.percentile(99) / 1e6 - 1);
    const bound = minimum * 1.1 + waits * lagMs + calls;
    console.info(
      `gemini RPM: makespan ${makespan.toFixed(0)} ms, minimum ${minimum} ms (+${((makespan / minimum - 1) * 100).toFixed(1)}%), bound ${bound.toFixed(0)} ms`,
    );
    expect(makespan).toBeGreaterThanOrEqual(minimum);
    expect(makespan).toBeLessThanOrEqual(bound);
  });
});
