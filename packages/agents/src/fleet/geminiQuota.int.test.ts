import { ResourceGovernor } from '@tollgate/limits';
import { GeminiClient, geminiTokenCounter } from '@tollgate/llm-clients';
import { startSimulator } from '@tollgate/simulator';
import { describe, expect, it } from 'vitest';
import { HybridAgent } from '../agent/HybridAgent.js';
import { AgentFleet } from './AgentFleet.js';

class Summariser extends HybridAgent {
  readonly systemPrompt = 'Summarise in a line.';
}

describe('a fleet on Gemini whose per-day request quota runs out mid-run', () => {
  it('stops with quota-exhausted at the first refusal: the rest is skipped and nothing is retried', async () => {
    const sim = await startSimulator({
      quota: { requestsPerWindow: 20, windowMs: 1_000, requestBudget: 40 },
      latency: { ttftMs: 1, perTokenMs: 0.02, jitter: 0 },
    });
    try {
      const provider = new ResourceGovernor(
        { maxRequestsPerMinute: 20, algorithm: 'sliding-window', timeScale: 60, windowPaddingMs: 1 },
        { name: 'gemini' },
      );
      const client = new GeminiClient({ model: 'gemini-sim', baseURL: sim.url, apiKey: 'AIza-fleet' });
      const tokenCounter = geminiTokenCounter();
      const fleet = new AgentFleet({
        providerGovernor: provider,
        maxConcurrentAgents: 10,
        createAgent: (task) =>
          new Summariser({ client, providerGovernor: provider, tokenCounter, agentId: `agent-${task.id}` }),
      });
      const tasks = Array.from({ length: 150 }, (_, i) => ({ id: `t${i + 1}`, input: `item ${i + 1}` }));
      const report = await fleet.run(tasks);
      const stats = sim.stats();
      expect(report.stopReason).toBe('quota-exhausted');
      expect(report.stopDetail).toMatch(/quota/i);
      // 40 calls admitted; the refusals that stopped the fleet were the calls in flight when
      // the quota ran out, each refused once: none was retried.
      expect(stats.admitted).toBe(40);
      expect(stats.rateLimited).toBe(0);
      expect(stats.quotaExhausted).toBe(stats.requests - 40);
      expect(stats.quotaExhausted).toBeLessThanOrEqual(10);
      expect(report.totals.succeeded).toBe(40);
      expect(report.totals.skipped).toBeGreaterThanOrEqual(100);
      expect(report.totals.succeeded + report.totals.failed + report.totals.skipped).toBe(150);
      provider.dispose();
    } finally {
      await sim.close();
    }
  }, 60_000);
});
