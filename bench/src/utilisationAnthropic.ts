// The utilisation section's Anthropic rows: input and output tokens per minute as continuous-refill buckets, output binding.
import { performance } from 'node:perf_hooks';
import Anthropic from '@anthropic-ai/sdk';
import type { TiktokenCounter, TokenCounter } from '@tollgate/core';
import { ResourceGovernor } from '@tollgate/limits';
import { AnthropicClient, GovernedClient } from '@tollgate/llm-clients';
import { startSimulator } from '@tollgate/simulator';
import pLimit from 'p-limit';

/** An Anthropic key's quota: RPM, ITPM and OTPM per window, replies of 60-100% of `maxTokens`. */
export interface AnthropicSetup {
  readonly calls: number;
  readonly rpm: number;
  readonly itpm: number;
  readonly otpm: number;
  readonly windowMs: number;
  readonly maxTokens: number;
}

/** One run of one approach. */
export interface AnthropicOutcome {
  readonly makespanMs: number;
  readonly admissionSpanMs: number;
  readonly rateLimited: number;
  readonly failed: number;
  /**
   * What the output bucket allows between the first admission and the last: it starts full
   * (`otpm`) and refills `otpm` per window, so the output past the first bucketful takes
   * `(completion - otpm) / otpm` windows.
   */
  readonly minimumMs: number;
}

type Approach = (base: string, s: AnthropicSetup, estimator: TokenCounter) => Promise<{ failed: number }>;

const request = (i: number, s: AnthropicSetup) => ({
  model: 'claude-sonnet-4-6',
  max_tokens: s.maxTokens,
  messages: [{ role: 'user' as const, content: `Summarise item ${i} in a line.` }],
});

/** Every call at once; the failures counted. */
async function all(s: AnthropicSetup, call: (i: number) => Promise<unknown>): Promise<{ failed: number }> {
  const results = await Promise.allSettled(Array.from({ length: s.calls }, (_, i) => call(i)));
  return { failed: results.filter((r) => r.status === 'rejected').length };
}

/** The approaches, by row name: Tollgate first. */
export const anthropicApproaches: Record<string, Approach> = {
  'Anthropic: tollgate': async (base, s, estimator) => {
    const governor = new ResourceGovernor({
      maxRequestsPerMinute: s.rpm,
      maxInputTokensPerMinute: s.itpm,
      maxOutputTokensPerMinute: s.otpm,
      timeScale: 60_000 / s.windowMs,
      resourceWaitTimeoutSeconds: Number.POSITIVE_INFINITY,
    });
    const client = new GovernedClient(
      new AnthropicClient({ model: 'claude-sonnet-4-6', baseURL: base, apiKey: 'sk-ant-bench' }),
      {
        governors: [governor],
        tokenCounter: estimator,
        providerCharging: 'usage',
      },
    );
    const outcome = await all(s, (i) =>
      client.chat({ messages: request(i, s).messages, maxTokens: s.maxTokens }),
    );
    governor.dispose();
    return outcome;
  },
  'Anthropic: SDK retries only': (base, s) => {
    const client = new Anthropic({ baseURL: base, apiKey: 'sk-ant-bench', maxRetries: 50 });
    return all(s, (i) => client.messages.create(request(i, s)));
  },
  'Anthropic: p-limit + SDK retries': (base, s) => {
    const client = new Anthropic({ baseURL: base, apiKey: 'sk-ant-bench', maxRetries: 50 });
    // As many at once as a minute's output allows at max_tokens each.
    const limit = pLimit(Math.max(1, Math.floor(s.otpm / s.maxTokens)));
    return all(s, (i) => limit(() => client.messages.create(request(i, s))));
  },
};

/**
 * Runs approach `name` once against a fresh simulator with the Anthropic quota of `setup`;
 * `counter` counts for the simulator, `estimator` (an `anthropicTokenCounter()`, loaded)
 * for Tollgate.
 */
export async function anthropicOnce(
  name: string,
  setup: AnthropicSetup,
  counters: { readonly counter: TiktokenCounter; readonly estimator: TokenCounter },
): Promise<AnthropicOutcome> {
  const sim = await startSimulator({
    quota: {
      requestsPerWindow: setup.rpm,
      inputTokensPerWindow: setup.itpm,
      outputTokensPerWindow: setup.otpm,
      windowMs: setup.windowMs,
    },
    completionTokens: [Math.round(setup.maxTokens * 0.6), setup.maxTokens],
    latency: { ttftMs: 5, perTokenMs: 0.05, jitter: 0.5 },
    tokenCounter: counters.counter,
  });
  try {
    // Warm the HTTP stack on another key (the simulator keeps a quota per key), outside the measurement.
    const warm = new AnthropicClient({
      model: 'claude-sonnet-4-6',
      baseURL: sim.url,
      apiKey: 'sk-ant-warm-up',
    });
    await Promise.all(
      Array.from({ length: 5 }, (_, i) => warm.chat({ messages: request(i, setup).messages, maxTokens: 5 })),
    );
    sim.reset();
    const start = performance.now();
    const { failed } = await anthropicApproaches[name]!(sim.url, setup, counters.estimator);
    const makespanMs = performance.now() - start;
    const stats = sim.stats();
    const minimumMs = (Math.max(0, stats.tokens.completion - setup.otpm) * setup.windowMs) / setup.otpm;
    return {
      makespanMs,
      admissionSpanMs: (stats.lastAdmissionMs ?? 0) - (stats.firstAdmissionMs ?? 0),
      rateLimited: stats.rateLimited,
      failed,
      minimumMs,
    };
  } finally {
    await sim.close();
  }
}
