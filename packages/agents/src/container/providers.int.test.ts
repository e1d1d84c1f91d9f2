import { TiktokenCounter } from '@tollgate/core';
import type { GovernorEvent } from '@tollgate/limits';
import { anthropic, gemini, openai } from '@tollgate/llm-clients';
import { type Simulator, startSimulator } from '@tollgate/simulator';
import { afterEach, describe, expect, it } from 'vitest';
import { HybridAgent } from '../agent/HybridAgent.js';
import { AgentFleet } from '../fleet/AgentFleet.js';
import { agentDepsFor, createTollgateContainer } from './createTollgateContainer.js';
import type { ProviderSet } from './providers.js';
import { AGENT_TOKENS } from './tokens.js';

class Analyst extends HybridAgent {
  readonly systemPrompt = 'Answer in one line.';
  override readonly maxTokens = 100;
}

const KEYS = { openai: 'sk-mixed', anthropic: 'sk-ant-mixed', gemini: 'AIza-mixed' } as const;
type Name = keyof typeof KEYS;
const windowMs = 400; // "a minute", time-compressed 150x
const sims: Simulator[] = [];
/** One tokenizer for the three simulators (each would load its own). */
const tokenCounter = new TiktokenCounter();
afterEach(async () => {
  await Promise.all(sims.splice(0).map((s) => s.close()));
});

/** One simulator per provider: each its own quota, each strict about it. */
async function simulators() {
  const latency = { ttftMs: 2, perTokenMs: 0.02, jitter: 0.5 };
  const start = async (key: string, quota: object, extra: object = {}) => {
    const options = { apiKeys: [key], quota: { windowMs, ...quota }, latency, tokenCounter, ...extra };
    const sim = await startSimulator(options);
    sims.push(sim);
    return sim;
  };
  return {
    openai: await start(KEYS.openai, { requestsPerWindow: 5, tokensPerWindow: 1_000_000 }),
    // Output is Anthropic's only limit that can bind here: 8 replies of 60-100 tokens, 600 a window.
    anthropic: await start(
      KEYS.anthropic,
      { requestsPerWindow: 100, inputTokensPerWindow: 100_000, outputTokensPerWindow: 600 },
      { completionTokens: [60, 100] },
    ),
    gemini: await start(KEYS.gemini, { requestsPerWindow: 3, tokensPerWindow: 1_000_000 }),
  };
}

describe('one container, three providers on their real SDKs, a fleet picking one per task', () => {
  it('sends each task to its provider under that provider’s own governor: zero 429s on every quota', {
    timeout: 60_000,
  }, async () => {
    const sim = await simulators();
    const scale = { timeScale: 60_000 / windowMs, resourceWaitTimeoutSeconds: 120 };
    const strict = { ...scale, algorithm: 'sliding-window' as const, windowPaddingMs: 1 };
    const container = createTollgateContainer({
      tokenCounter,
      providers: {
        openai: {
          client: openai({ model: 'sim-small', baseURL: sim.openai.baseURL, apiKey: KEYS.openai }),
          limits: { maxRequestsPerMinute: 5, ...strict },
        },
        anthropic: {
          client: anthropic({ model: 'claude-sim', baseURL: sim.anthropic.url, apiKey: KEYS.anthropic }),
          limits: { maxOutputTokensPerMinute: 600, outputTokenBurstSize: 360, ...scale },
          clientOptions: { providerCharging: 'usage' },
        },
        gemini: {
          client: gemini({ model: 'gemini-sim', baseURL: sim.gemini.url, apiKey: KEYS.gemini }),
          limits: { maxRequestsPerMinute: 3, ...strict },
        },
      },
    });
    const set = container.get<ProviderSet>(AGENT_TOKENS.Providers);
    const acquired: Record<string, number> = {};
    const subs = set.names.map((name) =>
      set.governor(name).events$.subscribe((e: GovernorEvent) => {
        if (e.type === 'acquired') acquired[name] = (acquired[name] ?? 0) + 1;
      }),
    );
    const fleet = new AgentFleet({
      maxConcurrentAgents: 24,
      createAgent: (task) => new Analyst(agentDepsFor(container, task.metadata?.provider as Name)),
    });
    const names = Object.keys(KEYS) as Name[];
    const tasks = Array.from({ length: 24 }, (_, i) => ({
      id: `t${i}`,
      input: `Question ${i}: why share a quota?`,
      metadata: { provider: names[i % 3] },
    }));
    const report = await fleet.run(tasks);
    for (const sub of subs) sub.unsubscribe();

    expect(report.totals.succeeded).toBe(24);
    expect(report.totals.rateLimited).toBe(0);
    for (const name of names) {
      const stats = sim[name].stats();
      expect({ name, admitted: stats.admitted, rateLimited: stats.rateLimited }).toEqual({
        name,
        admitted: 8,
        rateLimited: 0,
      });
      expect(acquired[name]).toBe(8);
    }
    // Each quota paced its own provider: 8 calls on 5 and 3 a window need 2 and 3 windows.
    expect(sim.openai.stats().maxRequestsInWindow).toBeLessThanOrEqual(5);
    expect(sim.gemini.stats().maxRequestsInWindow).toBeLessThanOrEqual(3);
    const span = (s: Simulator) => s.stats().lastAdmissionMs! - s.stats().firstAdmissionMs!;
    expect(span(sim.openai)).toBeGreaterThanOrEqual(windowMs);
    expect(span(sim.gemini)).toBeGreaterThanOrEqual(2 * windowMs);
    await container.unbindAll();
  });
});
